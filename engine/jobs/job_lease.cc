// JobMachine: leases and the end of attempts (complete, fail, expiry,
// cancel), and the job changes workflows ask for (park, wake, cancel).
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "job_machine.h"
#include "ratchet/base/invariant.h"
#include "ratchet/base/saturating.h"
#include "ratchet/base/status.h"
#include "ratchet/engine/backoff.h"
#include "validation.h"

namespace ratchet::internal {

using storage::Cf;

namespace {

constexpr size_t kMaxErrorBytes = 4096;
constexpr char kAttemptTimedOut[] = "attempt timed out";
// Expired jobs one Lease cancels at most (the maintenance pass does the rest).
constexpr int kMaxExpiriesPerLease = 64;
// Per leased job, beyond its variable fields: ids, token, times, framing.
constexpr size_t kLeasedJobOverheadBytes = 256;

// The bytes a leased job adds to a Lease answer (an upper estimate of its
// encoded size).
size_t LeasedBytes(const JobRecord& r, const LeasedJob& attached) {
  size_t n = kLeasedJobOverheadBytes + r.queue().size() + r.job_type().size() + r.payload().size() +
             r.idempotency_key().size() + r.step_name().size() + r.schedule_id().size();
  for (const StepOutputRecord& in : r.inputs()) n += 16 + in.step().size() + in.result().size();
  for (const JournalEntry& e : attached.journal) n += 24 + e.name.size() + e.result.size();
  for (const WorkflowEvent& e : attached.events) n += 16 + e.name.size() + e.payload.size();
  return n;
}

FailResult WithJob(FailResult result, const JobRecord& r) {
  result.queue = r.queue();
  result.worker_id = r.worker_id();
  result.traceparent = r.traceparent();
  return result;
}

void ApplyWrites(storage::Batch& batch, const std::vector<AppWrite>& writes) {
  for (const AppWrite& w : writes) {
    if (w.value) {
      batch.Put(Cf::kApp, w.key, *w.value);
    } else {
      batch.Delete(Cf::kApp, w.key);
    }
  }
}

}  // namespace

absl::StatusOr<std::vector<LeasedJob>> JobMachine::Lease(storage::Batch& batch, TimePoint now,
                                                         const LeaseRequest& req) {
  RATCHET_RETURN_IF_ERROR(ValidateLease(req, jobs_.options()));
  Indexes& indexes = jobs_.indexes();
  QueueState* q = indexes.FindQueue(req.queue);
  if (q) q->last_lease_ms = ToUnixMs(now);
  if (!q || q->settings.paused) return std::vector<LeasedJob>();
  indexes.PromoteDue(q, ToUnixMs(now));
  const int64_t n = LeaseAllowance(*q, req.max_jobs);
  // The answer is bounded in bytes: jobs are taken while they fit, and the
  // first always is (a single job is bounded by the payload limits).
  const size_t max_bytes = req.max_bytes > 0 ? req.max_bytes : jobs_.options().max_lease_bytes;
  size_t bytes = 0;
  std::vector<LeasedJob> out;
  // Each job is taken from the best group of the ring (docs/consistency.md,
  // "Flow control"): O(log n) per job, blocked keys are never visited.
  // A read error before the first job leaves nothing changed; after it,
  // the batch holds writes, so the sequencer rebuilds the indexes.
  // An expired job never starts: one met at the head of its group is
  // cancelled in this write (at most kMaxExpiriesPerLease; past that the
  // Lease ends early and the maintenance pass cancels the rest).
  const int64_t expiry_now = ExpiryNowMs(now);
  int expired = 0;
  while (static_cast<int64_t>(out.size()) < n) {
    KeyGroup* g = indexes.NextGroup(q);
    if (!g) break;
    const JobId head = g->ready.begin()->id;
    if (IsExpired(head, expiry_now)) {
      if (expired++ >= kMaxExpiriesPerLease) break;
      RATCHET_RETURN_IF_ERROR(CancelExpired(batch, now, head));
      continue;
    }
    RATCHET_ASSIGN_OR_RETURN(JobRecord r, jobs_.Load(batch, head));
    LeasedJob attached;
    for (JobObserver* o : jobs_.observers()) {
      RATCHET_RETURN_IF_ERROR(o->OnJobLeasing(batch, r, &attached));
    }
    const size_t job_bytes = LeasedBytes(r, attached);
    if (!out.empty() && bytes + job_bytes > max_bytes) break;
    if (req.max_job_bytes > 0 && job_bytes > req.max_job_bytes) {
      // Alone over what the caller can receive (a step's inputs or a main
      // job's journal can be): it could never be delivered, so it is
      // dead-lettered now with the sizes, never marked running in an
      // answer that cannot be sent.
      if (expired++ >= kMaxExpiriesPerLease) break;
      RATCHET_RETURN_IF_ERROR(DeadLetterUndeliverable(batch, now, r, job_bytes, req.max_job_bytes));
      continue;
    }
    bytes += job_bytes;
    Millis vt = req.visibility_timeout.value_or(r.visibility_timeout_ms() > 0
                                                    ? Millis(r.visibility_timeout_ms())
                                                    : q->settings.visibility_timeout);
    jobs_.events().Count(r.queue(), JobEvent::kLeased);
    jobs_.events().Started(
        std::max(Millis(0), Millis(SubtractSaturating(ToUnixMs(now), r.run_at_ms()))));
    StartAttempt(now, vt, req.worker_id, r);
    jobs_.Save(batch, r);
    LogStart(batch, *q, r);  // before StartLease places the group anew
    indexes.StartLease(r.id(), r.lease_deadline_ms(), r.token());
    RATCHET_INVARIANT(indexes.Find(r.id()) && indexes.Find(r.id())->running &&
                          indexes.Find(r.id())->token == r.token(),
                      "a leased job is in the live index, running under its new token");
    LeasedJob leased = ToLeasedJob(r);
    leased.journal = std::move(attached.journal);
    leased.events = std::move(attached.events);
    out.push_back(std::move(leased));
  }
  return out;
}

absl::Status JobMachine::DeadLetterUndeliverable(storage::Batch& batch, TimePoint now, JobRecord& r,
                                                 size_t job_bytes, size_t max_bytes) {
  auto* e = r.add_errors();
  e->set_attempt(r.attempts());
  e->set_at_ms(ToUnixMs(now));
  e->set_message(absl::StrCat(
      "not delivered: the job's lease answer (", job_bytes,
      " bytes of payload, step inputs, journal and events) is over the bound of one answer (",
      max_bytes, " bytes; ratchetd: max_message_bytes less 64 KiB); raise it and redrive the job"));
  const int excess = r.errors_size() - jobs_.options().max_errors_kept;
  if (excess > 0) r.mutable_errors()->DeleteSubrange(0, excess);
  jobs_.events().Count(r.queue(), JobEvent::kFailed);
  QueueState* q = jobs_.indexes().Find(r.id())->queue;
  RATCHET_RETURN_IF_ERROR(Finish(batch, now, r, JobState::kDead));
  jobs_.indexes().MarkChanged(q);  // its queue's best job changed: parked polls look again
  return absl::OkStatus();
}

int64_t JobMachine::LeaseAllowance(const QueueState& q, int64_t max_jobs) const {
  int64_t n = max_jobs;
  if (q.settings.concurrency_limit > 0) {
    n = std::min<int64_t>(n, q.settings.concurrency_limit - static_cast<int64_t>(q.running.size()));
  }
  if (q.settings.rate_limit) {
    const Indexes& indexes = jobs_.indexes();
    const StartLog* log = indexes.start_logs().Find(q.name, /*queue_wide=*/true, "");
    n = std::min<int64_t>(n, log ? log->Allowance(*q.settings.rate_limit, indexes.rate_now_ms())
                                 : q.settings.rate_limit->limit);
  }
  return std::max<int64_t>(0, n);
}

void JobMachine::LogStart(storage::Batch& batch, const QueueState& q, const JobRecord& r) {
  StartLogs& logs = jobs_.indexes().start_logs();
  const int64_t at = jobs_.indexes().rate_now_ms();
  int64_t expires = 0;
  if (q.settings.rate_limit) {
    std::string key =
        logs.Record(q.name, true, "", at, q.settings.rate_limit->period, r.token(), &expires);
    batch.Put(Cf::kMeta, key, EncodeU64(static_cast<uint64_t>(expires)));
  }
  if (q.settings.key_rate_limit && !r.concurrency_key().empty()) {
    std::string key = logs.Record(q.name, false, r.concurrency_key(), at,
                                  q.settings.key_rate_limit->period, r.token(), &expires);
    batch.Put(Cf::kMeta, key, EncodeU64(static_cast<uint64_t>(expires)));
  }
}

bool JobMachine::CanLease(const std::string& queue, TimePoint now) {
  QueueState* q = jobs_.indexes().FindQueue(queue);
  if (!q || q->settings.paused) return false;
  jobs_.indexes().PromoteDue(q, ToUnixMs(now));
  if (LeaseAllowance(*q, 1) <= 0) return false;
  const KeyGroup* g = jobs_.indexes().NextGroup(q);
  // An expired head is cancelled by the maintenance pass, due now, which
  // marks the queue changed: the long poll looks again then.
  return g != nullptr && !IsExpired(g->ready.begin()->id, ExpiryNowMs(now));
}

std::optional<int64_t> JobMachine::NextRunAt(const std::string& queue) {
  const Indexes& indexes = jobs_.indexes();
  QueueState* q = indexes.FindQueue(queue);
  if (!q) return std::nullopt;
  std::optional<int64_t> at;
  auto take = [&at](int64_t t) { at = at ? std::min(*at, t) : t; };
  if (!q->scheduled.empty()) take(q->scheduled.begin()->at_ms);
  if (auto opens = indexes.NextRateOpening(q)) take(*opens);
  // The queue-wide rate limit: a ready job waits for the window to open.
  if (q->settings.rate_limit && !q->ready.empty()) {
    const StartLog* log = indexes.start_logs().Find(q->name, /*queue_wide=*/true, "");
    if (log) {
      const int64_t opens = log->OpensAt(*q->settings.rate_limit);
      if (opens != kOpenNow) take(opens);
    }
  }
  return at;
}

absl::Status JobMachine::CheckLease(const JobRecord& r, FencingToken token, TimePoint now,
                                    absl::string_view op) const {
  const JobMeta* m = jobs_.indexes().Find(r.id());
  if (m && m->running && m->token == token) {
    // A lease past its deadline is over even before expiry gets to it (at
    // most a bounded number expire per group): it never accepts anything.
    if (m->time_ms > ToUnixMs(now)) return absl::OkStatus();
    return LeaseLost(absl::StrCat(op, ": job ", r.id(), ": the lease of token ", token,
                                  " expired at ", m->time_ms, " ms"));
  }
  const JobState state = VisibleState(r, now);
  if (state == JobState::kRunning) {
    // The token that holds the lease is not named: whoever sent a stale
    // one could complete the new attempt with it.
    return LeaseLost(absl::StrCat(op, ": job ", r.id(), ": fencing token ", token,
                                  " does not hold the lease (the job was leased again)"));
  }
  return LeaseLost(absl::StrCat(op, ": job ", r.id(), " is ", JobStateName(state), "; token ",
                                token, " holds no lease"));
}

absl::StatusOr<HeartbeatResult> JobMachine::Heartbeat(storage::Batch& batch, TimePoint now,
                                                      const HeartbeatRequest& req) {
  if (req.extension) {
    RATCHET_RETURN_IF_ERROR(
        ValidateDuration("extension", *req.extension, jobs_.options().max_visibility_timeout));
  }
  RATCHET_RETURN_IF_ERROR(ValidateProgress(req));
  // Heartbeat, Complete and Fail change the state only: no payload is read.
  RATCHET_ASSIGN_OR_RETURN(JobRecord r, jobs_.LoadState(batch, req.id));
  if (req.guard) RATCHET_RETURN_IF_ERROR(req.guard->Check(r.queue()));
  RATCHET_RETURN_IF_ERROR(CheckLease(r, req.token, now, "heartbeat"));
  Millis ext = req.extension.value_or(Millis(r.lease_length_ms()));
  // The stored lease length is read back from disk: the sum saturates.
  int64_t deadline = AddSaturating(ToUnixMs(now), ext.count());
  // Never past the attempt deadline, however often the worker heartbeats.
  if (auto cap = AttemptDeadlineMs(r)) deadline = std::min(deadline, *cap);
  r.set_lease_deadline_ms(deadline);
  if (req.progress) r.set_progress(*req.progress);
  if (req.progress_message) r.set_progress_message(*req.progress_message);
  if (req.progress || req.progress_message) r.set_progress_updated_at_ms(ToUnixMs(now));
  jobs_.Save(batch, r);
  jobs_.indexes().ExtendLease(req.id, r.lease_deadline_ms());
  return HeartbeatResult{FromUnixMs(r.lease_deadline_ms()), r.cancel_requested()};
}

void JobMachine::FinishQuietly(storage::Batch& batch, TimePoint now, JobRecord& r, JobState state) {
  RATCHET_INVARIANT(IsTerminal(state), "a job finishes in a terminal state");
  RATCHET_INVARIANT(jobs_.indexes().Find(r.id()) != nullptr, "only a live job can finish");
  SetState(r, state);
  r.set_finished_at_ms(ToUnixMs(now));
  CountFinish(r, state);
  jobs_.Save(batch, r);
  unique_.OnFinish(batch, r);
  if (state == JobState::kDead) {
    batch.Put(Cf::kDeadLetters, DeadKey(r), "");
  } else {
    batch.Put(Cf::kJobIndex, FinishedKey(r), "");
  }
  jobs_.CountFinished(batch, jobs_.EnsureQueue(batch, r.queue()), state, r.finished_at_ms());
  jobs_.indexes().Remove(r.id());
}

absl::Status JobMachine::Finish(storage::Batch& batch, TimePoint now, JobRecord& r,
                                JobState state) {
  FinishQuietly(batch, now, r, state);
  // An owner that cannot follow (a read error, a record that does not
  // parse) fails the whole operation: the sequencer rolls it back.
  for (JobObserver* o : jobs_.observers()) RATCHET_RETURN_IF_ERROR(o->OnJobFinished(batch, now, r));
  return absl::OkStatus();
}

absl::Status JobMachine::Complete(storage::Batch& batch, TimePoint now,
                                  const CompleteRequest& req) {
  const EngineOptions& o = jobs_.options();
  if (req.result.size() > o.max_payload_bytes) {
    return PayloadTooLarge("result", req.result.size(), o.max_payload_bytes);
  }
  for (size_t i = 0; i < req.effects.size(); ++i) {
    RATCHET_RETURN_IF_ERROR(ValidateAppWrite(absl::StrCat("effects[", i, "]."), req.effects[i], o));
  }
  RATCHET_ASSIGN_OR_RETURN(JobRecord r, jobs_.LoadState(batch, req.id));
  if (req.guard) RATCHET_RETURN_IF_ERROR(req.guard->Check(r.queue()));
  if (absl::Status fenced = CheckLease(r, req.token, now, "complete"); !fenced.ok()) {
    // Idempotent repeat of the completion that used this token.
    if (StateOf(r) == JobState::kCompleted && r.token() == req.token) return absl::OkStatus();
    return fenced;
  }
  r.set_result(req.result);
  CountAttemptEnd(now, r);
  RATCHET_RETURN_IF_ERROR(Finish(batch, now, r, JobState::kCompleted));
  ApplyWrites(batch, req.effects);
  return absl::OkStatus();
}

void JobMachine::CountFinish(const JobRecord& r, JobState state) {
  JobEvent event = JobEvent::kCompleted;
  if (state == JobState::kDead) event = JobEvent::kDeadLettered;
  if (state == JobState::kCancelled) {
    event = r.cancel_reason() == kCancelReasonExpired ? JobEvent::kExpired : JobEvent::kCancelled;
  }
  jobs_.events().Count(r.queue(), event);
}

void JobMachine::CountAttemptEnd(TimePoint now, const JobRecord& r) {
  if (r.attempt_started_at_ms() > 0) {
    jobs_.events().AttemptEnded(
        std::max(Millis(0), Millis(SubtractSaturating(ToUnixMs(now), r.attempt_started_at_ms()))));
  }
}

void JobMachine::Requeue(const JobRecord& r) {
  Indexes& indexes = jobs_.indexes();
  RATCHET_INVARIANT(indexes.Find(r.id()) != nullptr, "only a live job can be requeued");
  indexes.MoveToWaiting(r.id(), r.run_at_ms());
}

absl::StatusOr<FailResult> JobMachine::EndAttemptInFailure(storage::Batch& batch, TimePoint now,
                                                           JobRecord& r, absl::string_view error,
                                                           bool retryable) {
  auto* e = r.add_errors();
  e->set_attempt(r.attempts());
  e->set_at_ms(ToUnixMs(now));
  e->set_message(std::string(TruncateUtf8(error, kMaxErrorBytes)));
  CountAttemptEnd(now, r);
  jobs_.events().Count(r.queue(), JobEvent::kFailed);
  int excess = r.errors_size() - jobs_.options().max_errors_kept;
  if (excess > 0) r.mutable_errors()->DeleteSubrange(0, excess);
  if (r.cancel_requested()) {
    RATCHET_RETURN_IF_ERROR(Finish(batch, now, r, JobState::kCancelled));
    return FailResult{JobState::kCancelled, std::nullopt};
  }
  if (!retryable || r.attempts() >= r.max_attempts()) {
    RATCHET_RETURN_IF_ERROR(Finish(batch, now, r, JobState::kDead));
    return FailResult{JobState::kDead, std::nullopt};
  }
  Millis delay =
      RetryDelay(FromRecord(r.retry()), r.attempts(), Millis(r.last_backoff_ms()), random_);
  r.set_last_backoff_ms(delay.count());
  SetState(r, JobState::kScheduled);
  r.set_run_at_ms(AddSaturating(ToUnixMs(now), delay.count()));
  jobs_.Save(batch, r);
  Requeue(r);
  jobs_.events().Count(r.queue(), JobEvent::kRetried);
  return FailResult{JobState::kScheduled, FromUnixMs(r.run_at_ms())};
}

absl::StatusOr<FailResult> JobMachine::Fail(storage::Batch& batch, TimePoint now,
                                            const FailRequest& req) {
  RATCHET_RETURN_IF_ERROR(ValidateUtf8("error", req.error));
  RATCHET_ASSIGN_OR_RETURN(JobRecord r, jobs_.LoadState(batch, req.id));
  if (req.guard) RATCHET_RETURN_IF_ERROR(req.guard->Check(r.queue()));
  absl::Status fenced = CheckLease(r, req.token, now, "fail");
  if (fenced.ok()) {
    // Only a Fail marks its token (lease expiry does not), so a late Fail
    // after expiry is LEASE_LOST rather than a silent repeat.
    r.set_failed_token(r.token());
    RATCHET_ASSIGN_OR_RETURN(FailResult result,
                             EndAttemptInFailure(batch, now, r, req.error, req.retryable));
    return WithJob(std::move(result), r);
  }
  // A repeat of the Fail that ended this token's attempt is acknowledged
  // with that Fail's outcome: dead, cancelled, or a retry at run_at (the
  // job may have been leased again since; run_at is unchanged by leasing).
  if (req.token != 0 && r.failed_token() == req.token) {
    const JobState state = StateOf(r);
    if (state == JobState::kDead || state == JobState::kCancelled) {
      return WithJob(FailResult{state, std::nullopt}, r);
    }
    return WithJob(FailResult{JobState::kScheduled, FromUnixMs(r.run_at_ms())}, r);
  }
  return fenced;
}

absl::Status JobMachine::ExpireLeases(storage::Batch& batch, TimePoint now, int max_jobs) {
  for (int i = 0; i < max_jobs; ++i) {
    std::optional<JobId> id = jobs_.indexes().FirstExpired(ToUnixMs(now));
    if (!id) break;
    // The state is enough: a job whose payload record is damaged still expires.
    RATCHET_ASSIGN_OR_RETURN(JobRecord r, jobs_.LoadState(batch, *id));
    // A lease that ran to its attempt deadline ended by the attempt timeout.
    const std::optional<int64_t> cap = AttemptDeadlineMs(r);
    const bool timed_out = cap && r.lease_deadline_ms() >= *cap;
    RATCHET_RETURN_IF_ERROR(EndAttemptInFailure(batch, now, r,
                                                timed_out ? kAttemptTimedOut : "lease expired",
                                                /*retryable=*/true)
                                .status());
  }
  RATCHET_RETURN_IF_ERROR(ExpireWaitingJobs(batch, now, max_jobs));
  // Rate-limit starts that left their window are deleted, as many per call.
  Indexes& indexes = jobs_.indexes();
  indexes.AdvanceRateClock(ToUnixMs(now));
  std::vector<std::string> expired = indexes.start_logs().TakeExpired(
      indexes.rate_now_ms(), static_cast<size_t>(std::max(0, max_jobs)),
      [&indexes](const StartLog& log) -> std::optional<Millis> {
        const QueueState* q = indexes.FindQueue(log.queue);
        if (!q) return std::nullopt;
        const std::optional<RateLimit>& rate =
            log.queue_wide ? q->settings.rate_limit : q->settings.key_rate_limit;
        if (!rate) return std::nullopt;
        return rate->period;
      });
  for (const std::string& key : expired) batch.Delete(Cf::kMeta, key);
  // The clock these starts left their window by is stored with their
  // deletion: recovery resumes rate-limit time from it, so a clock stepped
  // back across a restart cannot readmit them.
  if (!expired.empty()) {
    batch.Put(Cf::kMeta, StartLogs::kClockKey,
              EncodeU64(static_cast<uint64_t>(indexes.rate_now_ms())));
  }
  return absl::OkStatus();
}

absl::StatusOr<JobState> JobMachine::Cancel(storage::Batch& batch, TimePoint now, JobId id) {
  JobMeta* m = jobs_.indexes().Find(id);
  RATCHET_ASSIGN_OR_RETURN(JobRecord r, jobs_.Load(batch, id));
  if (m && m->running) {
    if (!r.cancel_requested()) {
      r.set_cancel_requested(true);
      jobs_.Save(batch, r);
      m->cancel_requested = true;
    }
    return JobState::kRunning;
  }
  if (m) {
    RATCHET_RETURN_IF_ERROR(Finish(batch, now, r, JobState::kCancelled));
    return JobState::kCancelled;
  }
  const JobState state = StateOf(r);
  if (state == JobState::kCancelled) return state;
  return InvalidState(absl::StrCat("cancel: job ", id, " is ", JobStateName(state),
                                   "; only scheduled, available or running jobs can be "
                                   "cancelled"));
}

absl::StatusOr<JobState> JobMachine::RetryNow(storage::Batch& batch, TimePoint now, JobId id) {
  JobMeta* m = jobs_.indexes().Find(id);
  RATCHET_ASSIGN_OR_RETURN(JobRecord r, jobs_.LoadState(batch, id));
  const JobState state = StateOf(r);
  if (m == nullptr || m->running || state != JobState::kScheduled) {
    return InvalidState(absl::StrCat("retry: job ", id, " is ", JobStateName(state),
                                     "; only a scheduled job (waiting for its delay or retry "
                                     "backoff) can be made available now; redrive a dead job"));
  }
  if (r.workflow_id() != 0) {
    return InvalidState(absl::StrCat("retry: job ", id, " belongs to workflow ", r.workflow_id(),
                                     ", whose timers and steps decide when it runs"));
  }
  // Expiry applies only to a job that never started, on the expiry clock
  // (the latest time seen), as the expiry passes and Lease judge it.
  if (ExpiryApplies(r) && r.expires_at_ms() <= ExpiryNowMs(now)) {
    return InvalidState(
        absl::StrCat("retry: job ", id, " expired before it started; it is being cancelled"));
  }
  if (r.run_at_ms() <= ToUnixMs(now)) return JobState::kAvailable;  // due already
  r.set_run_at_ms(ToUnixMs(now));
  jobs_.Save(batch, r);
  Requeue(r);
  return JobState::kAvailable;
}

absl::StatusOr<bool> JobMachine::CancelForOwner(storage::Batch& batch, TimePoint now, JobId id,
                                                IfRunning if_running) {
  JobMeta* m = jobs_.indexes().Find(id);
  if (!m) return false;  // already terminal
  if (m->running && if_running == IfRunning::kLeave) return false;
  RATCHET_ASSIGN_OR_RETURN(JobRecord r, jobs_.Load(batch, id));
  if (m->running) {
    if (!r.cancel_requested()) {
      r.set_cancel_requested(true);
      jobs_.Save(batch, r);
      m->cancel_requested = true;
    }
    return false;
  }
  FinishQuietly(batch, now, r, JobState::kCancelled);
  return true;
}

absl::Status JobMachine::Park(storage::Batch& batch, TimePoint now, JobRecord& r, TimePoint wake,
                              const std::string& awaiting_event) {
  if (r.cancel_requested()) return Finish(batch, now, r, JobState::kCancelled);
  SetState(r, JobState::kScheduled);
  r.set_attempts(r.attempts() > 0 ? r.attempts() - 1 : 0);  // a suspension is not a failed attempt
  r.set_run_at_ms(ToUnixMs(std::max(wake, now)));
  r.set_awaiting_event(awaiting_event);
  r.set_worker_id("");
  jobs_.Save(batch, r);
  Requeue(r);
  return absl::OkStatus();
}

absl::Status JobMachine::WakeNow(storage::Batch& batch, TimePoint now, JobId id,
                                 const std::string& awaiting_event) {
  const JobMeta* m = jobs_.indexes().Find(id);
  if (!m || m->running) return absl::OkStatus();
  RATCHET_ASSIGN_OR_RETURN(JobRecord r, jobs_.Load(batch, id));
  if (r.awaiting_event() != awaiting_event || r.run_at_ms() <= ToUnixMs(now)) {
    return absl::OkStatus();
  }
  r.set_run_at_ms(ToUnixMs(now));
  jobs_.Save(batch, r);
  Requeue(r);
  return absl::OkStatus();
}

}  // namespace ratchet::internal
