// EmbeddedWorker (issue 14): the embedded engine's pipelined worker loop.
// Real time (the system clock): leases, heartbeats and the long poll run as
// in production.
#include "ratchet/engine/embedded_worker.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <set>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "temp_dir.h"

namespace ratchet {
namespace {

using namespace std::chrono_literals;

class EmbeddedWorkerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EngineOptions o;
    o.data_dir = dir_.path() + "/data";
    auto e = Engine::Open(o);
    ASSERT_TRUE(e.ok()) << e.status();
    engine_ = std::move(*e);
  }

  void Fill(const std::string& queue, int n, const std::string& type = "t") {
    std::vector<EnqueueRequest> batch;
    for (int i = 0; i < n; ++i) {
      batch.push_back({.queue = queue, .job_type = type, .payload = std::to_string(i)});
    }
    ASSERT_TRUE(engine_->EnqueueBatch(std::move(batch)).ok());
  }

  // Waits (up to 20 s) until `done` holds.
  template <typename F>
  bool WaitFor(F done) {
    for (auto end = std::chrono::steady_clock::now() + 20s; std::chrono::steady_clock::now() < end;
         std::this_thread::sleep_for(5ms)) {
      if (done()) return true;
    }
    return done();
  }

  int64_t Completed(const std::string& queue) { return engine_->GetQueue(queue)->completed; }

  ratchet::testing::TempDir dir_{/*in_memory=*/true};
  std::unique_ptr<Engine> engine_;
};

TEST_F(EmbeddedWorkerTest, DrainsAQueueWithBatchedOutcomes) {
  Fill("q", 2000);
  std::atomic<int> ran{0};
  EmbeddedWorker w(engine_.get(), {.queue = "q", .concurrency = 8});
  w.Register("t", [&](EmbeddedJob& job) {
    ++ran;
    return EmbeddedResult::Success("r" + job.payload());
  });
  const uint64_t groups_before = engine_->Stats().commits;
  ASSERT_TRUE(w.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return Completed("q") == 2000; }));
  w.Stop();
  EXPECT_EQ(ran.load(), 2000);
  EmbeddedWorkerStats s = w.stats();
  EXPECT_EQ(s.completed, 2000u);
  EXPECT_EQ(s.failed + s.lease_lost + s.report_errors, 0u);
  // Outcomes are coalesced: far fewer writes than jobs.
  EXPECT_LT(s.flushes, 1000u);
  EXPECT_LT(engine_->Stats().commits - groups_before, 2000u);
  auto listed = engine_->List({.queue = "q", .state = JobState::kCompleted, .limit = 1});
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->jobs.size(), 1u);
  EXPECT_EQ(listed->jobs[0].result, "r" + listed->jobs[0].payload);
}

