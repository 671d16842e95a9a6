// WorkerService over a real gRPC server: long-poll Lease, Heartbeat,
// Complete/Fail (single and batched), CompleteAndLease, fencing.
#include <chrono>
#include <cstdint>
#include <thread>

#include "grpcpp/grpcpp.h"
#include "ratchet/api/status_codec.h"
#include "ratchet/api/time_codec.h"
#include "server_fixture.h"

namespace ratchet::testing {
namespace {

using absl::StatusCode;
using std::chrono::steady_clock;

class WorkerServiceTest : public ServerFixture {
 protected:
  uint64_t Enqueue(const std::string& queue = "q") {
    v1::JobSpec job;
    job.set_queue(queue);
    job.set_job_type("t");
    auto r = client().Enqueue(job);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->job_id() : 0;
  }

  v1::LeaseRequest LeaseReq(int max_jobs = 1, Millis wait = Millis(0),
                            Millis visibility = Millis(30000)) {
    v1::LeaseRequest req;
    req.set_queue("q");
    req.set_max_jobs(max_jobs);
    req.set_worker_id("w1");
    *req.mutable_wait() = ToProtoDuration(wait);
    *req.mutable_visibility_timeout() = ToProtoDuration(visibility);
    return req;
  }

  v1::LeasedJob LeaseOne(Millis visibility = Millis(30000)) {
    auto r = client().Lease(LeaseReq(1, Millis(0), visibility));
    EXPECT_TRUE(r.ok() && r->jobs_size() == 1) << r.status();
    return r.ok() && r->jobs_size() == 1 ? r->jobs(0) : v1::LeasedJob();
  }

  v1::CompleteRequest Done(const v1::LeasedJob& job, const std::string& result = "r") {
    v1::CompleteRequest req;
    req.set_job_id(job.job_id());
    req.set_fencing_token(job.fencing_token());
    req.set_result(result);
    return req;
  }
};

// Regression (issue 10): 20 jobs of 1 MiB leased at once all went RUNNING in
// an answer over the 16 MiB message limit; no worker received them, and they
// were dead-lettered without ever running. The answer is now bounded.
TEST_F(WorkerServiceTest, LeaseAnswerFitsTheMessageLimitAndLeavesTheRestAvailable) {
  ASSERT_NO_FATAL_FAILURE(EnqueueMiBJobs(20));
  int leased = 0;
  for (int call = 0; call < 20 && leased < 20; ++call) {
    auto r = client().Lease(LeaseReq(20));
    ASSERT_TRUE(r.ok()) << r.status();
    ASSERT_GE(r->jobs_size(), 1);
    EXPECT_LT(r->ByteSizeLong(), size_t{16} << 20);
    leased += r->jobs_size();
  }
  EXPECT_EQ(leased, 20) << "every job reached a worker";
}

TEST_F(WorkerServiceTest, LeaseReturnsJobWithTokenAndAttempt) {
  uint64_t id = Enqueue();
  v1::LeasedJob job = LeaseOne();
  EXPECT_EQ(job.job_id(), id);
  EXPECT_EQ(job.attempt(), 1);
  EXPECT_GT(job.fencing_token(), 0u);
  EXPECT_EQ(client().GetJob(id)->worker_id(), "w1");
  // The lease's length as granted, for the worker's heartbeat pacing.
  ASSERT_TRUE(job.has_lease_duration());
  EXPECT_EQ(FromProtoDuration(job.lease_duration()), Millis(30000));
  Enqueue();
  EXPECT_EQ(FromProtoDuration(LeaseOne(Millis(4500)).lease_duration()), Millis(4500));
}

TEST_F(WorkerServiceTest, LongPollReturnsAsSoonAsAJobArrives) {
  auto start = steady_clock::now();
  std::thread producer([&] {
    std::this_thread::sleep_for(Millis(300));
    Enqueue();
  });
  auto r = client().Lease(LeaseReq(1, Millis(4000)));
  producer.join();
  auto took = steady_clock::now() - start;
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->jobs_size(), 1);
  EXPECT_LT(took, Millis(2500));  // woken by the enqueue, not the 4 s wait
}

TEST_F(WorkerServiceTest, LongPollEndsEmptyWhenTheWaitPasses) {
  auto start = steady_clock::now();
  auto r = client().Lease(LeaseReq(1, Millis(400)));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->jobs_size(), 0);
  EXPECT_GE(steady_clock::now() - start, Millis(350));
}

