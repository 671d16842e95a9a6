#include "workflow_store.h"

#include "absl/strings/str_cat.h"
#include "ratchet/base/status.h"

namespace ratchet::internal {

using storage::Cf;

namespace {

template <typename Record>
absl::StatusOr<std::optional<Record>> Read(storage::Batch& batch, const std::string& key,
                                           absl::string_view what) {
  RATCHET_ASSIGN_OR_RETURN(auto value, batch.Get(Cf::kWorkflows, key));
  if (!value) return std::optional<Record>();
  Record r;
  if (!r.ParseFromString(*value)) {
    return absl::DataLossError(absl::StrCat(what, ": stored record does not parse"));
  }
  return std::optional<Record>(std::move(r));
}

}  // namespace

absl::StatusOr<std::optional<WorkflowRecord>> FindWorkflow(storage::Batch& batch, WorkflowId id) {
  return Read<WorkflowRecord>(batch, WorkflowKey(id), absl::StrCat("workflow ", id));
}

absl::StatusOr<WorkflowRecord> LoadWorkflow(storage::Batch& batch, WorkflowId id) {
  RATCHET_ASSIGN_OR_RETURN(auto wf, FindWorkflow(batch, id));
  if (!wf) return NotFound(absl::StrCat("workflow ", id, " not found"));
  return std::move(*wf);
}

void SaveWorkflow(storage::Batch& batch, const WorkflowRecord& wf) {
  batch.Put(Cf::kWorkflows, WorkflowKey(wf.id()), wf.SerializeAsString());
}

absl::StatusOr<StepRecord> LoadStep(storage::Batch& batch, WorkflowId id, int index) {
  RATCHET_ASSIGN_OR_RETURN(
      auto step,
      Read<StepRecord>(batch, StepKey(id, index), absl::StrCat("workflow ", id, " step ", index)));
  if (!step) return NotFound(absl::StrCat("workflow ", id, " step ", index, " not found"));
  return std::move(*step);
}

void SaveStep(storage::Batch& batch, WorkflowId id, int index, const StepRecord& step) {
  batch.Put(Cf::kWorkflows, StepKey(id, index), step.SerializeAsString());
}

absl::StatusOr<std::vector<JournalEntry>> LoadJournal(storage::Batch& batch,
                                                      const WorkflowRecord& wf) {
  std::vector<JournalEntry> out;
  for (int i = 0; i < wf.journal_names_size(); ++i) {
    RATCHET_ASSIGN_OR_RETURN(
        auto rec, Read<JournalRecord>(batch, JournalKey(wf.id(), i),
                                      absl::StrCat("workflow ", wf.id(), " journal ", i)));
    if (!rec) continue;
    out.push_back({rec->name(), rec->result(), FromUnixMs(rec->at_ms())});
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
  if (wf.kind() == static_cast<int>(WorkflowKind::kDag)) {
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