// Slow jobs (60 ms): at most one finish per handler in any 50 ms, so the
// adaptive prefetch stays at max(prefetch 2, 3 finishes) and the worker
// holds at most 3 + 3.
TEST_F(EmbeddedWorkerTest, NeverHoldsMoreThanConcurrencyPlusPrefetch) {
  Fill("q", 30);
  std::atomic<int> running{0}, most_running{0};
  absl::Mutex mu;
  EmbeddedWorker w(engine_.get(), {.queue = "q", .concurrency = 3, .prefetch = 2});
  w.Register("t", [&](EmbeddedJob&) {
    int now = ++running;
    int seen = most_running.load();
    while (now > seen && !most_running.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(60ms);
    --running;
    return EmbeddedResult::Success();
  });
  ASSERT_TRUE(w.Start().ok());
  uint64_t most_held = 0;
  while (Completed("q") < 30) {
    most_held = std::max(most_held, w.stats().held);
    std::this_thread::sleep_for(100us);
  }
  w.Stop();
  EXPECT_LE(most_running.load(), 3);
  EXPECT_LE(most_held, 6u) << "leased beyond concurrency + prefetch";
  EXPECT_GE(most_held, 4u) << "prefetch should keep jobs ready";
}

TEST_F(EmbeddedWorkerTest, FailuresThrowsAndUnknownTypesFollowTheRetryPath) {
  ASSERT_TRUE(engine_->Enqueue({.queue = "q", .job_type = "bad", .max_attempts = 1}).ok());
  ASSERT_TRUE(engine_->Enqueue({.queue = "q", .job_type = "throws", .max_attempts = 1}).ok());
  ASSERT_TRUE(engine_->Enqueue({.queue = "q", .job_type = "unknown", .max_attempts = 1}).ok());
  ASSERT_TRUE(engine_->Enqueue({.queue = "q", .job_type = "binary", .max_attempts = 3}).ok());
  EmbeddedWorker w(engine_.get(), {.queue = "q", .concurrency = 2});
  w.Register("bad", [](EmbeddedJob&) { return EmbeddedResult::RetryableError("boom"); });
  w.Register("throws", [](EmbeddedJob&) -> EmbeddedResult { throw std::runtime_error("oops"); });
  w.Register("binary", [](EmbeddedJob&) {
    return EmbeddedResult::NonRetryableError(std::string("\xff\xfe not utf-8", 12));
  });
  ASSERT_TRUE(w.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return engine_->GetQueue("q")->dead == 4; }));
  w.Stop();
  EXPECT_EQ(w.stats().failed, 4u);
  EXPECT_EQ(w.stats().report_errors, 0u) << "a non-UTF-8 error must be escaped, not refused";
  auto dead = engine_->List({.queue = "q", .state = JobState::kDead});
  ASSERT_TRUE(dead.ok());
  std::set<std::string> errors;
  for (const Job& j : dead->jobs) errors.insert(j.errors.back().message);
  EXPECT_TRUE(errors.count("boom"));
  EXPECT_TRUE(errors.count("handler threw: oops"));
  EXPECT_TRUE(errors.count("no handler for job type unknown"));
  EXPECT_TRUE(errors.count("\\xff\\xfe not utf-8")) << ::testing::PrintToString(errors);
}

TEST_F(EmbeddedWorkerTest, HeartbeatsKeepALongJobAndReportProgress) {
  ASSERT_TRUE(engine_->Enqueue({.queue = "q", .job_type = "slow"}).ok());
  std::atomic<bool> lost{false};
  EmbeddedWorker w(engine_.get(), {.queue = "q", .concurrency = 1, .visibility_timeout = 300ms});
  w.Register("slow", [&](EmbeddedJob& job) {
    EXPECT_TRUE(job.set_progress(0.5, "half").ok());
    EXPECT_EQ(job.set_progress(2, "").code(), absl::StatusCode::kInvalidArgument);
    std::this_thread::sleep_for(1200ms);  // four lease lengths
    lost = job.lease_lost();
    return EmbeddedResult::Success();
  });
  ASSERT_TRUE(w.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return Completed("q") == 1; }));
  w.Stop();
  EXPECT_FALSE(lost.load());
  EXPECT_EQ(w.stats().completed, 1u);
  EXPECT_EQ(w.stats().lease_lost, 0u);
  auto job = engine_->Get(1);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->attempts, 1) << "the lease never expired";
  EXPECT_EQ(job->progress, 0.5);
  EXPECT_EQ(job->progress_message, "half");
}

TEST_F(EmbeddedWorkerTest, StopEndsAParkedLeaseAtOnceAndRunsWhatWasLeased) {
  EmbeddedWorker idle(engine_.get(), {.queue = "empty", .concurrency = 2});
  ASSERT_TRUE(idle.Start().ok());
  std::this_thread::sleep_for(100ms);  // the long poll is parked
  auto start = std::chrono::steady_clock::now();
  idle.Stop();
  EXPECT_LT(std::chrono::steady_clock::now() - start, 2s) << "waited out the 5 s long poll";

  Fill("q", 20);
  std::atomic<int> ran{0};
  EmbeddedWorker w(engine_.get(), {.queue = "q", .concurrency = 2, .prefetch = 8});
  std::atomic<bool> saw_stop{false};
  w.Register("t", [&](EmbeddedJob& job) {
    ++ran;
    std::this_thread::sleep_for(20ms);
    if (job.should_stop()) saw_stop = true;
    return EmbeddedResult::Success();
  });
  ASSERT_TRUE(w.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return ran.load() >= 2; }));
  w.Stop();
  // Every job leased was run and reported; nothing is left running.
  auto q = engine_->GetQueue("q");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->running, 0);
  EXPECT_EQ(q->completed, ran.load());
  EXPECT_EQ(q->completed + q->available, 20);
  EXPECT_TRUE(saw_stop.load());
}

