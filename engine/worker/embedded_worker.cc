#include "ratchet/engine/embedded_worker.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <utility>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "ratchet/base/saturating.h"
#include "ratchet/base/status.h"
#include "ratchet/engine/workflow_runner.h"
#include "validation.h"

namespace ratchet {

namespace {

using Steady = std::chrono::steady_clock;

constexpr auto kTick = std::chrono::milliseconds(20);          // heartbeat and retry check
constexpr auto kLeaseRetry = std::chrono::milliseconds(200);   // after a failed Lease
constexpr Millis kLeaseWait{5000};                             // long poll per Lease
constexpr auto kRecentWindow = std::chrono::milliseconds(50);  // adaptive prefetch
constexpr size_t kMaxAdaptivePrefetch = 1000;
constexpr auto kHeartbeatRetry = std::chrono::milliseconds(500);  // after a failed heartbeat
constexpr size_t kMaxFlushBytes = 8 << 20;  // results or errors per CompleteBatch/FailBatch

size_t BytesOf(const CompleteRequest& r) { return r.result.size(); }
size_t BytesOf(const FailRequest& r) { return r.error.size(); }

bool IsLeaseLost(const absl::Status& s) {
  return ReasonOf(s) == kReasonLeaseLost || absl::IsNotFound(s);
}

}  // namespace

bool EmbeddedJob::should_stop() const {
  return lease_lost() || cancel_requested() || attempt_timed_out() ||
         (stopping_ != nullptr && stopping_->load());
}

absl::Status EmbeddedJob::set_progress(double fraction, std::string message) {
  HeartbeatRequest check;
  check.progress = fraction;
  check.progress_message = message;
  RATCHET_RETURN_IF_ERROR(internal::ValidateProgress(check));
  absl::MutexLock lock(&progress_mu_);
  progress_ = Progress{fraction, std::move(message)};
  return absl::OkStatus();
}

std::optional<EmbeddedJob::Progress> EmbeddedJob::TakeProgress() {
  absl::MutexLock lock(&progress_mu_);
  return std::exchange(progress_, std::nullopt);
}

// A job the worker holds: leased and waiting for a handler, or running.
struct EmbeddedWorker::Held {
  explicit Held(LeasedJob j) : job(std::move(j)) {}
  EmbeddedJob job;
  Steady::time_point lease_ends;      // on the steady clock, from the last answer
  Steady::time_point next_heartbeat;  // a third of the lease after the last answer
  std::optional<Steady::time_point> attempt_ends;
  Millis lease_length{0};
};

EmbeddedWorker::EmbeddedWorker(Engine* engine, EmbeddedWorkerOptions options)
    : engine_(engine),
      options_(std::move(options)),
      lease_abandoned_(std::make_shared<std::atomic<bool>>(false)) {
  if (options_.worker_id.empty()) options_.worker_id = absl::StrCat("embedded-", getpid());
  if (options_.prefetch < 0) options_.prefetch = options_.concurrency;
}

EmbeddedWorker::~EmbeddedWorker() { Stop(); }

void EmbeddedWorker::Register(const std::string& job_type, EmbeddedHandler handler) {
  handlers_[job_type] = std::move(handler);
}

void EmbeddedWorker::RegisterWorkflow(const std::string& job_type, WorkflowFunction fn) {
  workflows_[job_type] = std::move(fn);
}

absl::Status EmbeddedWorker::Start() {
  RATCHET_RETURN_IF_ERROR(internal::ValidateName("queue", options_.queue));
  if (options_.concurrency < 1 || options_.concurrency > 1000) {
    return InvalidArgument("concurrency", "must be in 1..1000");
  }
  if (options_.prefetch > 1000) return InvalidArgument("prefetch", "must be in -1..1000");
  LeaseRequest check{.queue = options_.queue,
                     .max_jobs = 1,
                     .visibility_timeout = options_.visibility_timeout,
                     .worker_id = options_.worker_id};
  RATCHET_RETURN_IF_ERROR(internal::ValidateLease(check, engine_->options()));
  absl::MutexLock lock(&mu_);
  if (started_) return absl::FailedPreconditionError("the worker was already started");
  started_ = true;
  // Under mu_, so a Stop racing this Start joins every thread.
  for (int i = 0; i < options_.concurrency; ++i) threads_.emplace_back([this] { HandlerLoop(); });
  threads_.emplace_back([this] { TickerLoop(); });
  return absl::OkStatus();
}

void EmbeddedWorker::Stop() {
  std::vector<std::thread> threads;
  {
    absl::MutexLock lock(&mu_);
    if (!started_) return;
    if (stopping_.load()) {
      // Another caller is stopping it: return once it has.
      mu_.Await(absl::Condition(&joined_));
      return;
    }
    stopping_ = true;
  }
  lease_abandoned_->store(true);
  engine_->ReleaseAbandonedLeases();  // a parked lease ends at the next pass
  // Handlers exit once nothing is leased or leasing; the last outcomes are
  // flushed; every engine call this worker made has answered.
  {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(this, &EmbeddedWorker::Idle));
    stopped_ = true;
    threads.swap(threads_);
  }
  for (std::thread& t : threads) t.join();
  absl::MutexLock lock(&mu_);
  joined_ = true;
}

