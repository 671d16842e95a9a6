// ratchet::Worker against a real server: outcomes, heartbeats, cancel and
// lease-loss notices, graceful stop.
#include "ratchet/client/worker.h"

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>

#include "ratchet/api/time_codec.h"
#include "server_fixture.h"

namespace ratchet::testing {
namespace {

class WorkerTest : public ServerFixture {
 protected:
  uint64_t Enqueue(const std::string& type, const std::string& payload = "p",
                   int max_attempts = 3) {
    v1::JobSpec job;
    job.set_queue("q");
    job.set_job_type(type);
    job.set_payload(payload);
    job.set_max_attempts(max_attempts);
    job.mutable_retry_policy()->set_jitter(v1::JITTER_NONE);
    *job.mutable_retry_policy()->mutable_initial_backoff() = ToProtoDuration(Millis(10));
    *job.mutable_retry_policy()->mutable_max_backoff() = ToProtoDuration(Millis(10));
    job.mutable_retry_policy()->set_multiplier(1);
    return client().Enqueue(job)->job_id();
  }

  // Waits until the job reaches `state` (or 10 s pass).
  v1::Job AwaitState(uint64_t id, v1::JobState state) {
    v1::Job job;
    for (int i = 0; i < 1000; ++i) {
      job = *client().GetJob(id);
      if (job.state() == state) break;
      std::this_thread::sleep_for(Millis(10));
    }
    return job;
  }

