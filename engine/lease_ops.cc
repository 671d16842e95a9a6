// StateMachine: leases and the end of attempts (complete, fail, expiry,
// cancel). Fencing: an attempt may end only with the job's current token;
// tokens come from one monotonic counter persisted with each lease.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "ratchet/base/status.h"
#include "ratchet/engine/backoff.h"
#include "state_machine.h"
#include "validation.h"

namespace ratchet::internal {

using storage::Cf;

namespace {
constexpr size_t kMaxErrorBytes = 4096;
}  // namespace

absl::StatusOr<std::vector<LeasedJob>> StateMachine::Lease(storage::Batch& batch, TimePoint now,
                                                           const LeaseRequest& req) {
  RATCHET_RETURN_IF_ERROR(ValidateLease(req, options_));
  QueueState* q = indexes_.FindQueue(req.queue);
  if (!q || q->settings.paused) return std::vector<LeasedJob>();
  indexes_.PromoteDue(q, ToUnixMs(now));
  int64_t n = req.max_jobs;
  if (q->settings.concurrency_limit > 0) {
    n = std::min<int64_t>(n,
                          q->settings.concurrency_limit - static_cast<int64_t>(q->running.size()));
  }
  // Load every record (and a code-first main job's journal and events)
  // before changing anything, so a read error leaves no half-applied lease
  // behind and no main job is ever leased without its journal.
  std::vector<JobRecord> picked;
  std::vector<LeasedJob> out;
  for (auto it = q->ready.begin(); it != q->ready.end() && static_cast<int64_t>(picked.size()) < n;
       ++it) {
    RATCHET_ASSIGN_OR_RETURN(JobRecord r, Load(batch, it->id));
    LeasedJob leased;
    if (r.workflow_id() != 0 && r.step_index() < 0) {
      RATCHET_RETURN_IF_ERROR(AttachWorkflow(batch, r, &leased));
    }
    picked.push_back(std::move(r));
    out.push_back(std::move(leased));
  }
  for (size_t i = 0; i < picked.size(); ++i) {
    JobRecord& r = picked[i];
    Millis vt = req.visibility_timeout.value_or(r.visibility_timeout_ms() > 0
                                                    ? Millis(r.visibility_timeout_ms())
                                                    : q->settings.visibility_timeout);
    r.set_state(static_cast<int>(JobState::kRunning));
    r.set_attempts(r.attempts() + 1);
    r.set_token(next_token_++);
    r.set_lease_deadline_ms(ToUnixMs(now + vt));
    r.set_lease_length_ms(vt.count());
    r.set_worker_id(req.worker_id);
    Save(batch, r);
    indexes_.StartLease(r.id(), r.lease_deadline_ms(), r.token());
    LeasedJob leased = ToLeasedJob(r);
    leased.journal = std::move(out[i].journal);
    leased.events = std::move(out[i].events);
    out[i] = std::move(leased);
  }
  if (!out.empty()) counters_dirty_ = true;
  return out;
}

bool StateMachine::CanLease(const std::string& queue, TimePoint now) {
  QueueState* q = indexes_.FindQueue(queue);
  if (!q || q->settings.paused) return false;
  indexes_.PromoteDue(q, ToUnixMs(now));
  if (q->ready.empty()) return false;
  return q->settings.concurrency_limit == 0 ||
         static_cast<int64_t>(q->running.size()) < q->settings.concurrency_limit;
}

std::optional<int64_t> StateMachine::NextRunAt(const std::string& queue) {
  QueueState* q = indexes_.FindQueue(queue);
  if (!q || q->scheduled.empty()) return std::nullopt;
  return q->scheduled.begin()->at_ms;
}

namespace {

bool HoldsLease(const JobMeta* m, FencingToken token) {
  return m && m->running && m->token == token;
}

// LEASE_LOST for a call whose token does not hold the job's lease.
absl::Status LeaseLostFor(absl::string_view op, const JobRecord& r, FencingToken token,
                          TimePoint now) {
  auto state = VisibleState(r, now);
  if (state == JobState::kRunning) {
    return LeaseLost(absl::StrCat(op, ": job ", r.id(), ": fencing token ", token,
                                  " does not hold the lease (current token ", r.token(), ")"));
  }
  return LeaseLost(absl::StrCat(op, ": job ", r.id(), " is ", JobStateName(state), "; token ",
                                token, " holds no lease"));
}

}  // namespace

absl::StatusOr<HeartbeatResult> StateMachine::Heartbeat(storage::Batch& batch, TimePoint now,
                                                        const HeartbeatRequest& req) {
  if (req.extension) {
    RATCHET_RETURN_IF_ERROR(
        ValidateDuration("extension", *req.extension, options_.max_visibility_timeout));
  }
  JobMeta* m = indexes_.Find(req.id);
  RATCHET_ASSIGN_OR_RETURN(JobRecord r, Load(batch, req.id));
  if (!HoldsLease(m, req.token)) return LeaseLostFor("heartbeat", r, req.token, now);
  Millis ext = req.extension.value_or(Millis(r.lease_length_ms()));
  r.set_lease_deadline_ms(ToUnixMs(now + ext));
  Save(batch, r);
  indexes_.ExtendLease(req.id, r.lease_deadline_ms());
  return HeartbeatResult{FromUnixMs(r.lease_deadline_ms()), r.cancel_requested()};
}

void StateMachine::Finish(storage::Batch& batch, TimePoint now, JobRecord& r, JobState state,
                          bool notify) {
  r.set_state(static_cast<int>(state));
  r.set_finished_at_ms(ToUnixMs(now));
  Save(batch, r);
  if (state == JobState::kDead) {
    batch.Put(Cf::kDeadLetters, DeadKey(r), "");
  } else {
    batch.Put(Cf::kJobIndex, FinishedKey(r), "");
  }
  if (QueueState* q = indexes_.FindQueue(r.queue())) q->FinishedCount(state)++;
  indexes_.Remove(r.id());
  if (!notify) return;
  if (r.workflow_id() != 0) OnJobFinished(batch, now, r);
  if (!r.schedule_id().empty()) OnScheduledJobFinished(batch, now, r);
}

absl::Status StateMachine::Complete(storage::Batch& batch, TimePoint now,
                                    const CompleteRequest& req) {
  if (req.result.size() > options_.max_payload_bytes) {
    return WithReason(
        InvalidArgument("result", absl::StrCat(req.result.size(), " bytes exceeds the limit of ",
                                               options_.max_payload_bytes, " bytes")),
        kReasonPayloadTooLarge);
  }
  for (size_t i = 0; i < req.effects.size(); ++i) {
    RATCHET_RETURN_IF_ERROR(
        ValidateAppWrite(absl::StrCat("effects[", i, "]."), req.effects[i], options_));
  }
  JobMeta* m = indexes_.Find(req.id);
  RATCHET_ASSIGN_OR_RETURN(JobRecord r, Load(batch, req.id));
  if (!HoldsLease(m, req.token)) {
    // Idempotent repeat of the completion that used this token.
    if (static_cast<JobState>(r.state()) == JobState::kCompleted && r.token() == req.token) {
      return absl::OkStatus();
    }
    return LeaseLostFor("complete", r, req.token, now);
  }
  r.set_result(req.result);
  Finish(batch, now, r, JobState::kCompleted);
  for (const AppWrite& w : req.effects) {
    if (w.value) {
      batch.Put(Cf::kApp, w.key, *w.value);
    } else {
      batch.Delete(Cf::kApp, w.key);
    }
  }
  return absl::OkStatus();
}

FailResult StateMachine::EndAttemptInFailure(storage::Batch& batch, TimePoint now, JobRecord& r,
                                             absl::string_view error, bool retryable) {
  auto* e = r.add_errors();
  e->set_attempt(r.attempts());
  e->set_at_ms(ToUnixMs(now));
  e->set_message(std::string(error.substr(0, kMaxErrorBytes)));
  int excess = r.errors_size() - options_.max_errors_kept;
  if (excess > 0) r.mutable_errors()->DeleteSubrange(0, excess);
  r.set_failed_token(r.token());
  if (r.cancel_requested()) {
    Finish(batch, now, r, JobState::kCancelled);
    return {JobState::kCancelled, std::nullopt};
  }
  if (!retryable || r.attempts() >= r.max_attempts()) {
    Finish(batch, now, r, JobState::kDead);
    return {JobState::kDead, std::nullopt};
  }
  Millis delay =
      RetryDelay(FromRecord(r.retry()), r.attempts(), Millis(r.last_backoff_ms()), *random_);
  r.set_last_backoff_ms(delay.count());
  r.set_state(static_cast<int>(JobState::kScheduled));
  r.set_run_at_ms(ToUnixMs(now + delay));
  Save(batch, r);
  QueueState* q = indexes_.Find(r.id())->queue;
  indexes_.Remove(r.id());
  indexes_.AddWaiting(r.id(), q, r.priority(), r.run_at_ms());
  return {JobState::kScheduled, FromUnixMs(r.run_at_ms())};
}

namespace {
FailResult WithJob(FailResult result, const JobRecord& r) {
  result.queue = r.queue();
  result.worker_id = r.worker_id();
  return result;
}
}  // namespace

absl::StatusOr<FailResult> StateMachine::Fail(storage::Batch& batch, TimePoint now,
                                              const FailRequest& req) {
  JobMeta* m = indexes_.Find(req.id);
  RATCHET_ASSIGN_OR_RETURN(JobRecord r, Load(batch, req.id));
  if (HoldsLease(m, req.token)) {
    return WithJob(EndAttemptInFailure(batch, now, r, req.error, req.retryable), r);
  }
  // A repeat of the Fail that ended this token's attempt is acknowledged
  // with that Fail's outcome: dead, cancelled, or a retry at run_at (the
  // job may have been leased again since; run_at is unchanged by leasing).
  if (req.token != 0 && r.failed_token() == req.token) {
    auto state = static_cast<JobState>(r.state());
    if (state == JobState::kDead || state == JobState::kCancelled) {
      return WithJob(FailResult{state, std::nullopt}, r);
    }
    return WithJob(FailResult{JobState::kScheduled, FromUnixMs(r.run_at_ms())}, r);
  }
  return LeaseLostFor("fail", r, req.token, now);
}

absl::Status StateMachine::ExpireLeases(storage::Batch& batch, TimePoint now, int max_jobs) {
  for (int i = 0; i < max_jobs; ++i) {
    std::optional<JobId> id = indexes_.FirstExpired(ToUnixMs(now));
    if (!id) break;
    RATCHET_ASSIGN_OR_RETURN(JobRecord r, Load(batch, *id));
    EndAttemptInFailure(batch, now, r, "lease expired", /*retryable=*/true);
  }
  return absl::OkStatus();
}

absl::StatusOr<JobState> StateMachine::Cancel(storage::Batch& batch, TimePoint now, JobId id) {
  JobMeta* m = indexes_.Find(id);
  RATCHET_ASSIGN_OR_RETURN(JobRecord r, Load(batch, id));
  if (m && m->running) {
    if (!r.cancel_requested()) {
      r.set_cancel_requested(true);
      Save(batch, r);
      m->cancel_requested = true;
    }
    return JobState::kRunning;
  }
  if (m) {
    Finish(batch, now, r, JobState::kCancelled);
    return JobState::kCancelled;
  }
  auto state = static_cast<JobState>(r.state());
  if (state == JobState::kCancelled) return state;
  return InvalidState(absl::StrCat("cancel: job ", id, " is ", JobStateName(state),
                                   "; only scheduled, available or running jobs can be "
                                   "cancelled"));
}

}  // namespace ratchet::internal
