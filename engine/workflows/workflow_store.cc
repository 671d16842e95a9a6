#include "workflow_store.h"

#include "absl/strings/str_cat.h"
#include "ratchet/base/status.h"
#include "record_io.h"

namespace ratchet::internal {

using storage::Cf;

absl::StatusOr<std::optional<WorkflowRecord>> FindWorkflow(storage::Batch& batch, WorkflowId id) {
  return FindRecord<WorkflowRecord>(batch, Cf::kWorkflows, WorkflowKey(id),
                                    absl::StrCat("workflow ", id));
}

absl::StatusOr<WorkflowRecord> LoadWorkflow(storage::Batch& batch, WorkflowId id) {
  return ReadRecord<WorkflowRecord>(batch, Cf::kWorkflows, WorkflowKey(id),
                                    absl::StrCat("workflow ", id));
}

void SaveWorkflow(storage::Batch& batch, const WorkflowRecord& wf) {
  batch.Put(Cf::kWorkflows, WorkflowKey(wf.id()), wf.SerializeAsString());
}

absl::StatusOr<StepRecord> LoadStep(storage::Batch& batch, WorkflowId id, int index) {
  return ReadRecord<StepRecord>(batch, Cf::kWorkflows, StepKey(id, index),
                                absl::StrCat("workflow ", id, " step ", index));
}

void SaveStep(storage::Batch& batch, WorkflowId id, int index, const StepRecord& step) {
  batch.Put(Cf::kWorkflows, StepKey(id, index), step.SerializeAsString());
}

absl::StatusOr<std::vector<JournalEntry>> LoadJournal(storage::Batch& batch,
                                                      const WorkflowRecord& wf) {
  std::vector<JournalEntry> out;
  for (int i = 0; i < wf.journal_names_size(); ++i) {
    RATCHET_ASSIGN_OR_RETURN(
        auto rec, FindRecord<JournalRecord>(batch, Cf::kWorkflows, JournalKey(wf.id(), i),
                                            absl::StrCat("workflow ", wf.id(), " journal ", i)));
    if (!rec) continue;
    JournalEntry e{rec->name(), rec->result(), FromUnixMs(rec->at_ms())};
    if (rec->kind() > 0 && rec->kind() <= kMaxJournalKind) {
      e.kind = static_cast<JournalKind>(rec->kind());
    }
    out.push_back(std::move(e));
  }
  return out;
}

absl::StatusOr<std::vector<WorkflowEvent>> LoadEvents(storage::Batch& batch,
                                                      const WorkflowRecord& wf) {
  std::vector<WorkflowEvent> out;
  for (const std::string& name : wf.events()) {
    RATCHET_ASSIGN_OR_RETURN(auto value, batch.Get(Cf::kWorkflows, EventKey(wf.id(), name)));
    if (value) out.push_back({name, std::move(*value)});
  }
  return out;
}

void DeleteWorkflowKeys(storage::Batch& batch, const WorkflowRecord& wf) {
  batch.Delete(Cf::kWorkflows, WorkflowKey(wf.id()));
  if (KindOf(wf) == WorkflowKind::kDag) {
    for (int i = 0; i < wf.step_count(); ++i) batch.Delete(Cf::kWorkflows, StepKey(wf.id(), i));
  }
  for (int i = 0; i < wf.journal_names_size(); ++i) {
    batch.Delete(Cf::kWorkflows, JournalKey(wf.id(), i));
  }
  for (const std::string& name : wf.events()) batch.Delete(Cf::kWorkflows, EventKey(wf.id(), name));
  if (!wf.idempotency_key().empty()) {
    batch.Delete(Cf::kWorkflows, WorkflowIdempotencyKey(wf.idempotency_key()));
  }
  if (wf.expires_at_ms() != 0) {
    batch.Delete(Cf::kWorkflows, WorkflowExpiryKey(wf.expires_at_ms(), wf.id()));
  }
}

}  // namespace ratchet::internal
