// Bulk cancel (Engine::CancelJobs): cancels the live jobs of one queue that
// match a filter (state, job type, concurrency key), as JobMachine::Cancel
// does each, in a series of slices. Each slice is one operation (one atomic
// write) that examines at most `max_jobs` jobs of the queue's live indexes
// from where the last one stopped; the engine queues the next slice behind
// the operations submitted meanwhile (engine_calls.h, StartSlicedRun).
//
// Order: the scheduled jobs (by run_at), then the available ones (lease
// order), then the running ones (by deadline): the way jobs move, so a job
// promoted or leased during the run is still ahead of the cursor. A job that
// moves back (a running job not yet reached that fails into a retry) or
// is enqueued behind the cursor during the run is not cancelled; calling
// again cancels it (docs/consistency.md, "Bulk cancel").
//
// Thread safety: sequencer thread only.
#ifndef RATCHET_ENGINE_JOBS_BULK_CANCEL_H_
#define RATCHET_ENGINE_JOBS_BULK_CANCEL_H_

#include <optional>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "indexes.h"
#include "job_machine.h"
#include "job_store.h"

namespace ratchet::internal {

// The progress of one CancelJobs across its slices. Start with a default
// one and hand the same one to every slice of the run.
struct CancelRun {
  enum class Phase { kScheduled, kAvailable, kRunning, kDone };
  Phase phase = Phase::kScheduled;
  // The last index entry examined in this phase (none: from the start).
  std::optional<TimedKey> timed_after;  // scheduled and running
  std::optional<ReadyKey> ready_after;  // available
  absl::flat_hash_set<JobId> touched;   // running jobs this run asked to stop
  // Workflows whose queues all passed CancelJobsRequest::guard (a
  // workflow's queues never change, so each is read once per run).
  absl::flat_hash_set<WorkflowId> guarded_workflows;
  CancelJobsResult result;
};

// One slice: examines at most `max_jobs` live jobs of req.queue and cancels
// those that match. Returns whether the run is done.
// Errors: INVALID_ARGUMENT (the request, on any slice); PERMISSION_DENIED
// from req.guard (for req.queue, or a workflow's queue: checked before the
// slice writes anything); a read error or an observer's (the slice is
// rolled back).
absl::StatusOr<bool> CancelSlice(JobMachine& machine, JobStore& jobs, storage::Batch& batch,
                                 TimePoint now, const CancelJobsRequest& req, CancelRun& run,
                                 int max_jobs);

}  // namespace ratchet::internal

#endif  // RATCHET_ENGINE_JOBS_BULK_CANCEL_H_
