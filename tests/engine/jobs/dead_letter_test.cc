#include <gtest/gtest.h>

#include "engine_harness.h"
#include "ratchet/engine/engine.h"

namespace ratchet {
namespace {

using testing::EngineHarness;

// Enqueues a job of `type` and fails it non-retryably into the DLQ.
JobId KillJob(EngineHarness& h, const std::string& type = "t") {
  EnqueueRequest r;
  r.queue = "q";
  r.job_type = type;
  r.max_attempts = 3;
  JobId id = h->Enqueue(r)->id;
  LeasedJob job = h.LeaseOne("q");
  EXPECT_EQ(job.id, id);
  EXPECT_EQ(h->Fail({id, job.token, "fatal", false})->state, JobState::kDead);
  return id;
}

TEST(DeadLetterTest, DeadJobsAreListedInTheQueuesDlq) {
  EngineHarness h;
  JobId a = KillJob(h);
  JobId b = KillJob(h);
  auto dlq = h->List({"q", JobState::kDead, 10, ""});
  ASSERT_TRUE(dlq.ok()) << dlq.status();
  ASSERT_EQ(dlq->jobs.size(), 2u);
  EXPECT_EQ(dlq->jobs[0].id, a);
  EXPECT_EQ(dlq->jobs[1].id, b);
}

TEST(DeadLetterTest, FailReportsTheJobsQueueAndWorkerForLogs) {
  EngineHarness h;
  JobId id = h.Enqueue("mail");
  auto leased = h->Lease({.queue = "mail", .worker_id = "w7"});
  ASSERT_TRUE(leased.ok() && leased->size() == 1);
  FailRequest fail{id, leased->front().token, "fatal", false};
  auto r = h->Fail(fail);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->queue, "mail");
  EXPECT_EQ(r->worker_id, "w7");
  auto repeat = h->Fail(fail);  // the idempotent repeat reports them too
  ASSERT_TRUE(repeat.ok());
  EXPECT_EQ(repeat->queue, "mail");
  EXPECT_EQ(repeat->worker_id, "w7");
}

TEST(DeadLetterTest, RedriveOneJobKeepsHistoryAndGrantsAnAttempt) {
  EngineHarness h;
  JobId id = KillJob(h);
  RedriveRequest req;
  req.filter.job_id = id;
  auto r = h->Redrive(req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->count, 1);
  auto job = h->Get(id);
  EXPECT_EQ(job->state, JobState::kAvailable);
  EXPECT_EQ(job->errors.size(), 1u) << "history lost on redrive";
  LeasedJob again = h.LeaseOne("q");
  EXPECT_EQ(again.id, id);
  EXPECT_EQ(again.attempt, 2);
  EXPECT_TRUE(h->Complete({id, again.token, "", {}}).ok());
  EXPECT_TRUE(h->List({"q", JobState::kDead, 10, ""})->jobs.empty());
}

TEST(DeadLetterTest, RedriveWithResetStartsAttemptsOver) {
  EngineHarness h;
  JobId id = KillJob(h);
  RedriveRequest req;
  req.filter.queue = "q";
  req.reset_attempts = true;
  ASSERT_EQ(h->Redrive(req)->count, 1);
  EXPECT_EQ(h->Get(id)->attempts, 0);
  EXPECT_EQ(h.LeaseOne("q").attempt, 1);
}

TEST(DeadLetterTest, RedriveByFilterAndLimitReportsMore) {
  EngineHarness h;
  KillJob(h, "a");
  JobId b1 = KillJob(h, "b");
  JobId b2 = KillJob(h, "b");
  RedriveRequest req;
  req.filter.queue = "q";
  req.filter.job_type = "b";
  req.filter.limit = 1;
  auto first = h->Redrive(req);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->count, 1);
  EXPECT_TRUE(first->more);
  auto second = h->Redrive(req);
  EXPECT_EQ(second->count, 1);
  EXPECT_FALSE(second->more);
  EXPECT_EQ(h->Get(b1)->state, JobState::kAvailable);
  EXPECT_EQ(h->Get(b2)->state, JobState::kAvailable);
  EXPECT_EQ(h->List({"q", JobState::kDead, 10, ""})->jobs.size(), 1u);
}

TEST(DeadLetterTest, RedrivingAJobThatIsNotDeadIsRejected) {
  EngineHarness h;
  JobId id = h.Enqueue("q");
  RedriveRequest req;
  req.filter.job_id = id;
  auto r = h->Redrive(req);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReasonOf(r.status()), kReasonInvalidState);
  EXPECT_EQ(h->Get(id)->state, JobState::kAvailable);
  req.filter.job_id = 999;
  EXPECT_EQ(h->Redrive(req).status().code(), absl::StatusCode::kNotFound);
}

TEST(DeadLetterTest, PurgeDeletesDeadJobsButKeepsIdempotencyKeys) {
  EngineHarness h;
  EnqueueRequest r;
  r.queue = "q";
  r.job_type = "t";
  r.idempotency_key = "once";
  JobId id = h->Enqueue(r)->id;
  LeasedJob job = h.LeaseOne("q");
  ASSERT_TRUE(h->Fail({id, job.token, "fatal", false}).ok());
  DeadLetterFilter f;
  f.queue = "q";
  EXPECT_EQ(h->Purge(f)->count, 1);
  EXPECT_EQ(h->Get(id).status().code(), absl::StatusCode::kNotFound);
  auto again = h->Enqueue(r);
  EXPECT_TRUE(again->duplicate);
  EXPECT_EQ(again->id, id);
}

TEST(DeadLetterTest, DeadJobsSurviveReopen) {
  EngineHarness h;
  JobId id = KillJob(h);
  h.Reopen();
  EXPECT_EQ(h->Get(id)->state, JobState::kDead);
  EXPECT_EQ(h->List({"q", JobState::kDead, 10, ""})->jobs.size(), 1u);
}

TEST(DeadLetterTest, QueueCountsFinishedJobsAcrossRedrivePurgeAndReopen) {
  EngineHarness h;
  JobId a = KillJob(h);
  KillJob(h);
  KillJob(h);
  JobId done = h.Enqueue("q");
  LeasedJob job = h.LeaseOne("q");
  ASSERT_EQ(job.id, done);
  ASSERT_TRUE(h->Complete({done, job.token, "", {}}).ok());
  EXPECT_EQ(h->GetQueue("q")->dead, 3);
  EXPECT_EQ(h->GetQueue("q")->completed, 1);
  RedriveRequest redrive;
  redrive.filter.job_id = a;
  ASSERT_TRUE(h->Redrive(redrive).ok());
  DeadLetterFilter purge;
  purge.queue = "q";
  purge.limit = 1;
  ASSERT_TRUE(h->Purge(purge).ok());
  EXPECT_EQ(h->GetQueue("q")->dead, 1);
  h.Reopen();
  auto q = h->GetQueue("q");
  EXPECT_EQ(q->dead, 1) << "count not rebuilt from the index at open";
  EXPECT_EQ(q->completed, 1);
  EXPECT_EQ(q->available, 1);
}

}  // namespace
}  // namespace ratchet
