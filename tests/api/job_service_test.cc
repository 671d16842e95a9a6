// JobService over a real gRPC server: every RPC, its bad input and its
// error reasons, as a client sees them.
#include <cstdint>
#include <string>

#include "ratchet/api/time_codec.h"
#include "server_fixture.h"

namespace ratchet::testing {
namespace {

using absl::StatusCode;

v1::JobSpec Spec(const std::string& queue, const std::string& payload = "p",
                 const std::string& key = "") {
  v1::JobSpec job;
  job.set_queue(queue);
  job.set_job_type("t");
  job.set_payload(payload);
  job.set_idempotency_key(key);
  return job;
}

class JobServiceTest : public ServerFixture {};

TEST_F(JobServiceTest, EnqueueThenGetReturnsTheJob) {
  auto r = client().Enqueue(Spec("q", "hello", "k1"));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_FALSE(r->duplicate());
  auto job = client().GetJob(r->job_id());
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->queue(), "q");
  EXPECT_EQ(job->payload(), "hello");
  EXPECT_EQ(job->idempotency_key(), "k1");
  EXPECT_EQ(job->state(), v1::JOB_STATE_AVAILABLE);
}

TEST_F(JobServiceTest, RepeatedKeyReturnsTheFirstJob) {
  auto first = client().Enqueue(Spec("q", "p", "k"));
  auto second = client().Enqueue(Spec("q", "p", "k"));
  ASSERT_TRUE(first.ok() && second.ok());
  EXPECT_TRUE(second->duplicate());
  EXPECT_EQ(second->job_id(), first->job_id());
}

TEST_F(JobServiceTest, ClientAssignsAKeyWhenNoneIsGiven) {
  auto r = client().Enqueue(Spec("q"));
  ASSERT_TRUE(r.ok());
  auto job = client().GetJob(r->job_id());
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->idempotency_key().rfind("auto-", 0), 0u) << job->idempotency_key();
  // Two key-less enqueues are two jobs.
  auto other = client().Enqueue(Spec("q"));
  ASSERT_TRUE(other.ok());
  EXPECT_NE(other->job_id(), r->job_id());
}

TEST_F(JobServiceTest, KeyReusedWithOtherPayloadIsAlreadyExists) {
  ASSERT_TRUE(client().Enqueue(Spec("q", "a", "k")).ok());
  EXPECT_STATUS(client().Enqueue(Spec("q", "b", "k")).status(), StatusCode::kAlreadyExists,
                kReasonIdempotencyConflict);
}

TEST_F(JobServiceTest, OversizedPayloadIsPayloadTooLarge) {
  auto r = client().Enqueue(Spec("q", std::string(1025, 'x')));
  EXPECT_STATUS(r.status(), StatusCode::kInvalidArgument, kReasonPayloadTooLarge);
  EXPECT_NE(r.status().message().find("1024"), std::string::npos) << r.status();
}

TEST_F(JobServiceTest, BadQueueNameNamesTheField) {
  auto r = client().Enqueue(Spec("bad queue!"));
  EXPECT_STATUS(r.status(), StatusCode::kInvalidArgument, kReasonInvalidArgument);
  EXPECT_NE(r.status().message().find("queue"), std::string::npos) << r.status();
}

TEST_F(JobServiceTest, UnknownJitterValueNamesTheField) {
  v1::JobSpec job = Spec("q");
  job.mutable_retry_policy()->set_jitter(static_cast<v1::Jitter>(42));
  auto r = client().Enqueue(job);
  EXPECT_STATUS(r.status(), StatusCode::kInvalidArgument, kReasonInvalidArgument);
  EXPECT_NE(r.status().message().find("job.retry_policy.jitter"), std::string::npos) << r.status();
}

