// Engine::ExplainJob: every reason, each checked against what the next
// Lease of the job's queue does (the answer must agree with it).
#include <gtest/gtest.h>

#include "engine_harness.h"
#include "ratchet/engine/engine.h"

namespace ratchet {
namespace {

using testing::EngineHarness;

JobId Enqueue(EngineHarness& h, const std::string& key = "", std::optional<Millis> delay = {}) {
  EnqueueRequest r;
  r.queue = "q";
  r.job_type = "t";
  r.concurrency_key = key;
  r.delay = delay;
  r.max_attempts = 2;
  r.retry_policy = RetryPolicy{Millis(1000), Millis(1000), 1.0, JitterMode::kNone};
  return h->Enqueue(r)->id;
}

std::vector<WaitReason> Reasons(const JobExplanation& e) {
  std::vector<WaitReason> out;
  for (const WaitCause& c : e.causes) {
    if (c.reason != WaitReason::kNoRecentLease) out.push_back(c.reason);
  }
  return out;
}

JobExplanation Explain(EngineHarness& h, JobId id) {
  auto e = h->ExplainJob(id);
  EXPECT_TRUE(e.ok()) << e.status();
  return e.ok() ? *e : JobExplanation{};
}

// Leases everything leasable; true if `id` was among the jobs.
bool NextLeaseTakes(EngineHarness& h, JobId id, std::vector<LeasedJob>* out = nullptr) {
  auto r = h->Lease(LeaseRequest{"q", 100, Millis(30000), "w"});
  EXPECT_TRUE(r.ok());
  bool took = false;
  for (const LeasedJob& j : *r) took |= j.id == id;
  if (out) *out = *r;
  return took;
}

TEST(ExplainTest, RunnableAgreesWithLease) {
  EngineHarness h;
  JobId id = Enqueue(h);
  JobExplanation e = Explain(h, id);
  EXPECT_EQ(e.state, JobState::kAvailable);
  ASSERT_EQ(Reasons(e), std::vector<WaitReason>{WaitReason::kRunnable});
  EXPECT_TRUE(NextLeaseTakes(h, id));
  EXPECT_EQ(Reasons(Explain(h, id)), std::vector<WaitReason>{WaitReason::kRunning});
}

TEST(ExplainTest, ScheduledUntilRunAt) {
  EngineHarness h;
  JobId id = Enqueue(h, "", Millis(5000));
  JobExplanation e = Explain(h, id);
  ASSERT_EQ(Reasons(e), std::vector<WaitReason>{WaitReason::kScheduled});
  EXPECT_EQ(*e.causes[0].until, h.clock().Now() + Millis(5000));
  EXPECT_FALSE(NextLeaseTakes(h, id));
  h.clock().Advance(Millis(5000));
  EXPECT_EQ(Reasons(Explain(h, id)), std::vector<WaitReason>{WaitReason::kRunnable});
  EXPECT_TRUE(NextLeaseTakes(h, id));
}

TEST(ExplainTest, BackoffAfterAFailedAttempt) {
  EngineHarness h;
  JobId id = Enqueue(h);
  LeasedJob j = h.LeaseOne("q");
  ASSERT_TRUE(h->Fail({id, j.token, "boom", true}).ok());
  JobExplanation e = Explain(h, id);
  ASSERT_EQ(Reasons(e), std::vector<WaitReason>{WaitReason::kBackoff});
  EXPECT_EQ(e.causes[0].attempt, 1);
  EXPECT_FALSE(NextLeaseTakes(h, id));
}

TEST(ExplainTest, PausedQueue) {
  EngineHarness h;
  JobId id = Enqueue(h);
  ASSERT_TRUE(h->PauseQueue("q").ok());
  EXPECT_EQ(Reasons(Explain(h, id)), std::vector<WaitReason>{WaitReason::kQueuePaused});
  EXPECT_FALSE(NextLeaseTakes(h, id));
}

TEST(ExplainTest, QueueConcurrencyNamesTheHolders) {
  EngineHarness h;
  QueueSettingsUpdate u;
  u.concurrency_limit = 1;
  ASSERT_TRUE(h->UpdateQueue("q", u).ok());
  JobId holder = Enqueue(h);
  JobId id = Enqueue(h);
  ASSERT_EQ(h.LeaseOne("q").id, holder);
  JobExplanation e = Explain(h, id);
  ASSERT_EQ(Reasons(e), std::vector<WaitReason>{WaitReason::kQueueConcurrency});
  EXPECT_EQ(e.causes[0].holders, std::vector<JobId>{holder});
  EXPECT_EQ(e.causes[0].limit, 1);
  EXPECT_FALSE(NextLeaseTakes(h, id));
}

TEST(ExplainTest, KeyConcurrencyNamesTheKeysHolders) {
  EngineHarness h;
  QueueSettingsUpdate u;
  u.key_concurrency_limit = 1;
  ASSERT_TRUE(h->UpdateQueue("q", u).ok());
  JobId holder = Enqueue(h, "acct");
  JobId other = Enqueue(h, "other");
  JobId id = Enqueue(h, "acct");
  std::vector<LeasedJob> leased;
  EXPECT_FALSE(NextLeaseTakes(h, id, &leased));
  ASSERT_EQ(leased.size(), 2u);  // holder and other
  JobExplanation e = Explain(h, id);
  ASSERT_EQ(Reasons(e), std::vector<WaitReason>{WaitReason::kKeyConcurrency});
  EXPECT_EQ(e.causes[0].holders, std::vector<JobId>{holder});
  EXPECT_EQ(e.concurrency_key, "acct");
  EXPECT_FALSE(NextLeaseTakes(h, id));
  (void)other;
}

TEST(ExplainTest, QueueAndKeyRateLimits) {
  EngineHarness h;
  QueueSettingsUpdate u;
  u.rate_limit = RateLimit{1, Millis(1000)};
  ASSERT_TRUE(h->UpdateQueue("q", u).ok());
  JobId first = Enqueue(h);
  JobId id = Enqueue(h);
  EXPECT_TRUE(NextLeaseTakes(h, first));
  JobExplanation e = Explain(h, id);
  ASSERT_EQ(Reasons(e), std::vector<WaitReason>{WaitReason::kQueueRateLimited});
  EXPECT_EQ(*e.causes[0].until, h.clock().Now() + Millis(1000));
  EXPECT_FALSE(NextLeaseTakes(h, id));
  h.clock().Advance(Millis(1000));
  EXPECT_EQ(Reasons(Explain(h, id)), std::vector<WaitReason>{WaitReason::kRunnable});
  EXPECT_TRUE(NextLeaseTakes(h, id));

  u = {};
  u.rate_limit = RateLimit{};  // removed
  u.key_rate_limit = RateLimit{1, Millis(1000)};
  ASSERT_TRUE(h->UpdateQueue("q", u).ok());
  JobId k1 = Enqueue(h, "k");
  JobId k2 = Enqueue(h, "k");
  EXPECT_TRUE(NextLeaseTakes(h, k1));
  e = Explain(h, k2);
  ASSERT_EQ(Reasons(e), std::vector<WaitReason>{WaitReason::kKeyRateLimited});
  EXPECT_FALSE(NextLeaseTakes(h, k2));
}

// The period in force applies to every logged start, and deleting starts
// (the lease-expiry step) never changes an answer. The soak found Explain
// and Lease disagreeing here: after a key rate of 2/100 ms became
// 1/1000 ms, the key waited until 1,000 ms while the starts, deleted at
// 100 ms by their stored expiry, were gone from ExplainJob's window.
TEST(ExplainTest, ALengthenedRatePeriodCountsTheStartsStillLogged) {
  EngineHarness h;
  QueueSettingsUpdate u;
  u.key_rate_limit = RateLimit{2, Millis(100)};
  ASSERT_TRUE(h->UpdateQueue("q", u).ok());
  const TimePoint t0 = h.clock().Now();
  JobId a = Enqueue(h, "k");
  Enqueue(h, "k");
  JobId c = Enqueue(h, "k");
  std::vector<LeasedJob> leased;
  NextLeaseTakes(h, a, &leased);
  ASSERT_EQ(leased.size(), 2u);
  u.key_rate_limit = RateLimit{1, Millis(1000)};
  ASSERT_TRUE(h->UpdateQueue("q", u).ok());
  for (int64_t step : {0, 100, 500}) {
    h.clock().Advance(Millis(step));
    ASSERT_TRUE(h->RunMaintenance().ok());  // deletes starts that left the window
    JobExplanation e = Explain(h, c);
    ASSERT_EQ(Reasons(e), std::vector<WaitReason>{WaitReason::kKeyRateLimited}) << step;
    EXPECT_EQ(*e.causes[0].until, t0 + Millis(1000));
    EXPECT_FALSE(NextLeaseTakes(h, c)) << step;
  }
  h.clock().Advance(Millis(400));
  ASSERT_TRUE(h->RunMaintenance().ok());
  EXPECT_EQ(Reasons(Explain(h, c)), std::vector<WaitReason>{WaitReason::kRunnable});
  EXPECT_TRUE(NextLeaseTakes(h, c)) << "Lease disagrees with ExplainJob";
}

// A shortened period releases earlier starts at once, for the queue-wide
// limit as for keys.
TEST(ExplainTest, AShortenedRatePeriodReleasesEarlierStarts) {
  EngineHarness h;
  QueueSettingsUpdate u;
  u.rate_limit = RateLimit{1, Millis(1000)};
  ASSERT_TRUE(h->UpdateQueue("q", u).ok());
  JobId first = Enqueue(h);
  JobId id = Enqueue(h);
  EXPECT_TRUE(NextLeaseTakes(h, first));
  EXPECT_EQ(Reasons(Explain(h, id)), std::vector<WaitReason>{WaitReason::kQueueRateLimited});
  u.rate_limit = RateLimit{1, Millis(100)};
  ASSERT_TRUE(h->UpdateQueue("q", u).ok());
  h.clock().Advance(Millis(99));
  EXPECT_EQ(Reasons(Explain(h, id)), std::vector<WaitReason>{WaitReason::kQueueRateLimited});
  EXPECT_FALSE(NextLeaseTakes(h, id));
  h.clock().Advance(Millis(1));
  EXPECT_EQ(Reasons(Explain(h, id)), std::vector<WaitReason>{WaitReason::kRunnable});
  EXPECT_TRUE(NextLeaseTakes(h, id));
}

TEST(ExplainTest, FinishedJobsSayHowTheyEnded) {
  EngineHarness h;
  JobId done = Enqueue(h);
  LeasedJob j = h.LeaseOne("q");
  ASSERT_TRUE(h->Complete({done, j.token, "", {}}).ok());
  EXPECT_EQ(Reasons(Explain(h, done)), std::vector<WaitReason>{WaitReason::kCompleted});

  JobId dead = Enqueue(h);
  j = h.LeaseOne("q");
  ASSERT_TRUE(h->Fail({dead, j.token, "bad input", false}).ok());
  JobExplanation e = Explain(h, dead);
  ASSERT_EQ(Reasons(e), std::vector<WaitReason>{WaitReason::kDead});
  EXPECT_EQ(e.causes[0].detail, "bad input");

  JobId cancelled = Enqueue(h);
  ASSERT_TRUE(h->Cancel(cancelled).ok());
  EXPECT_EQ(Reasons(Explain(h, cancelled)), std::vector<WaitReason>{WaitReason::kCancelled});
  EXPECT_EQ(h->ExplainJob(999999).status().code(), absl::StatusCode::kNotFound);
}

TEST(ExplainTest, NoRecentLeaseIsReported) {
  EngineHarness h;
  JobId id = Enqueue(h);
  JobExplanation e = Explain(h, id);
  ASSERT_EQ(e.causes.size(), 2u);
  EXPECT_EQ(e.causes[1].reason, WaitReason::kNoRecentLease);
  EXPECT_FALSE(e.causes[1].idle.has_value());  // never since open
  ASSERT_TRUE(h->Lease(LeaseRequest{"other-queue-is-not-it", 1, Millis(1000), "w"}).ok());
  auto none = h->Lease(LeaseRequest{"q", 1, Millis(1000), "w"});  // takes it
  ASSERT_TRUE(none.ok());
  JobId next = Enqueue(h);
  EXPECT_EQ(Explain(h, next).causes.size(), 1u);  // leased just now
  h.clock().Advance(Millis(61000));
  e = Explain(h, next);
  ASSERT_EQ(e.causes.size(), 2u);
  EXPECT_EQ(*e.causes[1].idle, Millis(61000));
}

TEST(ExplainTest, AheadInKeyCountsTheJobsLeasedFirst) {
  EngineHarness h;
  Enqueue(h, "k");
  Enqueue(h, "k");
  JobId id = Enqueue(h, "k");
  Enqueue(h, "other");
  EXPECT_EQ(Explain(h, id).ahead_in_key, 2);
}

}  // namespace
}  // namespace ratchet
