// Long-poll Lease: a lease with `wait` parks on the engine and is answered
// when a job becomes available or when the wait ends.
#include <gtest/gtest.h>

#include <future>

#include "engine_harness.h"
#include "ratchet/engine/engine.h"

namespace ratchet {
namespace {

using testing::EngineHarness;
using LeaseResult = absl::StatusOr<std::vector<LeasedJob>>;

std::future<LeaseResult> LeaseAsync(EngineHarness& h, Millis wait, const std::string& worker,
                                    const std::string& queue = "q",
                                    std::shared_ptr<std::atomic<bool>> abandoned = nullptr) {
  auto promise = std::make_shared<std::promise<LeaseResult>>();
  auto future = promise->get_future();
  LeaseRequest req{queue, 1, Millis(30000), worker};
  req.wait = wait;
  req.abandoned = std::move(abandoned);
  h->LeaseAsync(req, [promise](LeaseResult r) { promise->set_value(std::move(r)); });
  return future;
}

bool Ready(std::future<LeaseResult>& f) {
  return f.wait_for(std::chrono::milliseconds(200)) == std::future_status::ready;
}

TEST(LongPollTest, WaitingLeaseIsAnsweredByTheNextEnqueue) {
  EngineHarness h;
  auto waiting = LeaseAsync(h, Millis(10000), "w1");
  EXPECT_FALSE(Ready(waiting)) << "returned before any job existed";
  JobId id = h.Enqueue("q");
  ASSERT_TRUE(Ready(waiting));
  auto r = waiting.get();
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].id, id);
  EXPECT_EQ(h->Get(id)->worker_id, "w1");
}

