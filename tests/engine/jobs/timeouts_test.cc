// Attempt timeouts and expiry (docs/consistency.md, "Timeouts and expiry").
#include <gtest/gtest.h>

#include <set>

#include "engine_harness.h"
#include "ratchet/engine/engine.h"
#include "ratchet/engine/explain.h"

namespace ratchet {
namespace {

using testing::EngineHarness;
using testing::kStartMs;

TimePoint At(int64_t ms_after_start) { return FromUnixMs(kStartMs + ms_after_start); }

EnqueueRequest Job(const std::string& key = "") {
  EnqueueRequest r;
  r.queue = "q";
  r.job_type = "t";
  r.concurrency_key = key;
  r.retry_policy = RetryPolicy{Millis(1000), Millis(60000), 2.0, JitterMode::kNone};
  return r;
}

JobId Enqueue(EngineHarness& h, const EnqueueRequest& r) {
  auto res = h->Enqueue(r);
  EXPECT_TRUE(res.ok()) << res.status();
  return res.ok() ? res->id : 0;
}

std::vector<LeasedJob> LeaseN(EngineHarness& h, int n, Millis vt = Millis(30000)) {
  auto r = h->Lease(LeaseRequest{"q", n, vt, "w"});
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : std::vector<LeasedJob>{};
}

EnqueueRequest Timed(Millis timeout, int max_attempts = 3) {
  EnqueueRequest r = Job();
  r.attempt_timeout = timeout;
  r.max_attempts = max_attempts;
  return r;
}

EnqueueRequest Expiring(int64_t expires_after_start_ms, const std::string& key = "") {
  EnqueueRequest r = Job(key);
  r.expires_at = At(expires_after_start_ms);
  return r;
}

void ExpectExpired(EngineHarness& h, JobId id) {
  auto job = h->Get(id);
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->state, JobState::kCancelled);
  EXPECT_EQ(job->cancel_reason, kCancelReasonExpired);
  EXPECT_EQ(job->attempts, 0) << "an expired job never starts";
  EXPECT_FALSE(job->attempt_started_at.has_value());
}

// ---- Attempt timeout ----

TEST(TimeoutsTest, LeasedJobCarriesTheAttemptTimeoutAndDeadline) {
  EngineHarness h;
  Enqueue(h, Timed(Millis(5000)));
  LeasedJob j = LeaseN(h, 1, Millis(30000)).at(0);
  EXPECT_EQ(j.attempt_timeout, Millis(5000));
  ASSERT_TRUE(j.attempt_deadline.has_value());
  EXPECT_EQ(*j.attempt_deadline, At(5000));
  EXPECT_EQ(j.lease_deadline, At(5000)) << "the lease is capped at the attempt deadline";
  auto job = h->Get(j.id);
  EXPECT_EQ(job->attempt_timeout, Millis(5000));
  EXPECT_EQ(job->attempt_started_at, At(0));
}

TEST(TimeoutsTest, HeartbeatCannotExtendPastTheAttemptDeadline) {
  EngineHarness h;
  JobId id = Enqueue(h, Timed(Millis(5000)));
  LeasedJob j = LeaseN(h, 1, Millis(3000)).at(0);
  EXPECT_EQ(j.lease_deadline, At(3000));
  h.clock().Advance(Millis(2000));
  auto hb = h->Heartbeat({id, j.token, std::nullopt});
  ASSERT_TRUE(hb.ok()) << hb.status();
  EXPECT_EQ(hb->lease_deadline, At(5000)) << "now + 3 s is past the attempt deadline";
  h.clock().Advance(Millis(2000));
  hb = h->Heartbeat({id, j.token, Millis(60000)});
  ASSERT_TRUE(hb.ok()) << hb.status();
  EXPECT_EQ(hb->lease_deadline, At(5000)) << "an explicit extension is capped too";
  h.clock().Advance(Millis(1000));  // at the attempt deadline
  auto late = h->Heartbeat({id, j.token, std::nullopt});
  EXPECT_EQ(ReasonOf(late.status()), kReasonLeaseLost) << late.status();
}

TEST(TimeoutsTest, HungAttemptFailsWithAttemptTimedOutAndRetriesWithBackoff) {
  EngineHarness h;
  JobId id = Enqueue(h, Timed(Millis(2000)));
  LeasedJob first = LeaseN(h, 1).at(0);
  h.clock().Advance(Millis(1000));
  ASSERT_TRUE(h->Heartbeat({id, first.token, std::nullopt}).ok());  // the worker is alive
  h.clock().Advance(Millis(1000));
  ASSERT_TRUE(h->RunMaintenance().ok());
  auto job = h->Get(id);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->state, JobState::kScheduled);
  ASSERT_EQ(job->errors.size(), 1u);
  EXPECT_EQ(job->errors[0].message, "attempt timed out");
  EXPECT_EQ(job->run_at, At(3000)) << "the retry policy's 1 s backoff";
  // A late outcome is fenced off: the attempt is over.
  auto late = h->Complete({id, first.token, "late", {}});
  EXPECT_EQ(ReasonOf(late), kReasonLeaseLost) << late;
  EXPECT_TRUE(LeaseN(h, 1).empty()) << "backing off";
  h.clock().Advance(Millis(1000));
  LeasedJob second = LeaseN(h, 1).at(0);
  EXPECT_EQ(second.attempt, 2);
  EXPECT_EQ(*second.attempt_deadline, At(5000)) << "each attempt has its own deadline";
}

