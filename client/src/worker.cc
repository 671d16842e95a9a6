#include "ratchet/client/worker.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "ratchet/api/time_codec.h"
#include "ratchet/base/status.h"
#include "ratchet/base/traceparent.h"
#include "ratchet/client/trace_context.h"

namespace ratchet {

using SteadyClock = std::chrono::steady_clock;

std::string JobContext::idempotency_token() const {
  return absl::StrCat("ratchet:", job_.queue(), ":", job_.job_id());
}

std::string JobContext::trace_id() const { return std::string(TraceIdOf(job_.traceparent())); }

bool JobContext::should_stop() const {
  return lease_lost() || cancel_requested() || attempt_timed_out() ||
         (stopping_ != nullptr && stopping_->load());
}

absl::Status JobContext::set_progress(double fraction, std::string message) {
  if (!(fraction >= 0.0 && fraction <= 1.0)) {  // NaN fails too
    return InvalidArgument("progress", absl::StrCat(fraction, " is not a fraction in [0, 1]"));
  }
  constexpr size_t kMaxMessageBytes = 256;  // the server's limit
  if (message.size() > kMaxMessageBytes) {
    return InvalidArgument(
        "progress_message",
        absl::StrCat(message.size(), " bytes exceed the limit of ", kMaxMessageBytes, " bytes"));
  }
  absl::MutexLock lock(&progress_mu_);
  progress_ = Progress{fraction, std::move(message)};
  return absl::OkStatus();
}

std::optional<JobContext::Progress> JobContext::TakeProgress() {
  absl::MutexLock lock(&progress_mu_);
  std::optional<Progress> p = std::move(progress_);
  progress_.reset();
  return p;
}

void JobContext::RestoreProgress(Progress p) {
  absl::MutexLock lock(&progress_mu_);
  if (!progress_) progress_ = std::move(p);
}

namespace {

// Worth sending again: the server was unreachable, the answer was lost, or
// a server shutting down cancelled the call (the worker cancels none of the
// calls it repeats).
bool Transient(const absl::Status& s) {
  // RATE_LIMITED: the server did nothing; after the delay it names, again.
  return ReasonOf(s) == kReasonRateLimited || s.code() == absl::StatusCode::kUnavailable ||
         s.code() == absl::StatusCode::kDeadlineExceeded ||
         s.code() == absl::StatusCode::kCancelled;
}

}  // namespace

// One leased job. Its lease is tracked on the worker's steady clock from
// when the lease arrived (or its last heartbeat was sent), never comparing
// the worker's wall clock with the server's lease_deadline: the two
// machines' clocks may disagree by more than the lease is long.
struct Worker::Running {
  Running(v1::LeasedJob job, Millis duration, SteadyClock::time_point received)
      : ctx(std::move(job)),
        lease_duration(duration),
        heartbeat_interval(std::max(Millis(10), duration / 3)),
        next_heartbeat(received + heartbeat_interval),
        lease_ends(received + duration) {
    const Millis timeout = FromProtoDuration(ctx.job().attempt_timeout());
    if (timeout.count() > 0) {
      attempt_ends = received + timeout;
      lease_ends = std::min(lease_ends, *attempt_ends);
    }
  }
  JobContext ctx;
  const Millis lease_duration;      // as granted; each heartbeat extends by it
  const Millis heartbeat_interval;  // a third of the lease
  // Guarded by State::mu.
  SteadyClock::time_point next_heartbeat;
  // The lease's end on this clock: from a lease, at most a one-way trip
  // after the server's deadline; from a heartbeat, no later than it.
  SteadyClock::time_point lease_ends;
  // When the attempt timeout ends the attempt, on this clock (no earlier
  // than the server's attempt deadline: the lease arrived after it began).
  std::optional<SteadyClock::time_point> attempt_ends;
};

// The worker's shared state: jobs leased but not started, jobs running.
class Worker::State {
 public:
  absl::Mutex mu;
  std::deque<std::shared_ptr<Running>> pending ABSL_GUARDED_BY(mu);
  std::map<uint64_t, std::shared_ptr<Running>> running ABSL_GUARDED_BY(mu);
  bool leasing_done ABSL_GUARDED_BY(mu) = false;
  bool handlers_done ABSL_GUARDED_BY(mu) = false;
  WorkerStats stats ABSL_GUARDED_BY(mu);
  CallCanceller lease_canceller;
};

Worker::Worker(Client* client, WorkerOptions options)
    : client_(client), options_(std::move(options)), state_(std::make_unique<State>()) {
  if (options_.worker_id.empty()) {
    char host[256] = "worker";
    gethostname(host, sizeof(host) - 1);
    options_.worker_id = absl::StrCat(host, "-", getpid());
  }
  if (options_.lease_batch <= 0) options_.lease_batch = options_.concurrency;
}

Worker::~Worker() { Stop(); }

void Worker::Register(const std::string& job_type, Handler handler) {
  handlers_[job_type] = std::move(handler);
}

absl::Status Worker::Start() {
  if (started_) return absl::FailedPreconditionError("worker already started");
  if (options_.queue.empty()) return InvalidArgument("queue", "is required");
  if (options_.concurrency < 1 || options_.concurrency > 1000) {
    return InvalidArgument("concurrency", "must be in [1, 1000]");
  }
  if (options_.drain_timeout && options_.drain_timeout->count() < 0) {
    return InvalidArgument("drain_timeout", "must not be negative");
  }
  started_ = true;
  threads_.emplace_back([this] { LeaseLoop(); });
  threads_.emplace_back([this] { HeartbeatLoop(); });
  for (int i = 0; i < options_.concurrency; ++i) threads_.emplace_back([this] { HandlerLoop(); });
  return absl::OkStatus();
}

void Worker::Stop() {
  if (!started_ || stopping_.exchange(true)) return;
  State& s = *state_;
  s.lease_canceller.Cancel();  // ends a parked long poll now
  if (options_.drain_timeout) {
    std::deque<std::shared_ptr<Running>> unstarted;
    {
      absl::MutexLock lock(&s.mu);
      auto drained = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.mu) {
        return s.leasing_done && s.pending.empty() && s.running.empty();
      };
      s.mu.AwaitWithTimeout(absl::Condition(&drained), absl::FromChrono(*options_.drain_timeout));
      // Leasing may still be finishing its last answer: wait for it, so
      // no job lands in `pending` after this.
      s.mu.Await(absl::Condition(
          +[](bool* done) { return *done; }, &s.leasing_done));
      unstarted.swap(s.pending);
    }
    handlers_stop_.store(true);
    for (const auto& r : unstarted) {
      Report(*r, HandlerResult::RetryableError(
                     "the worker stopped (drain timeout) before starting the job"));
    }
  } else {
    handlers_stop_.store(true);
  }
  for (std::thread& t : threads_) t.join();
  threads_.clear();
}

