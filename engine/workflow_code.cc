// StateMachine: code-first workflows. The main job runs the workflow code;
// its journal (step results, timers, waits) is recorded under the job's
// lease, and Suspend parks the job until a time or an event without holding
// a worker. Events are stored once per name and wake a job waiting for them.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ratchet/base/status.h"
#include "state_machine.h"
#include "validation.h"
#include "workflow_store.h"

namespace ratchet::internal {

using storage::Cf;

absl::StatusOr<JobRecord> StateMachine::LoadMainJob(storage::Batch& batch,
                                                    const WorkflowRecord& wf, JobId job_id,
                                                    FencingToken token, absl::string_view op) {
  RATCHET_ASSIGN_OR_RETURN(JobRecord r, Load(batch, job_id));
  JobMeta* m = indexes_.Find(job_id);
  if (!m || !m->running || m->token != token) {
    return LeaseLost(absl::StrCat(op, ": job ", job_id, ": fencing token ", token,
                                  " does not hold the lease"));
  }
  return r;
}

namespace {

absl::Status ValidateEntry(absl::string_view field, const JournalEntry& e,
                           const EngineOptions& o) {
  if (e.name.empty() || e.name.size() > 256) {
    return InvalidArgument(absl::StrCat(field, ".name"), "must be 1..256 bytes");
  }
  if (e.result.size() > o.max_payload_bytes) {
    return WithReason(InvalidArgument(absl::StrCat(field, ".result"),
                                      absl::StrCat(e.result.size(), " bytes exceeds the limit of ",
                                                   o.max_payload_bytes, " bytes")),
                      kReasonPayloadTooLarge);
  }
  return absl::OkStatus();
}

// The code-first workflow a main job belongs to.
absl::StatusOr<WorkflowRecord> WorkflowOfJob(storage::Batch& batch, const JobRecord& r,
                                             absl::string_view op) {
  if (r.workflow_id() == 0 || r.step_index() >= 0) {
    return InvalidArgument("job_id", absl::StrCat(op, ": job ", r.id(),
                                                  " is not the main job of a code-first workflow"));
  }
  return LoadWorkflow(batch, r.workflow_id());
}

}  // namespace

absl::Status StateMachine::RecordStep(storage::Batch& batch, TimePoint now,
                                      const RecordStepRequest& req) {
  RATCHET_RETURN_IF_ERROR(ValidateEntry("entry", req.entry, options_));
  RATCHET_ASSIGN_OR_RETURN(JobRecord r, Load(batch, req.job_id));
  RATCHET_ASSIGN_OR_RETURN(WorkflowRecord wf, WorkflowOfJob(batch, r, "record step"));
  RATCHET_RETURN_IF_ERROR(LoadMainJob(batch, wf, req.job_id, req.token, "record step").status());
  const auto& names = wf.journal_names();
  if (std::find(names.begin(), names.end(), req.entry.name) != names.end()) {
    return absl::OkStatus();  // recorded before: the first result stands
  }
  if (names.size() >= options_.max_workflow_steps) {
    return InvalidArgument("entry", absl::StrCat("workflow ", wf.id(), " already has ",
                                                 names.size(), " journal entries, the limit"));
  }
  JournalRecord rec;
  rec.set_name(req.entry.name);
  rec.set_result(req.entry.result);
  rec.set_at_ms(ToUnixMs(now));
  batch.Put(Cf::kWorkflows, JournalKey(wf.id(), names.size()), rec.SerializeAsString());
  wf.add_journal_names(req.entry.name);
  SaveWorkflow(batch, wf);
  return absl::OkStatus();
}

absl::Status StateMachine::Suspend(storage::Batch& batch, TimePoint now,
                                   const SuspendRequest& req) {
  for (size_t i = 0; i < req.record.size(); ++i) {
    RATCHET_RETURN_IF_ERROR(ValidateEntry(absl::StrCat("record[", i, "]"), req.record[i], options_));
  }
  if (req.until > now + options_.max_schedule_ahead) {
    return InvalidArgument("until", absl::StrCat("is more than ", options_.max_schedule_ahead.count(),
                                                 " ms ahead"));
  }
  RATCHET_ASSIGN_OR_RETURN(JobRecord r, Load(batch, req.job_id));
  RATCHET_ASSIGN_OR_RETURN(WorkflowRecord wf, WorkflowOfJob(batch, r, "suspend"));
  RATCHET_RETURN_IF_ERROR(LoadMainJob(batch, wf, req.job_id, req.token, "suspend").status());
  const auto& events = wf.events();
  if (!req.awaiting_event.empty() &&
      std::find(events.begin(), events.end(), req.awaiting_event) == events.end()) {
    return InvalidArgument("awaiting_event",
                           absl::StrCat("event '", req.awaiting_event,
                                        "' is not declared by workflow ", wf.id()));
  }
  if (wf.journal_names_size() + req.record.size() > static_cast<size_t>(options_.max_workflow_steps)) {
    return InvalidArgument("record", absl::StrCat("workflow ", wf.id(),
                                                  " would exceed the limit of ",
                                                  options_.max_workflow_steps, " journal entries"));
  }
  bool event_here = false;
  if (!req.awaiting_event.empty()) {
    RATCHET_ASSIGN_OR_RETURN(auto ev, batch.Get(Cf::kWorkflows, EventKey(wf.id(), req.awaiting_event)));
    event_here = ev.has_value();
  }
  // Checked; from here on nothing fails.
  bool recorded = false;
  for (const JournalEntry& e : req.record) {
    const auto& names = wf.journal_names();
    if (std::find(names.begin(), names.end(), e.name) != names.end()) continue;
    JournalRecord rec;
    rec.set_name(e.name);
    rec.set_result(e.result);
    rec.set_at_ms(ToUnixMs(now));
    batch.Put(Cf::kWorkflows, JournalKey(wf.id(), names.size()), rec.SerializeAsString());
    wf.add_journal_names(e.name);
    recorded = true;
  }
  if (recorded) SaveWorkflow(batch, wf);
  if (r.cancel_requested()) {
    Finish(batch, now, r, JobState::kCancelled);
    return absl::OkStatus();
  }
  QueueState* q = indexes_.Find(r.id())->queue;
  TimePoint wake = event_here ? now : std::max(req.until, now);
  r.set_state(static_cast<int>(JobState::kScheduled));
  r.set_attempts(std::max(0, r.attempts() - 1));  // a suspension is not a failed attempt
  r.set_run_at_ms(ToUnixMs(wake));
  r.set_awaiting_event(req.awaiting_event);
  r.set_worker_id("");
  Save(batch, r);
  indexes_.Remove(r.id());
  indexes_.AddWaiting(r.id(), q, r.priority(), r.run_at_ms());
  return absl::OkStatus();
}

absl::Status StateMachine::SendEvent(storage::Batch& batch, TimePoint now,
                                     const SendEventRequest& req) {
  RATCHET_RETURN_IF_ERROR(ValidateName("name", req.name));
  if (req.payload.size() > options_.max_payload_bytes) {
    return PayloadTooLarge(req.payload.size(), options_.max_payload_bytes);
  }
  RATCHET_ASSIGN_OR_RETURN(WorkflowRecord wf, LoadWorkflow(batch, req.workflow_id));
  const auto& events = wf.events();
  if (std::find(events.begin(), events.end(), req.name) == events.end()) {
    return InvalidArgument(
        "name", absl::StrCat("unknown event '", req.name, "' for workflow ", wf.id(),
                             events.empty() ? " (it declares no events)"
                                            : absl::StrCat(" (declared: ",
                                                           absl::StrJoin(events, ", "), ")")));
  }
  std::string key = EventKey(wf.id(), req.name);
  RATCHET_ASSIGN_OR_RETURN(auto stored, batch.Get(Cf::kWorkflows, key));
  if (stored) {
    if (*stored == req.payload) return absl::OkStatus();  // a retried send
    return WithReason(absl::AlreadyExistsError(absl::StrCat(
                          "event '", req.name, "' was already sent to workflow ", wf.id(),
                          " with a different payload")),
                      kReasonIdempotencyConflict);
  }
  if (static_cast<WorkflowState>(wf.state()) != WorkflowState::kRunning) {
    return InvalidState(absl::StrCat("send event: workflow ", wf.id(), " is ",
                                     WorkflowStateName(static_cast<WorkflowState>(wf.state()))));
  }
  batch.Put(Cf::kWorkflows, key, req.payload);
  // Wake the main job if it is suspended waiting for this event.
  JobMeta* m = indexes_.Find(wf.main_job_id());
  if (m && !m->running) {
    RATCHET_ASSIGN_OR_RETURN(JobRecord r, Load(batch, wf.main_job_id()));
    if (r.awaiting_event() == req.name && r.run_at_ms() > ToUnixMs(now)) {
      QueueState* q = m->queue;
      r.set_run_at_ms(ToUnixMs(now));
      Save(batch, r);
      indexes_.Remove(r.id());
      indexes_.AddWaiting(r.id(), q, r.priority(), r.run_at_ms());
    }
  }
  return absl::OkStatus();
}

absl::Status StateMachine::AttachWorkflow(storage::Batch& batch, const JobRecord& r,
                                          LeasedJob* out) {
  RATCHET_ASSIGN_OR_RETURN(auto wf, FindWorkflow(batch, r.workflow_id()));
  if (!wf) return absl::OkStatus();
  RATCHET_ASSIGN_OR_RETURN(out->journal, LoadJournal(batch, *wf));
  RATCHET_ASSIGN_OR_RETURN(out->events, LoadEvents(batch, *wf));
  return absl::OkStatus();
}

}  // namespace ratchet::internal
