// JobMachine: attempt timeouts and expiry ("discard if not started by").
// docs/consistency.md, "Timeouts and expiry", states the rules.
#include <algorithm>

#include "job_machine.h"
#include "ratchet/base/invariant.h"
#include "ratchet/base/saturating.h"
#include "ratchet/base/status.h"

namespace ratchet::internal {

std::optional<int64_t> AttemptDeadlineMs(const JobRecord& r) {
  if (r.attempt_timeout_ms() <= 0) return std::nullopt;
  return AddSaturating(r.attempt_started_at_ms(), r.attempt_timeout_ms());
}

// A job's token is 0 until its first lease and never goes back to 0.
bool ExpiryApplies(const JobRecord& r) { return r.expires_at_ms() > 0 && r.token() == 0; }

int64_t JobMachine::ExpiryNowMs(TimePoint now) {
  jobs_.indexes().AdvanceRateClock(ToUnixMs(now));
  return jobs_.indexes().rate_now_ms();
}

bool JobMachine::IsExpired(JobId id, int64_t expiry_now_ms) const {
  const JobMeta* m = jobs_.indexes().Find(id);
  return m && !m->running && m->expires_ms != 0 && m->expires_ms <= expiry_now_ms;
}

absl::Status JobMachine::CancelExpired(storage::Batch& batch, TimePoint now, JobId id) {
  RATCHET_ASSIGN_OR_RETURN(JobRecord r, jobs_.LoadState(batch, id));
  RATCHET_INVARIANT(ExpiryApplies(r), "only a job that never started expires");
  QueueState* q = jobs_.indexes().Find(id)->queue;
  r.set_cancel_reason(kCancelReasonExpired);
  RATCHET_RETURN_IF_ERROR(Finish(batch, now, r, JobState::kCancelled));
  // The queue's best job may have changed: parked long polls look again.
  jobs_.indexes().MarkChanged(q);
  ++expired_jobs_;
  return absl::OkStatus();
}

absl::Status JobMachine::ExpireWaitingJobs(storage::Batch& batch, TimePoint now, int max_jobs) {
  const int64_t expiry_now = ExpiryNowMs(now);
  for (int i = 0; i < max_jobs; ++i) {
    std::optional<JobId> id = jobs_.indexes().FirstExpiring(expiry_now);
    if (!id) break;
    RATCHET_RETURN_IF_ERROR(CancelExpired(batch, now, *id));
  }
  return absl::OkStatus();
}

void JobMachine::StartAttempt(TimePoint now, Millis visibility_timeout,
                              const std::string& worker_id, JobRecord& r) {
  SetState(r, JobState::kRunning);
  // A stored count is read back from disk: a negative one starts over at 1.
  r.set_attempts(IncrementSaturating(std::max(0, r.attempts())));
  r.set_token(jobs_.NextToken());
  r.set_attempt_started_at_ms(ToUnixMs(now));
  // A stored visibility timeout is read back from disk: the sum saturates.
  int64_t deadline = AddSaturating(ToUnixMs(now), visibility_timeout.count());
  // The attempt timeout caps the lease; Heartbeat keeps the cap.
  if (auto cap = AttemptDeadlineMs(r)) deadline = std::min(deadline, *cap);
  r.set_lease_deadline_ms(deadline);
  r.set_lease_length_ms(visibility_timeout.count());
  r.set_worker_id(worker_id);
  // Progress belongs to an attempt: a new one starts without the last's.
  r.clear_progress();
  r.clear_progress_message();
  r.clear_progress_updated_at_ms();
}

}  // namespace ratchet::internal