// A wait whose seconds * 1000 overflows int64 is rejected, not wrapped into
// some other wait; CompleteAndLease names the lease's fields under "lease.".
TEST_F(WorkerServiceTest, OutOfRangeDurationsAreInvalidArgumentNamingTheField) {
  Enqueue();
  v1::LeaseRequest lease = LeaseReq();
  lease.mutable_wait()->set_seconds(INT64_MAX / 100);
  auto r = client().Lease(lease);
  EXPECT_STATUS(r.status(), StatusCode::kInvalidArgument, kReasonInvalidArgument);
  EXPECT_EQ(r.status().message().rfind("wait: ", 0), 0u) << r.status();
  v1::CompleteAndLeaseRequest both;
  *both.mutable_lease() = LeaseReq();
  both.mutable_lease()->mutable_visibility_timeout()->set_nanos(-1);
  both.mutable_lease()->mutable_visibility_timeout()->set_seconds(60);
  auto c = client().CompleteAndLease(both);
  EXPECT_STATUS(c.status(), StatusCode::kInvalidArgument, kReasonInvalidArgument);
  EXPECT_EQ(c.status().message().rfind("lease.visibility_timeout: ", 0), 0u) << c.status();
  EXPECT_EQ(client().GetQueue("q")->available(), 1);  // nothing leased
}

TEST_F(WorkerServiceTest, ServerCapsTheWait) {
  Stop();
  server_options_.max_lease_wait = Millis(300);
  Start();
  auto start = steady_clock::now();
  auto r = client().Lease(LeaseReq(1, Millis(60000)));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->jobs_size(), 0);
  EXPECT_LT(steady_clock::now() - start, Millis(3000));
}

TEST_F(WorkerServiceTest, WaitEndsBeforeTheClientDeadline) {
  // A 4 s wait under a 500 ms deadline: the server answers empty before the
  // client's deadline instead of letting the call fail.
  auto stub = v1::WorkerService::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(port()),
                                                             grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + Millis(500));
  v1::LeaseResponse resp;
  auto start = steady_clock::now();
  grpc::Status s = stub->Lease(&context, LeaseReq(1, Millis(4000)), &resp);
  EXPECT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
  EXPECT_EQ(resp.jobs_size(), 0);
  EXPECT_LT(steady_clock::now() - start, Millis(1500));
}

TEST_F(WorkerServiceTest, BadLeaseRequestNamesTheField) {
  v1::LeaseRequest req = LeaseReq(5000);
  auto r = client().Lease(req);
  EXPECT_STATUS(r.status(), StatusCode::kInvalidArgument, kReasonInvalidArgument);
  EXPECT_NE(r.status().message().find("max_jobs"), std::string::npos) << r.status();
}

TEST_F(WorkerServiceTest, HeartbeatExtendsAndStaleTokenIsLeaseLost) {
  Enqueue();
  v1::LeasedJob job = LeaseOne(Millis(5000));
  v1::HeartbeatRequest hb;
  hb.set_job_id(job.job_id());
  hb.set_fencing_token(job.fencing_token());
  *hb.mutable_extension() = ToProtoDuration(Millis(20000));
  auto r = client().Heartbeat(hb);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_GT(FromProtoTime(r->lease_deadline()), FromProtoTime(job.lease_deadline()));
  EXPECT_FALSE(r->cancel_requested());

  hb.set_fencing_token(job.fencing_token() + 1000);
  EXPECT_STATUS(client().Heartbeat(hb).status(), StatusCode::kFailedPrecondition, kReasonLeaseLost);
}