// Field paths are the request's (docs/api.md): the engine names "queue", the
// API "job.queue"; a batch names the job's index, for every field.
TEST_F(JobServiceTest, EnqueueErrorsNameTheFieldPathOfTheRequest) {
  auto r = client().Enqueue(Spec("bad queue!"));
  EXPECT_STATUS(r.status(), StatusCode::kInvalidArgument, kReasonInvalidArgument);
  EXPECT_EQ(r.status().message().rfind("job.queue: ", 0), 0u) << r.status();
  r = client().Enqueue(Spec("q", std::string(1025, 'x')));
  EXPECT_STATUS(r.status(), StatusCode::kInvalidArgument, kReasonPayloadTooLarge);
  EXPECT_EQ(r.status().message().rfind("job.payload: ", 0), 0u) << r.status();
  auto batch = client().EnqueueBatch({Spec("q"), Spec("q"), Spec("q", std::string(1025, 'x'))});
  EXPECT_STATUS(batch.status(), StatusCode::kInvalidArgument, kReasonPayloadTooLarge);
  EXPECT_EQ(batch.status().message().rfind("jobs[2].payload: ", 0), 0u) << batch.status();
}

v1::JobSpec UniqueSpec(const std::string& payload) {
  v1::JobSpec job = Spec("uq", payload);
  job.mutable_unique();  // by args, the live states, any age
  return job;
}

// Unique jobs through gRPC and the client (which gives every job a random
// idempotency key: the unique match must still be found).
TEST_F(JobServiceTest, UniqueEnqueueAnswersTheMatchingJob) {
  auto first = client().Enqueue(UniqueSpec("user=7"));
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_FALSE(first->unique_match());
  auto second = client().Enqueue(UniqueSpec("user=7"));
  ASSERT_TRUE(second.ok()) << second.status();
  EXPECT_TRUE(second->unique_match());
  EXPECT_FALSE(second->duplicate());
  EXPECT_EQ(second->job_id(), first->job_id());
  EXPECT_EQ(second->unique_match_state(), v1::JOB_STATE_AVAILABLE);
  // Within a batch the second matches the first.
  auto batch = client().EnqueueBatch({UniqueSpec("user=8"), UniqueSpec("user=8")});
  ASSERT_TRUE(batch.ok()) << batch.status();
  EXPECT_FALSE(batch->results(0).unique_match());
  EXPECT_TRUE(batch->results(1).unique_match());
  EXPECT_EQ(batch->results(1).job_id(), batch->results(0).job_id());
  // By key, with covered states given: GetJob shows the key.
  v1::JobSpec keyed = UniqueSpec("a");
  keyed.mutable_unique()->set_by(v1::UNIQUE_BY_KEY);
  keyed.mutable_unique()->set_key("account-7");
  keyed.mutable_unique()->add_states(v1::JOB_STATE_SCHEDULED);
  keyed.mutable_unique()->add_states(v1::JOB_STATE_AVAILABLE);
  auto k1 = client().Enqueue(keyed);
  ASSERT_TRUE(k1.ok()) << k1.status();
  keyed.set_payload("b");
  auto k2 = client().Enqueue(keyed);
  ASSERT_TRUE(k2.ok()) << k2.status();
  EXPECT_TRUE(k2->unique_match());
  EXPECT_EQ(k2->job_id(), k1->job_id());
  EXPECT_EQ(client().GetJob(k1->job_id())->unique_key(), "account-7");
}

TEST_F(JobServiceTest, BadUniqueOptionsNameTheField) {
  auto expect_field = [&](const v1::JobSpec& job, const std::string& field) {
    auto r = client().Enqueue(job);
    EXPECT_STATUS(r.status(), StatusCode::kInvalidArgument, kReasonInvalidArgument);
    EXPECT_EQ(r.status().message().rfind(field + ": ", 0), 0u) << r.status();
  };
  v1::JobSpec job = UniqueSpec("p");
  job.mutable_unique()->add_states(v1::JOB_STATE_UNSPECIFIED);
  expect_field(job, "job.unique.states[0]");
  job = UniqueSpec("p");
  job.mutable_unique()->add_states(v1::JOB_STATE_RUNNING);
  expect_field(job, "job.unique.states");
  job = UniqueSpec("p");
  job.mutable_unique()->set_key("k");
  expect_field(job, "job.unique.key");
  job = UniqueSpec("p");
  job.mutable_unique()->set_by(v1::UNIQUE_BY_KEY);
  expect_field(job, "job.unique.key");
  job = UniqueSpec("p");
  job.mutable_unique()->mutable_period()->set_seconds(0);
  expect_field(job, "job.unique.period");
  job = UniqueSpec("p");
  job.mutable_unique()->set_by(static_cast<v1::UniqueBy>(9));
  expect_field(job, "job.unique.by");
}

