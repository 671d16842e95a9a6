// The Worker's stream protocol (WorkerProtocol::kStream): one WorkStream at
// a time, a sending thread (this loop) and a reading thread per stream.
//
// Credits: the worker holds at most concurrency + prefetch jobs (waiting or
// running), where prefetch adapts: at least WorkerOptions::prefetch, and as
// many as the handlers finished in the last 50 ms (at most 1000), so a fast
// handler never waits for a round trip and slow jobs are not hoarded away
// from other workers. It grants the server exactly the room it has, less
// the credits already granted on this stream and not yet used. A new stream starts from
// nothing: the server forgets a broken stream's credits.
//
// Outcomes: handlers put them in State::outbox; the sender takes all of
// them (up to 1000 of each kind) into one message whenever no other outcome
// message is unacknowledged. Heartbeats: every 50 ms, one message with
// every held job (waiting or running) whose heartbeat is due.
//
// A stream that breaks: its unacknowledged outcomes go back to the front of
// the outbox and are sent again on the next stream (fenced: a repeat of one
// that landed is acknowledged again, or answers LEASE_LOST); an outcome
// whose lease has ended by then is dropped (counted in report_errors: the
// server has re-run or will re-run the job). The next stream opens after a
// capped exponential backoff (50 ms .. 2 s), reset by a stream that got
// any answer.
#include <algorithm>
#include <thread>

#include "grpcpp/channel.h"
#include "ratchet/api/status_codec.h"
#include "ratchet/base/status.h"
#include "ratchet/client/work_stream.h"
#include "worker_state.h"

namespace ratchet {
namespace {

constexpr Millis kTick{50};
constexpr int kMaxItems = 1000;  // per kind per message (unless the server says fewer)
constexpr int64_t kMaxAdaptivePrefetch = 1000;

}  // namespace

// One open stream: what it granted and what it has not had acknowledged.
// Everything is guarded by State::mu.
class Worker::Stream {
 public:
  Stream(Worker* worker, std::unique_ptr<WorkStream> stream)
      : w_(*worker), s_(*worker->state_), stream_(std::move(stream)) {}

  struct SentHeartbeat {
    std::shared_ptr<Running> running;
    SteadyClock::time_point sent;
    std::optional<JobContext::Progress> progress;
  };
  struct SentMessage {
    std::vector<Outcome> completions, failures;
    std::vector<SentHeartbeat> heartbeats;
  };

  // Runs the stream until it breaks or the worker is done; true if done.
  bool Run();
  bool answered() const { return answered_; }
  // How the stream ended (after Run).
  const absl::Status& status() const { return last_status_; }

 private:
  // True once the worker has stopped and has nothing left to send or hear.
  bool Finished() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(s_.mu) {
    return w_.stopping_.load() && s_.leasing_done && s_.held() == 0 && s_.outbox.empty() &&
           !outcomes_in_flight_;
  }
  int64_t Grant() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(s_.mu) {
    if (w_.stopping_.load()) return 0;
    // Adaptive prefetch: at least `prefetch`, and as many as the handlers
    // finished in the last window (kTick) while they finish jobs quickly,
    // so fast jobs keep the pipeline full and slow ones are not hoarded.
    const int64_t prefetch = std::max<int64_t>(
        w_.options_.prefetch, std::min<int64_t>(recent_finished_, kMaxAdaptivePrefetch));
    const int64_t capacity = w_.options_.concurrency + prefetch;
    return capacity - static_cast<int64_t>(s_.held()) - credits_;
  }
  // Once per kTick: how many handler runs ended in the last window.
  void MeasureRate(SteadyClock::time_point now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s_.mu) {
    if (now - window_start_ < kTick) return;
    recent_finished_ = static_cast<int64_t>(s_.finished - window_finished_);
    window_finished_ = s_.finished;
    window_start_ = now;
  }
  // The next message to send (empty if nothing is due).
  v1::WorkStreamRequest Next(SteadyClock::time_point now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s_.mu);
  void AddHeartbeat(const std::shared_ptr<Running>& r, SteadyClock::time_point now,
                    v1::WorkStreamRequest* msg, SentMessage* sent)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(s_.mu);
  void ReadLoop();
  void Take(v1::WorkStreamResponse& resp, SteadyClock::time_point received)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(s_.mu);
  void Acknowledged(const v1::WorkStreamAck& ack) ABSL_EXCLUSIVE_LOCKS_REQUIRED(s_.mu);
  // After the stream ended: its unacknowledged messages back to the state.
  void Requeue() ABSL_EXCLUSIVE_LOCKS_REQUIRED(s_.mu);

