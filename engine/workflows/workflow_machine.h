// WorkflowMachine: DAG and code-first workflows on the sequencer: submit
// and start (with the workflow-level idempotency key), get, list, cancel,
// recovery of the per-state index at open, and retention of finished
// workflows. It follows the jobs it creates as a JobObserver: every change
// of a step's job (completion, dead-lettering, cancellation, redrive)
// updates the step, releases the steps that now have all their
// dependencies, and moves the workflow's state, in the same batch as the
// job's own change (docs/workflows.md, docs/consistency.md).
//
// The code-first journal, durable sleeps and events are CodeWorkflows'.
// Thread safety: sequencer thread only.
#ifndef RATCHET_ENGINE_WORKFLOWS_WORKFLOW_MACHINE_H_
#define RATCHET_ENGINE_WORKFLOWS_WORKFLOW_MACHINE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/status/statusor.h"
#include "job_machine.h"
#include "job_observer.h"
#include "job_store.h"
#include "ratchet/engine/workflow_types.h"

namespace ratchet::internal {

class WorkflowMachine final : public JobObserver {
 public:
  // `store` and `jobs` are borrowed and must outlive this object.
  WorkflowMachine(JobStore* store, JobMachine* jobs) : store_(*store), jobs_(*jobs) {}

  // Rebuilds the per-state index and the id counter. Call once, at open.
  absl::Status Recover();
  // Writes the workflow id high-water mark if it moved (once per group).
  void FinishBatch(storage::Batch& batch);

  absl::StatusOr<WorkflowSubmitResult> SubmitWorkflow(storage::Batch& batch, TimePoint now,
                                                      const WorkflowSpec& spec);
  absl::StatusOr<WorkflowSubmitResult> StartWorkflow(storage::Batch& batch, TimePoint now,
                                                     const StartWorkflowRequest& req);
  // Results past `max_bytes` are left out (StepInfo::result_omitted).
  absl::StatusOr<Workflow> GetWorkflow(storage::Batch& batch, TimePoint now, WorkflowId id,
                                       size_t max_bytes);
  absl::StatusOr<WorkflowListResult> ListWorkflows(storage::Batch& batch,
                                                   const WorkflowListRequest& req);
  absl::StatusOr<WorkflowState> CancelWorkflow(storage::Batch& batch, TimePoint now, WorkflowId id);
  // One bounded retention pass over finished workflows; returns keys deleted.
  absl::StatusOr<int> Sweep(storage::Batch& batch, TimePoint now, int max_keys);

  // JobObserver.
  absl::Status OnJobFinished(storage::Batch& batch, TimePoint now, const JobRecord& r) override;
  absl::Status OnJobRedriven(storage::Batch& batch, TimePoint now, const JobRecord& r) override;
  // A workflow's job: the workflow's queue and every DAG step's queue.
  absl::Status CheckCancel(storage::Batch& batch, const JobRecord& r,
                           const QueueGuard& guard) override;

 private:
  absl::Status OnStepFinished(storage::Batch& batch, TimePoint now, const JobRecord& r);
  absl::Status OnMainJobFinished(storage::Batch& batch, TimePoint now, const JobRecord& r);
  absl::Status ReleaseStep(storage::Batch& batch, TimePoint now, const WorkflowRecord& wf,
                           int index, StepRecord& step);
  // Resolves step `index` for its dependents: one fewer to wait for each,
  // released when none is left and the workflow is running.
  absl::Status ResolveDependents(storage::Batch& batch, TimePoint now, const WorkflowRecord& wf,
                                 const StepRecord& step);
  absl::Status FailWorkflow(storage::Batch& batch, TimePoint now, WorkflowRecord& wf,
                            const std::string& error);
  absl::Status ResumeWorkflow(storage::Batch& batch, TimePoint now, WorkflowRecord& wf);
  void EndWorkflow(storage::Batch& batch, TimePoint now, WorkflowRecord& wf, WorkflowState state);
  void IndexWorkflow(WorkflowId id, std::optional<WorkflowState> from, WorkflowState to);
  absl::StatusOr<WorkflowSubmitResult> CreateWorkflow(storage::Batch& batch, TimePoint now,
                                                      WorkflowRecord wf,
                                                      std::vector<StepRecord> steps,
                                                      const EnqueueRequest* main_job);

  JobStore& store_;
  JobMachine& jobs_;
  WorkflowId next_workflow_id_ = 1;
  bool counter_dirty_ = false;
  absl::btree_set<WorkflowId> by_state_[4];  // indexed by WorkflowState
};

}  // namespace ratchet::internal

#endif  // RATCHET_ENGINE_WORKFLOWS_WORKFLOW_MACHINE_H_
