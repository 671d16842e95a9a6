// Engine::ListWorkers (worker_tracker.h): the workers seen recently, their
// queues and the jobs they hold.
#include <gtest/gtest.h>

#include "engine_harness.h"
#include "ratchet/engine/engine.h"

namespace ratchet::testing {
namespace {

std::vector<LeasedJob> LeaseAs(EngineHarness& h, const std::string& queue,
                               const std::string& worker, int n = 1) {
  auto r = h->Lease(LeaseRequest{queue, n, Millis(30000), worker});
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : std::vector<LeasedJob>{};
}

TEST(WorkerTrackerTest, ListsWorkersTheirQueuesAndTheJobsTheyHold) {
  EngineHarness h;
  h.Enqueue("a");
  h.Enqueue("a");
  h.Enqueue("b");
  auto w1 = LeaseAs(h, "a", "w1", 2);
  h.clock().Advance(Millis(10));
  auto w2 = LeaseAs(h, "b", "w2");
  ASSERT_EQ(w1.size(), 2u);
  ASSERT_EQ(w2.size(), 1u);
  auto workers = h->ListWorkers();
  ASSERT_EQ(workers.size(), 2u);
  EXPECT_EQ(workers[0].worker_id, "w2");  // most recently seen first
  EXPECT_EQ(workers[1].worker_id, "w1");
  EXPECT_EQ(workers[1].queues, std::vector<std::string>{"a"});
  EXPECT_EQ(workers[1].jobs_held, 2);
  EXPECT_EQ(workers[1].job_ids.size(), 2u);

  // A completion and a failure release jobs; a heartbeat refreshes last_seen.
  ASSERT_TRUE(h->Complete({w1[0].id, w1[0].token, "", {}}).ok());
  h.clock().Advance(Millis(10));
  ASSERT_TRUE(h->Heartbeat({w1[1].id, w1[1].token}).ok());
  ASSERT_TRUE(h->Fail({w2[0].id, w2[0].token, "x", false}).ok());
  workers = h->ListWorkers();
  ASSERT_EQ(workers.size(), 2u);
  EXPECT_EQ(workers[0].worker_id, "w1");
  EXPECT_EQ(workers[0].jobs_held, 1);
  EXPECT_EQ(workers[0].job_ids, std::vector<uint64_t>{w1[1].id});
  EXPECT_EQ(workers[1].jobs_held, 0);
  EXPECT_EQ(workers[0].last_seen, h.clock().Now());
}

TEST(WorkerTrackerTest, ExpiredLeasesAreNotHeldAndIdleWorkersAreForgotten) {
  EngineHarness h;
  h.Enqueue("a");
  auto r = h->Lease(LeaseRequest{"a", 1, Millis(1000), "w1"});
  ASSERT_TRUE(r.ok() && r->size() == 1);
  h.clock().Advance(Millis(2000));
  auto workers = h->ListWorkers();
  ASSERT_EQ(workers.size(), 1u);
  EXPECT_EQ(workers[0].jobs_held, 0) << "a lease past its deadline is not held";
  h.clock().Advance(kWorkerForgetAfter);
  EXPECT_TRUE(h->ListWorkers().empty());
  // Leases without a worker id are not tracked; max bounds the answer.
  h.Enqueue("a");
  h.Enqueue("a");
  LeaseAs(h, "a", "");
  LeaseAs(h, "a", "w2");
  EXPECT_EQ(h->ListWorkers().size(), 1u);
  EXPECT_EQ(h->ListWorkers(0).size(), 1u);
}

TEST(WorkerTrackerTest, AJobReleasedToAnotherWorkerLeavesTheFirst) {
  EngineHarness h;
  h.Enqueue("a");
  auto r = h->Lease(LeaseRequest{"a", 1, Millis(1000), "w1"});
  ASSERT_TRUE(r.ok() && r->size() == 1);
  h.clock().Advance(Millis(1500));
  ASSERT_TRUE(h->RunMaintenance().ok());  // the lease expires; the job retries later
  h.clock().Advance(Millis(600000));      // past any retry backoff
  ASSERT_TRUE(h->RunMaintenance().ok());
  auto again = LeaseAs(h, "a", "w2");
  ASSERT_EQ(again.size(), 1u);
  for (const WorkerInfo& w : h->ListWorkers()) {
    EXPECT_EQ(w.jobs_held, w.worker_id == "w2" ? 1 : 0) << w.worker_id;
  }
}

// A repeated Fail, acknowledged after the job was leased again, does not
// take the job from its new holder; a Lease that finds nothing still names
// its queue.
TEST(WorkerTrackerTest, ARepeatedFailKeepsTheNewHolderAndEmptyLeasesNameTheirQueue) {
  EngineHarness h;
  JobId id = h.Enqueue("a");
  auto first = LeaseAs(h, "a", "w1");
  ASSERT_EQ(first.size(), 1u);
  FailRequest fail{id, first[0].token, "x", true};
  ASSERT_TRUE(h->Fail(fail).ok());
  h.clock().Advance(Millis(600000));
  ASSERT_TRUE(h->RunMaintenance().ok());
  auto second = LeaseAs(h, "a", "w2");
  ASSERT_EQ(second.size(), 1u);
  ASSERT_TRUE(h->Fail(fail).ok()) << "a repeat answers the first outcome";
  for (const WorkerInfo& w : h->ListWorkers()) {
    EXPECT_EQ(w.jobs_held, w.worker_id == "w2" ? 1 : 0) << w.worker_id;
  }
  LeaseAs(h, "empty", "idle");
  auto workers = h->ListWorkers();
  ASSERT_FALSE(workers.empty());
  EXPECT_EQ(workers[0].worker_id, "idle");
  EXPECT_EQ(workers[0].queues, std::vector<std::string>{"empty"});
}

}  // namespace
}  // namespace ratchet::testing
