// ratchet::Client's retry rules, with responses lost in transit: a gRPC
// client interceptor turns the first answers of one method into
// UNAVAILABLE after the server has acted on them.
#include "ratchet/client/client.h"

#include <atomic>
#include <chrono>

#include "grpcpp/grpcpp.h"
#include "grpcpp/support/client_interceptor.h"
#include "server_fixture.h"

namespace ratchet::testing {
namespace {

namespace exp = grpc::experimental;

struct Drops {
  std::string method;         // e.g. "/ratchet.v1.JobService/Enqueue"
  std::atomic<int> left{0};   // answers still to lose
  std::atomic<int> calls{0};  // attempts seen for `method`
};

class LoseResponse : public exp::Interceptor {
 public:
  explicit LoseResponse(bool lose) : lose_(lose) {}
  void Intercept(exp::InterceptorBatchMethods* methods) override {
    if (lose_ &&
        methods->QueryInterceptionHookPoint(exp::InterceptionHookPoints::POST_RECV_STATUS)) {
      *methods->GetRecvStatus() =
          grpc::Status(grpc::StatusCode::UNAVAILABLE, "injected: answer lost");
    }
    methods->Proceed();
  }

 private:
  bool lose_;
};

class LoseFactory : public exp::ClientInterceptorFactoryInterface {
 public:
  explicit LoseFactory(Drops* drops) : drops_(drops) {}
  exp::Interceptor* CreateClientInterceptor(exp::ClientRpcInfo* info) override {
    if (drops_->method != info->method()) return nullptr;
    drops_->calls++;
    return new LoseResponse(drops_->left.fetch_sub(1) > 0);
  }

