// StateMachine: applies engine operations to the in-memory indexes and to
// the current group-commit batch. It runs only on the sequencer thread.
//
// Contract of every operation: it validates and checks everything first and
// returns an error before touching any state, so a rejected request leaves
// both the batch and the indexes unchanged. An accepted operation appends
// all of its writes to `batch` (one atomic write) and updates the indexes
// as if the batch will commit; if the commit fails, the engine is poisoned
// and the indexes are thrown away with it.
#ifndef RATCHET_ENGINE_STATE_MACHINE_H_
#define RATCHET_ENGINE_STATE_MACHINE_H_

#include <vector>

#include "absl/status/statusor.h"
#include "indexes.h"
#include "ratchet/engine/engine.h"
#include "ratchet/storage/store.h"
#include "record_cache.h"
#include "records.h"

namespace ratchet::internal {

class StateMachine {
 public:
  // `store` and `random` are borrowed and must outlive this object.
  StateMachine(storage::Store* store, const EngineOptions& options, Random* random);

  // Rebuilds the indexes and counters from the store. Call once, first.
  absl::Status Recover();

  // Writes the id and token high-water marks if they moved. Called by the
  // sequencer once per batch, just before the commit.
  void FinishBatch(storage::Batch& batch);

  absl::StatusOr<std::vector<EnqueueResult>> Enqueue(storage::Batch& batch, TimePoint now,
                                                     const std::vector<EnqueueRequest>& reqs,
                                                     const std::vector<AppWrite>& app_writes,
                                                     bool indexed_fields);
  absl::StatusOr<std::vector<LeasedJob>> Lease(storage::Batch& batch, TimePoint now,
                                               const LeaseRequest& req);
  // True if a Lease on `queue` now would lease at least one job.
  bool CanLease(const std::string& queue, TimePoint now);
  // When the earliest scheduled job of `queue` becomes available, if any.
  std::optional<int64_t> NextRunAt(const std::string& queue);
  absl::StatusOr<HeartbeatResult> Heartbeat(storage::Batch& batch, TimePoint now,
                                            const HeartbeatRequest& req);
  absl::Status Complete(storage::Batch& batch, TimePoint now, const CompleteRequest& req);
  absl::StatusOr<FailResult> Fail(storage::Batch& batch, TimePoint now, const FailRequest& req);
  absl::StatusOr<JobState> Cancel(storage::Batch& batch, TimePoint now, JobId id);

  // Scheduled, available and running jobs come from the indexes.
  absl::StatusOr<ListResult> ListLive(storage::Batch& batch, TimePoint now,
                                      const ListRequest& req);

  // Dead-letter operations read the committed DLQ index, so the sequencer
  // runs them at the start of a fresh batch.
  absl::StatusOr<BulkResult> Redrive(storage::Batch& batch, TimePoint now,
                                     const RedriveRequest& req);
  absl::StatusOr<BulkResult> Purge(storage::Batch& batch, const DeadLetterFilter& filter);

  absl::Status UpdateQueue(storage::Batch& batch, const std::string& name,
                           const QueueSettings& settings);
  absl::Status SetPaused(storage::Batch& batch, const std::string& name, bool paused);
  absl::StatusOr<QueueInfo> GetQueue(TimePoint now, const std::string& name);
  std::vector<QueueInfo> ListQueues(TimePoint now);

  // Ends up to `max_jobs` expired leases as failed attempts ("lease expired").
  absl::Status ExpireLeases(storage::Batch& batch, TimePoint now, int max_jobs);
  // One bounded retention pass over committed data; run on a fresh batch.
  // Returns the number of keys deleted.
  absl::StatusOr<int> Sweep(storage::Batch& batch, TimePoint now, int max_keys);

  std::optional<int64_t> NextDeadline() const { return indexes_.NextDeadline(); }
  size_t live_jobs() const { return indexes_.live_jobs(); }

 private:
  struct EnqueuePlan;

  absl::Status CountFinished();
  absl::StatusOr<JobRecord> Load(storage::Batch& batch, JobId id);
  // The only writers of the jobs column family (they keep cache_ coherent).
  void Save(storage::Batch& batch, const JobRecord& r);
  void Delete(storage::Batch& batch, JobId id);
  QueueState* EnsureQueue(storage::Batch& batch, const std::string& name);
  absl::StatusOr<std::vector<EnqueuePlan>> PlanEnqueue(storage::Batch& batch, TimePoint now,
                                                       const std::vector<EnqueueRequest>& reqs,
                                                       bool indexed_fields);
  JobId Insert(storage::Batch& batch, TimePoint now, const EnqueueRequest& req,
               const std::string& fingerprint);
  // The Fail path shared by Fail and lease expiry.
  FailResult EndAttemptInFailure(storage::Batch& batch, TimePoint now, JobRecord& r,
                                 absl::string_view error, bool retryable);
  void Finish(storage::Batch& batch, TimePoint now, JobRecord& r, JobState state);
  absl::StatusOr<std::vector<JobId>> MatchDead(const DeadLetterFilter& filter, bool* more);

  storage::Store* const store_;
  const EngineOptions options_;
  Random* const random_;

  Indexes indexes_;
  RecordCache cache_;
  JobId next_job_id_ = 1;
  FencingToken next_token_ = 1;
  bool counters_dirty_ = false;
};

}  // namespace ratchet::internal

#endif  // RATCHET_ENGINE_STATE_MACHINE_H_
