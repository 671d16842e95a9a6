// The Worker's unary protocol (WorkerProtocol::kUnary): long-poll Lease,
// one Complete or Fail per job from the handler's thread, one Heartbeat per
// job from the heartbeat thread. For servers without WorkStream.
#include <algorithm>
#include <thread>

#include "ratchet/base/status.h"
#include "worker_state.h"

namespace ratchet {

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
    if (!TransientForWorker(status)) return status;
    std::this_thread::sleep_for(std::clamp(left / 10, Millis(1), Millis(100)));
  }
}

void Worker::ReportUnary(const Running& running, const HandlerResult& result) {
  const JobContext& ctx = running.ctx;
  absl::Status status;
  if (result.kind == HandlerResult::Kind::kSuccess) {
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
    req.set_error(ValidUtf8(result.value));
    req.set_non_retryable(result.kind == HandlerResult::Kind::kNonRetryableError);
    // As Complete: a repeat of an accepted Fail reports its outcome.
    status = UntilLeaseEnds(running,
                            [&](CallOptions call) { return client_->Fail(req, call).status(); });
  }
  absl::MutexLock lock(&state_->mu);
  state_->Count(result.kind, status);
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
      std::vector<std::shared_ptr<Running>> held(s.pending.begin(), s.pending.end());
      for (auto& [id, r] : s.running) held.push_back(r);
      for (auto& r : held) {
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