WorkerStats Worker::stats() const {
  absl::MutexLock lock(&state_->mu);
  return state_->stats;
}

void Worker::LeaseLoop() {
  State& s = *state_;
  Millis backoff{0};
  while (!stopping_.load()) {
    int free = 0;
    {
      absl::MutexLock lock(&s.mu);
      auto has_room = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.mu) {
        return stopping_.load() ||
               static_cast<int>(s.pending.size() + s.running.size()) < options_.concurrency;
      };
      s.mu.Await(absl::Condition(&has_room));
      if (stopping_.load()) break;
      free = options_.concurrency - static_cast<int>(s.pending.size() + s.running.size());
    }
    v1::LeaseRequest req;
    req.set_queue(options_.queue);
    req.set_max_jobs(std::min(free, options_.lease_batch));
    req.set_worker_id(options_.worker_id);
    *req.mutable_wait() = ToProtoDuration(options_.lease_wait);
    if (options_.visibility_timeout) {
      *req.mutable_visibility_timeout() = ToProtoDuration(*options_.visibility_timeout);
    }
    auto leased = client_->Lease(req, {.canceller = &s.lease_canceller});
    if (!leased.ok()) {
      // Server down or restarting: back off (capped) and lease again.
      backoff = std::min(Millis(2000), std::max(Millis(50), backoff * 2));
      absl::MutexLock lock(&s.mu);
      s.mu.AwaitWithTimeout(absl::Condition(
                                +[](std::atomic<bool>* b) { return b->load(); }, &stopping_),
                            absl::FromChrono(backoff));
      continue;
    }
    backoff = Millis(0);
    const auto received = SteadyClock::now();
    absl::MutexLock lock(&s.mu);
    for (v1::LeasedJob& job : *leased->mutable_jobs()) {
      const Millis duration = LeaseDuration(job);
      auto running = std::make_shared<Running>(std::move(job), duration, received);
      running->ctx.stopping_ = &handlers_stop_;
      s.pending.push_back(std::move(running));
    }
  }
  absl::MutexLock lock(&s.mu);
  s.leasing_done = true;
}

Millis Worker::LeaseDuration(const v1::LeasedJob& job) const {
  if (job.has_lease_duration()) return FromProtoDuration(job.lease_duration());
  if (options_.visibility_timeout) return *options_.visibility_timeout;
  // An older server that does not send lease_duration, and no visibility
  // timeout asked for: only the server's deadline against this machine's wall clock
  // is left, which clock skew distorts (hence WorkerOptions' advice).
  auto left = std::chrono::duration_cast<Millis>(FromProtoTime(job.lease_deadline()) -
                                                 std::chrono::system_clock::now());
  return std::max(Millis(300), left);
}

