#include "code_workflows.h"

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ratchet/base/saturating.h"
#include "ratchet/base/status.h"
#include "validation.h"
#include "workflow_store.h"

namespace ratchet::internal {

using storage::Cf;

namespace {

absl::Status ValidateEntry(absl::string_view field, const JournalEntry& e, const EngineOptions& o) {
  if (e.name.empty() || e.name.size() > 256) {
    return InvalidArgument(absl::StrCat(field, ".name"), "must be 1..256 bytes");
  }
  RATCHET_RETURN_IF_ERROR(ValidateUtf8(absl::StrCat(field, ".name"), e.name));
  if (e.result.size() > o.max_payload_bytes) {
    return PayloadTooLarge(absl::StrCat(field, ".result"), e.result.size(), o.max_payload_bytes);
  }
  if (static_cast<int>(e.kind) > kMaxJournalKind) {
    return InvalidArgument(absl::StrCat(field, ".kind"),
                           absl::StrCat("unknown value ", static_cast<int>(e.kind)));
  }
  if (e.delay) {
    if (!IsTimer(e.kind)) {
      return InvalidArgument(absl::StrCat(field, ".delay"),
                             "only a sleep or wait entry can give a delay");
    }
    if (*e.delay < Millis(0) || *e.delay > o.max_schedule_ahead) {
      return InvalidArgument(absl::StrCat(field, ".delay"),
                             absl::StrCat("must be 0..", o.max_schedule_ahead.count(), " ms"));
    }
  }
  return absl::OkStatus();
}

// The time a delayed timer entry stands for: the engine's now + delay.
TimePoint WakeOf(TimePoint now, const JournalEntry& e) { return now + *e.delay; }

// The code-first workflow a main job belongs to.
absl::StatusOr<WorkflowRecord> WorkflowOfJob(storage::Batch& batch, const JobRecord& r,
                                             absl::string_view op) {
  if (r.workflow_id() == 0 || r.step_index() >= 0) {
    return InvalidArgument("job_id", absl::StrCat(op, ": job ", r.id(),
                                                  " is not the main job of a code-first workflow"));
  }
  return LoadWorkflow(batch, r.workflow_id());
}

bool Journalled(const WorkflowRecord& wf, const std::string& name) {
  const auto& names = wf.journal_names();
  return std::find(names.begin(), names.end(), name) != names.end();
}

// Appends `e` to the journal unless its name is there (the first result
// stands). A delayed timer is journalled with its time on the engine's
// clock. The caller saves `wf`.
void Append(storage::Batch& batch, TimePoint now, WorkflowRecord& wf, const JournalEntry& e) {
  if (Journalled(wf, e.name)) return;
  JournalRecord rec;
  rec.set_name(e.name);
  rec.set_result(e.delay ? absl::StrCat(ToUnixMs(WakeOf(now, e))) : e.result);
  rec.set_at_ms(ToUnixMs(now));
  rec.set_kind(static_cast<int>(e.kind));
  batch.Put(Cf::kWorkflows, JournalKey(wf.id(), wf.journal_names_size()), rec.SerializeAsString());
  wf.add_journal_names(e.name);
}

}  // namespace

absl::Status CodeWorkflows::LoadLeased(storage::Batch& batch, TimePoint now, JobId job_id,
                                       FencingToken token, absl::string_view op, JobRecord* job,
                                       WorkflowRecord* wf) {
  RATCHET_ASSIGN_OR_RETURN(*job, store_.Load(batch, job_id));
  RATCHET_ASSIGN_OR_RETURN(*wf, WorkflowOfJob(batch, *job, op));
  return jobs_.CheckLease(*job, token, now, op);
}

absl::Status CodeWorkflows::RecordStep(storage::Batch& batch, TimePoint now,
                                       const RecordStepRequest& req) {
  RATCHET_RETURN_IF_ERROR(ValidateEntry("entry", req.entry, store_.options()));
  JobRecord r;
  WorkflowRecord wf;
  RATCHET_RETURN_IF_ERROR(LoadLeased(batch, now, req.job_id, req.token, "record step", &r, &wf));
  if (Journalled(wf, req.entry.name)) return absl::OkStatus();  // the first result stands
  if (wf.journal_names_size() >= store_.options().max_workflow_steps) {
    return InvalidArgument(
        "entry", absl::StrCat("workflow ", wf.id(), " already has ", wf.journal_names_size(),
                              " journal entries, the limit"));
  }
  Append(batch, now, wf, req.entry);
  SaveWorkflow(batch, wf);
  return absl::OkStatus();
}

absl::Status CodeWorkflows::Suspend(storage::Batch& batch, TimePoint now,
                                    const SuspendRequest& req) {
  const EngineOptions& options = store_.options();
  TimePoint until = req.until;
  int delayed = 0;
  for (size_t i = 0; i < req.record.size(); ++i) {
    const JournalEntry& e = req.record[i];
    RATCHET_RETURN_IF_ERROR(ValidateEntry(absl::StrCat("record[", i, "]"), e, options));
    if (e.delay) {
      // The wake-up is on the engine's clock: the worker's says nothing.
      if (++delayed > 1) {
        return InvalidArgument(absl::StrCat("record[", i, "].delay"),
                               "only one entry of a suspension can give a delay");
      }
      until = WakeOf(now, e);
    }
  }
  if (until > now + options.max_schedule_ahead) {
    return InvalidArgument(
        "until", absl::StrCat("is more than ", options.max_schedule_ahead.count(), " ms ahead"));
  }
  JobRecord r;
  WorkflowRecord wf;
  RATCHET_RETURN_IF_ERROR(LoadLeased(batch, now, req.job_id, req.token, "suspend", &r, &wf));
  const auto& events = wf.events();
  if (!req.awaiting_event.empty() &&
      std::find(events.begin(), events.end(), req.awaiting_event) == events.end()) {
    return InvalidArgument(
        "awaiting_event",
        absl::StrCat("event '", req.awaiting_event, "' is not declared by workflow ", wf.id()));
  }
  if (wf.journal_names_size() + req.record.size() >
      static_cast<size_t>(options.max_workflow_steps)) {
    return InvalidArgument("record",
                           absl::StrCat("workflow ", wf.id(), " would exceed the limit of ",
                                        options.max_workflow_steps, " journal entries"));
  }
  bool event_here = false;
  if (!req.awaiting_event.empty()) {
    RATCHET_ASSIGN_OR_RETURN(auto ev,
                             batch.Get(Cf::kWorkflows, EventKey(wf.id(), req.awaiting_event)));
    event_here = ev.has_value();
  }
  // Stored counts are read back from disk: they neither wrap nor go negative.
  const int suspends =
      IncrementSaturating(std::max(0, wf.suspend_attempt() == r.attempts() ? wf.suspends() : 0));
  if (suspends > options.max_suspends_per_attempt) {
    // A workflow that keeps suspending without waiting would cost a durable
    // write per cycle for ever: end the attempt as failed instead.
    FailRequest fail{req.job_id, req.token,
                     absl::StrCat("workflow ", wf.id(), " suspended more than ",
                                  options.max_suspends_per_attempt, " times in attempt ",
                                  r.attempts(), " (EngineOptions::max_suspends_per_attempt)"),
                     true};
    return jobs_.Fail(batch, now, fail).status();
  }
  // Checked; from here on nothing fails but an observer of a cancellation
  // (Park), and the sequencer rolls that back.
  for (const JournalEntry& e : req.record) Append(batch, now, wf, e);
  wf.set_suspend_attempt(r.attempts());
  wf.set_suspends(suspends);
  SaveWorkflow(batch, wf);
  // A time already past wakes at once (Park never schedules before now).
  return jobs_.Park(batch, now, r, event_here ? now : until, req.awaiting_event);
}

absl::Status CodeWorkflows::SendEvent(storage::Batch& batch, TimePoint now,
                                      const SendEventRequest& req) {
  const EngineOptions& options = store_.options();
  RATCHET_RETURN_IF_ERROR(ValidateName("name", req.name));
  if (req.payload.size() > options.max_payload_bytes) {
    return PayloadTooLarge(req.payload.size(), options.max_payload_bytes);
  }
  RATCHET_ASSIGN_OR_RETURN(WorkflowRecord wf, LoadWorkflow(batch, req.workflow_id));
  const auto& events = wf.events();
  if (std::find(events.begin(), events.end(), req.name) == events.end()) {
    return InvalidArgument(
        "name", absl::StrCat("unknown event '", req.name, "' for workflow ", wf.id(),
                             events.empty()
                                 ? " (it declares no events)"
                                 : absl::StrCat(" (declared: ", absl::StrJoin(events, ", "), ")")));
  }
  std::string key = EventKey(wf.id(), req.name);
  RATCHET_ASSIGN_OR_RETURN(auto stored, batch.Get(Cf::kWorkflows, key));
  if (stored) {
    if (*stored == req.payload) return absl::OkStatus();  // a retried send
    return IdempotencyConflict(absl::StrCat("event '", req.name, "' was already sent to workflow ",
                                            wf.id(), " with a different payload"));
  }
  if (StateOf(wf) != WorkflowState::kRunning) {
    return InvalidState(
        absl::StrCat("send event: workflow ", wf.id(), " is ", WorkflowStateName(StateOf(wf))));
  }
  // Wake the main job if it is suspended waiting for this event. First, as
  // it reads (and may fail) before it writes: nothing is half-written.
  RATCHET_RETURN_IF_ERROR(jobs_.WakeNow(batch, now, wf.main_job_id(), req.name));
  batch.Put(Cf::kWorkflows, key, req.payload);
  return absl::OkStatus();
}

absl::Status CodeWorkflows::OnJobLeasing(storage::Batch& batch, const JobRecord& r,
                                         LeasedJob* out) {
  if (r.workflow_id() == 0 || r.step_index() >= 0) return absl::OkStatus();  // not a main job
  RATCHET_ASSIGN_OR_RETURN(auto wf, FindWorkflow(batch, r.workflow_id()));
  if (!wf) return absl::OkStatus();
  RATCHET_ASSIGN_OR_RETURN(out->journal, LoadJournal(batch, *wf));
  RATCHET_ASSIGN_OR_RETURN(out->events, LoadEvents(batch, *wf));
  // Whether a timer is due is the engine's call, on its clock, so a worker
  // whose clock is behind does not suspend again and again.
  const int64_t now_ms = ToUnixMs(clock_->Now());
  for (JournalEntry& e : out->journal) {
    int64_t at_ms = 0;
    e.due = IsTimer(e.kind) && absl::SimpleAtoi(e.result, &at_ms) && at_ms <= now_ms;
  }
  return absl::OkStatus();
}

}  // namespace ratchet::internal
