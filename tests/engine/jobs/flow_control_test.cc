// Concurrency keys, per-key limits, round-robin fairness and rate limits
// (docs/consistency.md, "Flow control").
#include <gtest/gtest.h>

#include <future>
#include <map>
#include <memory>
#include <set>

#include "engine_harness.h"
#include "ratchet/engine/engine.h"

namespace ratchet {
namespace {

using testing::EngineHarness;

JobId EnqueueKeyed(EngineHarness& h, const std::string& key, int priority = 100) {
  EnqueueRequest r;
  r.queue = "q";
  r.job_type = "t";
  r.concurrency_key = key;
  r.priority = priority;
  auto res = h->Enqueue(r);
  EXPECT_TRUE(res.ok()) << res.status();
  return res.ok() ? res->id : 0;
}

std::vector<LeasedJob> LeaseN(EngineHarness& h, int n) {
  auto r = h->Lease(LeaseRequest{"q", n, Millis(30000), "w"});
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : std::vector<LeasedJob>{};
}

void Update(EngineHarness& h, const QueueSettingsUpdate& u) {
  ASSERT_TRUE(h->UpdateQueue("q", u).ok());
}

TEST(FlowControlTest, KeyLimitCapsRunningJobsPerKey) {
  EngineHarness h;
  QueueSettingsUpdate u;
  u.key_concurrency_limit = 1;
  Update(h, u);
  for (int i = 0; i < 3; ++i) EnqueueKeyed(h, "acct-1");
  EnqueueKeyed(h, "acct-2");
  auto jobs = LeaseN(h, 10);
  ASSERT_EQ(jobs.size(), 2u);  // one per key
  EXPECT_NE(jobs[0].concurrency_key, jobs[1].concurrency_key);
  EXPECT_TRUE(LeaseN(h, 10).empty());
  // A finished job frees its key's slot, and only that key's.
  ASSERT_TRUE(h->Complete({jobs[0].id, jobs[0].token, "", {}}).ok());
  auto next = LeaseN(h, 10);
  ASSERT_EQ(next.size(), jobs[0].concurrency_key == "acct-1" ? 1u : 0u);
}

TEST(FlowControlTest, NamedKeysGetTheirOwnLimit) {
  EngineHarness h;
  QueueSettingsUpdate u;
  u.key_concurrency_limit = 1;
  u.key_limits = std::map<std::string, int>{{"big", 3}};
  Update(h, u);
  for (int i = 0; i < 5; ++i) EnqueueKeyed(h, "big");
  for (int i = 0; i < 5; ++i) EnqueueKeyed(h, "small");
  std::map<std::string, int> per_key;
  for (const LeasedJob& j : LeaseN(h, 100)) ++per_key[j.concurrency_key];
  EXPECT_EQ(per_key["big"], 3);
  EXPECT_EQ(per_key["small"], 1);
}

TEST(FlowControlTest, JobsWithoutAKeyAreNotLimitedByTheKeyLimit) {
  EngineHarness h;
  QueueSettingsUpdate u;
  u.key_concurrency_limit = 1;
  Update(h, u);
  for (int i = 0; i < 4; ++i) EnqueueKeyed(h, "");
  EXPECT_EQ(LeaseN(h, 10).size(), 4u);
}

TEST(FlowControlTest, QueueLimitAndKeyLimitBothHold) {
  EngineHarness h;
  QueueSettingsUpdate u;
  u.concurrency_limit = 3;
  u.key_concurrency_limit = 2;
  Update(h, u);
  for (int i = 0; i < 5; ++i) EnqueueKeyed(h, "a");
  for (int i = 0; i < 5; ++i) EnqueueKeyed(h, "b");
  auto jobs = LeaseN(h, 100);
  EXPECT_EQ(jobs.size(), 3u);
  std::map<std::string, int> per_key;
  for (const LeasedJob& j : jobs) ++per_key[j.concurrency_key];
  EXPECT_LE(per_key["a"], 2);
  EXPECT_LE(per_key["b"], 2);
}

TEST(FlowControlTest, AHotKeyDoesNotStarveColdKeys) {
  EngineHarness h;
  for (int i = 0; i < 1000; ++i) EnqueueKeyed(h, "hot");
  JobId cold1 = EnqueueKeyed(h, "cold-1");
  JobId cold2 = EnqueueKeyed(h, "cold-2");
  // Round robin: the first three leases serve each ready key once,
  // although the hot key's jobs are all older.
  std::set<JobId> first;
  for (const LeasedJob& j : LeaseN(h, 3)) first.insert(j.id);
  EXPECT_TRUE(first.count(cold1));
  EXPECT_TRUE(first.count(cold2));
}

TEST(FlowControlTest, PriorityThenFifoWithinAKeyAndRoundRobinAcrossKeys) {
  EngineHarness h;
  JobId a1 = EnqueueKeyed(h, "a", 100);
  JobId a2 = EnqueueKeyed(h, "a", 100);
  JobId a0 = EnqueueKeyed(h, "a", 5);  // jumps ahead within its key
  JobId b1 = EnqueueKeyed(h, "b", 100);
  JobId b2 = EnqueueKeyed(h, "b", 100);
  std::vector<JobId> order;
  for (const LeasedJob& j : LeaseN(h, 5)) order.push_back(j.id);
  // a0 first (priority 5 beats every other key's best). Then the keys
  // alternate at priority 100: b (not served yet) before a.
  EXPECT_EQ(order, (std::vector<JobId>{a0, b1, a1, b2, a2}));
}

TEST(FlowControlTest, ExpiredLeaseFreesTheKeySlot) {
  EngineHarness h;
  QueueSettingsUpdate u;
  u.key_concurrency_limit = 1;
  Update(h, u);
  EnqueueKeyed(h, "k");
  EnqueueKeyed(h, "k");
  auto first = h->Lease(LeaseRequest{"q", 10, Millis(1000), "w"});
  ASSERT_TRUE(first.ok());
  ASSERT_EQ(first->size(), 1u);
  EXPECT_TRUE(LeaseN(h, 10).empty());
  h.clock().Advance(Millis(1001));
  ASSERT_TRUE(h->RunMaintenance().ok());
  // The expired job waits for its backoff; the other one takes the slot.
  auto next = LeaseN(h, 10);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_NE(next[0].id, (*first)[0].id);
}

TEST(FlowControlTest, CancelAndRedriveKeepTheLimit) {
  EngineHarness h;
  QueueSettingsUpdate u;
  u.key_concurrency_limit = 1;
  u.max_attempts = 1;
  Update(h, u);
  JobId j1 = EnqueueKeyed(h, "k");
  JobId j2 = EnqueueKeyed(h, "k");
  auto leased = LeaseN(h, 10);
  ASSERT_EQ(leased.size(), 1u);
  ASSERT_EQ(leased[0].id, j1);
  // Cancelling the waiting job does not free the running one's slot.
  ASSERT_TRUE(h->Cancel(j2).ok());
  JobId j3 = EnqueueKeyed(h, "k");
  EXPECT_TRUE(LeaseN(h, 10).empty());
  // j1 dies; redriven, it and j3 share the key's one slot.
  ASSERT_TRUE(h->Fail({j1, leased[0].token, "boom", true}).ok());
  DeadLetterFilter f;
  f.queue = "q";
  ASSERT_TRUE(h->Redrive({f, false}).ok());
  auto again = LeaseN(h, 10);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_TRUE(again[0].id == j1 || again[0].id == j3);
}

TEST(FlowControlTest, KeyLimitHoldsAcrossReopen) {
  EngineHarness h;
  QueueSettingsUpdate u;
  u.key_concurrency_limit = 2;
  Update(h, u);
  for (int i = 0; i < 5; ++i) EnqueueKeyed(h, "k");
  EXPECT_EQ(LeaseN(h, 10).size(), 2u);
  h.Reopen();
  EXPECT_TRUE(LeaseN(h, 10).empty());
  auto q = h->GetQueue("q");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->settings.key_concurrency_limit, 2);
}

// A raised key limit applies at once, also to keys whose running jobs go on
// and that therefore sit in no ring: more keys than one re-placement slice
// (Indexes::kReplaceSlice) so that the slices are exercised.
TEST(FlowControlTest, ARaisedKeyLimitAppliesAtOnceToEveryBlockedKey) {
  EngineHarness h;
  QueueSettingsUpdate u;
  u.key_concurrency_limit = 1;
  Update(h, u);
  const int keys = 2500;
  std::vector<EnqueueRequest> batch;
  for (int k = 0; k < keys; ++k) {
    for (int i = 0; i < 2; ++i) {
      EnqueueRequest r{"q", "t", "p", ""};
      r.concurrency_key = "k" + std::to_string(k);
      batch.push_back(r);
    }
  }
  ASSERT_TRUE(h->EnqueueBatch(batch).ok());
  EXPECT_EQ(LeaseN(h, 1000).size(), 1000u);
  EXPECT_EQ(LeaseN(h, 1000).size(), 1000u);
  EXPECT_EQ(LeaseN(h, 1000).size(), 500u);
  EXPECT_TRUE(LeaseN(h, 1000).empty()) << "every key is at its limit of 1";
  u.key_concurrency_limit = 2;
  Update(h, u);
  size_t more = 0;
  for (int i = 0; i < 10; ++i) more += LeaseN(h, 1000).size();
  EXPECT_EQ(more, static_cast<size_t>(keys)) << "each key's second job, no job having ended";
}

// Removing a key rate limit releases the keys waiting on it at once (not
// when the old window would have reopened).
TEST(FlowControlTest, ARemovedKeyRateLimitReleasesWaitingKeysAtOnce) {
  EngineHarness h;
  QueueSettingsUpdate u;
  u.key_rate_limit = RateLimit{1, Millis(3600000)};
  Update(h, u);
  for (int i = 0; i < 2; ++i) EnqueueKeyed(h, "a");
  ASSERT_EQ(LeaseN(h, 10).size(), 1u);
  EXPECT_TRUE(LeaseN(h, 10).empty());
  u.key_rate_limit = RateLimit{0, Millis(0)};
  Update(h, u);
  EXPECT_EQ(LeaseN(h, 10).size(), 1u);
}

TEST(FlowControlTest, QueueRateLimitAdmitsLimitStartsPerWindow) {
  EngineHarness h;
  QueueSettingsUpdate u;
  u.rate_limit = RateLimit{3, Millis(1000)};
  Update(h, u);
  for (int i = 0; i < 10; ++i) EnqueueKeyed(h, "");
  EXPECT_EQ(LeaseN(h, 10).size(), 3u);
  EXPECT_TRUE(LeaseN(h, 10).empty());
  h.clock().Advance(Millis(999));
  EXPECT_TRUE(LeaseN(h, 10).empty());  // the window is (now - 1000, now]
  h.clock().Advance(Millis(1));
  EXPECT_EQ(LeaseN(h, 10).size(), 3u);
}

TEST(FlowControlTest, KeyRateLimitHoldsOnlyThatKey) {
  EngineHarness h;
  QueueSettingsUpdate u;
  u.key_rate_limit = RateLimit{1, Millis(1000)};
  Update(h, u);
  for (int i = 0; i < 3; ++i) EnqueueKeyed(h, "a");
  for (int i = 0; i < 3; ++i) EnqueueKeyed(h, "b");
  EXPECT_EQ(LeaseN(h, 10).size(), 2u);  // one start per key
  EXPECT_TRUE(LeaseN(h, 10).empty());
  h.clock().Advance(Millis(1000));
  EXPECT_EQ(LeaseN(h, 10).size(), 2u);
}

TEST(FlowControlTest, RateLimitHoldsAcrossReopen) {
  EngineHarness h;
  QueueSettingsUpdate u;
  u.rate_limit = RateLimit{2, Millis(60000)};
  u.key_rate_limit = RateLimit{1, Millis(60000)};
  Update(h, u);
  for (int i = 0; i < 3; ++i) EnqueueKeyed(h, "a");
  for (int i = 0; i < 3; ++i) EnqueueKeyed(h, "");
  EXPECT_EQ(LeaseN(h, 10).size(), 2u);
  h.Reopen();
  EXPECT_TRUE(LeaseN(h, 10).empty());
  h.clock().Advance(Millis(60000));
  EXPECT_EQ(LeaseN(h, 10).size(), 2u);
}

TEST(FlowControlTest, ABackwardClockStepDoesNotReopenTheWindow) {
  EngineHarness h;
  QueueSettingsUpdate u;
  u.rate_limit = RateLimit{1, Millis(1000)};
  Update(h, u);
  for (int i = 0; i < 3; ++i) EnqueueKeyed(h, "");
  h.clock().Advance(Millis(10000));
  EXPECT_EQ(LeaseN(h, 10).size(), 1u);
  h.clock().Advance(Millis(-5000));
  EXPECT_TRUE(LeaseN(h, 10).empty());
  h.clock().Advance(Millis(5999));
  EXPECT_TRUE(LeaseN(h, 10).empty());
  h.clock().Advance(Millis(1));
  EXPECT_EQ(LeaseN(h, 10).size(), 1u);
}

TEST(FlowControlTest, TwoStartsOfOneJobAtOneRateTimeBothSurviveReopen) {
  // Regression: stored starts were keyed by job id, so a job started twice
  // at the same rate-limit time (the clock stepped back, so the high-water
  // mark stood still) was stored once, and a reopen forgot a start.
  EngineHarness h;
  QueueSettingsUpdate u;
  u.key_rate_limit = RateLimit{2, Millis(60000)};
  u.max_attempts = 5;
  u.retry_policy = RetryPolicy{Millis(100), Millis(100), 1.0, JitterMode::kNone};
  Update(h, u);
  h.clock().Advance(Millis(1000));
  ASSERT_TRUE(h->RunMaintenance().ok());  // the rate-limit clock reaches +1000
  h.clock().Advance(Millis(-1000));
  JobId id = EnqueueKeyed(h, "k");
  auto first = LeaseN(h, 1);
  ASSERT_EQ(first.size(), 1u);
  ASSERT_TRUE(h->Fail({id, first[0].token, "x", true}).ok());
  h.clock().Advance(Millis(100));
  auto second = LeaseN(h, 1);
  ASSERT_EQ(second.size(), 1u);
  ASSERT_EQ(second[0].id, id);
  h.Reopen();
  EnqueueKeyed(h, "k");
  EXPECT_TRUE(LeaseN(h, 10).empty());  // two starts of "k" in the window
}

TEST(FlowControlTest, ExpiredStartsAreDeletedByMaintenance) {
  EngineHarness h;
  QueueSettingsUpdate u;
  u.rate_limit = RateLimit{100, Millis(1000)};
  Update(h, u);
  for (int i = 0; i < 50; ++i) EnqueueKeyed(h, "");
  EXPECT_EQ(LeaseN(h, 100).size(), 50u);
  const uint64_t entries = h->Stats().entries;
  h.clock().Advance(Millis(1000));
  ASSERT_TRUE(h->RunMaintenance().ok());
  // 50 start entries deleted (plus whatever else maintenance writes).
  EXPECT_GE(h->Stats().entries - entries, 50u);
  h.Reopen();
  EXPECT_EQ(h->Stats().rate_limit_starts, 0u);
}

TEST(FlowControlTest, LongPollWakesWhenTheRateLimitReopens) {
  EngineHarness h;
  QueueSettingsUpdate u;
  u.rate_limit = RateLimit{1, Millis(500)};
  Update(h, u);
  EnqueueKeyed(h, "");
  EnqueueKeyed(h, "");
  EXPECT_EQ(LeaseN(h, 10).size(), 1u);
  // Parked: the second job is ready but held by the rate limit. It must be
  // served when the window opens, with no further enqueue or poll.
  LeaseRequest req{"q", 1, Millis(30000), "w"};
  req.wait = Millis(5000);
  auto promise = std::make_shared<std::promise<absl::StatusOr<std::vector<LeasedJob>>>>();
  auto fut = promise->get_future();
  h->LeaseAsync(req, [promise](auto r) { promise->set_value(std::move(r)); });
  EXPECT_NE(fut.wait_for(std::chrono::milliseconds(200)), std::future_status::ready);
  h.clock().Advance(Millis(500));
  ASSERT_TRUE(h->RunMaintenance().ok());  // a group: the sequencer looks at the clock
  ASSERT_EQ(fut.wait_for(std::chrono::seconds(5)), std::future_status::ready);
  auto got = fut.get();
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->size(), 1u);
}

TEST(FlowControlTest, BadSettingsNameTheField) {
  EngineHarness h;
  auto bad = [&](const QueueSettingsUpdate& u, const std::string& field) {
    absl::Status s = h->UpdateQueue("q", u);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << field;
    EXPECT_NE(s.message().find(field), std::string::npos) << s.message();
  };
  QueueSettingsUpdate u;
  u.key_concurrency_limit = -1;
  bad(u, "key_concurrency_limit");
  u = {};
  u.key_limits = std::map<std::string, int>{{"k", 0}};
  bad(u, "key_limits[k]");
  u = {};
  u.rate_limit = RateLimit{10, Millis(0)};
  bad(u, "rate_limit.period");
  u = {};
  u.key_rate_limit = RateLimit{-1, Millis(10)};
  bad(u, "key_rate_limit.limit");
  EnqueueRequest r;
  r.queue = "q";
  r.job_type = "t";
  r.concurrency_key = std::string(257, 'k');
  EXPECT_EQ(h->Enqueue(r).status().code(), absl::StatusCode::kInvalidArgument);
  r.concurrency_key = "\xff\xfe";
  auto s = h->Enqueue(r).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("concurrency_key"), std::string::npos);
}

}  // namespace
}  // namespace ratchet