// Times outside protobuf's documented ranges are INVALID_ARGUMENT naming the
// field; none reaches the engine's millisecond arithmetic.
TEST_F(JobServiceTest, OutOfRangeTimesAreInvalidArgumentNamingTheField) {
  auto expect_rejected = [&](const v1::JobSpec& job, const std::string& field) {
    auto r = client().Enqueue(job);
    EXPECT_STATUS(r.status(), StatusCode::kInvalidArgument, kReasonInvalidArgument);
    EXPECT_EQ(r.status().message().rfind(field + ": ", 0), 0u) << r.status();
  };
  v1::JobSpec job = Spec("q");
  job.mutable_delay()->set_nanos(-1);   // a Duration of 0 s may have negative nanos...
  job.mutable_delay()->set_seconds(1);  // ...but not of 1 s
  expect_rejected(job, "job.delay");
  job = Spec("q");
  job.mutable_delay()->set_nanos(1000000000);
  expect_rejected(job, "job.delay");
  job = Spec("q");
  job.mutable_delay()->set_seconds(INT64_MAX / 100);  // * 1000 overflows int64
  expect_rejected(job, "job.delay");
  job = Spec("q");
  *job.mutable_run_at() = ToProtoTime(FromUnixMs(0));
  job.mutable_run_at()->set_nanos(-5);
  expect_rejected(job, "job.run_at");
  job = Spec("q");
  job.mutable_run_at()->set_seconds(253402300800);  // 10000-01-01
  expect_rejected(job, "job.run_at");
  job = Spec("q");
  job.mutable_visibility_timeout()->set_seconds(INT64_MIN);
  expect_rejected(job, "job.visibility_timeout");
  auto batch = client().EnqueueBatch({Spec("q"), job});
  EXPECT_EQ(batch.status().message().rfind("jobs[1].visibility_timeout: ", 0), 0u)
      << batch.status();
  EXPECT_EQ(client().GetQueue("q").status().code(), StatusCode::kNotFound);  // nothing written
}

TEST_F(JobServiceTest, DelayedJobIsScheduled) {
  v1::JobSpec job = Spec("q");
  *job.mutable_delay() = ToProtoDuration(Millis(60000));
  auto r = client().Enqueue(job);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(client().GetJob(r->job_id())->state(), v1::JOB_STATE_SCHEDULED);
}

TEST_F(JobServiceTest, EnqueueBatchIsAllOrNothing) {
  auto ok = client().EnqueueBatch({Spec("q", "a"), Spec("q", "b")});
  ASSERT_TRUE(ok.ok()) << ok.status();
  ASSERT_EQ(ok->results_size(), 2);
  EXPECT_LT(ok->results(0).job_id(), ok->results(1).job_id());

  auto bad = client().EnqueueBatch({Spec("q2", "a"), Spec("bad queue")});
  EXPECT_STATUS(bad.status(), StatusCode::kInvalidArgument, kReasonInvalidArgument);
  EXPECT_NE(bad.status().message().find("jobs[1]"), std::string::npos) << bad.status();
  EXPECT_EQ(client().GetQueue("q2").status().code(), StatusCode::kNotFound);
}

TEST_F(JobServiceTest, GetUnknownJobIsNotFound) {
  EXPECT_STATUS(client().GetJob(12345).status(), StatusCode::kNotFound, kReasonNotFound);
}

TEST_F(JobServiceTest, ListJobsPagesThroughAState) {
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(client().Enqueue(Spec("q")).ok());
  v1::ListJobsRequest req;
  req.set_queue("q");
  req.set_state(v1::JOB_STATE_AVAILABLE);
  req.set_limit(3);
  auto page1 = client().ListJobs(req);
  ASSERT_TRUE(page1.ok()) << page1.status();
  EXPECT_EQ(page1->jobs_size(), 3);
  ASSERT_FALSE(page1->next_cursor().empty());
  req.set_cursor(page1->next_cursor());
  auto page2 = client().ListJobs(req);
  ASSERT_TRUE(page2.ok());
  EXPECT_EQ(page2->jobs_size(), 2);
  EXPECT_TRUE(page2->next_cursor().empty());
}

