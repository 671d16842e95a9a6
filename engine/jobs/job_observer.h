// JobObserver: how the owners of engine-made jobs (workflows, schedules)
// follow those jobs without the job machine knowing about them. The job
// machine calls every registered observer, in registration order, on the
// sequencer thread, inside the operation that changed the job: whatever an
// observer writes goes into the same batch, so the job's change and its
// owner's bookkeeping are one atomic write (docs/consistency.md).
//
// An observer is told about every job; it ignores the ones it does not own
// (e.g. workflow_id == 0, or an empty schedule_id).
#ifndef RATCHET_ENGINE_JOBS_JOB_OBSERVER_H_
#define RATCHET_ENGINE_JOBS_JOB_OBSERVER_H_

#include "absl/status/status.h"
#include "ratchet/engine/types.h"
#include "ratchet/storage/store.h"
#include "schema.h"

namespace ratchet::internal {

class JobObserver {
 public:
  virtual ~JobObserver() = default;

  // `r` has just ended (kCompleted, kDead or kCancelled) in `batch`.
  // An error fails the caller's whole operation: the sequencer rolls back
  // everything it wrote (the job's own change too).
  virtual absl::Status OnJobFinished(storage::Batch& batch, TimePoint now, const JobRecord& r) = 0;

  // `r`, dead until now, has been made available again in `batch`.
  virtual absl::Status OnJobRedriven(storage::Batch& batch, TimePoint now, const JobRecord& r) {
    return absl::OkStatus();
  }

  // `r` is about to be leased; nothing has changed yet. The observer may add
  // what the worker needs to `out` (a code-first workflow's journal). An
  // error aborts the whole Lease before it changes anything.
  virtual absl::Status OnJobLeasing(storage::Batch& batch, const JobRecord& r, LeasedJob* out) {
    return absl::OkStatus();
  }

  // A caller limited by `guard` is about to cancel `r`; nothing has changed
  // yet. OK if every queue the cancel reaches through this observer's
  // bookkeeping (a workflow's other steps) passes `guard`; otherwise the
  // guard's PERMISSION_DENIED, or a read error. Reads only.
  virtual absl::Status CheckCancel(storage::Batch& batch, const JobRecord& r,
                                   const QueueGuard& guard) {
    return absl::OkStatus();
  }
};

}  // namespace ratchet::internal

#endif  // RATCHET_ENGINE_JOBS_JOB_OBSERVER_H_