TEST(TimeoutsTest, ALeaseThatExpiresBeforeTheAttemptDeadlineIsALeaseExpiry) {
  EngineHarness h;
  JobId id = Enqueue(h, Timed(Millis(10000)));
  LeaseN(h, 1, Millis(1000));
  h.clock().Advance(Millis(1000));
  ASSERT_TRUE(h->RunMaintenance().ok());
  auto job = h->Get(id);
  ASSERT_EQ(job->errors.size(), 1u);
  EXPECT_EQ(job->errors[0].message, "lease expired");
}

TEST(TimeoutsTest, TimeoutOfTheLastAttemptDeadLetters) {
  EngineHarness h;
  JobId id = Enqueue(h, Timed(Millis(2000), /*max_attempts=*/1));
  LeaseN(h, 1);
  h.clock().Advance(Millis(2000));
  ASSERT_TRUE(h->RunMaintenance().ok());
  auto job = h->Get(id);
  EXPECT_EQ(job->state, JobState::kDead);
  ASSERT_EQ(job->errors.size(), 1u);
  EXPECT_EQ(job->errors[0].message, "attempt timed out");
}

TEST(TimeoutsTest, AttemptTimeoutIsValidated) {
  EngineHarness h;
  EnqueueRequest r = Timed(Millis(-1));
  auto s = h->Enqueue(r).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("attempt_timeout"), std::string::npos) << s;
  r.attempt_timeout = kMaxAttemptTimeout + Millis(1);
  s = h->Enqueue(r).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("attempt_timeout"), std::string::npos) << s;
  r.attempt_timeout = kMaxAttemptTimeout;
  EXPECT_TRUE(h->Enqueue(r).ok());
}

// ---- Expiry ----

TEST(TimeoutsTest, ExpiryCancelsAWaitingJobWithReasonExpired) {
  EngineHarness h;
  JobId id = Enqueue(h, Expiring(1000));
  auto before = h->ExplainJob(id);
  ASSERT_TRUE(before.ok());
  EXPECT_EQ(before->expires_at, At(1000)) << "the pending expiry is mentioned";
  h.clock().Advance(Millis(1000));
  ASSERT_TRUE(h->RunMaintenance().ok());
  ExpectExpired(h, id);
  EXPECT_EQ(h->Stats().expired_jobs, 1u);
  auto e = h->ExplainJob(id);
  ASSERT_TRUE(e.ok());
  ASSERT_EQ(e->causes.size(), 1u);
  EXPECT_EQ(e->causes[0].reason, WaitReason::kExpired);
  // Retained like a cancelled job: listed and counted as one.
  auto q = h->GetQueue("q");
  ASSERT_TRUE(q.ok());
  EXPECT_EQ(q->cancelled, 1);
}