TEST_F(WorkerServiceTest, HeartbeatReportsCancelRequest) {
  uint64_t id = Enqueue();
  v1::LeasedJob job = LeaseOne();
  EXPECT_EQ(*client().CancelJob(id), v1::JOB_STATE_RUNNING);
  v1::HeartbeatRequest hb;
  hb.set_job_id(id);
  hb.set_fencing_token(job.fencing_token());
  EXPECT_TRUE(client().Heartbeat(hb)->cancel_requested());
}

TEST_F(WorkerServiceTest, CompleteIsIdempotentAndStoresTheResult) {
  uint64_t id = Enqueue();
  v1::LeasedJob job = LeaseOne();
  ASSERT_TRUE(client().Complete(Done(job, "42")).ok());
  ASSERT_TRUE(client().Complete(Done(job, "42")).ok());  // a retried call
  auto got = client().GetJob(id);
  EXPECT_EQ(got->state(), v1::JOB_STATE_COMPLETED);
  EXPECT_EQ(got->result(), "42");
}

TEST_F(WorkerServiceTest, StaleWorkerCannotCompleteAReleasedJob) {
  uint64_t id = Enqueue();
  v1::LeasedJob stale = LeaseOne(Millis(200));
  std::this_thread::sleep_for(Millis(400));  // the lease expires
  auto again = client().Lease(LeaseReq(1, Millis(3000)));
  ASSERT_TRUE(again.ok() && again->jobs_size() == 1) << again.status();
  v1::LeasedJob fresh = again->jobs(0);
  EXPECT_GT(fresh.fencing_token(), stale.fencing_token());
  EXPECT_STATUS(client().Complete(Done(stale)), StatusCode::kFailedPrecondition, kReasonLeaseLost);
  ASSERT_TRUE(client().Complete(Done(fresh, "fresh")).ok());
  EXPECT_EQ(client().GetJob(id)->result(), "fresh");
}

TEST_F(WorkerServiceTest, CompleteUnknownJobIsNotFound) {
  v1::CompleteRequest req;
  req.set_job_id(777);
  req.set_fencing_token(1);
  EXPECT_STATUS(client().Complete(req), StatusCode::kNotFound, kReasonNotFound);
}

TEST_F(WorkerServiceTest, OversizedResultIsPayloadTooLarge) {
  Enqueue();
  v1::LeasedJob job = LeaseOne();
  EXPECT_STATUS(client().Complete(Done(job, std::string(2000, 'r'))), StatusCode::kInvalidArgument,
                kReasonPayloadTooLarge);
}

TEST_F(WorkerServiceTest, CompleteBatchAnswersEachItem) {
  Enqueue();
  Enqueue();
  auto leased = client().Lease(LeaseReq(2));
  ASSERT_TRUE(leased.ok() && leased->jobs_size() == 2);
  v1::CompleteBatchRequest req;
  *req.add_items() = Done(leased->jobs(0));
  v1::CompleteRequest stale = Done(leased->jobs(1));
  stale.set_fencing_token(stale.fencing_token() + 99);
  *req.add_items() = stale;
  auto r = client().CompleteBatch(req);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_TRUE((*r)[0].ok());
  EXPECT_STATUS((*r)[1], StatusCode::kFailedPrecondition, kReasonLeaseLost);

  EXPECT_STATUS(client().CompleteBatch(v1::CompleteBatchRequest()).status(),
                StatusCode::kInvalidArgument, kReasonInvalidArgument);
}

