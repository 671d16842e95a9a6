// Engine::GetStats: per-queue counts and the oldest available job whatever
// its priority, totals that follow finishes, retention and a reopen, pages
// by name with a cursor, the probe budget that ends a page early, the
// column families' sizes, and INVALID_ARGUMENT naming the field.
#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "engine_harness.h"
#include "ratchet/engine/engine.h"

namespace ratchet {
namespace {

using testing::EngineHarness;
using testing::FieldOf;
using testing::kStartMs;

StatsResult Stats(EngineHarness& h, StatsRequest req = {}) {
  auto r = h->GetStats(std::move(req));
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *std::move(r) : StatsResult{};
}

const QueueStats* Find(const StatsResult& r, const std::string& name) {
  for (const QueueStats& q : r.queues) {
    if (q.name == name) return &q;
  }
  return nullptr;
}

JobId Enqueue(EngineHarness& h, EnqueueRequest req) {
  auto r = h->Enqueue(std::move(req));
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? r->id : 0;
}

TEST(StatsTest, OldestAvailableIsTheEarliestRunAtWhateverItsPriority) {
  EngineHarness h;
  // The oldest job has a middle priority: the lease-order head of either
  // direction (priority 0 or 1000) is a newer job.
  Enqueue(h, {.queue = "q", .job_type = "t", .priority = 500});
  h.clock().Advance(Millis(1000));
  Enqueue(h, {.queue = "q", .job_type = "t", .priority = 0});
  Enqueue(h, {.queue = "q", .job_type = "t", .priority = 1000});
  h.clock().Advance(Millis(4000));
  // GetQueue moves the due jobs into the available index (priority first).
  ASSERT_EQ(h->GetQueue("q")->available, 3);
  StatsResult r = Stats(h);
  const QueueStats* q = Find(r, "q");
  ASSERT_NE(q, nullptr);
  ASSERT_TRUE(q->oldest_available.has_value());
  EXPECT_EQ(ToUnixMs(*q->oldest_available), kStartMs);
  EXPECT_EQ(q->oldest_available_age, Millis(5000));
  EXPECT_EQ(ToUnixMs(r.at), kStartMs + 5000);

  // Leasing the oldest (after the priority-0 one) moves the answer on.
  h.LeaseOne("q");
  h.LeaseOne("q");
  q = Find(r = Stats(h), "q");
  ASSERT_TRUE(q->oldest_available.has_value());
  EXPECT_EQ(ToUnixMs(*q->oldest_available), kStartMs + 1000);
  EXPECT_EQ(q->live, 3);
  EXPECT_EQ(q->running, 2);
}

TEST(StatsTest, ADelayedJobIsAvailableFromItsRunAtAndRunningJobsAreNot) {
  EngineHarness h;
  Enqueue(h, {.queue = "later", .job_type = "t", .delay = Millis(10000)});
  h.Enqueue("busy");
  h.LeaseOne("busy");
  h.clock().Advance(Millis(4000));
  StatsResult r = Stats(h);
  EXPECT_FALSE(Find(r, "later")->oldest_available.has_value()) << "not due yet";
  EXPECT_EQ(Find(r, "later")->oldest_available_age, Millis(0));
  EXPECT_FALSE(Find(r, "busy")->oldest_available.has_value()) << "its only job runs";
  // Due now, though nothing has moved it into the available index yet.
  h.clock().Advance(Millis(16000));
  const QueueStats* later = Find(r = Stats(h), "later");
  ASSERT_TRUE(later->oldest_available.has_value());
  EXPECT_EQ(ToUnixMs(*later->oldest_available), kStartMs + 10000);
  EXPECT_EQ(later->oldest_available_age, Millis(10000));
}

TEST(StatsTest, TotalsFollowFinishesRetentionAndReopen) {
  EngineHarness h;
  QueueSettings short_retention;
  short_retention.completed_retention = Millis(60000);
  ASSERT_TRUE(h->UpdateQueue("a", short_retention).ok());
  for (int i = 0; i < 3; ++i) h.Enqueue("a");
  for (int i = 0; i < 2; ++i) {
    LeasedJob l = h.LeaseOne("a");
    ASSERT_TRUE(h->Complete({.id = l.id, .token = l.token}).ok());
  }
  JobId cancelled = h.Enqueue("b");
  ASSERT_TRUE(h->Cancel(cancelled).ok());
  h.Enqueue("b");
  LeasedJob l = h.LeaseOne("b");
  ASSERT_TRUE(h->Fail({.id = l.id, .token = l.token, .error = "x", .retryable = false}).ok());
  h.Enqueue("b");

  auto check = [&](int64_t completed) {
    StatsResult r = Stats(h);
    EXPECT_EQ(r.queue_count, 2);
    EXPECT_EQ(r.live_jobs, 2);
    EXPECT_EQ(r.completed, completed);
    EXPECT_EQ(r.cancelled, 1);
    EXPECT_EQ(r.dead, 1);
    const QueueStats* a = Find(r, "a");
    const QueueStats* b = Find(r, "b");
    ASSERT_NE(a, nullptr);
    ASSERT_NE(b, nullptr);
    EXPECT_EQ(a->live, 1);
    EXPECT_EQ(a->completed, completed);
    EXPECT_EQ(b->live, 1);
    EXPECT_EQ(b->cancelled, 1);
    EXPECT_EQ(b->dead, 1);
    EXPECT_EQ(a->running + b->running, 0);
  };
  check(2);
  h.Reopen();  // the totals are rebuilt from the stored per-queue counts
  check(2);
  h.clock().Advance(Millis(120000));
  ASSERT_TRUE(h->RunMaintenance().ok());  // the sweeper deletes a's completed jobs
  check(0);
  h.Reopen();
  check(0);
}

TEST(StatsTest, PagesListEveryQueueOnceByName) {
  EngineHarness h;
  std::vector<EnqueueRequest> reqs;
  for (int i = 0; i < 25; ++i)
    reqs.push_back({.queue = "q" + std::to_string(100 + i), .job_type = "t"});
  ASSERT_TRUE(h->EnqueueBatch(reqs).ok());
  std::vector<std::string> names;
  std::string cursor;
  int pages = 0;
  do {
    StatsResult r = Stats(h, {.limit = 10, .cursor = cursor});
    EXPECT_LE(r.queues.size(), 10u);
    EXPECT_EQ(r.queue_count, 25);
    EXPECT_EQ(r.live_jobs, 25);
    for (const QueueStats& q : r.queues) names.push_back(q.name);
    cursor = r.next_cursor;
    ASSERT_LT(++pages, 10) << "the cursor does not advance";
  } while (!cursor.empty());
  EXPECT_EQ(pages, 3);
  ASSERT_EQ(names.size(), 25u);
  for (int i = 0; i < 25; ++i) EXPECT_EQ(names[i], "q" + std::to_string(100 + i));
}

TEST(StatsTest, TheProbeBudgetEndsAPageEarlyAndTheNextPageGoesOn) {
  EngineHarness h;
  // Eleven queues with a job at every priority: 1,001 probes each, so the
  // budget of 10,000 ends the first page after ten of them.
  for (int q = 0; q < 11; ++q) {
    std::vector<EnqueueRequest> reqs;
    for (int p = 0; p <= 1000; ++p) {
      reqs.push_back({.queue = "q" + std::to_string(10 + q), .job_type = "t", .priority = p});
    }
    ASSERT_TRUE(h->EnqueueBatch(std::move(reqs)).ok());
    h.clock().Advance(Millis(1000));
    // GetQueue moves the due jobs into the available index, by priority.
    ASSERT_EQ(h->GetQueue("q" + std::to_string(10 + q))->available, 1001);
  }
  StatsResult first = Stats(h, {.limit = kMaxStatsQueues});
  ASSERT_EQ(first.queues.size(), 10u);
  ASSERT_FALSE(first.next_cursor.empty());
  EXPECT_EQ(ToUnixMs(*first.queues[9].oldest_available), kStartMs + 9000);
  StatsResult second = Stats(h, {.limit = kMaxStatsQueues, .cursor = first.next_cursor});
  ASSERT_EQ(second.queues.size(), 1u);
  EXPECT_EQ(second.queues[0].name, "q20");
  EXPECT_EQ(second.queues[0].live, 1001);
  EXPECT_TRUE(second.next_cursor.empty());
}

TEST(StatsTest, EveryColumnFamilyIsReportedWithItsBytes) {
  EngineHarness h;
  for (int i = 0; i < 100; ++i) h.Enqueue("q", std::string(100, 'x'));
  StatsResult r = Stats(h);
  std::set<std::string> names;
  for (const ColumnFamilyStats& cf : r.column_families) names.insert(cf.name);
  EXPECT_EQ(names, (std::set<std::string>{"default", "jobs", "job_index", "dead_letters",
                                          "idempotency", "queues", "app", "workflows", "schedules",
                                          "finished_jobs", "quarantine", "job_payloads"}));
  auto cf_named = [](const StatsResult& r, const std::string& name) {
    for (const ColumnFamilyStats& cf : r.column_families) {
      if (cf.name == name) return cf;
    }
    return ColumnFamilyStats{};
  };
  auto jobs = [&](const StatsResult& r) { return cf_named(r, "jobs"); };
  EXPECT_GT(jobs(r).memtable_bytes, 0u);
  EXPECT_GT(jobs(r).estimated_keys, 0u);
  h.Reopen();  // recovery flushes the WAL's writes into SST files
  r = Stats(h);
  EXPECT_GT(jobs(r).live_sst_bytes, 0u);
  EXPECT_GE(jobs(r).sst_bytes, jobs(r).live_sst_bytes);
  // The 100 payloads of 100 bytes are in job_payloads (schema 3).
  EXPECT_GT(cf_named(r, "job_payloads").live_sst_bytes, 10000u);
}

TEST(StatsTest, BadLimitOrCursorIsInvalidArgumentNamingTheField) {
  EngineHarness h;
  h.Enqueue("q");
  for (int limit : {0, -1, kMaxStatsQueues + 1}) {
    auto r = h->GetStats({.limit = limit});
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << limit;
    EXPECT_EQ(FieldOf(r.status()), "limit") << r.status();
  }
  EXPECT_TRUE(h->GetStats({.limit = kMaxStatsQueues}).ok());
  for (std::string cursor :
       {std::string("zz"), std::string("abc"), absl::BytesToHexString("not a queue name!")}) {
    auto r = h->GetStats({.cursor = cursor});
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << cursor;
    EXPECT_EQ(FieldOf(r.status()), "cursor") << r.status();
  }
}

}  // namespace
}  // namespace ratchet