// Regression (issue 10): a page of 20 jobs of 1 MiB was over the 16 MiB
// message limit, so ListJobs and ListDeadLetters failed with
// RESOURCE_EXHAUSTED and no page of the queue could be read. Pages are now
// bounded in bytes, and following next_cursor reaches every job.
TEST_F(JobServiceTest, ListPagesFitTheMessageLimit) {
  ASSERT_NO_FATAL_FAILURE(EnqueueMiBJobs(20));
  v1::ListJobsRequest req;
  req.set_queue("q");
  req.set_state(v1::JOB_STATE_AVAILABLE);
  int listed = 0;
  int pages = 0;
  do {
    auto page = client().ListJobs(req);
    ASSERT_TRUE(page.ok()) << page.status();
    ASSERT_GE(page->jobs_size(), 1);
    EXPECT_LT(page->ByteSizeLong(), size_t{16} << 20);
    listed += page->jobs_size();
    req.set_cursor(page->next_cursor());
    ++pages;
  } while (!req.cursor().empty() && pages < 20);
  EXPECT_EQ(listed, 20);
  EXPECT_GE(pages, 2);
}

TEST_F(JobServiceTest, ListJobsWithoutStateNamesTheField) {
  v1::ListJobsRequest req;
  req.set_queue("q");
  auto r = client().ListJobs(req);
  EXPECT_STATUS(r.status(), StatusCode::kInvalidArgument, kReasonInvalidArgument);
  EXPECT_NE(r.status().message().find("state"), std::string::npos);
}

TEST_F(JobServiceTest, CancelAvailableJobThenCancelAgain) {
  auto r = client().Enqueue(Spec("q"));
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*client().CancelJob(r->job_id()), v1::JOB_STATE_CANCELLED);
  EXPECT_EQ(*client().CancelJob(r->job_id()), v1::JOB_STATE_CANCELLED);
  EXPECT_STATUS(client().CancelJob(999).status(), StatusCode::kNotFound, kReasonNotFound);
}

TEST_F(JobServiceTest, CancelCompletedJobIsInvalidState) {
  auto r = client().Enqueue(Spec("q"));
  v1::LeaseRequest lease;
  lease.set_queue("q");
  auto leased = client().Lease(lease);
  ASSERT_TRUE(leased.ok() && leased->jobs_size() == 1);
  v1::CompleteRequest done;
  done.set_job_id(r->job_id());
  done.set_fencing_token(leased->jobs(0).fencing_token());
  ASSERT_TRUE(client().Complete(done).ok());
  EXPECT_STATUS(client().CancelJob(r->job_id()).status(), StatusCode::kFailedPrecondition,
                kReasonInvalidState);
}

TEST_F(JobServiceTest, RetryJobStartsADelayedJobNowAndRefusesOthers) {
  v1::JobSpec spec = Spec("q");
  spec.mutable_delay()->set_seconds(3600);
  auto r = client().Enqueue(spec);
  ASSERT_TRUE(r.ok());
  v1::LeaseRequest lease;
  lease.set_queue("q");
  EXPECT_EQ(client().Lease(lease)->jobs_size(), 0);
  EXPECT_EQ(*client().RetryJob(r->job_id()), v1::JOB_STATE_AVAILABLE);
  auto leased = client().Lease(lease);
  ASSERT_TRUE(leased.ok() && leased->jobs_size() == 1);
  EXPECT_STATUS(client().RetryJob(r->job_id()).status(), StatusCode::kFailedPrecondition,
                kReasonInvalidState);
  EXPECT_STATUS(client().RetryJob(999).status(), StatusCode::kNotFound, kReasonNotFound);
}

// ---- Issue 12: search filters, bulk cancel, progress, paced redrive ----

v1::JobSpec Keyed(const std::string& type, const std::string& key) {
  v1::JobSpec job = Spec("q");
  job.set_job_type(type);
  job.set_concurrency_key(key);
  return job;
}