void Worker::HandlerLoop() {
  State& s = *state_;
  while (true) {
    std::shared_ptr<Running> running;
    {
      absl::MutexLock lock(&s.mu);
      auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.mu) {
        return !s.pending.empty() || s.leasing_done;
      };
      s.mu.Await(absl::Condition(&ready));
      if (s.pending.empty()) return;  // leasing is done: drain finished
      running = std::move(s.pending.front());
      s.pending.pop_front();
      s.running[running->ctx.job().job_id()] = running;
    }
    RunJob(running);
    absl::MutexLock lock(&s.mu);
    s.running.erase(running->ctx.job().job_id());
  }
}

void Worker::RunJob(const std::shared_ptr<Running>& running) {
  JobContext& ctx = running->ctx;
  HandlerResult result;
  auto it = handlers_.find(ctx.job().job_type());
  if (it == handlers_.end()) {
    result = HandlerResult::RetryableError(absl::StrCat(
        "no handler for job type ", ctx.job().job_type(), " on worker ", options_.worker_id));
  } else {
    // Calls the handler makes on this thread (an Enqueue) join the job's trace.
    TraceScope trace(ctx.job().traceparent());
    try {
      result = it->second(ctx);
    } catch (const std::exception& e) {
      result = HandlerResult::RetryableError(absl::StrCat("handler threw: ", e.what()));
    } catch (...) {
      result = HandlerResult::RetryableError("handler threw a non-standard exception");
    }
  }
  Report(*running, result);
}

namespace {

// An entry the worker records: the server sets `at` and `due`.
void ToProto(const DurableEntry& e, v1::JournalEntry* out) {
  out->set_name(e.name);
  out->set_result(e.result);
  out->set_kind(static_cast<v1::JournalEntryKind>(e.kind));
  if (e.delay) *out->mutable_delay() = ToProtoDuration(*e.delay);
}

class ClientJournal final : public WorkflowJournal {
 public:
  ClientJournal(Client* client, const v1::LeasedJob& job) : client_(client), job_(job) {}
  absl::Status Record(const DurableEntry& entry) override {
    v1::RecordStepRequest req;
    req.set_job_id(job_.job_id());
    req.set_fencing_token(job_.fencing_token());
    ToProto(entry, req.mutable_entry());
    return client_->RecordStep(req);
  }

 private:
  Client* client_;
  const v1::LeasedJob& job_;
};

}  // namespace

void Worker::RegisterWorkflow(const std::string& job_type, WorkflowFunction fn) {
  Register(job_type, [this, fn = std::move(fn)](JobContext& ctx) {
    const v1::LeasedJob& job = ctx.job();
    DurableJob durable;
    durable.workflow_id = job.workflow_id();
    durable.job_id = job.job_id();
    durable.payload = job.payload();
    for (const auto& e : job.journal()) {
      const int kind = e.kind() >= 0 && e.kind() <= kMaxJournalKind ? e.kind() : 0;
      durable.journal.push_back(
          {e.name(), e.result(), static_cast<JournalKind>(kind), e.due(), std::nullopt});
    }
    for (const auto& e : job.events()) durable.events.emplace_back(e.name(), e.payload());
    ClientJournal journal(client_, job);
    WorkflowOutcome out = RunWorkflow(durable, &journal, SystemClock::Default(), fn);
    switch (out.kind) {
      case WorkflowOutcome::Kind::kCompleted:
        return HandlerResult::Success(std::move(out.result));
      case WorkflowOutcome::Kind::kSuspended: {
        HandlerResult r;
        r.kind = HandlerResult::Kind::kSuspend;
        r.suspension = std::move(out.suspension);
        return r;
      }
      case WorkflowOutcome::Kind::kFailed:
        break;
    }
    std::string message(out.error.message());
    if (absl::IsInvalidArgument(out.error) || absl::IsFailedPrecondition(out.error)) {
      return HandlerResult::NonRetryableError(std::move(message));
    }
    return HandlerResult::RetryableError(std::move(message));
  });
}

absl::Status Worker::UntilLeaseEnds(const Running& running,
                                    absl::FunctionRef<absl::Status(CallOptions)> call) {
  absl::Status status;
  for (bool first = true;; first = false) {
    Millis left;
    {
      absl::MutexLock lock(&state_->mu);
      left = std::chrono::duration_cast<Millis>(running.lease_ends - SteadyClock::now());
    }
    // Past the lease, one call still tells LEASE_LOST from a late success.
    if (left <= Millis(0) && !first) return status;
    CallOptions options;
    if (left > Millis(0)) options.deadline = left;
    status = call(options);
    if (!Transient(status)) return status;
    std::this_thread::sleep_for(std::clamp(left / 10, Millis(1), Millis(100)));
  }
}

