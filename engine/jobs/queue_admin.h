// QueueAdmin: queue settings (limits, retries, retention, pause) and the
// per-queue counts. Queues are created implicitly by the first enqueue or
// settings change; their settings live in the queues column family.
//
// Thread safety: sequencer thread only.
#ifndef RATCHET_ENGINE_JOBS_QUEUE_ADMIN_H_
#define RATCHET_ENGINE_JOBS_QUEUE_ADMIN_H_

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "job_store.h"
#include "ratchet/engine/stats.h"

namespace ratchet::internal {

class QueueAdmin {
 public:
  // `jobs` is borrowed and must outlive this object.
  explicit QueueAdmin(JobStore* jobs) : jobs_(*jobs) {}

  // Replaces the queue's settings. Errors: INVALID_ARGUMENT naming the field.
  absl::Status UpdateQueue(storage::Batch& batch, const std::string& name,
                           const QueueSettings& settings);
  // Applies the fields set in `update` to the queue's current settings (or
  // the defaults, for a new queue). Errors: as above.
  absl::Status UpdateQueue(storage::Batch& batch, const std::string& name,
                           const QueueSettingsUpdate& update);
  absl::Status SetPaused(storage::Batch& batch, const std::string& name, bool paused);
  // Errors: NOT_FOUND for a queue never used; INVALID_ARGUMENT.
  absl::StatusOr<QueueInfo> GetQueue(TimePoint now, const std::string& name);
  // A page of queues by name (Engine::ListQueues): at most req.limit.
  // Errors: INVALID_ARGUMENT (limit, cursor).
  absl::StatusOr<QueueListResult> ListQueues(TimePoint now, const QueueListRequest& req);
  // Engine::GetStats without the column families: the totals and a page of
  // queues after the cursor's, at most req.limit of them and at most about
  // kMaxStatsProbes index probes. Changes nothing.
  // Errors: INVALID_ARGUMENT naming `limit` or `cursor`.
  absl::StatusOr<StatsResult> Stats(TimePoint now, const StatsRequest& req) const;

 private:
  JobStore& jobs_;
};

}  // namespace ratchet::internal

#endif  // RATCHET_ENGINE_JOBS_QUEUE_ADMIN_H_
