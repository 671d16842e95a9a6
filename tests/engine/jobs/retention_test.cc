#include "retention.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "engine_harness.h"
#include "job_store.h"
#include "ratchet/engine/engine.h"
#include "ratchet/storage/keys.h"
#include "ratchet/storage/store.h"
#include "schema.h"

namespace ratchet {
namespace {

using testing::EngineHarness;

// Enqueues, leases and completes (or fails for good, if `dead`) n jobs in
// `queue`, in batches.
void FinishJobs(EngineHarness& h, const std::string& queue, int n, bool dead = false) {
  while (n > 0) {
    const int batch = std::min(n, 100);
    std::vector<EnqueueRequest> reqs(batch, EnqueueRequest{queue, "t", "p", ""});
    for (auto& r : reqs) r.max_attempts = 1;
    ASSERT_TRUE(h->EnqueueBatch(reqs).ok());
    auto leased = h->Lease({.queue = queue, .max_jobs = batch});
    ASSERT_TRUE(leased.ok()) << leased.status();
    ASSERT_EQ(static_cast<int>(leased->size()), batch);
    for (const LeasedJob& j : *leased) {
      if (dead) {
        ASSERT_TRUE(h->Fail({j.id, j.token, "x", false}).ok());
      } else {
        ASSERT_TRUE(h->Complete({j.id, j.token, "", {}}).ok());
      }
    }
    n -= batch;
  }
}

// Polls (real time) until `done` holds or 10 s pass.
bool Eventually(const std::function<bool()>& done) {
  for (int i = 0; i < 1000; ++i) {
    if (done()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return done();
}

QueueSettings ShortRetention() {
  QueueSettings s;
  s.completed_retention = Millis(1000);
  s.dead_retention = Millis(1000);
  return s;
}

// One pass shares its budget across every due queue: four hot queues with
// 300 expired jobs each all lose the same slice in one pass (the old sweeper
// walked the queues in order and the first one took the whole budget). The
// pass is run directly on the store, so no background pass interferes.
TEST(RetentionTest, OnePassSharesItsBudgetAcrossDueQueues) {
  EngineHarness h;
  for (std::string q : {"a", "b", "c", "d"}) {
    ASSERT_TRUE(h->UpdateQueue(q, ShortRetention()).ok());
    FinishJobs(h, q, 300);
  }
  h.Close();
  auto store = storage::Store::Open({.path = h.options().data_dir});
  ASSERT_TRUE(store.ok()) << store.status();
  internal::JobStore jobs(store->get(), h.options());
  ASSERT_TRUE(jobs.Recover().ok());
  internal::JobRetention retention(&jobs);
  storage::Batch batch(store->get());
  auto deleted = retention.Sweep(batch, h.clock().Now() + Millis(2000), 200);
  ASSERT_TRUE(deleted.ok()) << deleted.status();
  EXPECT_LE(*deleted, 200 + internal::kMinSliceKeys);
  for (std::string q : {"a", "b", "c", "d"}) {
    // 200 keys / 4 queues = 50 keys = 16 jobs each (3 keys a job: its index
    // entry, state record and payload record).
    EXPECT_EQ(jobs.indexes().FindQueue(q)->completed, 300 - 16) << q;
  }
  EXPECT_EQ(retention.queues_visited(), 4u);
}

// A backlog drains by itself, pass after pass, without waiting for the
// sweep interval (today: one pass per sweep_interval, so a queue finishing
// faster than that grew without bound).
TEST(RetentionTest, BacklogDrainsWithoutWaitingForTheSweepInterval) {
  EngineHarness h;
  h.options().sweep_batch_keys = 100;
  h.options().sweep_interval = Millis(3600000);
  h.Reopen();
  ASSERT_TRUE(h->UpdateQueue("q", ShortRetention()).ok());
  FinishJobs(h, "q", 1000);
  h.clock().Advance(Millis(2000));
  EXPECT_TRUE(Eventually([&] { return h->GetQueue("q")->completed == 0; }))
      << h->GetQueue("q")->completed << " left";
  EXPECT_GE(h->Stats().sweeper_passes, 20u);
  EXPECT_LE(h->Stats().sweeper_largest_pass_keys, 100u + 16u);
  EXPECT_TRUE(h->List({"q", JobState::kCompleted, 10, ""})->jobs.empty());
}

// A backward clock step does not stop retention (today it stopped for the
// length of the step: the cutoff moved back with the clock). The sweeper's
// time keeps moving with steady time while the clock is behind.
TEST(RetentionTest, BackwardClockStepDoesNotStopSweeping) {
  EngineHarness h;
  h.options().sweep_interval = Millis(3600000);
  h.Reopen();
  ASSERT_TRUE(h->UpdateQueue("q", ShortRetention()).ok());
  FinishJobs(h, "q", 10);
  h.clock().Advance(Millis(500));
  ASSERT_TRUE(h->RunMaintenance().ok());  // the sweeper has seen this time
  h.clock().Advance(Millis(-3600000));    // one hour back
  ASSERT_TRUE(h->RunMaintenance().ok());
  EXPECT_EQ(h->GetQueue("q")->completed, 10) << "deleted before its retention";
  // Half a second later in steady time the jobs' retention has passed,
  // while the clock is still an hour behind.
  EXPECT_TRUE(Eventually([&] { return h->GetQueue("q")->completed == 0; }))
      << h->GetQueue("q")->completed;
}

// Jobs that finish while the clock is behind carry finish times before what
// the sweeper has already swept; they are still swept (the sweep's cursor
// moves back for them, sweep_cursor.h).
TEST(RetentionTest, JobsFinishedWhileTheClockIsBehindAreStillSwept) {
  EngineHarness h;
  h.options().sweep_interval = Millis(3600000);
  h.Reopen();
  ASSERT_TRUE(h->UpdateQueue("q", ShortRetention()).ok());
  FinishJobs(h, "q", 5);
  h.clock().Advance(Millis(2000));
  ASSERT_TRUE(h->RunMaintenance().ok());
  ASSERT_EQ(h->GetQueue("q")->completed, 0);
  h.clock().Advance(Millis(-3600000));  // one hour back
  FinishJobs(h, "q", 5);
  EXPECT_TRUE(Eventually([&] {
    EXPECT_TRUE(h->RunMaintenance().ok());
    return h->GetQueue("q")->completed == 0;
  })) << h->GetQueue("q")->completed
      << " jobs finished behind the sweep are never swept";
}

// The same for idempotency keys: a key written while the clock is behind
// by more than the window expires before what the sweeper has swept, and is
// still swept once the clock reaches its expiry.
TEST(RetentionTest, IdempotencyKeysWrittenWhileTheClockIsBehindAreStillSwept) {
  EngineHarness h;
  const Millis window = h.options().idempotency_window;
  h.Enqueue("q", "p", "first");
  h.clock().Advance(window + Millis(1));
  ASSERT_TRUE(h->RunMaintenance().ok());  // "first" swept
  h.clock().Advance(-2 * window);
  h.Enqueue("q", "p", "second");  // expires before the sweep's position
  h.clock().Advance(2 * window);
  ASSERT_TRUE(h->RunMaintenance().ok());
  ASSERT_TRUE(h->RunMaintenance().ok());
  h.Close();
  int keys = 0;
  {
    auto store = storage::Store::Open({.path = h.options().data_dir});
    ASSERT_TRUE(store.ok()) << store.status();
    ASSERT_TRUE((*store)
                    ->ForEach(storage::Cf::kIdempotency, "", "\xff",
                              [&](std::string_view, std::string_view) { return ++keys, true; })
                    .ok());
  }
  EXPECT_EQ(keys, 0) << "an idempotency key behind the sweep is never swept";
}

// The clock going back and then forward again does not leave the sweeper
// ahead of it: an idempotency key is kept for its whole window.
TEST(RetentionTest, ClockStepBackAndForwardDeletesNothingEarly) {
  EngineHarness h;
  h.Reopen();
  ASSERT_TRUE(h->UpdateQueue("q", ShortRetention()).ok());
  h.clock().Advance(Millis(-3600000));
  ASSERT_TRUE(h->RunMaintenance().ok());
  h.clock().Advance(Millis(3600000));  // corrected
  ASSERT_TRUE(h->RunMaintenance().ok());
  JobId first = h.Enqueue("q", "p", "key");
  FinishJobs(h, "q", 3);
  h.clock().Advance(h.options().idempotency_window - Millis(1000));
  ASSERT_TRUE(h->RunMaintenance().ok());
  auto again = h->Enqueue({"q", "test", "p", "key"});
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->duplicate) << "the key expired early";
  EXPECT_EQ(again->id, first);
}

// Queues with nothing to delete cost the sweeper nothing: 3,000 idle queues
// are never visited (today every pass walked every queue).
TEST(RetentionTest, IdleQueuesAreNotVisited) {
  EngineHarness h;
  for (int i = 0; i < 3000; ++i) {
    ASSERT_TRUE(h->UpdateQueue("idle" + std::to_string(i), ShortRetention()).ok());
  }
  ASSERT_TRUE(h->UpdateQueue("busy", ShortRetention()).ok());
  FinishJobs(h, "busy", 3);
  h.clock().Advance(Millis(2000));
  uint64_t before = h->Stats().sweeper_queues_visited;
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(h->RunMaintenance().ok());
  EXPECT_EQ(h->GetQueue("busy")->completed, 0);
  EXPECT_LE(h->Stats().sweeper_queues_visited - before, 2u);
}

// Finished counts are stored, not counted at open, and they stay right
// through retention, redrive, purge and reopen.
TEST(RetentionTest, FinishedCountsSurviveReopen) {
  EngineHarness h;
  QueueSettings s = ShortRetention();
  s.dead_retention = Millis(3600000);
  ASSERT_TRUE(h->UpdateQueue("q", s).ok());
  FinishJobs(h, "q", 3);  // swept below
  h.clock().Advance(Millis(2000));
  ASSERT_TRUE(h->RunMaintenance().ok());
  ASSERT_TRUE(Eventually([&] { return h->GetQueue("q")->completed == 0; }));
  FinishJobs(h, "q", 7);
  FinishJobs(h, "q", 4, /*dead=*/true);
  ASSERT_TRUE(h->Redrive({.filter = {.queue = "q", .limit = 1}}).ok());
  ASSERT_TRUE(h->Purge({.queue = "q", .limit = 1}).ok());
  h.Reopen();
  auto q = h->GetQueue("q");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->completed, 7) << "the swept jobs were counted again at reopen";
  EXPECT_EQ(q->dead, 2);
  EXPECT_EQ(q->available, 1);
}

// A finish time at the end of int64's range in an index key (corruption, or
// a key written by hand) is "not due yet": the due time is clamped, not
// wrapped around into the past (the recovery fuzzer found the signed
// overflow), so the queue is not swept on every pass and nothing is deleted.
TEST(RetentionTest, FinishTimeAtTheEndOfTheRangeIsNotDue) {
  EngineHarness h;
  FinishJobs(h, "q", 1);
  const JobId id = h->List({"q", JobState::kCompleted, 10, ""})->jobs.at(0).id;
  h.Close();
  {
    auto store = storage::Store::Open({.path = h.options().data_dir});
    ASSERT_TRUE(store.ok()) << store.status();
    const std::string prefix = internal::FinishedPrefix("q", JobState::kCompleted);
    std::vector<std::string> keys;
    ASSERT_TRUE((*store)
                    ->ForEach(storage::Cf::kJobIndex, prefix, storage::PrefixSuccessor(prefix),
                              [&](std::string_view key, std::string_view) {
                                keys.emplace_back(key);
                                return true;
                              })
                    .ok());
    ASSERT_EQ(keys.size(), 1u);
    storage::Batch batch(store->get());
    batch.Delete(storage::Cf::kJobIndex, keys[0]);
    batch.Put(
        storage::Cf::kJobIndex,
        prefix + storage::KeyBuilder().I64(std::numeric_limits<int64_t>::max() - 5).U64(id).Build(),
        "");
    ASSERT_TRUE((*store)->Commit(batch).ok());
  }
  h.Reopen();
  const uint64_t before = h->Stats().sweeper_queues_visited;
  for (int i = 0; i < 5; ++i) {
    h.clock().Advance(Millis(2000));
    ASSERT_TRUE(h->RunMaintenance().ok());
  }
  EXPECT_LE(h->Stats().sweeper_queues_visited - before, 1u) << "swept on every pass";
  EXPECT_TRUE(h->Get(id).ok());
}

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
  h.options().sweep_batch_keys = 6;  // two jobs (index entry, state, payload) per pass
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
  // The sequencer also sweeps on its own once the clock moves, so count
  // passes and their size rather than what is left after one call.
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(h->RunMaintenance().ok());
  EXPECT_TRUE(h->List({"q", JobState::kCompleted, 100, ""})->jobs.empty());
  EngineStats stats = h->Stats();
  EXPECT_EQ(stats.sweeper_keys_deleted, 18u);
  EXPECT_LE(stats.sweeper_largest_pass_keys, 6u) << "one pass deleted more than its budget";
  EXPECT_GE(stats.sweeper_passes, 3u);
}

// A budget smaller than one job's three keys still deletes a job per pass
// (it never deleted any, and the queue stayed due: a pass every group).
TEST(RetentionTest, ABudgetBelowOneJobStillDeletesOnePerPass) {
  EngineHarness h;
  h.options().sweep_batch_keys = 1;
  h.Reopen();
  ASSERT_TRUE(h->UpdateQueue("q", ShortRetention()).ok());
  FinishJobs(h, "q", 2);
  h.clock().Advance(Millis(2000));
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(h->RunMaintenance().ok());
  EXPECT_EQ(h->GetQueue("q")->completed, 0);
  EXPECT_LE(h->Stats().sweeper_largest_pass_keys, 3u);
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
