#include <gtest/gtest.h>

#include "engine_harness.h"
#include "ratchet/engine/engine.h"

namespace ratchet {
namespace {

using testing::EngineHarness;

JobId EnqueueWith(EngineHarness& h, int priority, int max_attempts = 3) {
  EnqueueRequest r;
  r.queue = "q";
  r.job_type = "t";
  r.priority = priority;
  r.max_attempts = max_attempts;
  r.retry_policy = RetryPolicy{Millis(1000), Millis(60000), 2.0, JitterMode::kNone};
  return h->Enqueue(r)->id;
}

std::vector<LeasedJob> LeaseN(EngineHarness& h, int n, Millis vt = Millis(30000)) {
  auto r = h->Lease(LeaseRequest{"q", n, vt, "worker-1"});
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : std::vector<LeasedJob>{};
}

TEST(LeaseTest, LeasesByPriorityThenFifo) {
  EngineHarness h;
  JobId low1 = EnqueueWith(h, 5);
  JobId high = EnqueueWith(h, 1);
  JobId low2 = EnqueueWith(h, 5);
  auto jobs = LeaseN(h, 3);
  ASSERT_EQ(jobs.size(), 3u);
  EXPECT_EQ(jobs[0].id, high);
  EXPECT_EQ(jobs[1].id, low1);
  EXPECT_EQ(jobs[2].id, low2);
}

TEST(LeaseTest, EachLeaseGetsAFreshIncreasingTokenAndAnAttempt) {
  EngineHarness h;
  EnqueueWith(h, 1);
  EnqueueWith(h, 1);
  auto jobs = LeaseN(h, 2, Millis(1000));
  ASSERT_EQ(jobs.size(), 2u);
  EXPECT_LT(jobs[0].token, jobs[1].token);
  EXPECT_EQ(jobs[0].attempt, 1);
  EXPECT_EQ(jobs[0].lease_deadline, h.clock().Now() + Millis(1000));
}

TEST(LeaseTest, IdsAndTokensAreNeverReissuedEvenAfterTheirJobsArePruned) {
  EngineHarness h;
  QueueSettings s;
  s.completed_retention = Millis(1000);
  ASSERT_TRUE(h->UpdateQueue("q", s).ok());
  JobId first_id = EnqueueWith(h, 1);
  LeasedJob first = LeaseN(h, 1)[0];
  ASSERT_TRUE(h->Complete({first_id, first.token, "", {}}).ok());
  // Prune the job: no record on disk still carries its id or token, so only
  // the persisted high-water marks can prevent their reuse.
  h.clock().Advance(Millis(2000));
  ASSERT_TRUE(h->RunMaintenance().ok());
  ASSERT_EQ(h->Get(first_id).status().code(), absl::StatusCode::kNotFound);
  h.Reopen();
  JobId second_id = EnqueueWith(h, 1);
  EXPECT_GT(second_id, first_id) << "job id reused after reopen";
  EXPECT_GT(LeaseN(h, 1)[0].token, first.token) << "fencing token reissued after reopen";
}

TEST(LeaseTest, NeverExceedsConcurrencyLimit) {
  EngineHarness h;
  for (int i = 0; i < 5; ++i) EnqueueWith(h, 1);
  QueueSettings s;
  s.concurrency_limit = 2;
  ASSERT_TRUE(h->UpdateQueue("q", s).ok());
  EXPECT_EQ(LeaseN(h, 5).size(), 2u);
  EXPECT_EQ(LeaseN(h, 5).size(), 0u);
  EXPECT_EQ(h->GetQueue("q")->running, 2);
}

TEST(LeaseTest, PausedQueueLeasesNothingUntilResumed) {
  EngineHarness h;
  EnqueueWith(h, 1);
  ASSERT_TRUE(h->PauseQueue("q").ok());
  EXPECT_TRUE(LeaseN(h, 1).empty());
  h.Reopen();
  EXPECT_TRUE(LeaseN(h, 1).empty()) << "pause not persisted";
  ASSERT_TRUE(h->ResumeQueue("q").ok());
  EXPECT_EQ(LeaseN(h, 1).size(), 1u);
}

TEST(LeaseTest, CompleteIsIdempotentAndStaleTokenIsLeaseLost) {
  EngineHarness h;
  JobId id = EnqueueWith(h, 1);
  LeasedJob job = LeaseN(h, 1)[0];
  ASSERT_TRUE(h->Complete({id, job.token, "done", {}}).ok());
  EXPECT_TRUE(h->Complete({id, job.token, "done", {}}).ok()) << "repeat must be OK";
  auto stale = h->Complete({id, job.token - 1, "x", {}});
  EXPECT_EQ(stale.code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReasonOf(stale), kReasonLeaseLost);
  auto got = h->Get(id);
  EXPECT_EQ(got->state, JobState::kCompleted);
  EXPECT_EQ(got->result, "done");
}

TEST(LeaseTest, StaleWorkerCannotCompleteAfterExpiryAndReLease) {
  EngineHarness h;
  JobId id = EnqueueWith(h, 1);
  LeasedJob old_lease = LeaseN(h, 1, Millis(1000))[0];
  h.clock().Advance(Millis(1000));  // deadline reached: the lease expires
  ASSERT_TRUE(h->RunMaintenance().ok());
  h.clock().Advance(Millis(1000));  // past the 1 s retry backoff
  LeasedJob new_lease = LeaseN(h, 1)[0];
  ASSERT_EQ(new_lease.id, id);
  EXPECT_EQ(new_lease.attempt, 2);
  auto s = h->Complete({id, old_lease.token, "late", {}});
  EXPECT_EQ(ReasonOf(s), kReasonLeaseLost) << s;
  // The refusal never tells the stale worker the token that now holds the
  // lease: it could complete the new attempt's job with it.
  const std::string message(s.message());
  EXPECT_EQ(message.find(std::to_string(new_lease.token)), std::string::npos) << message;
  EXPECT_EQ(message.find("current"), std::string::npos) << message;
  EXPECT_TRUE(h->Complete({id, new_lease.token, "ok", {}}).ok());
  auto job = h->Get(id);
  EXPECT_EQ(job->errors.size(), 1u);
  EXPECT_EQ(job->errors[0].message, "lease expired");
}

// Regression (issue 10): at most 1,000 leases expire per group, so a lease
// past its deadline could still look held; it must not accept anything.
TEST(LeaseTest, LeasePastItsDeadlineAcceptsNothingWhenManyExpireAtOnce) {
  EngineHarness h;
  std::vector<EnqueueRequest> batch(1500, EnqueueRequest{.queue = "q", .job_type = "t"});
  ASSERT_TRUE(h->EnqueueBatch(batch).ok());
  std::vector<LeasedJob> leased = LeaseN(h, 1000, Millis(1000));
  for (const LeasedJob& j : LeaseN(h, 500, Millis(1000))) leased.push_back(j);
  ASSERT_EQ(leased.size(), 1500u);
  h.clock().Advance(Millis(1000));  // every deadline reached
  const LeasedJob& last = leased.back();
  auto done = h->Complete({last.id, last.token, "late", {}});
  EXPECT_EQ(ReasonOf(done), kReasonLeaseLost) << done;
  const LeasedJob& other = leased[1400];
  auto hb = h->Heartbeat({other.id, other.token, Millis(60000)});
  EXPECT_EQ(ReasonOf(hb.status()), kReasonLeaseLost) << "a late heartbeat revived the lease";
  auto failed = h->Fail({leased[1300].id, leased[1300].token, "late", true});
  EXPECT_EQ(ReasonOf(failed.status()), kReasonLeaseLost);
  ASSERT_TRUE(h->RunMaintenance().ok());
  ASSERT_TRUE(h->RunMaintenance().ok());
  for (const LeasedJob* j : std::vector<const LeasedJob*>{&last, &other, &leased[1300]}) {
    auto job = h->Get(j->id);
    EXPECT_EQ(job->state, JobState::kScheduled) << "job " << j->id;
    ASSERT_EQ(job->errors.size(), 1u);
    EXPECT_EQ(job->errors[0].message, "lease expired");
  }
}

// Regression (issue 10): expiry used to mark the token as failed, so a late
// Fail answered OK and its error text and retryable flag were dropped.
TEST(LeaseTest, FailAfterTheLeaseExpiredIsLeaseLost) {
  EngineHarness h;
  JobId id = EnqueueWith(h, 1);
  LeasedJob job = LeaseN(h, 1, Millis(1000))[0];
  h.clock().Advance(Millis(1000));
  ASSERT_TRUE(h->RunMaintenance().ok());
  auto late = h->Fail({id, job.token, "worker error", false});
  EXPECT_EQ(ReasonOf(late.status()), kReasonLeaseLost) << late.status();
  auto got = h->Get(id);
  EXPECT_EQ(got->state, JobState::kScheduled);
  ASSERT_EQ(got->errors.size(), 1u);
  EXPECT_EQ(got->errors[0].message, "lease expired");
}

// Regression (issue 10): the stored error was cut at byte 4,096, inside a
// multi-byte character; the record then no longer parsed (Get, List and
// Lease answered DATA_LOSS and the engine could not reopen).
TEST(LeaseTest, LongErrorIsCutOnACharacterBoundaryAndTheJobStaysReadable) {
  EngineHarness h(/*in_memory=*/false);
  JobId id = EnqueueWith(h, 1);
  LeasedJob job = LeaseN(h, 1)[0];
  std::string error(4095, 'e');
  error += "\u00e9";        // bytes 4,095 and 4,096: the limit falls inside it
  error.resize(4133, 'x');  // the 4,133-byte error of the report
  ASSERT_TRUE(h->Fail({id, job.token, error, true}).ok());
  auto got = h->Get(id);
  ASSERT_TRUE(got.ok()) << got.status();
  ASSERT_EQ(got->errors.size(), 1u);
  EXPECT_EQ(got->errors[0].message, error.substr(0, 4095));
  h.Reopen();
  EXPECT_TRUE(h->Get(id).ok());
}

TEST(LeaseTest, FailWithAnErrorThatIsNotUtf8IsRejectedAndChangesNothing) {
  EngineHarness h;
  JobId id = EnqueueWith(h, 1);
  LeasedJob job = LeaseN(h, 1)[0];
  auto bad = h->Fail({id, job.token, std::string("broken \xC3("), true});
  EXPECT_TRUE(absl::IsInvalidArgument(bad.status())) << bad.status();
  EXPECT_NE(bad.status().message().find("error"), absl::string_view::npos);
  EXPECT_EQ(h->Get(id)->state, JobState::kRunning);
  EXPECT_TRUE(h->Complete({id, job.token, "", {}}).ok());
}

// Regression (issue 10): a Lease answer is bounded in bytes; it takes jobs
// while they fit, always at least one, and leaves the rest available.
TEST(LeaseTest, LeaseTakesOnlyTheJobsThatFitItsByteBound) {
  EngineHarness h;
  const std::string payload(1 << 20, 'p');
  for (int i = 0; i < 20; ++i) {
    ASSERT_TRUE(h->Enqueue({.queue = "q", .job_type = "t", .payload = payload}).ok());
  }
  std::vector<LeasedJob> first = LeaseN(h, 20);  // default bound: 8 MiB
  ASSERT_FALSE(first.empty());
  EXPECT_LT(first.size(), 8u);
  EXPECT_LE(first.size() * payload.size(), h.options().max_lease_bytes);
  auto tiny = h->Lease({.queue = "q", .max_jobs = 20, .max_bytes = 1});
  ASSERT_TRUE(tiny.ok());
  EXPECT_EQ(tiny->size(), 1u) << "always at least one job";
  auto info = h->GetQueue("q");
  EXPECT_EQ(info->running, static_cast<int64_t>(first.size() + 1));
  EXPECT_EQ(info->available, static_cast<int64_t>(20 - first.size() - 1));
}

TEST(LeaseTest, HeartbeatExtendsTheLease) {
  EngineHarness h;
  JobId id = EnqueueWith(h, 1);
  LeasedJob job = LeaseN(h, 1, Millis(1000))[0];
  h.clock().Advance(Millis(900));
  auto hb = h->Heartbeat({id, job.token, Millis(5000)});
  ASSERT_TRUE(hb.ok()) << hb.status();
  EXPECT_EQ(hb->lease_deadline, h.clock().Now() + Millis(5000));
  h.clock().Advance(Millis(4000));
  EXPECT_TRUE(h->Complete({id, job.token, "", {}}).ok()) << "extended lease expired";
}

TEST(LeaseTest, HeartbeatWithStaleTokenIsLeaseLost) {
  EngineHarness h;
  JobId id = EnqueueWith(h, 1);
  LeasedJob job = LeaseN(h, 1)[0];
  auto hb = h->Heartbeat({id, job.token + 1, std::nullopt});
  EXPECT_EQ(ReasonOf(hb.status()), kReasonLeaseLost);
  EXPECT_EQ(h->Heartbeat({999, 1, std::nullopt}).status().code(), absl::StatusCode::kNotFound);
}

TEST(LeaseTest, FailSchedulesRetryAfterBackoffThenDeadLettersAtExhaustion) {
  EngineHarness h;
  JobId id = EnqueueWith(h, 1, /*max_attempts=*/2);
  LeasedJob a1 = LeaseN(h, 1)[0];
  auto f1 = h->Fail({id, a1.token, "boom 1", true});
  ASSERT_TRUE(f1.ok());
  EXPECT_EQ(f1->state, JobState::kScheduled);
  EXPECT_EQ(*f1->retry_at, h.clock().Now() + Millis(1000));
  EXPECT_TRUE(LeaseN(h, 1).empty()) << "leased during backoff";
  h.clock().Advance(Millis(1000));
  LeasedJob a2 = LeaseN(h, 1)[0];
  auto f2 = h->Fail({id, a2.token, "boom 2", true});
  ASSERT_TRUE(f2.ok());
  EXPECT_EQ(f2->state, JobState::kDead);
  auto job = h->Get(id);
  EXPECT_EQ(job->state, JobState::kDead);
  EXPECT_EQ(job->attempts, 2);
  ASSERT_EQ(job->errors.size(), 2u);
  EXPECT_EQ(job->errors[1].attempt, 2);
  EXPECT_EQ(job->errors[1].message, "boom 2");
}

TEST(LeaseTest, RepeatedFailIsAcknowledgedWithoutEffect) {
  EngineHarness h;
  JobId id = EnqueueWith(h, 1);
  LeasedJob job = LeaseN(h, 1)[0];
  auto first = h->Fail({id, job.token, "boom", true});
  auto again = h->Fail({id, job.token, "boom", true});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->retry_at, first->retry_at);
  EXPECT_EQ(h->Get(id)->errors.size(), 1u);
  // Still the same answer after the job was leased again by someone else.
  h.clock().Advance(Millis(1000));
  LeasedJob next = LeaseN(h, 1)[0];
  auto late = h->Fail({id, job.token, "boom", true});
  ASSERT_TRUE(late.ok());
  EXPECT_EQ(late->state, JobState::kScheduled);
  EXPECT_EQ(h->Get(id)->token, next.token) << "the repeat touched the new lease";
}

TEST(LeaseTest, FailBatchAnswersEachItem) {
  EngineHarness h;
  JobId a = EnqueueWith(h, 1);
  JobId b = EnqueueWith(h, 1);
  auto jobs = LeaseN(h, 2);
  auto r = h->FailBatch({{a, jobs[0].token, "x", true}, {b, jobs[1].token + 7, "y", true}});
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_TRUE((*r)[0].ok());
  EXPECT_EQ((*r)[0]->state, JobState::kScheduled);
  EXPECT_EQ(ReasonOf((*r)[1].status()), kReasonLeaseLost);
  EXPECT_EQ(h->Get(b)->state, JobState::kRunning);
}

TEST(LeaseTest, NonRetryableFailureGoesStraightToDeadLetters) {
  EngineHarness h;
  JobId id = EnqueueWith(h, 1, 10);
  LeasedJob job = LeaseN(h, 1)[0];
  EXPECT_EQ(h->Fail({id, job.token, "bad input", false})->state, JobState::kDead);
}

TEST(LeaseTest, CancelRunningJobIsSeenOnHeartbeatAndEndsCancelled) {
  EngineHarness h;
  JobId id = EnqueueWith(h, 1);
  LeasedJob job = LeaseN(h, 1)[0];
  EXPECT_EQ(*h->Cancel(id), JobState::kRunning);
  EXPECT_TRUE(h->Heartbeat({id, job.token, std::nullopt})->cancel_requested);
  EXPECT_EQ(h->Fail({id, job.token, "stopped", true})->state, JobState::kCancelled);
  EXPECT_EQ(h->Get(id)->state, JobState::kCancelled);
}

TEST(LeaseTest, CancelWaitingJobAndRejectCompletedOne) {
  EngineHarness h;
  JobId waiting = EnqueueWith(h, 1);
  EXPECT_EQ(*h->Cancel(waiting), JobState::kCancelled);
  EXPECT_TRUE(LeaseN(h, 1).empty());
  JobId done = EnqueueWith(h, 1);
  LeasedJob job = LeaseN(h, 1)[0];
  ASSERT_TRUE(h->Complete({done, job.token, "", {}}).ok());
  EXPECT_EQ(ReasonOf(h->Cancel(done).status()), kReasonInvalidState);
  EXPECT_EQ(h->Cancel(4242).status().code(), absl::StatusCode::kNotFound);
}

TEST(LeaseTest, RetryJobMakesABackingOffJobAvailableNowAndSurvivesReopen) {
  EngineHarness h;
  JobId id = EnqueueWith(h, 1);
  LeasedJob job = LeaseN(h, 1)[0];
  ASSERT_EQ(h->Fail({id, job.token, "flaky", true})->state, JobState::kScheduled);
  EXPECT_TRUE(LeaseN(h, 1).empty()) << "backing off for 1 s";
  // Running, completed or unknown jobs are refused; nothing changes.
  EXPECT_EQ(h->RetryJob(4242).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(*h->RetryJob(id), JobState::kAvailable);
  EXPECT_EQ(*h->RetryJob(id), JobState::kAvailable) << "idempotent";
  h.Reopen();  // the new run_at was written
  std::vector<LeasedJob> again = LeaseN(h, 1);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].id, id);
  EXPECT_EQ(again[0].attempt, 2) << "attempts stay";
  EXPECT_EQ(ReasonOf(h->RetryJob(id).status()), kReasonInvalidState) << "running";
  ASSERT_TRUE(h->Complete({id, again[0].token, "", {}}).ok());
  EXPECT_EQ(ReasonOf(h->RetryJob(id).status()), kReasonInvalidState) << "completed";
  // A delayed job starts now.
  EnqueueRequest delayed;
  delayed.queue = "q";
  delayed.job_type = "t";
  delayed.delay = Millis(3600000);
  JobId later = h->Enqueue(delayed)->id;
  EXPECT_TRUE(LeaseN(h, 1).empty());
  EXPECT_EQ(*h->RetryJob(later), JobState::kAvailable);
  EXPECT_EQ(h->Get(later)->state, JobState::kAvailable);
  EXPECT_EQ(LeaseN(h, 1).size(), 1u);
}

