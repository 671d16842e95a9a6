#include "indexes.h"

#include <gtest/gtest.h>

namespace ratchet::internal {
namespace {

TEST(IndexesTest, PromoteDueMovesOnlyJobsWhoseRunAtHasPassed) {
  Indexes idx;
  QueueState* q = idx.AddQueue("q", QueueSettings{});
  idx.AddWaiting(1, q, 5, 100);
  idx.AddWaiting(2, q, 1, 300);
  idx.PromoteDue(q, 200);
  ASSERT_EQ(q->ready.size(), 1u);
  EXPECT_EQ(q->ready.begin()->id, 1u);
  EXPECT_EQ(q->scheduled.size(), 1u);
  idx.PromoteDue(q, 300);
  // Priority 1 now leads although it became available later.
  EXPECT_EQ(q->ready.begin()->id, 2u);
}

TEST(IndexesTest, QueuesThatMayBecomeLeasableAreListedOnceEach) {
  Indexes idx;
  QueueState* a = idx.AddQueue("a", QueueSettings{});
  QueueState* b = idx.AddQueue("b", QueueSettings{});
  QueueState* c = idx.AddQueue("c", QueueSettings{});
  idx.AddWaiting(1, b, 0, 100);  // a job added
  idx.AddWaiting(2, a, 0, 0);
  idx.AddWaiting(3, a, 0, 0);
  EXPECT_EQ(idx.TakeChanged(), (std::vector<QueueState*>{b, a}));
  EXPECT_TRUE(idx.TakeChanged().empty());
  idx.PromoteDue(a, 0);
  idx.StartLease(2, 1000, 7);  // a lease makes nothing leasable
  idx.PromoteDue(c, 0);        // nothing to promote
  idx.Remove(1);               // a waiting job leaves: no slot freed
  EXPECT_EQ(idx.TakeChanged(), (std::vector<QueueState*>{a}));
  idx.Remove(2);  // a running job leaves: a slot
  idx.PromoteDue(b, 0);
  idx.MarkChanged(c);  // settings
  EXPECT_EQ(idx.TakeChanged(), (std::vector<QueueState*>{a, c}));
}

TEST(IndexesTest, RemoveForgetsAJobInEveryLiveState) {
  Indexes idx;
  QueueState* q = idx.AddQueue("q", QueueSettings{});
  idx.AddWaiting(1, q, 0, 100);  // stays scheduled
  idx.AddWaiting(2, q, 0, 0);    // promoted to ready
  idx.AddWaiting(3, q, 0, 0);    // leased
  idx.PromoteDue(q, 50);
  idx.StartLease(3, 1000, 7);
  idx.Remove(1);
  idx.Remove(2);
  idx.Remove(3);
  EXPECT_TRUE(q->scheduled.empty());
  EXPECT_TRUE(q->ready.empty());
  EXPECT_TRUE(q->running.empty());
  EXPECT_FALSE(idx.NextDeadline().has_value());
  EXPECT_EQ(idx.live_jobs(), 0u);
}

TEST(IndexesTest, LeasesExpireInDeadlineOrderAndExtendMovesThem) {
  Indexes idx;
  QueueState* q = idx.AddQueue("q", QueueSettings{});
  idx.AddRunning(1, q, 0, 500, 1, false);
  idx.AddRunning(2, q, 0, 400, 2, false);
  EXPECT_EQ(idx.FirstExpired(450), std::optional<JobId>(2));
  idx.ExtendLease(2, 900);
  EXPECT_EQ(idx.FirstExpired(450), std::nullopt);
  EXPECT_EQ(idx.FirstExpired(500), std::optional<JobId>(1));
  EXPECT_EQ(idx.NextDeadline(), std::optional<int64_t>(500));
  EXPECT_EQ(idx.Find(2)->time_ms, 900);
}

}  // namespace
}  // namespace ratchet::internal
