// Flow control over a real gRPC server and the C++ client: concurrency
// keys on JobSpec, Job and LeasedJob; per-key limits and rate limits in
// UpdateQueue / QueueSettings; ExplainJob; errors naming the field.
#include "ratchet/api/time_codec.h"
#include "server_fixture.h"

namespace ratchet::testing {
namespace {

using absl::StatusCode;

class FlowControlServiceTest : public ServerFixture {
 protected:
  uint64_t Enqueue(const std::string& key) {
    v1::JobSpec job;
    job.set_queue("q");
    job.set_job_type("t");
    job.set_concurrency_key(key);
    auto r = client().Enqueue(job);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? r->job_id() : 0;
  }
};

TEST_F(FlowControlServiceTest, KeyLimitsAndRatesRoundTripAndApply) {
  v1::UpdateQueueRequest req;
  req.set_queue("q");
  req.set_key_concurrency_limit(1);
  (*req.mutable_key_limits()->mutable_limits())["vip"] = 2;
  req.mutable_key_rate_limit()->set_limit(100);
  *req.mutable_key_rate_limit()->mutable_period() = ToProtoDuration(Millis(60000));
  auto q = client().UpdateQueue(req);
  ASSERT_TRUE(q.ok()) << q.status();
  EXPECT_EQ(q->settings().key_concurrency_limit(), 1);
  EXPECT_EQ(q->settings().key_limits().at("vip"), 2);
  EXPECT_EQ(q->settings().key_rate_limit().limit(), 100);
  EXPECT_FALSE(q->settings().has_rate_limit());

  uint64_t a1 = Enqueue("acct");
  Enqueue("acct");
  Enqueue("vip");
  Enqueue("vip");
  Enqueue("vip");
  v1::LeaseRequest lease;
  lease.set_queue("q");
  lease.set_max_jobs(10);
  auto leased = client().Lease(lease);
  ASSERT_TRUE(leased.ok()) << leased.status();
  std::map<std::string, int> per_key;
  for (const auto& j : leased->jobs()) ++per_key[j.concurrency_key()];
  EXPECT_EQ(per_key["acct"], 1);
  EXPECT_EQ(per_key["vip"], 2);
  EXPECT_EQ(client().GetJob(a1)->concurrency_key(), "acct");
}

TEST_F(FlowControlServiceTest, ExplainSaysTheKeyIsFull) {
  v1::UpdateQueueRequest req;
  req.set_queue("q");
  req.set_key_concurrency_limit(1);
  ASSERT_TRUE(client().UpdateQueue(req).ok());
  uint64_t holder = Enqueue("acct");
  uint64_t waiting = Enqueue("acct");
  v1::LeaseRequest lease;
  lease.set_queue("q");
  lease.set_max_jobs(10);
  ASSERT_EQ(client().Lease(lease)->jobs_size(), 1);
  auto e = client().ExplainJob(waiting);
  ASSERT_TRUE(e.ok()) << e.status();
  ASSERT_GE(e->causes_size(), 1);
  EXPECT_EQ(e->causes(0).reason(), v1::WAIT_KEY_CONCURRENCY);
  ASSERT_EQ(e->causes(0).holders_size(), 1);
  EXPECT_EQ(e->causes(0).holders(0), holder);
  EXPECT_EQ(e->state(), v1::JOB_STATE_AVAILABLE);
  EXPECT_EQ(client().ExplainJob(424242).status().code(), StatusCode::kNotFound);
}

TEST_F(FlowControlServiceTest, BadFlowControlInputNamesTheField) {
  v1::UpdateQueueRequest req;
  req.set_queue("q");
  req.mutable_rate_limit()->set_limit(10);  // no period
  auto s = client().UpdateQueue(req).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("rate_limit.period"), std::string::npos) << s.message();
  v1::JobSpec job;
  job.set_queue("q");
  job.set_job_type("t");
  job.set_concurrency_key(std::string(300, 'k'));
  s = client().Enqueue(job).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("job.concurrency_key"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace ratchet::testing