EmbeddedWorkerStats EmbeddedWorker::stats() const {
  absl::MutexLock lock(&mu_);
  EmbeddedWorkerStats s = stats_;
  s.held = held_.size();
  return s;
}

int EmbeddedWorker::Slots() const {
  const int prefetch = std::max(options_.prefetch, static_cast<int>(recent_.size()));
  return options_.concurrency + prefetch - static_cast<int>(held_.size());
}

void EmbeddedWorker::Forget(const std::shared_ptr<Held>& held) {
  // Only this attempt's entry: the job may have been leased to this worker
  // again (a new token) after this attempt timed out.
  auto it = held_.find(held->job.job().id);
  if (it != held_.end() && it->second == held) held_.erase(it);
}

bool EmbeddedWorker::HasWork() const {
  return !ready_.empty() || (stopping_.load() && !lease_in_flight_);
}

bool EmbeddedWorker::Woken() const { return kick_ || stopped_; }

bool EmbeddedWorker::Idle() const {
  return stopping_.load() && !lease_in_flight_ && !heartbeat_in_flight_ &&
         flushes_in_flight_ == 0 && held_.empty() && completions_.empty() && failures_.empty();
}

EmbeddedWorker::Calls EmbeddedWorker::Plan() {
  Calls calls;
  const Steady::time_point now = Steady::now();
  while (!recent_.empty() && now - recent_.front() > kRecentWindow) recent_.pop_front();
  if (!stopping_.load() && !lease_in_flight_ && now >= lease_retry_at_ && Slots() > 0) {
    lease_in_flight_ = true;
    calls.lease = LeaseRequest{.queue = options_.queue,
                               .max_jobs = std::min(Slots(), engine_->options().max_lease_jobs),
                               .visibility_timeout = options_.visibility_timeout,
                               .worker_id = options_.worker_id,
                               .wait = std::min(kLeaseWait, engine_->options().max_lease_wait),
                               .abandoned = lease_abandoned_};
  }
  if (flushes_in_flight_ == 0) {
    const size_t max = static_cast<size_t>(engine_->options().max_lease_jobs);
    auto take = [max](auto& from, auto& to) {
      // At most max_lease_jobs items and kMaxFlushBytes of results or
      // errors (at least one item), inside the engine's request bounds.
      size_t n = 0, bytes = 0;
      for (; n < std::min(max, from.size()); ++n) {
        bytes += BytesOf(from[n]);
        if (n > 0 && bytes > kMaxFlushBytes) break;
      }
      to.assign(std::make_move_iterator(from.begin()), std::make_move_iterator(from.begin() + n));
      from.erase(from.begin(), from.begin() + static_cast<ptrdiff_t>(n));
    };
    take(completions_, calls.completions);
    take(failures_, calls.failures);
    flushes_in_flight_ = (calls.completions.empty() ? 0 : 1) + (calls.failures.empty() ? 0 : 1);
  }
  return calls;
}

void EmbeddedWorker::Issue(Calls calls) {
  if (calls.lease) {
    engine_->LeaseAsync(
        std::move(*calls.lease),
        [this](absl::StatusOr<std::vector<LeasedJob>> jobs) { OnLeased(std::move(jobs)); });
  }
  if (!calls.completions.empty()) {
    const size_t n = calls.completions.size();
    engine_->CompleteBatchAsync(std::move(calls.completions),
                                [this, n](const absl::StatusOr<std::vector<absl::Status>>& r) {
                                  OnFlushed(n, r, &EmbeddedWorkerStats::completed);
                                });
  }
  if (!calls.failures.empty()) {
    const size_t n = calls.failures.size();
    engine_->FailBatchAsync(
        std::move(calls.failures),
        [this, n](const absl::StatusOr<std::vector<absl::StatusOr<FailResult>>>& r) {
          OnFlushed(n, r, &EmbeddedWorkerStats::failed);
        });
  }
  if (!calls.beats.empty()) {
    engine_->HeartbeatBatchAsync(std::move(calls.beats), std::move(calls.on_beats));
  }
}

