// CodeWorkflows: the engine side of code-first workflows. The main job runs
// the workflow code; its journal (step results, timers, waits) is recorded
// under the job's lease (RecordStep), Suspend parks the job until a time or
// an event without holding a worker, and SendEvent stores an event once per
// name and wakes a job waiting for it. As a JobObserver it hands a leased
// main job its journal and events (docs/workflows.md).
//
// Thread safety: sequencer thread only.
#ifndef RATCHET_ENGINE_WORKFLOWS_CODE_WORKFLOWS_H_
#define RATCHET_ENGINE_WORKFLOWS_CODE_WORKFLOWS_H_

#include "absl/status/status.h"
#include "job_machine.h"
#include "job_observer.h"
#include "job_store.h"
#include "ratchet/engine/workflow_types.h"

namespace ratchet::internal {

class CodeWorkflows final : public JobObserver {
 public:
  // `store` and `jobs` are borrowed and must outlive this object.
  CodeWorkflows(JobStore* store, JobMachine* jobs)
      : store_(*store),
        jobs_(*jobs),
        clock_(store->options().clock ? store->options().clock : SystemClock::Default()) {}

  // Errors: FAILED_PRECONDITION/LEASE_LOST; INVALID_ARGUMENT naming the
  // field; NOT_FOUND.
  // A timer entry with a delay is journalled at now + delay.
  absl::Status RecordStep(storage::Batch& batch, TimePoint now, const RecordStepRequest& req);
  // Parks the main job until `until`, or now + the delay of the one timer
  // entry in `record` that gives one (a time already past: now). The
  // suspension past EngineOptions::max_suspends_per_attempt in one attempt
  // fails the attempt instead (a retryable Fail naming the option) and
  // journals nothing; that is not an error of Suspend.
  absl::Status Suspend(storage::Batch& batch, TimePoint now, const SuspendRequest& req);
  // Errors: ALREADY_EXISTS/IDEMPOTENCY_CONFLICT for a name sent with another
  // payload; INVALID_STATE for a finished workflow; INVALID_ARGUMENT.
  absl::Status SendEvent(storage::Batch& batch, TimePoint now, const SendEventRequest& req);

  // JobObserver.
  absl::Status OnJobFinished(storage::Batch&, TimePoint, const JobRecord&) override {
    return absl::OkStatus();  // WorkflowMachine ends the workflow
  }
  absl::Status OnJobLeasing(storage::Batch& batch, const JobRecord& r, LeasedJob* out) override;

 private:
  // The leased main job `job_id`, and its code-first workflow.
  absl::Status LoadLeased(storage::Batch& batch, TimePoint now, JobId job_id, FencingToken token,
                          absl::string_view op, JobRecord* job, WorkflowRecord* wf);

  JobStore& store_;
  JobMachine& jobs_;
  Clock* const clock_;  // the engine's (OnJobLeasing is not given `now`)
};

}  // namespace ratchet::internal

#endif  // RATCHET_ENGINE_WORKFLOWS_CODE_WORKFLOWS_H_
