// Recovery at open reads only live jobs (finished ones are in their own
// column family, their counts stored), and a schema-1 data directory (all
// records in `jobs`, no stored counts) is migrated at open.
#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "engine_harness.h"
#include "ratchet/engine/engine.h"
#include "ratchet/storage/keys.h"
#include "ratchet/storage/store.h"
#include "record_rewrite.h"
#include "schema.h"

namespace ratchet {
namespace {

using storage::Cf;
using storage::KeyBuilder;
using testing::EngineHarness;

void FinishOne(EngineHarness& h, const std::string& queue, bool dead) {
  JobId id = h->Enqueue({.queue = queue, .job_type = "t", .max_attempts = 1})->id;
  LeasedJob l = h.LeaseOne(queue);
  ASSERT_EQ(l.id, id);
  if (dead) {
    ASSERT_TRUE(h->Fail({.id = l.id, .token = l.token, .error = "e"}).ok());
  } else {
    ASSERT_TRUE(h->Complete({.id = l.id, .token = l.token}).ok());
  }
}

TEST(JobRecoveryTest, RecoveryParsesOnlyLiveJobs) {
  EngineHarness h;
  for (int i = 0; i < 200; ++i) FinishOne(h, "q", /*dead=*/i % 4 == 0);
  JobId live = h.Enqueue("q");
  h.Enqueue("other");
  h.Reopen();
  EXPECT_EQ(h->Stats().recovered_job_records, 2u);
  auto q = h->GetQueue("q");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->completed, 150);
  EXPECT_EQ(q->dead, 50);
  EXPECT_EQ(q->available, 1);
  EXPECT_EQ(h->Get(1)->state, JobState::kDead);
  EXPECT_EQ(h->Get(2)->state, JobState::kCompleted);
  EXPECT_EQ(h.LeaseOne("q").id, live);
}

// Rewrites the closed engine's directory into the schema-1 layout.
void DowngradeToSchema1(EngineHarness& h) {
  auto store = storage::Store::Open({.path = h.options().data_dir});
  ASSERT_TRUE(store.ok()) << store.status();
  storage::Batch batch(store->get());
  ASSERT_TRUE((*store)
                  ->ForEach(Cf::kFinishedJobs, "", "",
                            [&](std::string_view key, std::string_view value) {
                              batch.Put(Cf::kJobs, key, value);
                              batch.Delete(Cf::kFinishedJobs, key);
                              return true;
                            })
                  .ok());
  const std::string counts = KeyBuilder().Str("finished_count").Build();
  ASSERT_TRUE((*store)
                  ->ForEach(Cf::kMeta, counts, storage::PrefixSuccessor(counts),
                            [&](std::string_view key, std::string_view) {
                              batch.Delete(Cf::kMeta, key);
                              return true;
                            })
                  .ok());
  storage::Store::SetSchemaVersion(batch, 1);
  ASSERT_TRUE((*store)->Commit(batch).ok());
}

TEST(JobRecoveryTest, Schema1DirectoryIsMigratedAtOpen) {
  EngineHarness h;
  for (int i = 0; i < 30; ++i) FinishOne(h, i % 2 ? "a" : "b", /*dead=*/i % 3 == 0);
  JobId live = h.Enqueue("a");
  h.Close();
  DowngradeToSchema1(h);
  h.Reopen();  // migrates
  auto a = h->GetQueue("a");
  auto b = h->GetQueue("b");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->completed + b->completed, 20);
  EXPECT_EQ(a->dead + b->dead, 10);
  EXPECT_EQ(h->Get(1)->state, JobState::kDead);
  h.Reopen();  // schema 2 now: only the live job is read
  EXPECT_EQ(h->Stats().recovered_job_records, 1u);
  EXPECT_EQ(h->GetQueue("a")->completed + h->GetQueue("b")->completed, 20);
  auto store_version = [&] {
    h.Close();
    auto store = storage::Store::Open({.path = h.options().data_dir});
    uint32_t v = store.ok() ? (*store)->SchemaVersion().value_or(0) : 0;
    return v;
  };
  EXPECT_EQ(store_version(), storage::kSchemaVersion);
  h.Reopen();
  EXPECT_EQ(h.LeaseOne("a").id, live);
  // A redriven dead job goes back to the live jobs and is found after reopen.
  auto redriven = h->Redrive({.filter = {.queue = "b"}});
  ASSERT_TRUE(redriven.ok()) << redriven.status();
  h.Reopen();
  EXPECT_EQ(h->Stats().recovered_job_records, 1u + static_cast<uint64_t>(redriven->count));
  EXPECT_EQ(h->GetQueue("b")->dead, 0);
}