TEST_F(JobServiceTest, ListJobsFiltersByTypeAndKey) {
  uint64_t hit = client().Enqueue(Keyed("mail", "acme"))->job_id();
  ASSERT_TRUE(client().Enqueue(Keyed("sms", "acme")).ok());
  ASSERT_TRUE(client().Enqueue(Keyed("mail", "globex")).ok());
  v1::ListJobsRequest req;
  req.set_queue("q");
  req.set_state(v1::JOB_STATE_AVAILABLE);
  req.set_job_type("mail");
  req.set_concurrency_key("acme");
  auto page = client().ListJobs(req);
  ASSERT_TRUE(page.ok()) << page.status();
  ASSERT_EQ(page->jobs_size(), 1);
  EXPECT_EQ(page->jobs(0).id(), hit);
  req.set_job_type("bad type");
  EXPECT_STATUS(client().ListJobs(req).status(), StatusCode::kInvalidArgument, "INVALID_ARGUMENT");
  EXPECT_NE(client().ListJobs(req).status().message().find("job_type"), std::string::npos);
}

TEST_F(JobServiceTest, CancelJobsCancelsTheMatchingJobs) {
  uint64_t hit = client().Enqueue(Keyed("mail", "acme"))->job_id();
  uint64_t other = client().Enqueue(Keyed("sms", "acme"))->job_id();
  v1::CancelJobsRequest req;
  req.set_queue("q");
  req.set_job_type("mail");
  auto r = client().CancelJobs(req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->cancelled(), 1);
  EXPECT_EQ(r->cancel_requested(), 0);
  EXPECT_EQ(client().GetJob(hit)->state(), v1::JOB_STATE_CANCELLED);
  EXPECT_EQ(client().GetJob(other)->state(), v1::JOB_STATE_AVAILABLE);
  req.set_state(v1::JOB_STATE_COMPLETED);
  auto bad = client().CancelJobs(req);
  EXPECT_STATUS(bad.status(), StatusCode::kInvalidArgument, "INVALID_ARGUMENT");
  EXPECT_EQ(bad.status().message().rfind("state:", 0), 0u) << bad.status();
  req.clear_state();
  req.set_queue("");
  EXPECT_EQ(client().CancelJobs(req).status().message().rfind("queue:", 0), 0u);
}

TEST_F(JobServiceTest, HeartbeatProgressIsShownByGetJob) {
  uint64_t id = client().Enqueue(Spec("q"))->job_id();
  v1::HeartbeatRequest hb;
  hb.set_job_id(id);
  hb.set_fencing_token(LeaseOne("q").fencing_token());
  hb.set_progress(0.4);
  hb.set_progress_message("40 of 100 rows");
  ASSERT_TRUE(client().Heartbeat(hb).ok());
  auto job = client().GetJob(id);
  ASSERT_TRUE(job.ok());
  ASSERT_TRUE(job->has_progress());
  EXPECT_DOUBLE_EQ(job->progress(), 0.4);
  EXPECT_EQ(job->progress_message(), "40 of 100 rows");
  EXPECT_TRUE(job->has_progress_updated_at());
  hb.set_progress(1.5);
  auto bad = client().Heartbeat(hb);
  EXPECT_STATUS(bad.status(), StatusCode::kInvalidArgument, "INVALID_ARGUMENT");
  EXPECT_EQ(bad.status().message().rfind("progress:", 0), 0u) << bad.status();
  EXPECT_DOUBLE_EQ(client().GetJob(id)->progress(), 0.4);
}

TEST_F(JobServiceTest, RedriveCanBePaced) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(client().Enqueue(Spec("q")).ok());
    KillOne("q");
  }
  v1::RedriveDeadLettersRequest req;
  req.mutable_filter()->set_queue("q");
  req.mutable_pace()->set_limit(2);
  *req.mutable_pace()->mutable_period() = ToProtoDuration(Millis(3600000));
  auto r = client().RedriveDeadLetters(req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->count(), 3);
  auto q = client().GetQueue("q");
  EXPECT_EQ(q->available(), 2);
  EXPECT_EQ(q->scheduled(), 1) << "the third waits a period";
  req.mutable_pace()->set_limit(0);
  auto bad = client().RedriveDeadLetters(req);
  EXPECT_EQ(bad.status().message().rfind("pace.limit:", 0), 0u) << bad.status();
}

}  // namespace
}  // namespace ratchet::testing