// A result the engine would refuse on every attempt fails the job for good
// instead of running it again and again.
TEST_F(EmbeddedWorkerTest, AnOversizedResultFailsTheJobForGood) {
  ASSERT_TRUE(engine_->Enqueue({.queue = "q", .job_type = "t", .max_attempts = 5}).ok());
  EmbeddedWorker w(engine_.get(), {.queue = "q", .concurrency = 1});
  const size_t too_long = engine_->options().max_payload_bytes + 1;
  w.Register("t",
             [&](EmbeddedJob&) { return EmbeddedResult::Success(std::string(too_long, 'r')); });
  ASSERT_TRUE(w.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return engine_->GetQueue("q")->dead == 1; }));
  w.Stop();
  EXPECT_EQ(engine_->Get(1)->attempts, 1);
  EXPECT_EQ(w.stats().report_errors, 0u);
}

// Stop from two threads at once, then the destructor: every caller returns
// after the threads are joined, and nothing runs after.
TEST_F(EmbeddedWorkerTest, ConcurrentStopsReturnOnceStopped) {
  Fill("q", 50);
  std::atomic<int> ran{0};
  {
    EmbeddedWorker w(engine_.get(), {.queue = "q", .concurrency = 4});
    w.Register("t", [&](EmbeddedJob&) {
      std::this_thread::sleep_for(5ms);
      ++ran;
      return EmbeddedResult::Success();
    });
    ASSERT_TRUE(w.Start().ok());
    ASSERT_TRUE(WaitFor([&] { return ran.load() > 0; }));
    std::thread other([&] { w.Stop(); });
    w.Stop();
    const int after_stop = ran.load();
    EXPECT_EQ(w.stats().held, 0u);
    other.join();
    EXPECT_EQ(ran.load(), after_stop) << "a handler ran after Stop returned";
  }
  auto q = engine_->GetQueue("q");
  EXPECT_EQ(q->running, 0);
  EXPECT_EQ(q->completed, ran.load());
}

TEST_F(EmbeddedWorkerTest, BadOptionsAreRefusedNamingTheField) {
  EmbeddedWorker no_queue(engine_.get(), {});
  absl::Status s = no_queue.Start();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("queue"), std::string::npos) << s;
  EmbeddedWorker zero(engine_.get(), {.queue = "q", .concurrency = 0});
  s = zero.Start();
  EXPECT_NE(s.message().find("concurrency"), std::string::npos) << s;
  EmbeddedWorker twice(engine_.get(), {.queue = "q"});
  ASSERT_TRUE(twice.Start().ok());
  EXPECT_EQ(twice.Start().code(), absl::StatusCode::kFailedPrecondition);
}

// An embedder may allow leases of centuries (max_visibility_timeout has no
// upper bound). 300 years are more nanoseconds than steady_clock holds:
// added as they were, the lease's end wrapped into the past and the worker
// dropped the job unrun (counted as skipped). Capped (SteadySpan), it runs.
TEST_F(EmbeddedWorkerTest, ACenturiesLongLeaseDoesNotWrapTheSteadyClock) {
  const Millis centuries{300LL * 365 * 24 * 3600 * 1000};
  EngineOptions o;
  o.data_dir = dir_.path() + "/long-leases";
  o.max_visibility_timeout = centuries;
  auto engine = Engine::Open(o);
  ASSERT_TRUE(engine.ok()) << engine.status();
  ASSERT_TRUE((*engine)->Enqueue({.queue = "q", .job_type = "t"}).ok());
  std::atomic<int> ran{0};
  EmbeddedWorker w(engine->get(), {.queue = "q", .visibility_timeout = centuries});
  w.Register("t", [&](EmbeddedJob&) {
    ++ran;
    return EmbeddedResult::Success();
  });
  ASSERT_TRUE(w.Start().ok());
  ASSERT_TRUE(WaitFor([&] { return (*engine)->GetQueue("q")->completed == 1; }))
      << "skipped " << w.stats().skipped;
  w.Stop();
  EXPECT_EQ(ran.load(), 1);
  EXPECT_EQ(w.stats().skipped + w.stats().lease_lost, 0u);
}

}  // namespace
}  // namespace ratchet
