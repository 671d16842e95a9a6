#include "lease_waiters.h"

#include <gtest/gtest.h>

#include <atomic>
#include <memory>

namespace ratchet::internal {
namespace {

TimePoint At(int64_t ms) { return FromUnixMs(ms); }

LeaseWaiters::Waiter Waiting(const std::string& queue, int64_t deadline_ms,
                             std::string worker = "w",
                             std::shared_ptr<std::atomic<bool>> abandoned = nullptr) {
  LeaseRequest req{queue, 1, std::nullopt, std::move(worker)};
  req.abandoned = std::move(abandoned);
  return {std::move(req), At(deadline_ms), [](absl::StatusOr<std::vector<LeasedJob>>) {}};
}

TEST(LeaseWaitersTest, EachQueueIsServedInArrivalOrder) {
  LeaseWaiters w;
  w.Park(Waiting("a", 100, "a1"));
  w.Park(Waiting("b", 100, "b1"));
  w.Park(Waiting("a", 50, "a2"));
  EXPECT_EQ(w.Front("a")->req.worker_id, "a1");
  EXPECT_EQ(w.PopFront("a").req.worker_id, "a1");
  EXPECT_EQ(w.PopFront("a").req.worker_id, "a2");
  EXPECT_FALSE(w.HasWaiters("a"));
  EXPECT_EQ(w.Front("a"), nullptr);
  EXPECT_EQ(w.size(), 1u);
}

TEST(LeaseWaitersTest, WaitsEndByDeadlineWhateverTheQueue) {
  LeaseWaiters w;
  w.Park(Waiting("a", 300, "late"));
  w.Park(Waiting("b", 100, "early"));
  w.Park(Waiting("a", 200, "middle"));
  EXPECT_EQ(w.NextDeadline(), At(100));
  auto over = w.TakeExpired(At(200));
  ASSERT_EQ(over.size(), 2u);
  EXPECT_EQ(over[0].req.worker_id, "early");
  EXPECT_EQ(over[1].req.worker_id, "middle");
  EXPECT_EQ(w.Front("a")->req.worker_id, "late");
  EXPECT_FALSE(w.HasWaiters("b"));
  EXPECT_EQ(w.NextDeadline(), At(300));
}

TEST(LeaseWaitersTest, TheSweepChecksABoundedNumberRoundRobin) {
  LeaseWaiters w;
  auto gone = std::make_shared<std::atomic<bool>>(true);
  for (int i = 0; i < 10; ++i) w.Park(Waiting("q" + std::to_string(i), 100, "w", nullptr));
  w.Park(Waiting("q0", 100, "gone", gone));  // the 11th to arrive
  const uint64_t before = w.checks();
  EXPECT_TRUE(w.TakeAbandoned(4).empty());  // 1..4
  EXPECT_TRUE(w.TakeAbandoned(4).empty());  // 5..8
  EXPECT_EQ(w.checks() - before, 8u);
  auto found = w.TakeAbandoned(4);  // 9, 10, 11, then 1 (wraps)
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].req.worker_id, "gone");
  EXPECT_EQ(w.size(), 10u);
  EXPECT_TRUE(w.TakeAbandoned(100).empty()) << "each checked at most once per sweep";
}

TEST(LeaseWaitersTest, DueQueuesAreTakenOnceInTimeOrder) {
  LeaseWaiters w;
  w.Park(Waiting("a", 1000));
  w.Park(Waiting("b", 1000));
  w.SetDueAt("a", 300);
  w.SetDueAt("b", 200);
  w.SetDueAt("none", 100);  // no waiters: ignored
  EXPECT_EQ(w.NextDue(), 200);
  EXPECT_EQ(w.TakeDue(250), (std::vector<std::string>{"b"}));
  EXPECT_TRUE(w.TakeDue(250).empty());
  w.SetDueAt("a", 150);  // an earlier job replaces the entry
  EXPECT_EQ(w.TakeDue(150), (std::vector<std::string>{"a"}));
  w.SetDueAt("b", 400);
  w.PopFront("b");  // the last waiter leaves: its due time goes too
  EXPECT_FALSE(w.NextDue().has_value());
}

}  // namespace
}  // namespace ratchet::internal
