// WorkflowMachine: reading workflows (get, list by state), rebuilding the
// per-state workflow index at open, and retention of finished workflows.
#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ratchet/base/status.h"
#include "ratchet/storage/keys.h"
#include "record_check.h"
#include "validation.h"
#include "workflow_machine.h"
#include "workflow_store.h"

namespace ratchet::internal {

using storage::Cf;
using storage::KeyBuilder;
using storage::KeyReader;

namespace {

Workflow Header(const WorkflowRecord& r) {
  Workflow w;
  w.id = r.id();
  w.name = r.name();
  w.kind = KindOf(r);
  w.state = StateOf(r);
  w.queue = r.queue();
  w.idempotency_key = r.idempotency_key();
  w.created_at = FromUnixMs(r.created_at_ms());
  w.finished_at = FromUnixMs(r.finished_at_ms());
  w.error = r.error();
  w.main_job_id = r.main_job_id();
  w.result = r.result();
  w.events.assign(r.events().begin(), r.events().end());
  return w;
}

// A workflow's share of an answer without its steps' results: its strings
// and each step's, plus a fixed overhead for numbers and framing.
size_t BytesWithoutResults(const Workflow& w) {
  size_t n = 256 + w.name.size() + w.queue.size() + w.idempotency_key.size() + w.error.size() +
             w.result.size();
  for (const std::string& e : w.events) n += 8 + e.size();
  for (const StepInfo& s : w.steps) {
    n += 64 + s.name.size() + s.job_type.size() + s.queue.size();
    for (const std::string& d : s.depends_on) n += 8 + d.size();
  }
  return n;
}

// Keeps the steps' results, in step order, while the answer stays within
// `max_bytes`; leaves out each one that does not fit.
void FitResults(Workflow& w, size_t max_bytes) {
  size_t bytes = BytesWithoutResults(w);
  for (StepInfo& s : w.steps) {
    if (bytes + s.result.size() <= max_bytes) {
      bytes += s.result.size();
      continue;
    }
    s.result.clear();
    s.result.shrink_to_fit();
    s.result_omitted = true;
  }
}

}  // namespace

absl::StatusOr<Workflow> WorkflowMachine::GetWorkflow(storage::Batch& batch, TimePoint now,
                                                      WorkflowId id, size_t max_bytes) {
  RATCHET_ASSIGN_OR_RETURN(WorkflowRecord r, LoadWorkflow(batch, id));
  Workflow w = Header(r);
  if (KindOf(r) == WorkflowKind::kCode) {
    RATCHET_ASSIGN_OR_RETURN(auto journal, LoadJournal(batch, r));
    for (JournalEntry& e : journal) {
      StepInfo s;
      s.name = std::move(e.name);
      s.queue = r.queue();
      s.state = StepState::kCompleted;
      s.result = std::move(e.result);
      w.steps.push_back(std::move(s));
    }
    FitResults(w, max_bytes);
    return w;
  }
  std::vector<StepRecord> steps;
  for (int i = 0; i < r.step_count(); ++i) {
    RATCHET_ASSIGN_OR_RETURN(StepRecord step, LoadStep(batch, id, i));
    steps.push_back(std::move(step));
  }
  for (const StepRecord& step : steps) {
    StepInfo s;
    s.name = step.name();
    s.job_type = step.job_type();
    s.queue = step.queue().empty() ? r.queue() : step.queue();
    s.state = StateOf(step);
    s.job_id = step.job_id();
    s.result = step.result();
    s.continue_on_failure = step.continue_on_failure();
    for (int d : step.depends_on()) s.depends_on.push_back(steps[d].name());
    if (step.job_id() != 0) {
      auto job = store_.Load(batch, step.job_id());
      if (job.ok()) {
        s.job_state = VisibleState(*job, now);
        s.attempts = job->attempts();
      } else if (!absl::IsNotFound(job.status())) {
        return job.status();
      }
    }
    w.steps.push_back(std::move(s));
  }
  FitResults(w, max_bytes);
  return w;
}

absl::StatusOr<WorkflowListResult> WorkflowMachine::ListWorkflows(storage::Batch& batch,
                                                                  const WorkflowListRequest& req) {
  if (req.limit < 1 || req.limit > kMaxListLimit) {
    return InvalidArgument("limit",
                           absl::StrCat(req.limit, " is outside [1, ", kMaxListLimit, "]"));
  }
  WorkflowId after = 0;
  if (!req.cursor.empty() && !absl::SimpleAtoi(req.cursor, &after)) {
    return InvalidArgument("cursor", "not a cursor returned by a previous list");
  }
  if (req.state && static_cast<int>(*req.state) > static_cast<int>(WorkflowState::kCancelled)) {
    return InvalidArgument("state", "unknown workflow state");
  }
  // Merge the per-state sets in id order.
  std::vector<const absl::btree_set<WorkflowId>*> sets;
  for (int s = 0; s < 4; ++s) {
    if (!req.state || static_cast<int>(*req.state) == s) sets.push_back(&by_state_[s]);
  }
  std::vector<WorkflowId> ids;
  std::vector<absl::btree_set<WorkflowId>::const_iterator> its;
  for (auto* set : sets) its.push_back(set->upper_bound(after));
  while (static_cast<int>(ids.size()) <= req.limit) {
    int best = -1;
    for (size_t i = 0; i < sets.size(); ++i) {
      if (its[i] != sets[i]->end() && (best < 0 || *its[i] < *its[best]))
        best = static_cast<int>(i);
    }
    if (best < 0) break;
    ids.push_back(*its[best]++);
  }
  WorkflowListResult out;
  if (static_cast<int>(ids.size()) > req.limit) {
    ids.pop_back();
    out.next_cursor = absl::StrCat(ids.back());
  }
  size_t bytes = 0;
  for (size_t i = 0; i < ids.size(); ++i) {
    RATCHET_ASSIGN_OR_RETURN(WorkflowRecord r, LoadWorkflow(batch, ids[i]));
    Workflow w = Header(r);
    const size_t n = BytesWithoutResults(w);
    if (!out.workflows.empty() && bytes + n > req.max_bytes) {
      out.next_cursor = absl::StrCat(ids[i - 1]);  // the page ends before it
      break;
    }
    bytes += n;
    out.workflows.push_back(std::move(w));
  }
  return out;
}

absl::Status WorkflowMachine::Recover() {
  RATCHET_ASSIGN_OR_RETURN(auto next_id, store_.store().Get(Cf::kMeta, kMetaNextWorkflowId));
  if (next_id) next_workflow_id_ = std::max<WorkflowId>(1, DecodeU64(*next_id));
  absl::Status parse_status;
  std::string prefix(kWorkflowPrefix);
  RATCHET_RETURN_IF_ERROR(store_.store().ForEach(
      Cf::kWorkflows, prefix, storage::PrefixSuccessor(prefix),
      [&](std::string_view key, std::string_view value) {
        WorkflowRecord r;
        parse_status = ParseStored(Cf::kWorkflows, key, value, &r);
        if (parse_status.ok()) parse_status = CheckWorkflowRecord(key, r);
        if (!parse_status.ok()) return false;
        IndexWorkflow(r.id(), std::nullopt, StateOf(r));
        next_workflow_id_ = std::max<WorkflowId>(next_workflow_id_, r.id() + 1);
        return true;
      }));
  return parse_status;
}

absl::StatusOr<int> WorkflowMachine::Sweep(storage::Batch& batch, TimePoint now, int max_keys) {
  int deleted = 0;
  std::string prefix(kWorkflowExpiryPrefix);
  std::string end = KeyBuilder().Raw(prefix).I64(ToUnixMs(now) + 1).Build();
  std::vector<std::pair<int64_t, WorkflowId>> expired;  // (expires at, id)
  RATCHET_RETURN_IF_ERROR(store_.store().ForEach(Cf::kWorkflows, prefix, end,
                                                 [&](std::string_view key, std::string_view) {
                                                   KeyReader reader(key.substr(prefix.size()));
                                                   int64_t at = 0;
                                                   uint64_t id = 0;
                                                   if (reader.I64(&at) && reader.U64(&id)) {
                                                     expired.emplace_back(at, id);
                                                   }
                                                   return expired.size() < 100;
                                                 }));
  for (const auto& [at, id] : expired) {
    if (deleted >= max_keys) break;
    RATCHET_ASSIGN_OR_RETURN(auto wf, FindWorkflow(batch, id));
    if (!wf) continue;
    if (StateOf(*wf) == WorkflowState::kRunning) {
      // A stale expiry entry of a workflow that runs again: never delete it.
      batch.Delete(Cf::kWorkflows, WorkflowExpiryKey(at, id));
      ++deleted;
      continue;
    }
    DeleteWorkflowKeys(batch, *wf);
    by_state_[static_cast<int>(StateOf(*wf))].erase(id);
    deleted += 2 + wf->step_count() + wf->journal_names_size() + wf->events_size();
  }
  return deleted;
}

void WorkflowMachine::FinishBatch(storage::Batch& batch) {
  if (!counter_dirty_) return;
  batch.Put(Cf::kMeta, kMetaNextWorkflowId, EncodeU64(next_workflow_id_));
  counter_dirty_ = false;
}

}  // namespace ratchet::internal
