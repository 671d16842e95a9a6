// Reads and writes of workflow records through a batch (read-your-writes).
// Sequencer thread only, like the WorkflowMachine that calls them.
#ifndef RATCHET_ENGINE_WORKFLOWS_WORKFLOW_STORE_H_
#define RATCHET_ENGINE_WORKFLOWS_WORKFLOW_STORE_H_

#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "ratchet/engine/workflow_types.h"
#include "ratchet/storage/store.h"
#include "schema.h"

namespace ratchet::internal {

// Errors: NOT_FOUND naming the workflow; DATA_LOSS if it does not parse;
// UNAVAILABLE on a read error.
absl::StatusOr<WorkflowRecord> LoadWorkflow(storage::Batch& batch, WorkflowId id);
// nullopt when absent (e.g. removed by retention).
absl::StatusOr<std::optional<WorkflowRecord>> FindWorkflow(storage::Batch& batch, WorkflowId id);
void SaveWorkflow(storage::Batch& batch, const WorkflowRecord& wf);
absl::StatusOr<StepRecord> LoadStep(storage::Batch& batch, WorkflowId id, int index);
void SaveStep(storage::Batch& batch, WorkflowId id, int index, const StepRecord& step);
// A code-first workflow's journal, in recording order.
absl::StatusOr<std::vector<JournalEntry>> LoadJournal(storage::Batch& batch,
                                                      const WorkflowRecord& wf);
// The events received so far, in declaration order.
absl::StatusOr<std::vector<WorkflowEvent>> LoadEvents(storage::Batch& batch,
                                                      const WorkflowRecord& wf);
// Deletes every key of a workflow (its jobs are left to job retention).
void DeleteWorkflowKeys(storage::Batch& batch, const WorkflowRecord& wf);

}  // namespace ratchet::internal

#endif  // RATCHET_ENGINE_WORKFLOWS_WORKFLOW_STORE_H_
