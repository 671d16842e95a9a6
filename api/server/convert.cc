#include "convert.h"

#include "absl/strings/str_cat.h"
#include "ratchet/api/time_codec.h"
#include "ratchet/base/status.h"
#include "workflow_convert.h"

namespace ratchet::server {

std::string Sub(absl::string_view field, absl::string_view name) {
  return field.empty() ? std::string(name) : absl::StrCat(field, ".", name);
}

absl::Status PrefixField(const absl::Status& s, absl::string_view prefix) {
  if (s.code() != absl::StatusCode::kInvalidArgument) return s;
  absl::Status out(s.code(), absl::StrCat(prefix, s.message()));
  s.ForEachPayload(
      [&](absl::string_view url, const absl::Cord& payload) { out.SetPayload(url, payload); });
  return out;
}

absl::StatusOr<RetryPolicy> FromProto(const pb::RetryPolicy& p, absl::string_view field) {
  RetryPolicy out;
  RATCHET_ASSIGN_OR_RETURN(out.initial_backoff,
                           FromProtoDuration(p.initial_backoff(), Sub(field, "initial_backoff")));
  RATCHET_ASSIGN_OR_RETURN(out.max_backoff,
                           FromProtoDuration(p.max_backoff(), Sub(field, "max_backoff")));
  out.multiplier = p.multiplier();
  switch (p.jitter()) {
    case pb::JITTER_UNSPECIFIED:
    case pb::JITTER_FULL:
      out.jitter = JitterMode::kFull;
      break;
    case pb::JITTER_NONE:
      out.jitter = JitterMode::kNone;
      break;
    case pb::JITTER_EQUAL:
      out.jitter = JitterMode::kEqual;
      break;
    case pb::JITTER_DECORRELATED:
      out.jitter = JitterMode::kDecorrelated;
      break;
    default:
      return InvalidArgument(Sub(field, "jitter"), absl::StrCat("unknown value ", p.jitter()));
  }
  return out;
}

absl::StatusOr<UniqueOptions> FromProto(const pb::UniqueOptions& u, absl::string_view field) {
  UniqueOptions out;
  switch (u.by()) {
    case pb::UNIQUE_BY_UNSPECIFIED:
    case pb::UNIQUE_BY_ARGS:
      out.by = UniqueBy::kArgs;
      break;
    case pb::UNIQUE_BY_KEY:
      out.by = UniqueBy::kKey;
      break;
    default:
      return InvalidArgument(Sub(field, "by"), absl::StrCat("unknown value ", u.by()));
  }
  out.key = u.key();
  if (u.states_size() > 0) {
    out.states.clear();
    for (int i = 0; i < u.states_size(); ++i) {
      RATCHET_ASSIGN_OR_RETURN(
          JobState s, FromProto(u.states(i), absl::StrCat(Sub(field, "states"), "[", i, "]")));
      out.states.push_back(s);
    }
  }
  if (u.has_period()) {
    RATCHET_ASSIGN_OR_RETURN(out.period, FromProtoDuration(u.period(), Sub(field, "period")));
  }
  return out;
}

absl::StatusOr<EnqueueRequest> FromProto(const pb::JobSpec& spec, absl::string_view field) {
  EnqueueRequest out;
  out.queue = spec.queue();
  out.job_type = spec.job_type();
  out.payload = spec.payload();
  out.idempotency_key = spec.idempotency_key();
  out.concurrency_key = spec.concurrency_key();
  out.traceparent = spec.traceparent();
  if (spec.has_run_at()) {
    RATCHET_ASSIGN_OR_RETURN(out.run_at, FromProtoTime(spec.run_at(), Sub(field, "run_at")));
  }
  if (spec.has_delay()) {
    RATCHET_ASSIGN_OR_RETURN(out.delay, FromProtoDuration(spec.delay(), Sub(field, "delay")));
  }
  if (spec.has_priority()) out.priority = spec.priority();
  if (spec.has_max_attempts()) out.max_attempts = spec.max_attempts();
  if (spec.has_retry_policy()) {
    RATCHET_ASSIGN_OR_RETURN(out.retry_policy,
                             FromProto(spec.retry_policy(), Sub(field, "retry_policy")));
  }
  if (spec.has_visibility_timeout()) {
    RATCHET_ASSIGN_OR_RETURN(
        out.visibility_timeout,
        FromProtoDuration(spec.visibility_timeout(), Sub(field, "visibility_timeout")));
  }
  if (spec.has_unique()) {
    RATCHET_ASSIGN_OR_RETURN(out.unique, FromProto(spec.unique(), Sub(field, "unique")));
  }
  // A zero attempt_timeout means none, like an unset one.
  if (spec.has_attempt_timeout() &&
      (spec.attempt_timeout().seconds() != 0 || spec.attempt_timeout().nanos() != 0)) {
    RATCHET_ASSIGN_OR_RETURN(out.attempt_timeout, FromProtoDuration(spec.attempt_timeout(),
                                                                    Sub(field, "attempt_timeout")));
  }
  if (spec.has_expires_at()) {
    RATCHET_ASSIGN_OR_RETURN(out.expires_at,
                             FromProtoTime(spec.expires_at(), Sub(field, "expires_at")));
  }
  return out;
}

absl::StatusOr<JobState> FromProto(pb::JobState state, absl::string_view field) {
  switch (state) {
    case pb::JOB_STATE_SCHEDULED:
      return JobState::kScheduled;
    case pb::JOB_STATE_AVAILABLE:
      return JobState::kAvailable;
    case pb::JOB_STATE_RUNNING:
      return JobState::kRunning;
    case pb::JOB_STATE_COMPLETED:
      return JobState::kCompleted;
    case pb::JOB_STATE_DEAD:
      return JobState::kDead;
    case pb::JOB_STATE_CANCELLED:
      return JobState::kCancelled;
    case pb::JOB_STATE_UNSPECIFIED:
      return InvalidArgument(field,
                             "is required (scheduled, available, running, "
                             "completed, dead or cancelled)");
    default:
      return InvalidArgument(field, absl::StrCat("unknown value ", state));
  }
}

absl::StatusOr<LeaseRequest> FromProto(const pb::LeaseRequest& req, absl::string_view field) {
  LeaseRequest out;
  out.queue = req.queue();
  out.max_jobs = req.max_jobs() == 0 ? 1 : req.max_jobs();
  if (req.has_visibility_timeout()) {
    RATCHET_ASSIGN_OR_RETURN(
        out.visibility_timeout,
        FromProtoDuration(req.visibility_timeout(), Sub(field, "visibility_timeout")));
  }
  out.worker_id = req.worker_id();
  RATCHET_ASSIGN_OR_RETURN(out.wait, FromProtoDuration(req.wait(), Sub(field, "wait")));
  return out;
}

CompleteRequest FromProto(const pb::CompleteRequest& req) {
  return CompleteRequest{.id = req.job_id(), .token = req.fencing_token(), .result = req.result()};
}

FailRequest FromProto(const pb::FailRequest& req) {
  return FailRequest{.id = req.job_id(),
                     .token = req.fencing_token(),
                     .error = req.error(),
                     .retryable = !req.non_retryable()};
}

absl::StatusOr<HeartbeatRequest> FromProto(const pb::HeartbeatRequest& req) {
  HeartbeatRequest out{.id = req.job_id(), .token = req.fencing_token()};
  if (req.has_extension()) {
    RATCHET_ASSIGN_OR_RETURN(out.extension, FromProtoDuration(req.extension(), "extension"));
  }
  if (req.has_progress()) out.progress = req.progress();
  if (req.has_progress_message()) out.progress_message = req.progress_message();
  return out;
}

DeadLetterFilter FromProto(const pb::DeadLetterFilter& f) {
  DeadLetterFilter out;
  out.queue = f.queue();
  if (f.job_id() != 0) out.job_id = f.job_id();
  out.job_type = f.job_type();
  out.limit = f.limit() == 0 ? 1000 : f.limit();
  return out;
}

absl::StatusOr<QueueSettingsUpdate> FromProto(const pb::UpdateQueueRequest& req) {
  QueueSettingsUpdate out;
  if (req.has_concurrency_limit()) out.concurrency_limit = req.concurrency_limit();
  if (req.has_retry_policy()) {
    RATCHET_ASSIGN_OR_RETURN(out.retry_policy, FromProto(req.retry_policy(), "retry_policy"));
  }
  if (req.has_max_attempts()) out.max_attempts = req.max_attempts();
  for (auto [has, from, to, name] :
       {std::tuple{req.has_visibility_timeout(), &req.visibility_timeout(), &out.visibility_timeout,
                   "visibility_timeout"},
        std::tuple{req.has_completed_retention(), &req.completed_retention(),
                   &out.completed_retention, "completed_retention"},
        std::tuple{req.has_dead_retention(), &req.dead_retention(), &out.dead_retention,
                   "dead_retention"}}) {
    if (has) {
      RATCHET_ASSIGN_OR_RETURN(*to, FromProtoDuration(*from, name));
    }
  }
  if (req.has_key_concurrency_limit()) out.key_concurrency_limit = req.key_concurrency_limit();
  if (req.has_key_limits()) {
    out.key_limits.emplace(req.key_limits().limits().begin(), req.key_limits().limits().end());
  }
  if (req.has_rate_limit()) {
    RATCHET_ASSIGN_OR_RETURN(out.rate_limit, FromProto(req.rate_limit(), "rate_limit"));
  }
  if (req.has_key_rate_limit()) {
    RATCHET_ASSIGN_OR_RETURN(out.key_rate_limit, FromProto(req.key_rate_limit(), "key_rate_limit"));
  }
  return out;
}

absl::StatusOr<RateLimit> FromProto(const pb::RateLimit& r, absl::string_view field) {
  RateLimit out;
  out.limit = r.limit();
  RATCHET_ASSIGN_OR_RETURN(out.period, FromProtoDuration(r.period(), Sub(field, "period")));
  return out;
}

void ToProto(const EnqueueResult& r, pb::EnqueueResponse* out) {
  out->set_job_id(r.id);
  out->set_duplicate(r.duplicate);
  out->set_unique_match(r.unique_match);
  if (r.unique_match) out->set_unique_match_state(ToProto(r.unique_match_state));
}

pb::JobState ToProto(JobState state) {
  switch (state) {
    case JobState::kScheduled:
      return pb::JOB_STATE_SCHEDULED;
    case JobState::kAvailable:
      return pb::JOB_STATE_AVAILABLE;
    case JobState::kRunning:
      return pb::JOB_STATE_RUNNING;
    case JobState::kCompleted:
      return pb::JOB_STATE_COMPLETED;
    case JobState::kDead:
      return pb::JOB_STATE_DEAD;
    case JobState::kCancelled:
      return pb::JOB_STATE_CANCELLED;
  }
  return pb::JOB_STATE_UNSPECIFIED;
}

void ToProto(const RetryPolicy& p, pb::RetryPolicy* out) {
  *out->mutable_initial_backoff() = ToProtoDuration(p.initial_backoff);
  *out->mutable_max_backoff() = ToProtoDuration(p.max_backoff);
  out->set_multiplier(p.multiplier);
  switch (p.jitter) {
    case JitterMode::kNone:
      out->set_jitter(pb::JITTER_NONE);
      break;
    case JitterMode::kFull:
      out->set_jitter(pb::JITTER_FULL);
      break;
    case JitterMode::kEqual:
      out->set_jitter(pb::JITTER_EQUAL);
      break;
    case JitterMode::kDecorrelated:
      out->set_jitter(pb::JITTER_DECORRELATED);
      break;
  }
}

void ToProto(const QueueSettings& s, pb::QueueSettings* out) {
  out->set_concurrency_limit(s.concurrency_limit);
  ToProto(s.retry_policy, out->mutable_retry_policy());
  out->set_max_attempts(s.max_attempts);
  *out->mutable_visibility_timeout() = ToProtoDuration(s.visibility_timeout);
  *out->mutable_completed_retention() = ToProtoDuration(s.completed_retention);
  *out->mutable_dead_retention() = ToProtoDuration(s.dead_retention);
  out->set_paused(s.paused);
  out->set_key_concurrency_limit(s.key_concurrency_limit);
  for (const auto& [key, limit] : s.key_limits) (*out->mutable_key_limits())[key] = limit;
  for (auto [from, to] : {std::pair{&s.rate_limit, out->mutable_rate_limit()},
                          std::pair{&s.key_rate_limit, out->mutable_key_rate_limit()}}) {
    if (!*from) continue;
    to->set_limit((*from)->limit);
    *to->mutable_period() = ToProtoDuration((*from)->period);
  }
  if (!s.rate_limit) out->clear_rate_limit();
  if (!s.key_rate_limit) out->clear_key_rate_limit();
}

void ToProto(const QueueInfo& q, pb::QueueInfo* out) {
  out->set_name(q.name);
  ToProto(q.settings, out->mutable_settings());
  out->set_scheduled(q.scheduled);
  out->set_available(q.available);
  out->set_running(q.running);
  out->set_completed(q.completed);
  out->set_cancelled(q.cancelled);
  out->set_dead(q.dead);
}

void ToProto(const Job& j, pb::Job* out) {
  out->set_id(j.id);
  out->set_queue(j.queue);
  out->set_job_type(j.job_type);
  out->set_payload(j.payload);
  out->set_idempotency_key(j.idempotency_key);
  out->set_state(ToProto(j.state));
  out->set_priority(j.priority);
  out->set_attempts(j.attempts);
  out->set_max_attempts(j.max_attempts);
  ToProto(j.retry_policy, out->mutable_retry_policy());
  *out->mutable_visibility_timeout() = ToProtoDuration(j.visibility_timeout);
  *out->mutable_created_at() = ToProtoTime(j.created_at);
  *out->mutable_run_at() = ToProtoTime(j.run_at);
  if (j.state == JobState::kRunning) *out->mutable_lease_deadline() = ToProtoTime(j.lease_deadline);
  out->set_fencing_token(j.token);
  out->set_worker_id(j.worker_id);
  out->set_cancel_requested(j.cancel_requested);
  if (IsTerminal(j.state)) *out->mutable_finished_at() = ToProtoTime(j.finished_at);
  out->set_result(j.result);
  for (const AttemptError& e : j.errors) {
    pb::AttemptError* pe = out->add_errors();
    pe->set_attempt(e.attempt);
    *pe->mutable_at() = ToProtoTime(e.at);
    pe->set_message(e.message);
  }
  out->set_workflow_id(j.workflow_id);
  out->set_schedule_id(j.schedule_id);
  out->set_concurrency_key(j.concurrency_key);
  out->set_traceparent(j.traceparent);
  out->set_unique_key(j.unique_key);
  if (j.attempt_timeout.count() > 0) {
    *out->mutable_attempt_timeout() = ToProtoDuration(j.attempt_timeout);
  }
  if (j.expires_at) *out->mutable_expires_at() = ToProtoTime(*j.expires_at);
  if (j.attempt_started_at) *out->mutable_attempt_started_at() = ToProtoTime(*j.attempt_started_at);
  out->set_cancel_reason(j.cancel_reason);
  if (j.progress) out->set_progress(*j.progress);
  out->set_progress_message(j.progress_message);
  if (j.progress || !j.progress_message.empty()) {
    *out->mutable_progress_updated_at() = ToProtoTime(j.progress_updated_at);
  }
}

pb::StepState ToProto(StepState s) {
  // The proto enum is the engine's, shifted past UNSPECIFIED.
  return static_cast<pb::StepState>(static_cast<int>(s) + 1);
}

void ToProto(const LeasedJob& j, pb::LeasedJob* out) {
  out->set_job_id(j.id);
  out->set_queue(j.queue);
  out->set_job_type(j.job_type);
  out->set_payload(j.payload);
  out->set_idempotency_key(j.idempotency_key);
  out->set_attempt(j.attempt);
  out->set_max_attempts(j.max_attempts);
  *out->mutable_lease_deadline() = ToProtoTime(j.lease_deadline);
  *out->mutable_lease_duration() = ToProtoDuration(j.lease_duration);
  out->set_fencing_token(j.token);
  out->set_workflow_id(j.workflow_id);
  out->set_step_name(j.step_name);
  for (const StepOutput& in : j.inputs) {
    pb::StepOutput* o = out->add_inputs();
    o->set_step(in.step);
    o->set_state(ToProto(in.state));
    o->set_result(in.result);
  }
  for (const JournalEntry& e : j.journal) ToProto(e, out->add_journal());
  for (const WorkflowEvent& e : j.events) {
    pb::WorkflowEvent* o = out->add_events();
    o->set_name(e.name);
    o->set_payload(e.payload);
  }
  out->set_schedule_id(j.schedule_id);
  out->set_concurrency_key(j.concurrency_key);
  out->set_traceparent(j.traceparent);
  if (j.attempt_timeout.count() > 0) {
    *out->mutable_attempt_timeout() = ToProtoDuration(j.attempt_timeout);
  }
  if (j.attempt_deadline) *out->mutable_attempt_deadline() = ToProtoTime(*j.attempt_deadline);
}

void ToProto(const FailResult& r, pb::FailResponse* out) {
  out->set_state(ToProto(r.state));
  if (r.retry_at) *out->mutable_retry_at() = ToProtoTime(*r.retry_at);
}

void ToProto(const ListResult& result, pb::ListJobsResponse* out) {
  for (const Job& job : result.jobs) ToProto(job, out->add_jobs());
  out->set_next_cursor(result.next_cursor);
}

}  // namespace ratchet::server

namespace ratchet::server {

void ToProto(const JobExplanation& e, pb::ExplainJobResponse* out) {
  out->set_job_id(e.id);
  out->set_queue(e.queue);
  out->set_concurrency_key(e.concurrency_key);
  out->set_state(ToProto(e.state));
  out->set_ahead_in_key(e.ahead_in_key);
  if (e.expires_at) *out->mutable_expires_at() = ToProtoTime(*e.expires_at);
  for (const WaitCause& c : e.causes) {
    pb::WaitCause* p = out->add_causes();
    // The enums agree but for the proto's UNSPECIFIED zero.
    p->set_reason(static_cast<pb::WaitReason>(static_cast<int>(c.reason) + 1));
    p->set_message(c.message);
    if (c.until) *p->mutable_until() = ToProtoTime(*c.until);
    p->set_attempt(c.attempt);
    p->set_limit(c.limit);
    for (JobId id : c.holders) p->add_holders(id);
    p->set_detail(c.detail);
    if (c.idle) *p->mutable_idle() = ToProtoDuration(*c.idle);
  }
}

}  // namespace ratchet::server