TEST_F(WorkerServiceTest, FailSchedulesARetryThenDeadLetters) {
  v1::JobSpec spec;
  spec.set_queue("q");
  spec.set_job_type("t");
  spec.set_max_attempts(2);
  uint64_t id = client().Enqueue(spec)->job_id();
  v1::LeasedJob job = LeaseOne();
  v1::FailRequest fail;
  fail.set_job_id(id);
  fail.set_fencing_token(job.fencing_token());
  fail.set_error("boom");
  auto r = client().Fail(fail);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->state(), v1::JOB_STATE_SCHEDULED);
  EXPECT_TRUE(r->has_retry_at());
  // Repeating the same Fail answers the same outcome.
  EXPECT_EQ(client().Fail(fail)->state(), v1::JOB_STATE_SCHEDULED);

  auto client_job = client().GetJob(id);
  ASSERT_EQ(client_job->errors_size(), 1);
  EXPECT_EQ(client_job->errors(0).message(), "boom");
}

TEST_F(WorkerServiceTest, NonRetryableFailDeadLettersAtOnce) {
  uint64_t id = Enqueue();
  v1::LeasedJob job = LeaseOne();
  v1::FailRequest fail;
  fail.set_job_id(id);
  fail.set_fencing_token(job.fencing_token());
  fail.set_non_retryable(true);
  EXPECT_EQ(client().Fail(fail)->state(), v1::JOB_STATE_DEAD);
  fail.set_fencing_token(job.fencing_token() + 5);
  EXPECT_STATUS(client().Fail(fail).status(), StatusCode::kFailedPrecondition, kReasonLeaseLost);
}

TEST_F(WorkerServiceTest, FailBatchAnswersEachItem) {
  Enqueue();
  auto leased = client().Lease(LeaseReq(1));
  v1::FailBatchRequest req;
  v1::FailRequest* good = req.add_items();
  good->set_job_id(leased->jobs(0).job_id());
  good->set_fencing_token(leased->jobs(0).fencing_token());
  good->set_non_retryable(true);
  v1::FailRequest* unknown = req.add_items();
  unknown->set_job_id(4242);
  unknown->set_fencing_token(1);
  auto r = client().FailBatch(req);
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->items_size(), 2);
  EXPECT_EQ(r->items(0).status().code(), 0);
  EXPECT_EQ(r->items(0).result().state(), v1::JOB_STATE_DEAD);
  EXPECT_STATUS(FromRpcStatus(r->items(1).status()), StatusCode::kNotFound, kReasonNotFound);
}

TEST_F(WorkerServiceTest, CompleteAndLeaseDoesBothInOneCall) {
  Enqueue();
  uint64_t second = Enqueue();
  v1::LeasedJob first = LeaseOne();
  v1::CompleteAndLeaseRequest req;
  *req.mutable_complete() = Done(first);
  *req.mutable_lease() = LeaseReq(1);
  auto r = client().CompleteAndLease(req);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->completion().code(), 0);
  ASSERT_EQ(r->jobs_size(), 1);
  EXPECT_EQ(r->jobs(0).job_id(), second);
  EXPECT_EQ(client().GetJob(first.job_id())->state(), v1::JOB_STATE_COMPLETED);

  // A stale completion is reported in `completion`; the lease still runs.
  *req.mutable_complete() = Done(first);
  req.mutable_complete()->set_fencing_token(first.fencing_token() + 1000);
  r = client().CompleteAndLease(req);
  ASSERT_TRUE(r.ok());
  EXPECT_STATUS(FromRpcStatus(r->completion()), StatusCode::kFailedPrecondition, kReasonLeaseLost);
}

// Regression (issue 10): an invalid lease part used to leave the completion
// committed; now the whole call is rejected and writes nothing.
TEST_F(WorkerServiceTest, CompleteAndLeaseWithAnInvalidLeaseWritesNothing) {
  Enqueue();
  v1::LeasedJob first = LeaseOne();
  v1::CompleteAndLeaseRequest req;
  *req.mutable_complete() = Done(first);
  *req.mutable_lease() = LeaseReq(1);
  req.mutable_lease()->set_max_jobs(-5);
  auto r = client().CompleteAndLease(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument) << r.status();
  EXPECT_EQ(client().GetJob(first.job_id())->state(), v1::JOB_STATE_RUNNING);
}

}  // namespace
}  // namespace ratchet::testing