// Stored finished counts are read back from disk: counts that add up past
// int64, across queues or across the states of one queue (damage; the
// recovery fuzzer found both overflows), are clamped, not wrapped.
TEST(JobRecoveryTest, FinishedCountsThatOverflowTheTotalAreClamped) {
  EngineHarness h;
  h.Close();
  {
    auto store = storage::Store::Open({.path = h.options().data_dir});
    ASSERT_TRUE(store.ok()) << store.status();
    storage::Batch batch(store->get());
    const uint64_t big = static_cast<uint64_t>(INT64_MAX) - 10;
    for (const char* queue : {"a", "b"}) {
      batch.Put(storage::Cf::kMeta, internal::FinishedCountKey(queue),
                storage::KeyBuilder().U64(big).U64(big).U64(0).Build());
    }
    ASSERT_TRUE((*store)->Commit(batch).ok());
  }
  h.Reopen();
  auto stats = h->GetStats({});
  ASSERT_TRUE(stats.ok()) << stats.status();
  EXPECT_EQ(stats->completed, INT64_MAX);
  EXPECT_EQ(stats->cancelled, INT64_MAX);
}

// Rewrites live job `id`'s record in the closed engine's directory.
void RewriteLiveJob(EngineHarness& h, JobId id,
                    const std::function<void(internal::JobRecord&)>& change) {
  ASSERT_NO_FATAL_FAILURE(
      testing::RewriteRecord<internal::JobRecord>(h, Cf::kJobs, internal::JobKey(id), change));
}

// A job record's visibility and attempt timeouts are read back from disk
// (damage, or a record written by a build with other limits): the lease and
// heartbeat deadlines they give saturate instead of wrapping into the past,
// which would expire the lease at once.
TEST(JobRecoveryTest, HugeStoredTimeoutsDoNotWrapTheLeaseDeadline) {
  EngineHarness h;
  JobId id = h.Enqueue("q");
  h.Close();
  ASSERT_NO_FATAL_FAILURE(RewriteLiveJob(h, id, [](internal::JobRecord& r) {
    r.set_visibility_timeout_ms(INT64_MAX);
    r.set_attempt_timeout_ms(INT64_MAX);
  }));
  h.Reopen();
  auto leased = h->Lease({.queue = "q"});
  ASSERT_TRUE(leased.ok()) << leased.status();
  ASSERT_EQ(leased->size(), 1u);
  EXPECT_GT((*leased)[0].lease_deadline, h.clock().Now());
  h.clock().Advance(Millis(1000));
  auto beat = h->Heartbeat({.id = id, .token = (*leased)[0].token});
  ASSERT_TRUE(beat.ok()) << beat.status();
  EXPECT_GT(beat->lease_deadline, h.clock().Now());
  EXPECT_TRUE(h->Complete({.id = id, .token = (*leased)[0].token}).ok());
}

// A stored attempt count at INT32_MAX (damage): the next lease and a redrive
// count on from it without wrapping to a negative count (signed overflow),
// which would grant about four billion extra attempts.
TEST(JobRecoveryTest, AStoredAttemptCountAtItsMaximumDoesNotWrap) {
  EngineHarness h;
  JobId id = h.Enqueue("q");
  h.Close();
  ASSERT_NO_FATAL_FAILURE(RewriteLiveJob(h, id, [](internal::JobRecord& r) {
    r.set_attempts(INT32_MAX);
    r.set_max_attempts(5);
  }));
  h.Reopen();
  LeasedJob job = h.LeaseOne("q");
  ASSERT_EQ(job.id, id);
  EXPECT_EQ(h->Get(id)->attempts, INT32_MAX);
  auto failed = h->Fail({id, job.token, "boom", false});
  ASSERT_TRUE(failed.ok()) << failed.status();
  EXPECT_EQ(failed->state, JobState::kDead);
  RedriveRequest redrive;
  redrive.filter.queue = "q";
  ASSERT_TRUE(h->Redrive(redrive).ok());
  auto after = h->Get(id);
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->attempts, INT32_MAX);
  EXPECT_EQ(after->max_attempts, INT32_MAX) << "the redrive grants one more attempt";
}

// A negative stored attempt count (damage) starts over at 1 on the next
// lease instead of granting billions of extra attempts.
TEST(JobRecoveryTest, ANegativeStoredAttemptCountStartsOver) {
  EngineHarness h;
  JobId id = h.Enqueue("q");
  h.Close();
  ASSERT_NO_FATAL_FAILURE(
      RewriteLiveJob(h, id, [](internal::JobRecord& r) { r.set_attempts(INT32_MIN); }));
  h.Reopen();
  ASSERT_EQ(h.LeaseOne("q").id, id);
  EXPECT_EQ(h->Get(id)->attempts, 1);
}

}  // namespace
}  // namespace ratchet
