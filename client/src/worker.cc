#include "ratchet/client/worker.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <optional>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/stubs/common.h"
#include "ratchet/api/time_codec.h"
#include "ratchet/base/status.h"
#include "ratchet/base/traceparent.h"
#include "ratchet/client/trace_context.h"
#include "worker_state.h"

namespace ratchet {

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
  if (!google::protobuf::internal::IsStructurallyValidUTF8(message)) {
    return InvalidArgument("progress_message", "is not valid UTF-8");
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

bool TransientForWorker(const absl::Status& s) {
  return ReasonOf(s) == kReasonRateLimited || s.code() == absl::StatusCode::kUnavailable ||
         s.code() == absl::StatusCode::kDeadlineExceeded ||
         s.code() == absl::StatusCode::kCancelled;
}

void Worker::State::Count(HandlerResult::Kind kind, const absl::Status& status) {
  if (status.ok()) {
    if (kind == HandlerResult::Kind::kSuspend) {
      stats.suspended++;
    } else {
      (kind == HandlerResult::Kind::kSuccess ? stats.completed : stats.failed)++;
    }
  } else if (ReasonOf(status) == kReasonLeaseLost) {
    stats.lease_lost++;
  } else {
    // Unreported: the lease expires and the job runs again (at least once).
    stats.report_errors++;
  }
}

Worker::Worker(Client* client, WorkerOptions options)
    : client_(client), options_(std::move(options)), state_(std::make_unique<State>()) {
  if (options_.worker_id.empty()) {
    char host[256] = "worker";
    gethostname(host, sizeof(host) - 1);
    options_.worker_id = absl::StrCat(host, "-", getpid());
  }
  if (options_.lease_batch <= 0) options_.lease_batch = options_.concurrency;
  if (options_.prefetch < 0) options_.prefetch = options_.concurrency;
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
  if (options_.prefetch > 1000) return InvalidArgument("prefetch", "must be in [0, 1000]");
  started_ = true;
  if (options_.protocol == WorkerProtocol::kStream) {
    threads_.emplace_back([this] { StreamLoop(); });
  } else {
    threads_.emplace_back([this] { LeaseLoop(); });
    threads_.emplace_back([this] { HeartbeatLoop(); });
  }
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
      Report(r, HandlerResult::RetryableError(
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

Millis Worker::LeaseDuration(const v1::LeasedJob& job) const {
  if (job.has_lease_duration()) return FromProtoDuration(job.lease_duration());
  if (options_.visibility_timeout) return *options_.visibility_timeout;
  // An older server that does not send lease_duration, and no visibility
  // timeout asked for: only the server's deadline against this machine's wall clock
  // is left, which clock skew distorts (hence WorkerOptions' advice).
  // In milliseconds: a far deadline in nanoseconds would overflow.
  const Millis left = FromProtoTime(job.lease_deadline()) -
                      std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now());
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
      // A job that waited (prefetched) past its lease, or lost it, is not
      // started: someone else may run it now. Counted as lease_lost.
      if (running->ctx.lease_lost() || running->lease_ends <= SteadyClock::now()) {
        s.stats.lease_lost++;
        ++s.finished;
        continue;
      }
      s.running[running->ctx.job().job_id()] = running;
    }
    RunJob(running);
    absl::MutexLock lock(&s.mu);
    s.running.erase(running->ctx.job().job_id());
    ++s.finished;
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
  Report(running, result);
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

void Worker::Report(const std::shared_ptr<Running>& running, const HandlerResult& result) {
  const JobContext& ctx = running->ctx;
  if (result.kind == HandlerResult::Kind::kSuspend) {
    v1::SuspendWorkflowRequest req;
    req.set_job_id(ctx.job().job_id());
    req.set_fencing_token(ctx.fencing_token());
    *req.mutable_until() = ToProtoTime(result.suspension.until);
    req.set_awaiting_event(result.suspension.awaiting_event);
    for (const DurableEntry& e : result.suspension.record) ToProto(e, req.add_record());
    // Not repeated: a repeat answers LEASE_LOST (docs/api.md).
    absl::Status status = client_->SuspendWorkflow(req);
    absl::MutexLock lock(&state_->mu);
    state_->Count(result.kind, status);
    return;
  }
  if (options_.protocol == WorkerProtocol::kStream) {
    // The stream thread sends it with everything else finished since its
    // last flush, and counts it when the server acknowledges it. The flag
    // is read under the lock UnaryFallback takes to empty the outbox.
    absl::MutexLock lock(&state_->mu);
    if (!unary_fallback_.load()) {
      state_->outbox.push_back({running, result});
      return;
    }
  }
  ReportUnary(*running, result);
}

}  // namespace ratchet
