#include <gtest/gtest.h>

#include "engine_harness.h"
#include "ratchet/engine/engine.h"

namespace ratchet {
namespace {

using testing::EngineHarness;

TEST(RetentionTest, SweeperPrunesCompletedJobsAfterRetentionOnly) {
  EngineHarness h;
  QueueSettings s;
  s.completed_retention = Millis(60000);
  ASSERT_TRUE(h->UpdateQueue("q", s).ok());
  JobId id = h.Enqueue("q", "p", "key");
  LeasedJob job = h.LeaseOne("q");
  ASSERT_TRUE(h->Complete({id, job.token, "", {}}).ok());
  h.clock().Advance(Millis(59000));
  ASSERT_TRUE(h->RunMaintenance().ok());
  EXPECT_TRUE(h->Get(id).ok()) << "pruned before retention";
  h.clock().Advance(Millis(2000));
  ASSERT_TRUE(h->RunMaintenance().ok());
  EXPECT_EQ(h->Get(id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(h->List({"q", JobState::kCompleted, 10, ""})->jobs.empty());
  EXPECT_EQ(h->GetQueue("q")->completed, 0) << "sweeper did not update the count";
  // The idempotency key outlives the job for its own window.
  EnqueueRequest r{"q", "test", "p", "key"};
  auto dup = h->Enqueue(r);
  EXPECT_TRUE(dup->duplicate);
  EXPECT_EQ(dup->id, id);
}

TEST(RetentionTest, SweeperPrunesExpiredIdempotencyKeys) {
  EngineHarness h;
  JobId first = h.Enqueue("q", "p", "key");
  h.clock().Advance(h.options().idempotency_window + Millis(1));
  ASSERT_TRUE(h->RunMaintenance().ok());
  JobId second = h.Enqueue("q", "other payload", "key");
  EXPECT_NE(first, second) << "expired key still bound";
}

TEST(RetentionTest, SweeperDeletesInBoundedBatches) {
  EngineHarness h;
  h.options().sweep_batch_keys = 4;  // two jobs (record + index) per pass
  h.Reopen();
  QueueSettings s;
  s.completed_retention = Millis(1000);
  ASSERT_TRUE(h->UpdateQueue("q", s).ok());
  for (int i = 0; i < 6; ++i) {
    JobId id = h.Enqueue("q");
    LeasedJob job = h.LeaseOne("q");
    ASSERT_TRUE(h->Complete({id, job.token, "", {}}).ok());
  }
  h.clock().Advance(Millis(5000));
  ASSERT_TRUE(h->RunMaintenance().ok());
  auto left = h->List({"q", JobState::kCompleted, 100, ""});
  EXPECT_GE(left->jobs.size(), 2u) << "one pass deleted more than its budget";
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(h->RunMaintenance().ok());
  EXPECT_TRUE(h->List({"q", JobState::kCompleted, 100, ""})->jobs.empty());
}

TEST(RetentionTest, DeadJobsFollowTheirOwnRetention) {
  EngineHarness h;
  QueueSettings s;
  s.completed_retention = Millis(1000);
  s.dead_retention = Millis(100000);
  ASSERT_TRUE(h->UpdateQueue("q", s).ok());
  JobId id = h.Enqueue("q");
  LeasedJob job = h.LeaseOne("q");
  ASSERT_TRUE(h->Fail({id, job.token, "x", false}).ok());
  h.clock().Advance(Millis(50000));
  ASSERT_TRUE(h->RunMaintenance().ok());
  EXPECT_TRUE(h->Get(id).ok());
  h.clock().Advance(Millis(60000));
  ASSERT_TRUE(h->RunMaintenance().ok());
  EXPECT_EQ(h->Get(id).status().code(), absl::StatusCode::kNotFound);
}

TEST(RetentionTest, QueueSettingsArePersistedAndValidated) {
  EngineHarness h;
  QueueSettings s;
  s.concurrency_limit = 7;
  s.max_attempts = 3;
  ASSERT_TRUE(h->UpdateQueue("q", s).ok());
  h.Reopen();
  auto q = h->GetQueue("q");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->settings.concurrency_limit, 7);
  EXPECT_EQ(q->settings.max_attempts, 3);
  s.max_attempts = 0;
  auto bad = h->UpdateQueue("q", s);
  EXPECT_EQ(bad.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(bad.message().find("max_attempts"), absl::string_view::npos);
  EXPECT_EQ(h->GetQueue("q")->settings.max_attempts, 3);
  EXPECT_EQ(h->GetQueue("nope").status().code(), absl::StatusCode::kNotFound);
}

}  // namespace
}  // namespace ratchet