TEST(LongPollTest, WaitEndsEmptyAtItsDeadline) {
  EngineHarness h;
  auto waiting = LeaseAsync(h, Millis(5000), "w1");
  EXPECT_FALSE(Ready(waiting));
  h.clock().Advance(Millis(5000));
  ASSERT_TRUE(h->RunMaintenance().ok());
  ASSERT_TRUE(Ready(waiting));
  auto r = waiting.get();
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

TEST(LongPollTest, ScheduledJobBecomingDueWakesTheWaiter) {
  EngineHarness h;
  EnqueueRequest req{"q", "t", "later", ""};
  req.delay = Millis(2000);
  JobId id = h->Enqueue(req)->id;
  auto waiting = LeaseAsync(h, Millis(10000), "w1");
  EXPECT_FALSE(Ready(waiting));
  h.clock().Advance(Millis(2000));
  ASSERT_TRUE(h->RunMaintenance().ok());
  ASSERT_TRUE(Ready(waiting));
  EXPECT_EQ(waiting.get()->at(0).id, id);
}

TEST(LongPollTest, WaitersAreServedInArrivalOrderWithinTheConcurrencyLimit) {
  EngineHarness h;
  QueueSettings s;
  s.concurrency_limit = 1;
  ASSERT_TRUE(h->UpdateQueue("q", s).ok());
  auto first = LeaseAsync(h, Millis(10000), "first");
  auto second = LeaseAsync(h, Millis(10000), "second");
  h.Enqueue("q");
  h.Enqueue("q");
  ASSERT_TRUE(Ready(first));
  auto job = first.get()->at(0);
  EXPECT_FALSE(Ready(second)) << "served beyond the concurrency limit";
  ASSERT_TRUE(h->Complete({job.id, job.token, "", {}}).ok());
  ASSERT_TRUE(Ready(second)) << "completion freed a slot but the waiter was not woken";
  EXPECT_EQ(second.get()->size(), 1u);
}

TEST(LongPollTest, ResumeWakesWaitersOfAPausedQueue) {
  EngineHarness h;
  ASSERT_TRUE(h->PauseQueue("q").ok());
  h.Enqueue("q");
  auto waiting = LeaseAsync(h, Millis(10000), "w1");
  EXPECT_FALSE(Ready(waiting));
  ASSERT_TRUE(h->ResumeQueue("q").ok());
  ASSERT_TRUE(Ready(waiting));
  EXPECT_EQ(waiting.get()->size(), 1u);
}

TEST(LongPollTest, ClosingTheEngineAnswersWaitersWithEngineClosed) {
  EngineHarness h;
  auto waiting = LeaseAsync(h, Millis(10000), "w1");
  EXPECT_FALSE(Ready(waiting));
  h.Close();
  ASSERT_TRUE(Ready(waiting));
  EXPECT_EQ(ReasonOf(waiting.get().status()), kReasonEngineClosed);
}

TEST(LongPollTest, AbandonedWaiterGetsNoJob) {
  EngineHarness h;
  auto abandoned = std::make_shared<std::atomic<bool>>(false);
  auto gone = LeaseAsync(h, Millis(10000), "gone", "q", abandoned);
  auto present = LeaseAsync(h, Millis(10000), "present");
  abandoned->store(true);  // the first caller's RPC was cancelled
  JobId id = h.Enqueue("q");
  ASSERT_TRUE(Ready(gone));
  EXPECT_TRUE(gone.get()->empty()) << "a job was leased to a caller that left";
  ASSERT_TRUE(Ready(present));
  EXPECT_EQ(present.get()->at(0).id, id);
}

// Regression (issue 11): every group walked every parked lease (to serve,
// to end, and for the next timer), so 4,000 parked polls made each group of
// an unrelated queue examine them all. Work now follows the queues that
// change, plus a bounded sweep for departed callers.
TEST(LongPollTest, ParkedLeasesCostNothingPerGroupOfAnotherQueue) {
  EngineHarness h;
  std::vector<std::future<LeaseResult>> parked;
  constexpr int kEach = 2000;
  for (int i = 0; i < kEach; ++i) {
    parked.push_back(LeaseAsync(h, Millis(60000), "w", "idle-" + std::to_string(i)));
    parked.push_back(LeaseAsync(h, Millis(60000), "w", "crowded"));
  }
  ASSERT_TRUE(h->UpdateQueue("busy", QueueSettings{}).ok());  // after every Lease: all parked
  const uint64_t before = h->Stats().parked_lease_checks;
  constexpr int kRounds = 40;
  for (int i = 0; i < kRounds; ++i) {
    h.Enqueue("busy");
    LeasedJob job = h.LeaseOne("busy");
    ASSERT_TRUE(h->Complete({job.id, job.token, "", {}}).ok());
  }
  const uint64_t checks = h->Stats().parked_lease_checks - before;
  // Three operations a round; old code: at least 2 x 4,000 per group.
  EXPECT_LE(checks, 3u * kRounds * 64) << "parked leases examined per group of another queue";
  for (auto& f : parked)
    EXPECT_FALSE(f.wait_for(std::chrono::seconds(0)) == std::future_status::ready);
}

TEST(LongPollTest, RaisingTheConcurrencyLimitWakesWaiters) {
  EngineHarness h;
  QueueSettings s;
  s.concurrency_limit = 1;
  ASSERT_TRUE(h->UpdateQueue("q", s).ok());
  h.Enqueue("q");
  h.Enqueue("q");
  h.LeaseOne("q");
  auto waiting = LeaseAsync(h, Millis(10000), "w1");
  EXPECT_FALSE(Ready(waiting));
  s.concurrency_limit = 2;
  ASSERT_TRUE(h->UpdateQueue("q", s).ok());
  ASSERT_TRUE(Ready(waiting)) << "a raised limit did not wake the waiter";
  EXPECT_EQ(waiting.get()->size(), 1u);
}

TEST(LongPollTest, RedriveWakesTheWaiter) {
  EngineHarness h;
  EnqueueRequest e{"q", "t", "p", ""};
  JobId id = h->Enqueue(e)->id;
  LeasedJob job = h.LeaseOne("q");
  ASSERT_EQ(h->Fail({id, job.token, "fatal", false})->state, JobState::kDead);
  auto waiting = LeaseAsync(h, Millis(10000), "w1");
  EXPECT_FALSE(Ready(waiting));
  RedriveRequest redrive;
  redrive.filter.queue = "q";
  ASSERT_EQ(h->Redrive(redrive)->count, 1);
  ASSERT_TRUE(Ready(waiting));
  EXPECT_EQ(waiting.get()->at(0).id, id);
}

TEST(LongPollTest, AbandonedWaiterEndsWithoutActivityOnItsQueue) {
  EngineHarness h;
  auto abandoned = std::make_shared<std::atomic<bool>>(false);
  auto gone = LeaseAsync(h, Millis(10000), "gone", "q", abandoned);
  auto other = LeaseAsync(h, Millis(10000), "w", "other");
  abandoned->store(true);
  ASSERT_TRUE(h->RunMaintenance().ok());
  ASSERT_TRUE(Ready(gone)) << "a departed caller's wait was kept";
  EXPECT_TRUE(gone.get()->empty());
  EXPECT_FALSE(Ready(other));
}

TEST(LongPollTest, WaitOverTheLimitIsRejected) {
  EngineHarness h;
  LeaseRequest req{"q", 1, std::nullopt, "w"};
  req.wait = h.options().max_lease_wait + Millis(1);
  auto r = h->Lease(req);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("wait"), absl::string_view::npos);
}

}  // namespace
}  // namespace ratchet