TEST(TimeoutsTest, AnExpiredJobIsNeverLeasedWhenItIsTheOnlyJob) {
  EngineHarness h;
  JobId id = Enqueue(h, Expiring(1000));
  h.clock().Advance(Millis(1000));
  // No maintenance ran: the Lease itself must refuse (and cancel) it.
  EXPECT_TRUE(LeaseN(h, 10).empty());
  ExpectExpired(h, id);
}

TEST(TimeoutsTest, RetryJobRefusesAnExpiredJobThatNeverStarted) {
  EngineHarness h;
  EnqueueRequest r = Expiring(1000);
  r.delay = Millis(500);  // due before its expiry, not leased by then
  JobId id = Enqueue(h, r);
  h.clock().Advance(Millis(1000));
  auto retried = h->RetryJob(id);
  EXPECT_EQ(ReasonOf(retried.status()), kReasonInvalidState) << retried.status();
  // The group's expiry pass usually cancels it first ("is cancelled"); a
  // job the pass has not reached yet is refused as expired.
  EXPECT_TRUE(LeaseN(h, 10).empty());
  ExpectExpired(h, id);
}

// Expiry runs on the latest time the engine has seen: after the clock steps
// back, RetryJob still refuses a job that expired, even one the groups'
// expiry passes (1,000 jobs each) have not reached yet.
TEST(TimeoutsTest, RetryJobRefusesAnExpiredJobAfterTheClockStepsBack) {
  EngineHarness h;
  for (int i = 0; i < 2; ++i) {
    std::vector<EnqueueRequest> batch(1000, Expiring(1000));
    for (EnqueueRequest& r : batch) r.delay = Millis(500);
    ASSERT_TRUE(h->EnqueueBatch(batch).ok());
  }
  EnqueueRequest last = Expiring(1001);  // the last to expire
  last.delay = Millis(500);
  JobId id = Enqueue(h, last);
  h.clock().Advance(Millis(2000));
  ASSERT_TRUE(h->Lease(LeaseRequest{"other", 1, Millis(30000), "w"}).ok());  // a group at +2 s
  h.clock().Set(At(100));  // the clock steps back, before the expiry
  auto retried = h->RetryJob(id);
  EXPECT_EQ(ReasonOf(retried.status()), kReasonInvalidState) << retried.status();
  EXPECT_TRUE(LeaseN(h, 10).empty());
  ExpectExpired(h, id);
}

TEST(TimeoutsTest, AnExpiredHeadOfAKeyGroupIsCancelledAndTheNextJobLeased) {
  EngineHarness h;
  JobId expiring = Enqueue(h, Expiring(1000, "a"));
  JobId behind = Enqueue(h, Job("a"));
  JobId other = Enqueue(h, Job("b"));
  h.clock().Advance(Millis(1000));
  std::set<JobId> leased;
  for (const LeasedJob& j : LeaseN(h, 10)) leased.insert(j.id);
  EXPECT_EQ(leased, (std::set<JobId>{behind, other}));
  ExpectExpired(h, expiring);
}

// More expired jobs than a maintenance pass cancels (1,000 per group): the
// Lease itself must refuse the expired heads it meets, whatever the pass
// left. Without the Lease's own check it would start one.
TEST(TimeoutsTest, LeaseRefusesExpiredHeadsThePassHasNotReached) {
  EngineHarness h;
  std::vector<EnqueueRequest> reqs(6000, Expiring(1000));
  for (EnqueueRequest& r : reqs) r.priority = 0;  // ahead of `later`
  auto expiring = h->EnqueueBatch(reqs);
  ASSERT_TRUE(expiring.ok()) << expiring.status();
  JobId later = Enqueue(h, Job());
  h.clock().Advance(Millis(1000));
  for (const LeasedJob& j : LeaseN(h, 1)) EXPECT_EQ(j.id, later) << "an expired job started";
  for (int i = 0; i < 10; ++i) ASSERT_TRUE(h->RunMaintenance().ok());
  EXPECT_EQ(h->Stats().expired_jobs, 6000u);
  auto q = h->GetQueue("q");
  EXPECT_EQ(q->cancelled, 6000);
}