 private:
  Drops* drops_;
};

class ClientTest : public ServerFixture {
 protected:
  std::unique_ptr<Client> LossyClient(Drops* drops) {
    std::vector<std::unique_ptr<exp::ClientInterceptorFactoryInterface>> factories;
    factories.push_back(std::make_unique<LoseFactory>(drops));
    auto channel = exp::CreateCustomChannelWithInterceptors(
        "127.0.0.1:" + std::to_string(port()), grpc::InsecureChannelCredentials(),
        grpc::ChannelArguments(), std::move(factories));
    return *Client::Connect({.initial_backoff = Millis(10),
                             .max_backoff = Millis(50),
                             .random = std::make_shared<SeededRandom>(7),
                             .channel = channel});
  }
};

TEST_F(ClientTest, RetriedEnqueueWithoutKeyNeverDuplicatesTheJob) {
  Drops drops{.method = "/ratchet.v1.JobService/Enqueue"};
  drops.left = 2;  // the job is written, and the answer lost, twice
  auto lossy = LossyClient(&drops);
  v1::JobSpec job;
  job.set_queue("q");
  job.set_job_type("t");
  auto r = lossy->Enqueue(job);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(drops.calls.load(), 3);
  EXPECT_TRUE(r->duplicate());
  EXPECT_EQ(client().GetQueue("q")->available(), 1);
}

// A unique job's retried Enqueue (answer lost after the write) is answered
// by its idempotency key: the job it inserted, as a duplicate, not as a
// unique match; a later enqueue with the same args is the unique match.
TEST_F(ClientTest, RetriedUniqueEnqueueIsADuplicateOfItsOwnJob) {
  Drops drops{.method = "/ratchet.v1.JobService/Enqueue"};
  drops.left = 1;
  auto lossy = LossyClient(&drops);
  v1::JobSpec job;
  job.set_queue("q");
  job.set_job_type("refresh");
  job.set_payload("user=7");
  job.mutable_unique();
  auto r = lossy->Enqueue(job);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(drops.calls.load(), 2);
  EXPECT_TRUE(r->duplicate());
  EXPECT_FALSE(r->unique_match());
  auto again = client().Enqueue(job);
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->unique_match());
  EXPECT_EQ(again->job_id(), r->job_id());
  EXPECT_EQ(client().GetQueue("q")->available(), 1);
}

TEST_F(ClientTest, RetriesStopAfterMaxAttempts) {
  Drops drops{.method = "/ratchet.v1.JobService/GetJob"};
  drops.left = 100;
  auto lossy = LossyClient(&drops);
  EXPECT_EQ(lossy->GetJob(1).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(drops.calls.load(), 5);  // ClientOptions::max_attempts
}

TEST_F(ClientTest, LeaseIsNeverRetried) {
  Drops drops{.method = "/ratchet.v1.WorkerService/Lease"};
  drops.left = 1;
  auto lossy = LossyClient(&drops);
  v1::LeaseRequest req;
  req.set_queue("q");
  EXPECT_EQ(lossy->Lease(req).status().code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(drops.calls.load(), 1);
}

TEST_F(ClientTest, ServerErrorsAreNotRetried) {
  Drops drops{.method = "/ratchet.v1.JobService/GetJob"};
  auto lossy = LossyClient(&drops);
  EXPECT_EQ(lossy->GetJob(999).status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(drops.calls.load(), 1);
}

// AdminService.GetStats end to end: a read, so a lost answer is asked
// again; pages of queues by cursor; bad input names its field.
TEST_F(ClientTest, GetStatsIsRetriedPagesQueuesAndNamesBadFields) {
  v1::JobSpec job;
  job.set_job_type("t");
  for (const char* queue : {"a", "b", "b"}) {
    job.set_queue(queue);
    ASSERT_TRUE(client().Enqueue(job).ok());
  }
  KillOne("b");
  Drops drops{.method = "/ratchet.v1.AdminService/GetStats"};
  drops.left = 1;
  auto lossy = LossyClient(&drops);
  auto first = lossy->GetStats(1);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_EQ(drops.calls.load(), 2) << "a read is retried";
  EXPECT_EQ(first->column_families_size(), 12);
  EXPECT_EQ(first->column_families(1).name(), "jobs");
  EXPECT_GT(first->column_families(1).memtable_bytes(), 0u);
  EXPECT_EQ(first->queue_count(), 2);
  EXPECT_EQ(first->live_jobs(), 2);
  EXPECT_EQ(first->dead(), 1);
  ASSERT_EQ(first->queues_size(), 1);
  const v1::QueueStats& a = first->queues(0);
  EXPECT_EQ(a.name(), "a");
  EXPECT_EQ(a.live(), 1);
  ASSERT_TRUE(a.has_oldest_available());
  EXPECT_LE(a.oldest_available().seconds(), first->at().seconds());
  EXPECT_GE(a.oldest_available_age().seconds(), 0);
  ASSERT_FALSE(first->next_cursor().empty());

  auto second = client().GetStats(1, first->next_cursor());
  ASSERT_TRUE(second.ok()) << second.status();
  ASSERT_EQ(second->queues_size(), 1);
  EXPECT_EQ(second->queues(0).name(), "b");
  EXPECT_EQ(second->queues(0).live(), 1);
  EXPECT_EQ(second->queues(0).dead(), 1);
  EXPECT_TRUE(second->next_cursor().empty());
  EXPECT_EQ(client().GetStats()->queues_size(), 2) << "limit 0 means 100";

  for (int limit : {-1, 1001}) {
    absl::Status s = client().GetStats(limit).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
    EXPECT_EQ(s.message().substr(0, 6), "limit:") << s;
  }
  absl::Status s = client().GetStats(10, "not hex").status();
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << s;
  EXPECT_EQ(s.message().substr(0, 7), "cursor:") << s;
}

// A huge deadline or Lease wait is cut to kMaxCallDeadline: adding it to
// the clock used to overflow, so the call "passed its deadline" at once.
TEST_F(ClientTest, HugeDeadlinesAreCutNotOverflowed) {
  CallOptions forever{.deadline = Millis::max()};
  EXPECT_EQ(client().GetJob(999, forever).status().code(), absl::StatusCode::kNotFound);
  v1::LeaseRequest lease;
  lease.set_queue("q");
  lease.set_worker_id("w");
  lease.set_max_jobs(1);
  lease.mutable_wait()->set_seconds(315'576'000'000);  // protobuf's largest Duration
  auto r = client().Lease(lease, forever);
  // The call reached the server (which bounds the wait by its own limits).
  EXPECT_NE(r.status().code(), absl::StatusCode::kDeadlineExceeded) << r.status();
}

// Nothing listens on port 1: the server is down.
TEST(ClientUnreachableTest, SafeCallWaitsForTheServerUntilItsDeadline) {
  auto client = *Client::Connect({.target = "127.0.0.1:1", .deadline = Millis(400)});
  auto start = std::chrono::steady_clock::now();
  auto job = client->GetJob(1);
  auto took = std::chrono::steady_clock::now() - start;
  // Wait-for-ready: it waited for a connection (no fast UNAVAILABLE), and
  // the deadline covered every attempt.
  EXPECT_EQ(job.status().code(), absl::StatusCode::kDeadlineExceeded) << job.status();
  EXPECT_GE(took, Millis(350));
  EXPECT_LT(took, Millis(2000));
}

TEST(ClientUnreachableTest, CallThatIsNeverRetriedFailsFast) {
  auto client = *Client::Connect({.target = "127.0.0.1:1", .deadline = Millis(5000)});
  auto start = std::chrono::steady_clock::now();
  v1::PurgeDeadLettersRequest req;
  auto purged = client->PurgeDeadLetters(req);
  EXPECT_EQ(purged.status().code(), absl::StatusCode::kUnavailable) << purged.status();
  EXPECT_LT(std::chrono::steady_clock::now() - start, Millis(2500));
}

TEST(ClientOptionsTest, BadOptionsNameTheOption) {
  auto c = Client::Connect({.max_attempts = 0});
  ASSERT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("max_attempts"), std::string::npos);
  c = Client::Connect(
      {.initial_reconnect_backoff = Millis(500), .max_reconnect_backoff = Millis(100)});
  ASSERT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("reconnect_backoff"), std::string::npos);
}

}  // namespace
}  // namespace ratchet::testing
