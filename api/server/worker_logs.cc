#include "worker_logs.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <optional>

#include "auth/denial_log.h"
#include "ratchet/base/status.h"
#include "ratchet/base/traceparent.h"

namespace ratchet::server {

void LogLeased(const std::vector<LeasedJob>& jobs, const std::string& worker_id) {
  if (!spdlog::should_log(spdlog::level::debug)) return;
  for (const LeasedJob& j : jobs) {
    spdlog::debug(
        "event=job_leased job_id={} queue={} worker_id={:?} attempt={} token={} trace_id={}", j.id,
        j.queue, worker_id, j.attempt, j.token, TraceIdOf(j.traceparent));
  }
}

void LogFail(JobId id, const absl::StatusOr<FailResult>& r) {
  if (r.ok() && r->state == JobState::kDead) {
    spdlog::info("event=job_dead_lettered job_id={} queue={} worker_id={:?} trace_id={}", id,
                 r->queue, r->worker_id, TraceIdOf(r->traceparent));
  } else if (r.ok() && r->state == JobState::kScheduled &&
             spdlog::should_log(spdlog::level::debug)) {
    spdlog::debug("event=job_retry_scheduled job_id={} queue={} worker_id={:?} trace_id={}", id,
                  r->queue, r->worker_id, TraceIdOf(r->traceparent));
  } else if (!r.ok() && ReasonOf(r.status()) == kReasonLeaseLost) {
    spdlog::info("event=stale_fail_rejected job_id={}", id);
  }
}

void LogStaleComplete(JobId id, const absl::Status& s) {
  if (ReasonOf(s) == kReasonLeaseLost) spdlog::info("event=stale_complete_rejected job_id={}", id);
}

void LogGuardRefusals(const auth::CallAccess& access, const char* rpc, size_t refused) {
  if (refused == 0) return;
  std::optional<int64_t> suppressed =
      auth::DenialLog::Instance().Admit(access.principal(), std::chrono::steady_clock::now());
  if (!suppressed) return;
  spdlog::warn(
      "event=access_denied principal={:?} rpc=WorkerService.{} permission=work items={} "
      "suppressed={}",
      access.principal(), rpc, refused, *suppressed);
}

bool Refused(const absl::Status& s) { return ReasonOf(s) == kReasonPermissionDenied; }

}  // namespace ratchet::server