namespace {
const absl::Status& StatusOf(const absl::Status& s) { return s; }
template <typename T>
const absl::Status& StatusOf(const absl::StatusOr<T>& s) {
  return s.status();
}
}  // namespace

template <typename Item>
void EmbeddedWorker::OnFlushed(size_t n, const absl::StatusOr<std::vector<Item>>& r,
                               uint64_t EmbeddedWorkerStats::*accepted) {
  absl::MutexLock lock(&mu_);
  ++stats_.flushes;
  --flushes_in_flight_;
  kick_ = true;
  if (!r.ok()) {
    stats_.report_errors += n;
    return;
  }
  for (const Item& item : *r) {
    const absl::Status& s = StatusOf(item);
    if (s.ok()) {
      ++(stats_.*accepted);
    } else if (IsLeaseLost(s)) {
      ++stats_.lease_lost;
    } else {
      ++stats_.report_errors;
    }
  }
}

void EmbeddedWorker::OnLeased(absl::StatusOr<std::vector<LeasedJob>> jobs) {
  absl::MutexLock lock(&mu_);
  lease_in_flight_ = false;
  kick_ = true;
  if (!jobs.ok()) {
    lease_retry_at_ = Steady::now() + kLeaseRetry;
    stats_.last_lease_error = jobs.status().ToString();
    return;
  }
  stats_.last_lease_error.clear();
  const Steady::time_point now = Steady::now();
  for (LeasedJob& j : *jobs) {
    auto held = std::make_shared<Held>(std::move(j));
    held->job.stopping_ = &stopping_;
    // Capped before it meets the steady clock: a damaged stored job's lease
    // cannot overflow it (SteadySpan). An attempt timeout past the cap is
    // left to the engine: capping it would end the attempt early.
    held->lease_length = SteadySpan(held->job.job().lease_duration.count() > 0
                                        ? held->job.job().lease_duration
                                        : options_.visibility_timeout.value_or(Millis(30000)));
    held->lease_ends = now + held->lease_length;
    held->next_heartbeat = now + held->lease_length / 3;
    const Millis timeout = held->job.job().attempt_timeout;
    if (timeout.count() > 0 && timeout <= kMaxSteadySpan) {
      held->attempt_ends = now + timeout;
      // The engine never extends a lease past the attempt's deadline.
      held->lease_ends = std::min(held->lease_ends, *held->attempt_ends);
    }
    held_[held->job.job().id] = held;
    ready_.push_back(std::move(held));
  }
}

void EmbeddedWorker::HandlerLoop() {
  for (;;) {
    std::shared_ptr<Held> held;
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &EmbeddedWorker::HasWork));
      if (ready_.empty()) return;
      held = std::move(ready_.front());
      ready_.pop_front();
      if (Steady::now() >= held->lease_ends || held->job.lease_lost() ||
          held->job.attempt_timed_out()) {
        // Its lease ended while it waited (a slow handler ahead of it): the
        // job is someone else's now, or will be.
        Forget(held);
        ++stats_.skipped;
        kick_ = true;
        continue;
      }
    }
    std::optional<EmbeddedResult> result = Run(held->job);
    if (result && result->kind == EmbeddedResult::Kind::kSuccess &&
        result->value.size() > engine_->options().max_payload_bytes) {
      // The engine would refuse it on every attempt.
      result = EmbeddedResult::NonRetryableError(
          absl::StrCat("result: ", result->value.size(), " bytes, more than max_payload_bytes (",
                       engine_->options().max_payload_bytes, ")"));
    }
    absl::MutexLock lock(&mu_);
    Forget(held);
    kick_ = true;
    const Steady::time_point now = Steady::now();
    while (!recent_.empty() && now - recent_.front() > kRecentWindow) recent_.pop_front();
    if (recent_.size() < kMaxAdaptivePrefetch) recent_.push_back(now);
    if (!result) continue;  // a workflow run ended its attempt itself
    const LeasedJob& j = held->job.job();
    if (result->kind == EmbeddedResult::Kind::kSuccess) {
      completions_.push_back({.id = j.id, .token = j.token, .result = std::move(result->value)});
    } else {
      std::string error = std::move(result->value);
      if (!internal::ValidateUtf8("error", error).ok()) error = absl::CHexEscape(error);
      failures_.push_back({.id = j.id,
                           .token = j.token,
                           .error = std::move(error),
                           .retryable = result->kind == EmbeddedResult::Kind::kRetryableError});
    }
  }
}