TEST(LeaseTest, RunningLeaseSurvivesReopenAndStillExpires) {
  EngineHarness h;
  JobId id = EnqueueWith(h, 1);
  LeasedJob job = LeaseN(h, 1, Millis(2000))[0];
  h.Reopen();
  EXPECT_EQ(h->Get(id)->state, JobState::kRunning);
  EXPECT_TRUE(h->Heartbeat({id, job.token, Millis(2000)}).ok());
  h.clock().Advance(Millis(2000));
  ASSERT_TRUE(h->RunMaintenance().ok());
  EXPECT_EQ(h->Get(id)->state, JobState::kScheduled);
}

TEST(LeaseTest, InvalidLeaseRequestNamesTheField) {
  EngineHarness h;
  auto r = h->Lease(LeaseRequest{"q", 0, std::nullopt, "w"});
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("max_jobs"), absl::string_view::npos);
}

TEST(LeaseTest, ListShowsJobsPerStateWithPagination) {
  EngineHarness h;
  for (int i = 0; i < 5; ++i) EnqueueWith(h, 1);
  LeaseN(h, 1);
  ListRequest req{"q", JobState::kAvailable, 2, ""};
  std::vector<JobId> seen;
  do {
    auto page = h->List(req);
    ASSERT_TRUE(page.ok()) << page.status();
    for (auto& j : page->jobs) seen.push_back(j.id);
    req.cursor = page->next_cursor;
  } while (!req.cursor.empty());
  EXPECT_EQ(seen, (std::vector<JobId>{2, 3, 4, 5}));
  EXPECT_EQ(h->List({"q", JobState::kRunning, 10, ""})->jobs.size(), 1u);
  EXPECT_EQ(h->List({"q", JobState::kAvailable, 10, "zz"}).status().code(),
            absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ratchet

namespace ratchet::testing {
namespace {

// Refuses every queue but `allowed`, and counts its checks.
class OneQueueGuard final : public QueueGuard {
 public:
  explicit OneQueueGuard(std::string allowed) : allowed_(std::move(allowed)) {}
  absl::Status Check(std::string_view queue) const override {
    ++checks;
    if (queue == allowed_) return absl::OkStatus();
    return absl::PermissionDeniedError("not this queue");
  }
  mutable int checks = 0;

 private:
  const std::string allowed_;
};

// A QueueGuard refuses a heartbeat, completion or failure of a job of
// another queue before the lease is looked at, and the job is unchanged.
TEST(QueueGuardTest, RefusesJobsOfOtherQueuesAndChangesNothing) {
  EngineHarness h;
  JobId id = h.Enqueue("secret");
  LeasedJob job = h.LeaseOne("secret");
  auto guard = std::make_shared<OneQueueGuard>("public");
  HeartbeatRequest hb{id, job.token};
  hb.guard = guard;
  EXPECT_EQ(h->Heartbeat(hb).status().code(), absl::StatusCode::kPermissionDenied);
  CompleteRequest complete{id, job.token, "r", {}};
  complete.guard = guard;
  EXPECT_EQ(h->Complete(complete).code(), absl::StatusCode::kPermissionDenied);
  FailRequest fail{id, job.token, "e", false};
  fail.guard = guard;
  EXPECT_EQ(h->Fail(fail).status().code(), absl::StatusCode::kPermissionDenied);
  // A guessed token gets the same answer: no "current token" in the error.
  CompleteRequest guessed{id, job.token + 7, "r", {}};
  guessed.guard = guard;
  absl::Status s = h->Complete(guessed);
  EXPECT_EQ(s.code(), absl::StatusCode::kPermissionDenied) << s;
  EXPECT_EQ(guard->checks, 4);
  EXPECT_EQ(h->Get(id)->state, JobState::kRunning);
  // The guard of the right queue lets the completion through.
  complete.guard = std::make_shared<OneQueueGuard>("secret");
  EXPECT_TRUE(h->Complete(complete).ok());
  EXPECT_EQ(h->Get(id)->state, JobState::kCompleted);
}

}  // namespace
}  // namespace ratchet::testing