  WorkerOptions Options() {
    return {.queue = "q", .worker_id = "tw", .concurrency = 2, .lease_wait = Millis(200)};
  }
};

TEST_F(WorkerTest, SuccessStoresTheResultAndHandlerSeesTokens) {
  std::atomic<uint64_t> token{0};
  std::string idem;
  Worker worker(&client(), Options());
  worker.Register("echo", [&](JobContext& job) {
    token = job.fencing_token();
    idem = job.idempotency_token();
    return HandlerResult::Success("echo:" + job.payload());
  });
  uint64_t id = Enqueue("echo", "hi");
  ASSERT_TRUE(worker.Start().ok());
  v1::Job job = AwaitState(id, v1::JOB_STATE_COMPLETED);
  worker.Stop();
  EXPECT_EQ(job.result(), "echo:hi");
  EXPECT_EQ(token.load(), job.fencing_token());
  EXPECT_EQ(idem, "ratchet:q:" + std::to_string(id));
  EXPECT_EQ(worker.stats().completed, 1u);
}

TEST_F(WorkerTest, HandlerRunsInTheJobsTraceAndForwardsIt) {
  constexpr char kTrace[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  std::string seen, trace_id;
  std::atomic<uint64_t> child{0};
  Worker worker(&client(), Options());
  worker.Register("parent", [&](JobContext& job) {
    seen = job.traceparent();
    trace_id = job.trace_id();
    v1::JobSpec spec;  // names no trace: the handler's is forwarded
    spec.set_queue("children");
    spec.set_job_type("child");
    auto r = client().Enqueue(spec);
    if (!r.ok()) return HandlerResult::RetryableError(std::string(r.status().message()));
    child = r->job_id();
    return HandlerResult::Success("");
  });
  v1::JobSpec spec;
  spec.set_queue("q");
  spec.set_job_type("parent");
  spec.set_traceparent(kTrace);
  uint64_t id = client().Enqueue(spec)->job_id();
  ASSERT_TRUE(worker.Start().ok());
  AwaitState(id, v1::JOB_STATE_COMPLETED);
  worker.Stop();
  EXPECT_EQ(seen, kTrace);
  EXPECT_EQ(trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  ASSERT_NE(child.load(), 0u);
  EXPECT_EQ(client().GetJob(child)->traceparent(), kTrace);
}

TEST_F(WorkerTest, ExceptionIsARetryableFailure) {
  std::atomic<int> runs{0};
  Worker worker(&client(), Options());
  worker.Register("flaky", [&](JobContext& job) -> HandlerResult {
    if (runs++ == 0) throw std::runtime_error("first run fails");
    return HandlerResult::Success("ok");
  });
  uint64_t id = Enqueue("flaky");
  ASSERT_TRUE(worker.Start().ok());
  v1::Job job = AwaitState(id, v1::JOB_STATE_COMPLETED);
  worker.Stop();
  EXPECT_EQ(job.attempts(), 2);
  ASSERT_EQ(job.errors_size(), 1);
  EXPECT_NE(job.errors(0).message().find("first run fails"), std::string::npos);
}

TEST_F(WorkerTest, NonRetryableErrorDeadLettersAtOnce) {
  Worker worker(&client(), Options());
  worker.Register("bad", [](JobContext&) { return HandlerResult::NonRetryableError("no"); });
  uint64_t id = Enqueue("bad");
  ASSERT_TRUE(worker.Start().ok());
  v1::Job job = AwaitState(id, v1::JOB_STATE_DEAD);
  worker.Stop();
  EXPECT_EQ(job.state(), v1::JOB_STATE_DEAD);
  EXPECT_EQ(job.attempts(), 1);
}

TEST_F(WorkerTest, HeartbeatsKeepALongJobLeased) {
  WorkerOptions options = Options();
  options.visibility_timeout = Millis(600);
  std::atomic<bool> lost{false};
  Worker worker(&client(), options);
  worker.Register("slow", [&](JobContext& job) {
    std::this_thread::sleep_for(Millis(2000));  // > 3 visibility timeouts
    lost = job.lease_lost();
    return HandlerResult::Success("done");
  });
  uint64_t id = Enqueue("slow");
  ASSERT_TRUE(worker.Start().ok());
  v1::Job job = AwaitState(id, v1::JOB_STATE_COMPLETED);
  worker.Stop();
  EXPECT_EQ(job.state(), v1::JOB_STATE_COMPLETED);
  EXPECT_EQ(job.attempts(), 1);  // never re-leased
  EXPECT_FALSE(lost.load());
}

TEST_F(WorkerTest, HandlerLearnsOfCancelRequest) {
  WorkerOptions options = Options();
  options.visibility_timeout = Millis(600);  // heartbeat every ~200 ms
  std::atomic<bool> started{false}, saw_cancel{false};
  Worker worker(&client(), options);
  worker.Register("long", [&](JobContext& job) {
    started = true;
    for (int i = 0; i < 500 && !job.should_stop(); ++i) std::this_thread::sleep_for(Millis(10));
    saw_cancel = job.cancel_requested();
    return HandlerResult::RetryableError("stopped");
  });
  uint64_t id = Enqueue("long");
  ASSERT_TRUE(worker.Start().ok());
  while (!started) std::this_thread::sleep_for(Millis(5));
  ASSERT_EQ(*client().CancelJob(id), v1::JOB_STATE_RUNNING);
  v1::Job job = AwaitState(id, v1::JOB_STATE_CANCELLED);
  worker.Stop();
  EXPECT_TRUE(saw_cancel.load());
  EXPECT_EQ(job.state(), v1::JOB_STATE_CANCELLED);
}

// Attempt timeout: the handler is told to stop at the attempt deadline and
// the worker stops heartbeating it (a heartbeat past the server's deadline
// would be LEASE_LOST and set lease_lost()); the server fails the attempt.
TEST_F(WorkerTest, AttemptTimeoutStopsTheHandlerAndItsHeartbeats) {
  WorkerOptions options = Options();
  options.visibility_timeout = Millis(600);  // heartbeat every ~200 ms
  std::atomic<bool> timed_out{false}, lost_after{true};
  std::atomic<int64_t> stopped_after_ms{0};
  Worker worker(&client(), options);
  worker.Register("hung", [&](JobContext& job) {
    const auto start = std::chrono::steady_clock::now();
    for (int i = 0; i < 500 && !job.should_stop(); ++i) std::this_thread::sleep_for(Millis(10));
    stopped_after_ms =
        std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - start).count();
    timed_out = job.attempt_timed_out();
    // Keep "hanging" for three heartbeat intervals: none may be sent now.
    std::this_thread::sleep_for(Millis(700));
    lost_after = job.lease_lost();
    return HandlerResult::Success("too late");
  });
  v1::JobSpec spec;
  spec.set_queue("q");
  spec.set_job_type("hung");
  spec.set_max_attempts(1);
  *spec.mutable_attempt_timeout() = ToProtoDuration(Millis(700));
  uint64_t id = client().Enqueue(spec)->job_id();
  ASSERT_TRUE(worker.Start().ok());
  v1::Job job = AwaitState(id, v1::JOB_STATE_DEAD);
  for (int i = 0; i < 300 && worker.stats().lease_lost == 0; ++i) {
    std::this_thread::sleep_for(Millis(10));
  }
  worker.Stop();
  EXPECT_TRUE(timed_out.load());
  EXPECT_GE(stopped_after_ms.load(), 650);
  EXPECT_LT(stopped_after_ms.load(), 3000);
  EXPECT_FALSE(lost_after.load()) << "a heartbeat was sent after the attempt deadline";
  EXPECT_EQ(job.state(), v1::JOB_STATE_DEAD);
  ASSERT_EQ(job.errors_size(), 1);
  EXPECT_EQ(job.errors(0).message(), "attempt timed out");
  EXPECT_EQ(worker.stats().completed, 0u) << "the late outcome is rejected";
  EXPECT_EQ(worker.stats().lease_lost, 1u);
}

TEST_F(WorkerTest, SetProgressIsSentWithTheNextHeartbeat) {
  WorkerOptions options = Options();
  options.visibility_timeout = Millis(600);  // heartbeat every ~200 ms
  std::atomic<bool> reported{false}, release{false};
  absl::Status bad_fraction, bad_message;
  Worker worker(&client(), options);
  worker.Register("progress", [&](JobContext& job) {
    bad_fraction = job.set_progress(2.0, "too far");
    bad_message = job.set_progress(0.5, std::string(257, 'x'));
    EXPECT_TRUE(job.set_progress(0.5, "half way").ok());
    reported = true;
    for (int i = 0; i < 500 && !release; ++i) std::this_thread::sleep_for(Millis(10));
    return HandlerResult::Success();
  });
  uint64_t id = Enqueue("progress");
  ASSERT_TRUE(worker.Start().ok());
  v1::Job job;
  for (int i = 0; i < 300 && !job.has_progress(); ++i) {
    std::this_thread::sleep_for(Millis(10));
    if (reported) job = *client().GetJob(id);
  }
  release = true;
  worker.Stop();
  ASSERT_TRUE(job.has_progress()) << "no heartbeat carried the progress";
  EXPECT_DOUBLE_EQ(job.progress(), 0.5);
  EXPECT_EQ(job.progress_message(), "half way");
  EXPECT_EQ(bad_fraction.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad_fraction.message().rfind("progress:", 0), 0u) << bad_fraction;
  EXPECT_EQ(bad_message.message().rfind("progress_message:", 0), 0u) << bad_message;
}

TEST_F(WorkerTest, StopDrainsTheRunningHandler) {
  std::atomic<bool> started{false};
  Worker worker(&client(), Options());
  worker.Register("drain", [&](JobContext&) {
    started = true;
    std::this_thread::sleep_for(Millis(500));
    return HandlerResult::Success("finished");
  });
  uint64_t id = Enqueue("drain");
  ASSERT_TRUE(worker.Start().ok());
  while (!started) std::this_thread::sleep_for(Millis(5));
  worker.Stop();  // returns after the handler finished and was reported
  EXPECT_EQ(client().GetJob(id)->state(), v1::JOB_STATE_COMPLETED);
}

// With a drain timeout, Stop() lets a handler finish undisturbed within it
// (should_stop() stays false), and returns as soon as it has.
TEST_F(WorkerTest, DrainTimeoutLetsHandlersFinishUndisturbed) {
  std::atomic<bool> started{false}, told_to_stop{false};
  WorkerOptions o = Options();
  o.drain_timeout = Millis(5000);
  Worker worker(&client(), o);
  worker.Register("drain", [&](JobContext& ctx) {
    started = true;
    std::this_thread::sleep_for(Millis(300));
    told_to_stop = ctx.should_stop();
    return HandlerResult::Success("finished");
  });
  uint64_t id = Enqueue("drain");
  ASSERT_TRUE(worker.Start().ok());
  while (!started) std::this_thread::sleep_for(Millis(5));
  auto t0 = std::chrono::steady_clock::now();
  worker.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, Millis(3000));
  EXPECT_FALSE(told_to_stop);
  EXPECT_EQ(client().GetJob(id)->state(), v1::JOB_STATE_COMPLETED);
}

// Past the drain timeout, the running handler is told to stop (and its
// failure reported); no job is left running under a lease nobody works.
TEST_F(WorkerTest, PastTheDrainTimeoutHandlersAreToldToStop) {
  std::atomic<int> started{0};
  WorkerOptions o = Options();
  o.concurrency = 1;
  o.drain_timeout = Millis(200);
  uint64_t first = Enqueue("block");
  uint64_t second = Enqueue("block");
  Worker worker(&client(), o);
  worker.Register("block", [&](JobContext& ctx) {
    ++started;
    while (!ctx.should_stop()) std::this_thread::sleep_for(Millis(5));
    return HandlerResult::RetryableError("stopped");
  });
  ASSERT_TRUE(worker.Start().ok());
  while (started == 0) std::this_thread::sleep_for(Millis(5));
  auto t0 = std::chrono::steady_clock::now();
  worker.Stop();
  auto took = std::chrono::steady_clock::now() - t0;
  EXPECT_GE(took, Millis(190)) << "the handler was told to stop before the drain timeout";
  EXPECT_LT(took, Millis(5000));
  EXPECT_EQ(started, 1);
  EXPECT_GE(worker.stats().failed, 1u);
  for (uint64_t id : {first, second}) {
    EXPECT_NE(client().GetJob(id)->state(), v1::JOB_STATE_RUNNING) << id;
  }
}

// The stream keeps the worker fed: many jobs, more than one stream
// message's worth, all complete, with prefetch and several handlers.
TEST_F(WorkerTest, StreamDrainsManyJobsThroughCredits) {
  constexpr int kCount = 300;
  for (int i = 0; i < kCount; ++i) Enqueue("sleep");
  Worker worker(&client(), {.queue = "q", .worker_id = "tw", .concurrency = 8});
  worker.Register("sleep", [](JobContext&) {
    std::this_thread::sleep_for(Millis(5));
    return HandlerResult::Success();
  });
  ASSERT_TRUE(worker.Start().ok());
  for (int i = 0; i < 1000 && worker.stats().completed < kCount; ++i) {
    std::this_thread::sleep_for(Millis(10));
  }
  worker.Stop();
  WorkerStats stats = worker.stats();
  EXPECT_EQ(stats.completed, static_cast<uint64_t>(kCount)) << stats.last_stream_error;
  EXPECT_EQ(stats.stream_restarts, 0u);
  EXPECT_EQ(client().GetQueue("q")->completed(), kCount);
}

// A mixed fleet: a streaming and a unary worker on one queue together keep
// the queue's concurrency limit, and every job completes once.
TEST_F(WorkerTest, StreamAndUnaryWorkersTogetherKeepTheQueueLimit) {
  v1::UpdateQueueRequest limit;
  limit.set_queue("q");
  limit.set_concurrency_limit(2);
  ASSERT_TRUE(client().UpdateQueue(limit).ok());
  constexpr int kCount = 40;
  for (int i = 0; i < kCount; ++i) Enqueue("busy");
  std::atomic<int> now{0}, most{0}, runs{0};
  auto handler = [&](JobContext&) {
    const int n = ++now;
    int seen = most.load();
    while (n > seen && !most.compare_exchange_weak(seen, n)) {
    }
    std::this_thread::sleep_for(Millis(10));
    --now;
    ++runs;
    return HandlerResult::Success();
  };
  Worker stream(&client(), {.queue = "q", .worker_id = "s", .concurrency = 4});
  Worker unary(&client(), {.queue = "q",
                           .worker_id = "u",
                           .concurrency = 4,
                           .lease_wait = Millis(200),
                           .protocol = WorkerProtocol::kUnary});
  stream.Register("busy", handler);
  unary.Register("busy", handler);
  ASSERT_TRUE(stream.Start().ok());
  ASSERT_TRUE(unary.Start().ok());
  for (int i = 0; i < 1000 && stream.stats().completed + unary.stats().completed < kCount; ++i) {
    std::this_thread::sleep_for(Millis(10));
  }
  stream.Stop();
  unary.Stop();
  EXPECT_EQ(stream.stats().completed + unary.stats().completed, static_cast<uint64_t>(kCount));
  EXPECT_EQ(runs.load(), kCount);
  EXPECT_LE(most.load(), 2) << "the queue's concurrency limit was exceeded";
  EXPECT_GT(stream.stats().completed, 0u);
  EXPECT_GT(unary.stats().completed, 0u);
}

// A handler's error text that is not UTF-8 (an exception's bytes) is sent
// escaped: the server would reject the whole message, and the stream with
// it, again on every reconnect.
TEST_F(WorkerTest, ErrorTextThatIsNotUtf8IsReportedEscaped) {
  uint64_t id = Enqueue("bad", "p", 1);
  Worker worker(&client(), Options());
  worker.Register("bad", [](JobContext&) {
    return HandlerResult::NonRetryableError(std::string("caf\xe9 \xff broke"));
  });
  ASSERT_TRUE(worker.Start().ok());
  v1::Job job = AwaitState(id, v1::JOB_STATE_DEAD);
  worker.Stop();
  EXPECT_EQ(job.state(), v1::JOB_STATE_DEAD);
  ASSERT_GT(job.errors_size(), 0);
  const std::string& error = job.errors(job.errors_size() - 1).message();
  EXPECT_NE(error.find("not UTF-8"), std::string::npos) << error;
  EXPECT_EQ(worker.stats().failed, 1u);
  EXPECT_EQ(worker.stats().stream_restarts, 0u) << worker.stats().last_stream_error;
}

TEST_F(WorkerTest, ProgressThatIsNotUtf8IsRefusedByTheWorker) {
  JobContext ctx{v1::LeasedJob()};
  absl::Status s = ctx.set_progress(0.5, std::string("\xc3("));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("progress_message"), std::string::npos) << s;
}

}  // namespace
}  // namespace ratchet::testing
