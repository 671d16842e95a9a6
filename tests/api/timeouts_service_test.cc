// Attempt timeouts and expiry over a real gRPC server and the C++ client:
// JobSpec.attempt_timeout / expires_at, Job and LeasedJob fields, the
// "attempt timed out" retry, cancel_reason "expired", WAIT_EXPIRED, and
// errors naming the field.
#include "ratchet/api/time_codec.h"
#include "server_fixture.h"

namespace ratchet::testing {
namespace {

using absl::StatusCode;

constexpr int64_t kStartMs = 1767225600000;  // 2026-01-01T00:00:00Z

class TimeoutsServiceTest : public ServerFixture {
 protected:
  void SetUp() override {
    configure_engine_ = [this](EngineOptions& o) { o.clock = &clock_; };
    Start();
  }

  v1::JobSpec Spec() {
    v1::JobSpec job;
    job.set_queue("q");
    job.set_job_type("t");
    return job;
  }
  uint64_t Enqueue(const v1::JobSpec& job) {
    auto r = client().Enqueue(job);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->job_id() : 0;
  }
  v1::LeaseResponse Lease() {
    v1::LeaseRequest lease;
    lease.set_queue("q");
    lease.set_max_jobs(10);
    auto r = client().Lease(lease);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : v1::LeaseResponse();
  }

  ManualClock clock_{FromUnixMs(kStartMs)};
};

TEST_F(TimeoutsServiceTest, AttemptTimeoutRoundTripsAndEndsTheAttempt) {
  v1::JobSpec job = Spec();
  *job.mutable_attempt_timeout() = ToProtoDuration(Millis(2000));
  job.set_max_attempts(1);
  uint64_t id = Enqueue(job);
  v1::LeaseResponse leased = Lease();
  ASSERT_EQ(leased.jobs_size(), 1);
  const v1::LeasedJob& j = leased.jobs(0);
  EXPECT_EQ(FromProtoDuration(j.attempt_timeout()), Millis(2000));
  EXPECT_EQ(FromProtoTime(j.attempt_deadline()), FromUnixMs(kStartMs + 2000));
  EXPECT_EQ(FromProtoTime(j.lease_deadline()), FromUnixMs(kStartMs + 2000));
  auto got = client().GetJob(id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(FromProtoDuration(got->attempt_timeout()), Millis(2000));
  EXPECT_EQ(FromProtoTime(got->attempt_started_at()), FromUnixMs(kStartMs));

  clock_.Advance(Millis(2000));
  ASSERT_TRUE(engine_->RunMaintenance().ok());
  got = client().GetJob(id);
  EXPECT_EQ(got->state(), v1::JOB_STATE_DEAD);
  ASSERT_EQ(got->errors_size(), 1);
  EXPECT_EQ(got->errors(0).message(), "attempt timed out");
  v1::CompleteRequest late;
  late.set_job_id(id);
  late.set_fencing_token(j.fencing_token());
  EXPECT_STATUS(client().Complete(late), StatusCode::kFailedPrecondition, kReasonLeaseLost);
}

TEST_F(TimeoutsServiceTest, ExpiredJobIsCancelledWithReasonExpired) {
  v1::JobSpec job = Spec();
  *job.mutable_expires_at() = ToProtoTime(FromUnixMs(kStartMs + 1000));
  uint64_t id = Enqueue(job);
  auto e = client().ExplainJob(id);
  ASSERT_TRUE(e.ok()) << e.status();
  EXPECT_EQ(FromProtoTime(e->expires_at()), FromUnixMs(kStartMs + 1000));
  EXPECT_EQ(FromProtoTime(client().GetJob(id)->expires_at()), FromUnixMs(kStartMs + 1000));

  clock_.Advance(Millis(1000));
  EXPECT_EQ(Lease().jobs_size(), 0);
  auto got = client().GetJob(id);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->state(), v1::JOB_STATE_CANCELLED);
  EXPECT_EQ(got->cancel_reason(), "expired");
  EXPECT_FALSE(got->has_attempt_started_at());
  e = client().ExplainJob(id);
  ASSERT_TRUE(e.ok()) << e.status();
  ASSERT_EQ(e->causes_size(), 1);
  EXPECT_EQ(e->causes(0).reason(), v1::WAIT_EXPIRED);
}

TEST_F(TimeoutsServiceTest, BadTimeoutsNameTheField) {
  v1::JobSpec job = Spec();
  job.mutable_attempt_timeout()->set_seconds(-1);
  auto r = client().Enqueue(job);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("job.attempt_timeout"), std::string::npos) << r.status();

  job = Spec();
  job.mutable_attempt_timeout()->set_seconds(8 * 24 * 3600);  // over 7 days
  r = client().Enqueue(job);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("job.attempt_timeout"), std::string::npos) << r.status();

  job = Spec();
  *job.mutable_expires_at() = ToProtoTime(FromUnixMs(kStartMs - 1));
  r = client().Enqueue(job);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find("job.expires_at"), std::string::npos) << r.status();

  job = Spec();
  *job.mutable_attempt_timeout() = ToProtoDuration(Millis(0));  // zero: none
  uint64_t id = Enqueue(job);
  EXPECT_FALSE(client().GetJob(id)->has_attempt_timeout());
}

}  // namespace
}  // namespace ratchet::testing