  Worker& w_;
  State& s_;
  std::unique_ptr<WorkStream> stream_;
  int64_t credits_ = 0;  // granted on this stream and not yet used
  uint64_t next_seq_ = 1;
  std::map<uint64_t, SentMessage> unacked_;
  bool outcomes_in_flight_ = false;
  bool stop_sent_ = false;
  bool broken_ = false;
  bool answered_ = false;
  absl::Status last_status_;
  int max_items_ = kMaxItems;  // per kind per message; the server may say fewer
  int64_t recent_finished_ = 0;
  uint64_t window_finished_ = 0;
  SteadyClock::time_point window_start_ = SteadyClock::now();
};

void Worker::Stream::AddHeartbeat(const std::shared_ptr<Running>& r, SteadyClock::time_point now,
                                  v1::WorkStreamRequest* msg, SentMessage* sent) {
  // Past its attempt timeout a job is told to stop and no longer
  // heartbeated: no heartbeat can keep the attempt alive.
  if (r->attempt_ends && *r->attempt_ends <= now) r->ctx.attempt_timed_out_.store(true);
  if (r->next_heartbeat > now || r->ctx.lease_lost() || r->ctx.attempt_timed_out()) return;
  if (msg->heartbeats_size() >= max_items_) return;
  v1::HeartbeatRequest* hb = msg->add_heartbeats();
  hb->set_job_id(r->id());
  hb->set_fencing_token(r->ctx.fencing_token());
  std::optional<JobContext::Progress> progress = r->ctx.TakeProgress();
  if (progress) {
    hb->set_progress(progress->fraction);
    hb->set_progress_message(progress->message);
  }
  // Not again until this one is answered (or the stream breaks).
  r->next_heartbeat = now + r->lease_duration;
  sent->heartbeats.push_back({r, now, std::move(progress)});
}

v1::WorkStreamRequest Worker::Stream::Next(SteadyClock::time_point now) {
  v1::WorkStreamRequest msg;
  SentMessage sent;
  if (!outcomes_in_flight_) {
    while (!s_.outbox.empty()) {
      Worker::Outcome& o = s_.outbox.front();
      const bool success = o.result.kind == HandlerResult::Kind::kSuccess;
      if ((success ? msg.completions_size() : msg.failures_size()) >= max_items_) break;
      const JobContext& ctx = o.running->ctx;
      if (success) {
        v1::CompleteRequest* c = msg.add_completions();
        c->set_job_id(ctx.job().job_id());
        c->set_fencing_token(ctx.fencing_token());
        c->set_result(o.result.value);
        sent.completions.push_back(std::move(o));
      } else {
        v1::FailRequest* f = msg.add_failures();
        f->set_job_id(ctx.job().job_id());
        f->set_fencing_token(ctx.fencing_token());
        f->set_error(ValidUtf8(o.result.value));
        f->set_non_retryable(o.result.kind == HandlerResult::Kind::kNonRetryableError);
        sent.failures.push_back(std::move(o));
      }
      s_.outbox.pop_front();
    }
  }
  for (const auto& r : s_.pending) AddHeartbeat(r, now, &msg, &sent);
  for (const auto& [id, r] : s_.running) AddHeartbeat(r, now, &msg, &sent);
  if (const int64_t grant = Grant(); grant > 0) {
    msg.set_credits(static_cast<int32_t>(grant));
    credits_ += grant;
  }
  if (w_.stopping_.load() && !stop_sent_) {
    msg.set_stop_leasing(true);
    stop_sent_ = true;
  }
  if (!sent.completions.empty() || !sent.failures.empty() || !sent.heartbeats.empty()) {
    msg.set_seq(next_seq_++);
    outcomes_in_flight_ = !sent.completions.empty() || !sent.failures.empty();
    unacked_[msg.seq()] = std::move(sent);
  }
  return msg;
}

bool Worker::Stream::Run() {
  {
    // The open: the queue, and the room the worker has.
    v1::WorkStreamRequest open;
    v1::WorkStreamOpen* o = open.mutable_open();
    o->set_queue(w_.options_.queue);
    o->set_worker_id(w_.options_.worker_id);
    if (w_.options_.visibility_timeout) {
      *o->mutable_visibility_timeout() = ToProtoDuration(*w_.options_.visibility_timeout);
    }
    {
      absl::MutexLock lock(&s_.mu);
      window_finished_ = s_.finished;
      if (const int64_t grant = Grant(); grant > 0) {
        open.set_credits(static_cast<int32_t>(grant));
        credits_ = grant;
      }
      if (w_.stopping_.load()) {
        open.set_stop_leasing(true);
        stop_sent_ = true;
      }
    }
    // A failed write ends the stream; the reader sees it end too.
    stream_->Write(open);
  }
  std::thread reader([this] { ReadLoop(); });
  bool done = false;
  while (true) {
    v1::WorkStreamRequest msg;
    {
      absl::MutexLock lock(&s_.mu);
      auto ready = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(s_.mu) {
        return broken_ || Finished() || (!outcomes_in_flight_ && !s_.outbox.empty()) ||
               Grant() > 0 || (w_.stopping_.load() && !stop_sent_);
      };
      s_.mu.AwaitWithTimeout(absl::Condition(&ready), absl::FromChrono(kTick));
      if (broken_) break;
      if (Finished()) {
        done = true;
        break;
      }
      const auto now = SteadyClock::now();
      MeasureRate(now);
      msg = Next(now);
    }
    if (msg.ByteSizeLong() == 0) continue;
    if (!stream_->Write(msg)) break;  // the reader sees the end too
  }
  bool ended;
  {
    absl::MutexLock lock(&s_.mu);
    ended = broken_;
  }
  if (done) {
    stream_->WritesDone();  // the server answers what is in flight, then ends
  } else if (!ended) {
    stream_->Cancel();  // a write failed: end the read too
  }
  reader.join();
  last_status_ = stream_->Finish();
  absl::MutexLock lock(&s_.mu);
  Requeue();
  return done;
}

void Worker::Stream::ReadLoop() {
  v1::WorkStreamResponse resp;
  while (stream_->Read(&resp)) {
    const auto received = SteadyClock::now();
    absl::MutexLock lock(&s_.mu);
    answered_ = true;
    Take(resp, received);
    resp.Clear();
  }
  absl::MutexLock lock(&s_.mu);
  broken_ = true;
}

void Worker::Stream::Take(v1::WorkStreamResponse& resp, SteadyClock::time_point received) {
  for (v1::LeasedJob& job : *resp.mutable_jobs()) {
    const Millis duration = w_.LeaseDuration(job);
    auto running = std::make_shared<Running>(std::move(job), duration, received);
    running->ctx.stopping_ = &w_.handlers_stop_;
    s_.pending.push_back(std::move(running));
    --credits_;
  }
  if (resp.max_items() > 0) max_items_ = std::min(kMaxItems, resp.max_items());
  for (const v1::WorkStreamAck& ack : resp.acks()) Acknowledged(ack);
  // Only the answer to this worker's stop_leasing ends its leasing.
  if (resp.leasing_stopped() && stop_sent_) s_.leasing_done = true;
}

void Worker::Stream::Acknowledged(const v1::WorkStreamAck& ack) {
  auto it = unacked_.find(ack.seq());
  if (it == unacked_.end()) return;
  SentMessage& sent = it->second;
  for (size_t i = 0; i < sent.completions.size(); ++i) {
    absl::Status st = i < static_cast<size_t>(ack.completions_size())
                          ? FromRpcStatus(ack.completions(static_cast<int>(i)))
                          : absl::InternalError("no acknowledgement for the completion");
    s_.Count(HandlerResult::Kind::kSuccess, st);
  }
  for (size_t i = 0; i < sent.failures.size(); ++i) {
    absl::Status st = i < static_cast<size_t>(ack.failures_size())
                          ? FromRpcStatus(ack.failures(static_cast<int>(i)).status())
                          : absl::InternalError("no acknowledgement for the failure");
    s_.Count(sent.failures[i].result.kind, st);
  }
  const auto now = SteadyClock::now();
  for (size_t i = 0; i < sent.heartbeats.size(); ++i) {
    SentHeartbeat& hb = sent.heartbeats[i];
    Running& r = *hb.running;
    if (i >= static_cast<size_t>(ack.heartbeats_size())) break;
    const v1::HeartbeatBatchItem& item = ack.heartbeats(static_cast<int>(i));
    absl::Status st = FromRpcStatus(item.status());
    if (st.ok()) {
      if (item.result().cancel_requested()) r.ctx.cancel_requested_.store(true);
      r.next_heartbeat = now + r.heartbeat_interval;
      // The server extended the lease from its now, after `sent`.
      r.lease_ends = hb.sent + r.lease_duration;
      if (r.attempt_ends) r.lease_ends = std::min(r.lease_ends, *r.attempt_ends);
    } else if (ReasonOf(st) == kReasonLeaseLost || st.code() == absl::StatusCode::kNotFound) {
      r.ctx.lease_lost_.store(true);
    } else {
      r.next_heartbeat = now + std::min(r.heartbeat_interval, Millis(500));
      // Progress the server rejected (not UTF-8) is dropped; else resent.
      if (hb.progress && st.code() != absl::StatusCode::kInvalidArgument) {
        r.ctx.RestoreProgress(std::move(*hb.progress));
      }
    }
  }
  if (!sent.completions.empty() || !sent.failures.empty()) outcomes_in_flight_ = false;
  unacked_.erase(it);
}

void Worker::Stream::Requeue() {
  const auto now = SteadyClock::now();
  std::deque<Worker::Outcome> back;
  for (auto& [seq, sent] : unacked_) {
    for (auto* list : {&sent.completions, &sent.failures}) {
      for (Worker::Outcome& o : *list) back.push_back(std::move(o));
    }
    for (SentHeartbeat& hb : sent.heartbeats) {
      hb.running->next_heartbeat = now;  // on the next stream, at once
      if (hb.progress) hb.running->ctx.RestoreProgress(std::move(*hb.progress));
    }
  }
  unacked_.clear();
  outcomes_in_flight_ = false;
  // Outcomes still worth sending, oldest first, ahead of newer ones.
  std::deque<Worker::Outcome> keep;
  for (auto* list : {&back, &s_.outbox}) {
    for (Worker::Outcome& o : *list) {
      if (o.running->lease_ends > now) {
        keep.push_back(std::move(o));
      } else {
        s_.stats.report_errors++;  // the lease has ended: the job runs again
      }
    }
  }
  s_.outbox = std::move(keep);
}

void Worker::UnaryFallback() {
  std::deque<Outcome> outbox;
  {
    absl::MutexLock lock(&state_->mu);
    unary_fallback_.store(true);
    outbox.swap(state_->outbox);
  }
  for (const Outcome& o : outbox) ReportUnary(*o.running, o.result);
  std::thread heartbeats([this] { HeartbeatLoop(); });
  LeaseLoop();
  heartbeats.join();
}

namespace {

// True once the worker has nothing left to do over a stream.
bool NothingLeft(const std::atomic<bool>& stopping, size_t held, size_t outbox) {
  return stopping.load() && held == 0 && outbox == 0;
}

}  // namespace

bool Worker::AwaitConnected() {
  State& s = *state_;
  grpc::Channel& channel = *client_->options().channel;
  while (true) {
    const grpc_connectivity_state state = channel.GetState(/*try_to_connect=*/true);
    if (state == GRPC_CHANNEL_READY) return true;
    channel.WaitForStateChange(state, std::chrono::system_clock::now() + kTick * 5);
    absl::MutexLock lock(&s.mu);
    if (stopping_.load()) s.leasing_done = true;  // no stream: no more jobs
    // Outcomes whose lease has ended are not worth sending any more.
    const auto now = SteadyClock::now();
    std::deque<Outcome> keep;
    for (Outcome& o : s.outbox) {
      if (o.running->lease_ends > now) {
        keep.push_back(std::move(o));
      } else {
        s.stats.report_errors++;
      }
    }
    s.outbox = std::move(keep);
    if (NothingLeft(stopping_, s.held(), s.outbox.size())) return false;
  }
}

void Worker::StreamLoop() {
  State& s = *state_;
  Millis backoff{0};
  for (bool first = true;; first = false) {
    {
      absl::MutexLock lock(&s.mu);
      // A stopping worker opens streams only to send outcomes: they lease
      // nothing, so no job can arrive any more.
      if (stopping_.load()) s.leasing_done = true;
      if (NothingLeft(stopping_, s.held(), s.outbox.size())) break;
      if (!first) s.stats.stream_restarts++;
    }
    // Fails fast while the server is unreachable: wait for the channel
    // first (gRPC reconnects with its backoff meanwhile).
    if (!AwaitConnected()) break;
    Stream stream(this, client_->OpenWorkStream());
    if (stream.Run()) break;
    if (stream.status().code() == absl::StatusCode::kUnimplemented) {
      // A server without WorkStream (older than this client): the unary
      // protocol from now on.
      UnaryFallback();
      return;
    }
    backoff =
        stream.answered() ? Millis(0) : std::min(Millis(2000), std::max(Millis(50), backoff * 2));
    absl::MutexLock lock(&s.mu);
    if (!stream.status().ok()) s.stats.last_stream_error = stream.status().ToString();
    auto nothing_left = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(s.mu) {
      return NothingLeft(stopping_, s.held(), s.outbox.size());
    };
    s.mu.AwaitWithTimeout(absl::Condition(&nothing_left), absl::FromChrono(backoff));
  }
  absl::MutexLock lock(&s.mu);
  s.leasing_done = true;
}

}  // namespace ratchet