void Worker::Report(const Running& running, const HandlerResult& result) {
  const JobContext& ctx = running.ctx;
  absl::Status status;
  if (result.kind == HandlerResult::Kind::kSuspend) {
    v1::SuspendWorkflowRequest req;
    req.set_job_id(ctx.job().job_id());
    req.set_fencing_token(ctx.fencing_token());
    *req.mutable_until() = ToProtoTime(result.suspension.until);
    req.set_awaiting_event(result.suspension.awaiting_event);
    for (const DurableEntry& e : result.suspension.record) ToProto(e, req.add_record());
    // Not repeated: a repeat answers LEASE_LOST (docs/api.md).
    status = client_->SuspendWorkflow(req);
  } else if (result.kind == HandlerResult::Kind::kSuccess) {
    v1::CompleteRequest req;
    req.set_job_id(ctx.job().job_id());
    req.set_fencing_token(ctx.fencing_token());
    req.set_result(result.value);
    // Fenced by the token, so repeats are safe: the server acknowledges a
    // repeat of an accepted completion, and answers LEASE_LOST once the
    // lease is over. Repeated through an outage until the lease ends.
    status =
        UntilLeaseEnds(running, [&](CallOptions call) { return client_->Complete(req, call); });
  } else {
    v1::FailRequest req;
    req.set_job_id(ctx.job().job_id());
    req.set_fencing_token(ctx.fencing_token());
    req.set_error(result.value);
    req.set_non_retryable(result.kind == HandlerResult::Kind::kNonRetryableError);
    // As Complete: a repeat of an accepted Fail reports its outcome.
    status = UntilLeaseEnds(running,
                            [&](CallOptions call) { return client_->Fail(req, call).status(); });
  }
  absl::MutexLock lock(&state_->mu);
  WorkerStats& stats = state_->stats;
  if (status.ok()) {
    if (result.kind == HandlerResult::Kind::kSuspend) {
      stats.suspended++;
    } else {
      (result.kind == HandlerResult::Kind::kSuccess ? stats.completed : stats.failed)++;
    }
  } else if (ReasonOf(status) == kReasonLeaseLost) {
    stats.lease_lost++;
  } else {
    // Unreported: the lease expires and the job runs again (at least once).
    stats.report_errors++;
  }
}

void Worker::HeartbeatLoop() {
  State& s = *state_;
  constexpr Millis kTick{50};
  while (true) {
    std::vector<std::shared_ptr<Running>> due;
    {
      absl::MutexLock lock(&s.mu);
      auto done = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.mu) {
        return s.leasing_done && s.pending.empty() && s.running.empty();
      };
      if (s.mu.AwaitWithTimeout(absl::Condition(&done), absl::FromChrono(kTick))) return;
      auto now = SteadyClock::now();
      for (auto& [id, r] : s.running) {
        // Past its attempt timeout a job is told to stop and no longer
        // heartbeated: no heartbeat can keep the attempt alive.
        if (r->attempt_ends && *r->attempt_ends <= now) r->ctx.attempt_timed_out_.store(true);
        if (r->next_heartbeat <= now && !r->ctx.lease_lost() && !r->ctx.attempt_timed_out())
          due.push_back(r);
      }
    }
    for (const auto& r : due) {
      v1::HeartbeatRequest req;
      req.set_job_id(r->ctx.job().job_id());
      req.set_fencing_token(r->ctx.fencing_token());
      std::optional<JobContext::Progress> progress = r->ctx.TakeProgress();
      if (progress) {
        req.set_progress(progress->fraction);
        req.set_progress_message(progress->message);
      }
      // The server extends the lease to its now + lease_duration; its now is
      // after `sent`, so sent + lease_duration is no later than the deadline.
      const auto sent = SteadyClock::now();
      auto hb = client_->Heartbeat(req, {.deadline = r->heartbeat_interval});
      auto now = SteadyClock::now();
      absl::MutexLock lock(&s.mu);  // next_heartbeat is read under it
      if (hb.ok()) {
        if (hb->cancel_requested()) r->ctx.cancel_requested_.store(true);
        r->next_heartbeat = now + r->heartbeat_interval;
        r->lease_ends = sent + r->lease_duration;
        if (r->attempt_ends) r->lease_ends = std::min(r->lease_ends, *r->attempt_ends);
      } else if (ReasonOf(hb.status()) == kReasonLeaseLost ||
                 hb.status().code() == absl::StatusCode::kNotFound) {
        r->ctx.lease_lost_.store(true);
      } else {
        r->next_heartbeat = now + std::min(r->heartbeat_interval, Millis(500));
        // A transient failure sends the progress again; one the server
        // rejects (a message that is not UTF-8) is dropped.
        if (progress && hb.status().code() != absl::StatusCode::kInvalidArgument) {
          r->ctx.RestoreProgress(std::move(*progress));
        }
      }
    }
  }
}

}  // namespace ratchet
