#include "workflow_convert.h"

#include "absl/strings/str_cat.h"
#include "convert.h"
#include "ratchet/api/time_codec.h"
#include "ratchet/base/status.h"

namespace ratchet::server {

namespace {

absl::StatusOr<StepOptions> FromProto(const pb::StepOptions& o, absl::string_view field) {
  StepOptions out;
  out.queue = o.queue();
  if (o.has_priority()) out.priority = o.priority();
  if (o.has_max_attempts()) out.max_attempts = o.max_attempts();
  if (o.has_retry_policy()) {
    RATCHET_ASSIGN_OR_RETURN(out.retry_policy,
                             server::FromProto(o.retry_policy(), Sub(field, "retry_policy")));
  }
  if (o.has_visibility_timeout()) {
    RATCHET_ASSIGN_OR_RETURN(
        out.visibility_timeout,
        FromProtoDuration(o.visibility_timeout(), Sub(field, "visibility_timeout")));
  }
  return out;
}

}  // namespace

absl::StatusOr<WorkflowSpec> FromProto(const pb::SubmitWorkflowRequest& req) {
  WorkflowSpec out;
  out.name = req.name();
  out.queue = req.queue();
  out.idempotency_key = req.idempotency_key();
  out.traceparent = req.traceparent();
  for (int i = 0; i < req.steps_size(); ++i) {
    const pb::StepSpec& s = req.steps(i);
    StepSpec step;
    step.name = s.name();
    step.job_type = s.job_type();
    step.payload = s.payload();
    RATCHET_ASSIGN_OR_RETURN(step.options,
                             FromProto(s.options(), absl::StrCat("steps[", i, "].options")));
    step.depends_on.assign(s.depends_on().begin(), s.depends_on().end());
    step.continue_on_failure = s.continue_on_failure();
    out.steps.push_back(std::move(step));
  }
  return out;
}

absl::StatusOr<StartWorkflowRequest> FromProto(const pb::StartWorkflowRequest& req) {
  StartWorkflowRequest out;
  out.name = req.name();
  out.queue = req.queue();
  out.job_type = req.job_type();
  out.payload = req.payload();
  out.idempotency_key = req.idempotency_key();
  out.traceparent = req.traceparent();
  out.events.assign(req.events().begin(), req.events().end());
  RATCHET_ASSIGN_OR_RETURN(out.options, FromProto(req.options(), "options"));
  return out;
}

absl::StatusOr<std::optional<WorkflowState>> FromProto(pb::WorkflowState state,
                                                       absl::string_view field) {
  switch (state) {
    case pb::WORKFLOW_STATE_UNSPECIFIED:
      return std::optional<WorkflowState>();
    case pb::WORKFLOW_RUNNING:
      return WorkflowState::kRunning;
    case pb::WORKFLOW_COMPLETED:
      return WorkflowState::kCompleted;
    case pb::WORKFLOW_FAILED:
      return WorkflowState::kFailed;
    case pb::WORKFLOW_CANCELLED:
      return WorkflowState::kCancelled;
    default:
      return InvalidArgument(field, absl::StrCat("unknown value ", state));
  }
}

namespace {

// A journal entry a worker records (`at` and `due` are the server's).
absl::StatusOr<JournalEntry> FromProto(const pb::JournalEntry& e, absl::string_view field) {
  JournalEntry out{e.name(), e.result(), {}};
  if (e.kind() < 0 || e.kind() > kMaxJournalKind) {
    return InvalidArgument(absl::StrCat(field, ".kind"), absl::StrCat("unknown value ", e.kind()));
  }
  out.kind = static_cast<JournalKind>(e.kind());
  if (e.has_delay()) {
    RATCHET_ASSIGN_OR_RETURN(Millis delay,
                             FromProtoDuration(e.delay(), absl::StrCat(field, ".delay")));
    out.delay = delay;
  }
  return out;
}

}  // namespace

absl::StatusOr<SuspendRequest> FromProto(const pb::SuspendWorkflowRequest& req) {
  SuspendRequest out;
  out.job_id = req.job_id();
  out.token = req.fencing_token();
  RATCHET_ASSIGN_OR_RETURN(out.until, FromProtoTime(req.until(), "until"));
  out.awaiting_event = req.awaiting_event();
  for (int i = 0; i < req.record_size(); ++i) {
    RATCHET_ASSIGN_OR_RETURN(JournalEntry e,
                             FromProto(req.record(i), absl::StrCat("record[", i, "]")));
    out.record.push_back(std::move(e));
  }
  return out;
}

absl::StatusOr<RecordStepRequest> FromProto(const pb::RecordStepRequest& req) {
  RecordStepRequest out;
  out.job_id = req.job_id();
  out.token = req.fencing_token();
  RATCHET_ASSIGN_OR_RETURN(out.entry, FromProto(req.entry(), "entry"));
  return out;
}

void ToProto(const JournalEntry& e, pb::JournalEntry* out) {
  out->set_name(e.name);
  out->set_result(e.result);
  *out->mutable_at() = ToProtoTime(e.at);
  out->set_kind(static_cast<pb::JournalEntryKind>(e.kind));
  out->set_due(e.due);
}

absl::StatusOr<ScheduleSpec> FromProto(const pb::ScheduleSpec& s) {
  ScheduleSpec out;
  out.id = s.id();
  out.spec = s.spec();
  out.time_zone = s.time_zone().empty() ? "UTC" : s.time_zone();
  // Named as the engine names the schedule's fields (no "schedule." prefix).
  if (s.has_start_at()) {
    RATCHET_ASSIGN_OR_RETURN(out.start_at, FromProtoTime(s.start_at(), "start_at"));
  }
  if (s.has_end_at()) {
    RATCHET_ASSIGN_OR_RETURN(out.end_at, FromProtoTime(s.end_at(), "end_at"));
  }
  if (s.has_jitter()) {
    RATCHET_ASSIGN_OR_RETURN(out.jitter, FromProtoDuration(s.jitter(), "jitter"));
  }
  switch (s.missed()) {
    case pb::MISSED_RUN_POLICY_UNSPECIFIED:
    case pb::MISSED_RUN_ONCE:
      out.missed = MissedRunPolicy::kRunOnce;
      break;
    case pb::MISSED_SKIP:
      out.missed = MissedRunPolicy::kSkip;
      break;
    case pb::MISSED_RUN_ALL:
      out.missed = MissedRunPolicy::kRunAll;
      break;
    default:
      return InvalidArgument("missed", absl::StrCat("unknown value ", s.missed()));
  }
  if (s.has_catchup_window()) {
    RATCHET_ASSIGN_OR_RETURN(out.catchup_window,
                             FromProtoDuration(s.catchup_window(), "catchup_window"));
  }
  switch (s.overlap()) {
    case pb::OVERLAP_POLICY_UNSPECIFIED:
    case pb::OVERLAP_ALLOW:
      out.overlap = OverlapPolicy::kAllow;
      break;
    case pb::OVERLAP_SKIP:
      out.overlap = OverlapPolicy::kSkip;
      break;
    case pb::OVERLAP_BUFFER_ONE:
      out.overlap = OverlapPolicy::kBufferOne;
      break;
    default:
      return InvalidArgument("overlap", absl::StrCat("unknown value ", s.overlap()));
  }
  out.paused = s.paused();
  out.queue = s.queue();
  out.job_type = s.job_type();
  out.payload = s.payload();
  if (s.has_priority()) out.priority = s.priority();
  if (s.has_max_attempts()) out.max_attempts = s.max_attempts();
  if (s.has_visibility_timeout()) {
    RATCHET_ASSIGN_OR_RETURN(out.visibility_timeout,
                             FromProtoDuration(s.visibility_timeout(), "visibility_timeout"));
  }
  return out;
}

pb::WorkflowState ToProto(WorkflowState state) {
  return static_cast<pb::WorkflowState>(static_cast<int>(state) + 1);
}

void ToProto(const WorkflowSubmitResult& r, pb::SubmitWorkflowResponse* out) {
  out->set_workflow_id(r.id);
  out->set_duplicate(r.duplicate);
}

void ToProto(const Workflow& w, pb::Workflow* out) {
  out->set_id(w.id);
  out->set_name(w.name);
  out->set_kind(w.kind == WorkflowKind::kDag ? "dag" : "code");
  out->set_state(ToProto(w.state));
  out->set_queue(w.queue);
  out->set_idempotency_key(w.idempotency_key);
  *out->mutable_created_at() = ToProtoTime(w.created_at);
  if (w.state != WorkflowState::kRunning) *out->mutable_finished_at() = ToProtoTime(w.finished_at);
  out->set_error(w.error);
  out->set_main_job_id(w.main_job_id);
  out->set_result(w.result);
  for (const std::string& e : w.events) out->add_events(e);
  for (const StepInfo& s : w.steps) {
    pb::StepInfo* o = out->add_steps();
    o->set_name(s.name);
    o->set_job_type(s.job_type);
    o->set_queue(s.queue);
    o->set_state(server::ToProto(s.state));
    o->set_job_id(s.job_id);
    if (s.job_state) o->set_job_state(server::ToProto(*s.job_state));
    o->set_attempts(s.attempts);
    o->set_result(s.result);
    o->set_result_omitted(s.result_omitted);
    for (const std::string& d : s.depends_on) o->add_depends_on(d);
    o->set_continue_on_failure(s.continue_on_failure);
  }
}

void ToProto(const ScheduleInfo& info, pb::ScheduleInfo* out) {
  const ScheduleSpec& s = info.spec;
  pb::ScheduleSpec* o = out->mutable_spec();
  o->set_id(s.id);
  o->set_spec(s.spec);
  o->set_time_zone(s.time_zone);
  if (s.start_at) *o->mutable_start_at() = ToProtoTime(*s.start_at);
  if (s.end_at) *o->mutable_end_at() = ToProtoTime(*s.end_at);
  *o->mutable_jitter() = ToProtoDuration(s.jitter);
  o->set_missed(s.missed == MissedRunPolicy::kSkip     ? pb::MISSED_SKIP
                : s.missed == MissedRunPolicy::kRunAll ? pb::MISSED_RUN_ALL
                                                       : pb::MISSED_RUN_ONCE);
  *o->mutable_catchup_window() = ToProtoDuration(s.catchup_window);
  o->set_overlap(s.overlap == OverlapPolicy::kSkip        ? pb::OVERLAP_SKIP
                 : s.overlap == OverlapPolicy::kBufferOne ? pb::OVERLAP_BUFFER_ONE
                                                          : pb::OVERLAP_ALLOW);
  o->set_paused(s.paused);
  o->set_queue(s.queue);
  o->set_job_type(s.job_type);
  o->set_payload(s.payload);
  o->set_priority(s.priority);
  if (s.max_attempts) o->set_max_attempts(*s.max_attempts);
  if (s.visibility_timeout)
    *o->mutable_visibility_timeout() = ToProtoDuration(*s.visibility_timeout);
  *out->mutable_created_at() = ToProtoTime(info.created_at);
  *out->mutable_updated_at() = ToProtoTime(info.updated_at);
  if (info.next_tick) *out->mutable_next_tick() = ToProtoTime(*info.next_tick);
  if (info.last_tick) *out->mutable_last_tick() = ToProtoTime(*info.last_tick);
  out->set_last_job_id(info.last_job_id);
  if (info.buffered_tick) *out->mutable_buffered_tick() = ToProtoTime(*info.buffered_tick);
  out->set_fired(info.fired);
  out->set_skipped_missed(info.skipped_missed);
  out->set_skipped_overlap(info.skipped_overlap);
}

}  // namespace ratchet::server
