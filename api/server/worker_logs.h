// The log lines of the worker calls (unary and WorkStream alike):
// job_leased (debug), job_dead_lettered, job_retry_scheduled (debug),
// stale_*_rejected, and access_denied for items the engine's QueueGuard
// refused (docs/operations.md, "Logs").
//
// Thread safety: safe from any thread.
#ifndef RATCHET_API_SERVER_WORKER_LOGS_H_
#define RATCHET_API_SERVER_WORKER_LOGS_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "auth/gate.h"
#include "ratchet/engine/types.h"

namespace ratchet::server {

void LogLeased(const std::vector<LeasedJob>& jobs, const std::string& worker_id);
void LogFail(JobId id, const absl::StatusOr<FailResult>& r);
void LogStaleComplete(JobId id, const absl::Status& s);
// One line per call saying how many of its items the QueueGuard refused
// (the guard runs on the sequencer and does not log); none if `refused` is 0.
// Bounded per principal (auth/denial_log.h).
void LogGuardRefusals(const auth::CallAccess& access, const char* rpc, size_t refused);
// The item was refused by the QueueGuard.
bool Refused(const absl::Status& s);

}  // namespace ratchet::server

#endif  // RATCHET_API_SERVER_WORKER_LOGS_H_