std::optional<EmbeddedResult> EmbeddedWorker::Run(EmbeddedJob& job) {
  const std::string& type = job.job().job_type;
  if (auto wf = workflows_.find(type); wf != workflows_.end()) {
    absl::Status s = RunWorkflowJob(*engine_, job.job(), wf->second, engine_->options().clock);
    absl::MutexLock lock(&mu_);
    if (s.ok())
      ++stats_.completed;
    else if (IsLeaseLost(s))
      ++stats_.lease_lost;
    else
      ++stats_.report_errors;
    return std::nullopt;
  }
  auto handler = handlers_.find(type);
  if (handler == handlers_.end()) {
    return EmbeddedResult::RetryableError(absl::StrCat("no handler for job type ", type));
  }
  try {
    return handler->second(job);
  } catch (const std::exception& e) {
    return EmbeddedResult::RetryableError(absl::StrCat("handler threw: ", e.what()));
  } catch (...) {
    return EmbeddedResult::RetryableError("handler threw");
  }
}

void EmbeddedWorker::TickerLoop() {
  for (;;) {
    Calls calls;
    {
      absl::MutexLock lock(&mu_);
      mu_.AwaitWithTimeout(absl::Condition(this, &EmbeddedWorker::Woken), absl::FromChrono(kTick));
      if (stopped_) return;
      kick_ = false;
      calls = Plan();
      PlanHeartbeats(calls);
    }
    Issue(std::move(calls));
  }
}

void EmbeddedWorker::PlanHeartbeats(Calls& calls) {
  const Steady::time_point now = Steady::now();
  const size_t max = static_cast<size_t>(engine_->options().max_lease_jobs);
  for (auto& [id, held] : held_) {
    if (held->attempt_ends && now >= *held->attempt_ends) {
      held->job.attempt_timed_out_ = true;  // the engine ends the attempt; stop extending it
    }
    if (heartbeat_in_flight_ || calls.beats.size() == max) continue;
    if (held->job.lease_lost() || held->job.attempt_timed_out()) continue;
    if (now < held->next_heartbeat) continue;
    HeartbeatRequest req{.id = id, .token = held->job.job().token};
    if (auto progress = held->job.TakeProgress()) {
      req.progress = progress->fraction;
      req.progress_message = std::move(progress->message);
    }
    calls.beats.push_back(std::move(req));
    calls.beat_jobs.push_back(held);
  }
  if (calls.beats.empty()) return;
  heartbeat_in_flight_ = true;
  std::vector<std::shared_ptr<Held>> jobs = std::move(calls.beat_jobs);
  const Steady::time_point sent = now;
  calls.on_beats = [this, jobs = std::move(jobs),
                    sent](absl::StatusOr<std::vector<absl::StatusOr<HeartbeatResult>>> r) {
    absl::MutexLock lock(&mu_);
    heartbeat_in_flight_ = false;
    kick_ = true;
    if (!r.ok()) {  // due again in a while
      for (const auto& held : jobs) held->next_heartbeat = sent + kHeartbeatRetry;
      return;
    }
    for (size_t i = 0; i < jobs.size() && i < r->size(); ++i) {
      Held& held = *jobs[i];
      const auto& result = (*r)[i];
      if (result.ok()) {
        held.lease_ends = sent + held.lease_length;
        if (held.attempt_ends) held.lease_ends = std::min(held.lease_ends, *held.attempt_ends);
        held.next_heartbeat = sent + held.lease_length / 3;
        if (result->cancel_requested) held.job.cancel_requested_ = true;
      } else if (IsLeaseLost(result.status())) {
        held.job.lease_lost_ = true;
        ++stats_.lease_lost;
      } else {
        held.next_heartbeat = sent + kHeartbeatRetry;
      }
    }
  };
}

}  // namespace ratchet