TEST(TimeoutsTest, AJobLeasedBeforeItsExpiryIsNotExpiredLater) {
  EngineHarness h;
  JobId id = Enqueue(h, Expiring(1000));
  LeasedJob j = LeaseN(h, 1).at(0);
  ASSERT_TRUE(h->Fail({id, j.token, "boom", true}).ok());
  h.clock().Advance(Millis(5000));  // past expires_at and the backoff
  ASSERT_TRUE(h->RunMaintenance().ok());
  auto again = LeaseN(h, 1);
  ASSERT_EQ(again.size(), 1u) << "its retries are not subject to expiry";
  EXPECT_EQ(again[0].attempt, 2);
}

TEST(TimeoutsTest, ExpiryHoldsAcrossReopen) {
  EngineHarness h(/*in_memory=*/false);
  JobId expiring = Enqueue(h, Expiring(10000));
  JobId keeps = Enqueue(h, Job());
  h.Reopen();
  h.clock().Advance(Millis(10000));
  auto jobs = LeaseN(h, 10);
  ASSERT_EQ(jobs.size(), 1u);
  EXPECT_EQ(jobs[0].id, keeps);
  ExpectExpired(h, expiring);
  h.Reopen();
  ExpectExpired(h, expiring);
  auto e = h->ExplainJob(expiring);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->causes.at(0).reason, WaitReason::kExpired);
}

TEST(TimeoutsTest, AClockStepBackDoesNotUnexpire) {
  EngineHarness h;
  JobId id = Enqueue(h, Expiring(1000));
  h.clock().Advance(Millis(2000));
  auto e = h->ExplainJob(id);  // the engine has seen the time pass
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->causes.at(0).reason, WaitReason::kExpired);
  h.clock().Set(At(0));  // stepped back before expires_at
  EXPECT_TRUE(LeaseN(h, 10).empty());
  ExpectExpired(h, id);
}

// Review finding: after a backward clock step, an expires_at after the
// clock's now but before the latest time the engine has seen was accepted
// and the job cancelled at once. It is refused instead.
TEST(TimeoutsTest, AnExpiryBehindTheExpiryClockIsRefusedAfterAClockStepBack) {
  EngineHarness h;
  h.clock().Advance(Millis(60000));
  ASSERT_TRUE(h->RunMaintenance().ok());  // the engine has seen +60 s
  h.clock().Set(At(0));
  auto s = h->Enqueue(Expiring(30000)).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find("expires_at"), std::string::npos) << s;
  EXPECT_TRUE(h->Enqueue(Expiring(90000)).ok());
}

TEST(TimeoutsTest, ExpiryIsValidated) {
  EngineHarness h;
  auto s = h->Enqueue(Expiring(0)).status();  // now: could never start
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("expires_at"), std::string::npos) << s;
  EnqueueRequest r = Expiring(1000);
  r.delay = Millis(1000);  // runs no earlier than it expires
  s = h->Enqueue(r).status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("expires_at"), std::string::npos) << s;
  auto batch = h->EnqueueBatch({Job(), Expiring(-5)});
  EXPECT_EQ(batch.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(batch.status().message().find("jobs[1].expires_at"), std::string::npos)
      << batch.status();
  EXPECT_EQ(h->Stats().live_jobs, 0u) << "a rejected request changes nothing";
}

TEST(TimeoutsTest, ExpiryPassCancelsManyExpiredJobs) {
  EngineHarness h;
  std::vector<JobId> ids;
  for (int i = 0; i < 50; ++i) ids.push_back(Enqueue(h, Expiring(1000 + i)));
  h.clock().Advance(Millis(1025));
  ASSERT_TRUE(h->RunMaintenance().ok());
  for (int i = 0; i < 50; ++i) {
    auto job = h->Get(ids[i]);
    EXPECT_EQ(job->state, i <= 25 ? JobState::kCancelled : JobState::kAvailable) << i;
  }
  EXPECT_EQ(h->Stats().expired_jobs, 26u);
}

}  // namespace
}  // namespace ratchet
