// WorkerService.WorkStream from outside, with the raw client stream
// (ratchet/client/work_stream.h): credits, acknowledgements, fencing, a cut
// stream, a slow reader, protocol errors, stop and server shutdown.
#include "ratchet/client/work_stream.h"

#include <atomic>
#include <chrono>
#include <thread>

#include "absl/strings/match.h"
#include "absl/synchronization/mutex.h"
#include "ratchet/api/status_codec.h"
#include "ratchet/api/time_codec.h"
#include "ratchet/client/worker.h"
#include "server_fixture.h"

namespace ratchet::testing {
namespace {

// A stream whose answers a background thread collects.
class Collector {
 public:
  explicit Collector(std::unique_ptr<WorkStream> stream) : stream_(std::move(stream)) {}
  ~Collector() { Close(); }

  void Start() {
    reader_ = std::thread([this] {
      v1::WorkStreamResponse resp;
      while (stream_->Read(&resp)) {
        absl::MutexLock lock(&mu_);
        for (const auto& j : resp.jobs()) jobs_.push_back(j);
        for (const auto& a : resp.acks()) acks_.push_back(a);
        stopped_ = stopped_ || resp.leasing_stopped();
        resp.Clear();
      }
      absl::Status s = stream_->Finish();
      absl::MutexLock lock(&mu_);
      ended_ = true;
      status_ = s;
    });
  }
  bool Send(const v1::WorkStreamRequest& msg) { return stream_->Write(msg); }
  void Close() {
    if (reader_.joinable()) {
      stream_->Cancel();
      reader_.join();
    }
  }

  // Waits (up to `limit`) until `pred` holds over the collected state.
  template <typename Pred>
  bool Await(Pred pred, Millis limit = Millis(5000)) {
    absl::MutexLock lock(&mu_);
    auto cond = [&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return pred(*this); };
    return mu_.AwaitWithTimeout(absl::Condition(&cond), absl::FromChrono(limit));
  }

  // Read under the lock (inside Await's predicate) or after Close.
  std::vector<v1::LeasedJob> jobs_;
  std::vector<v1::WorkStreamAck> acks_;
  bool stopped_ = false;
  bool ended_ = false;
  absl::Status status_;

  std::vector<v1::LeasedJob> jobs() {
    absl::MutexLock lock(&mu_);
    return jobs_;
  }
  std::vector<v1::WorkStreamAck> acks() {
    absl::MutexLock lock(&mu_);
    return acks_;
  }
  absl::Status status() {
    absl::MutexLock lock(&mu_);
    return status_;
  }

 private:
  std::unique_ptr<WorkStream> stream_;
  std::thread reader_;
  absl::Mutex mu_;
};

class WorkStreamTest : public ServerFixture {
 protected:
  void EnqueueN(int n, const std::string& queue = "q", size_t payload = 2) {
    std::vector<v1::JobSpec> jobs;
    for (int i = 0; i < n; ++i) {
      v1::JobSpec job;
      job.set_queue(queue);
      job.set_job_type("t");
      job.set_payload(std::string(payload, 'p'));
      jobs.push_back(std::move(job));
      if (jobs.size() == 1000 || i == n - 1) {
        ASSERT_TRUE(client().EnqueueBatch(std::move(jobs)).ok());
        jobs.clear();
      }
    }
  }
  static v1::WorkStreamRequest Open(int credits, const std::string& queue = "q",
                                    std::optional<Millis> visibility = std::nullopt) {
    v1::WorkStreamRequest msg;
    msg.mutable_open()->set_queue(queue);
    msg.mutable_open()->set_worker_id("stream-test");
    if (visibility)
      *msg.mutable_open()->mutable_visibility_timeout() = ToProtoDuration(*visibility);
    msg.set_credits(credits);
    return msg;
  }
  static v1::WorkStreamRequest Credits(int n) {
    v1::WorkStreamRequest msg;
    msg.set_credits(n);
    return msg;
  }
  std::unique_ptr<Collector> Connect() {
    auto c = std::make_unique<Collector>(client().OpenWorkStream());
    c->Start();
    return c;
  }
};

TEST_F(WorkStreamTest, TheServerNeverPushesMoreJobsThanTheCredits) {
  EnqueueN(50);
  auto stream = Connect();
  ASSERT_TRUE(stream->Send(Open(3)));
  ASSERT_TRUE(stream->Await([](Collector& c) { return c.jobs_.size() >= 3; }));
  std::this_thread::sleep_for(Millis(300));  // time to push more, if it would
  EXPECT_EQ(stream->jobs().size(), 3u);
  ASSERT_TRUE(stream->Send(Credits(2)));
  ASSERT_TRUE(stream->Await([](Collector& c) { return c.jobs_.size() >= 5; }));
  std::this_thread::sleep_for(Millis(300));
  EXPECT_EQ(stream->jobs().size(), 5u);
  EXPECT_EQ(client().GetQueue("q")->running(), 5);
}

TEST_F(WorkStreamTest, OutcomesAreAcknowledgedInOrderAndAStaleTokenIsLeaseLost) {
  EnqueueN(2);
  auto stream = Connect();
  ASSERT_TRUE(stream->Send(Open(2)));
  ASSERT_TRUE(stream->Await([](Collector& c) { return c.jobs_.size() == 2; }));
  std::vector<v1::LeasedJob> jobs = stream->jobs();
  v1::WorkStreamRequest msg;
  msg.set_seq(41);
  auto* stale = msg.add_completions();
  stale->set_job_id(jobs[0].job_id());
  stale->set_fencing_token(jobs[0].fencing_token() - 1);  // an older lease's token
  auto* good = msg.add_completions();
  good->set_job_id(jobs[0].job_id());
  good->set_fencing_token(jobs[0].fencing_token());
  good->set_result("r");
  auto* fail = msg.add_failures();
  fail->set_job_id(jobs[1].job_id());
  fail->set_fencing_token(jobs[1].fencing_token());
  fail->set_error("boom");
  fail->set_non_retryable(true);
  auto* hb = msg.add_heartbeats();
  hb->set_job_id(jobs[1].job_id());
  hb->set_fencing_token(jobs[1].fencing_token() + 7);  // never issued
  ASSERT_TRUE(stream->Send(msg));
  msg.Clear();
  msg.set_seq(42);
  msg.add_completions()->set_job_id(jobs[0].job_id());  // a repeat, acknowledged again
  msg.mutable_completions(0)->set_fencing_token(jobs[0].fencing_token());
  ASSERT_TRUE(stream->Send(msg));
  ASSERT_TRUE(stream->Await([](Collector& c) { return c.acks_.size() == 2; }));
  std::vector<v1::WorkStreamAck> acks = stream->acks();
  ASSERT_EQ(acks[0].seq(), 41u);
  ASSERT_EQ(acks[0].completions_size(), 2);
  EXPECT_EQ(ReasonOf(FromRpcStatus(acks[0].completions(0))), kReasonLeaseLost);
  EXPECT_TRUE(FromRpcStatus(acks[0].completions(1)).ok());
  ASSERT_EQ(acks[0].failures_size(), 1);
  EXPECT_TRUE(FromRpcStatus(acks[0].failures(0).status()).ok());
  EXPECT_EQ(acks[0].failures(0).result().state(), v1::JOB_STATE_DEAD);
  ASSERT_EQ(acks[0].heartbeats_size(), 1);
  // Heartbeats come after the failure in the same message: the job is dead.
  EXPECT_FALSE(FromRpcStatus(acks[0].heartbeats(0).status()).ok());
  EXPECT_EQ(acks[1].seq(), 42u);
  ASSERT_EQ(acks[1].completions_size(), 1);
  EXPECT_TRUE(FromRpcStatus(acks[1].completions(0)).ok());
  EXPECT_EQ(client().GetJob(jobs[0].job_id())->state(), v1::JOB_STATE_COMPLETED);
  EXPECT_EQ(client().GetJob(jobs[0].job_id())->result(), "r");
  EXPECT_EQ(client().GetJob(jobs[1].job_id())->state(), v1::JOB_STATE_DEAD);
}

TEST_F(WorkStreamTest, ACutStreamKeepsWhatWasAcknowledgedAndItsOtherJobsComeBack) {
  EnqueueN(2);
  auto stream = Connect();
  ASSERT_TRUE(stream->Send(Open(2, "q", Millis(400))));
  ASSERT_TRUE(stream->Await([](Collector& c) { return c.jobs_.size() == 2; }));
  std::vector<v1::LeasedJob> jobs = stream->jobs();
  v1::WorkStreamRequest msg;
  msg.set_seq(1);
  msg.add_completions()->set_job_id(jobs[0].job_id());
  msg.mutable_completions(0)->set_fencing_token(jobs[0].fencing_token());
  ASSERT_TRUE(stream->Send(msg));
  ASSERT_TRUE(stream->Await([](Collector& c) { return c.acks_.size() == 1; }));
  stream->Close();  // cut: the second job's outcome is never sent

  EXPECT_EQ(client().GetJob(jobs[0].job_id())->state(), v1::JOB_STATE_COMPLETED);
  v1::LeaseRequest lease;
  lease.set_queue("q");
  *lease.mutable_wait() = ToProtoDuration(Millis(3000));
  auto again = client().Lease(lease);
  ASSERT_TRUE(again.ok()) << again.status();
  ASSERT_EQ(again->jobs_size(), 1) << "the cut stream's job came back after its timeout";
  EXPECT_EQ(again->jobs(0).job_id(), jobs[1].job_id());
  EXPECT_EQ(again->jobs(0).attempt(), 2);
  // The cut stream's lease is fenced off.
  v1::CompleteRequest late;
  late.set_job_id(jobs[1].job_id());
  late.set_fencing_token(jobs[1].fencing_token());
  EXPECT_EQ(ReasonOf(client().Complete(late)), kReasonLeaseLost);
}

TEST_F(WorkStreamTest, ASlowReaderDoesNotMakeTheServerLeaseAllItsCredits) {
  EnqueueN(12000, "q", 1000);  // 10000 credits' worth: about 10 MB
  auto stream = std::make_unique<Collector>(client().OpenWorkStream());
  ASSERT_TRUE(stream->Send(Open(10000)));  // and never read (yet)
  std::this_thread::sleep_for(Millis(1000));
  const int64_t running = client().GetQueue("q")->running();
  // The server leases only while at most one message waits to be written,
  // and each message is at most one lease (1000 jobs): with the reader
  // stalled, what HTTP/2's windows hold plus two messages, not the 10000
  // credits.
  std::printf("leased for a stalled reader: %lld of 10000 credits\n",
              static_cast<long long>(running));
  EXPECT_LE(running, 8000) << "the server buffered leases for a reader that does not read";
  stream->Start();
  ASSERT_TRUE(stream->Await([](Collector& c) { return c.jobs_.size() == 10000; }, Millis(20000)));
  EXPECT_EQ(client().GetQueue("q")->running(), 10000);
}

TEST_F(WorkStreamTest, TheFirstMessageMustOpenAndCreditsAreBounded) {
  {
    auto stream = Connect();
    ASSERT_TRUE(stream->Send(Credits(5)));
    ASSERT_TRUE(stream->Await([](Collector& c) { return c.ended_; }));
    EXPECT_EQ(stream->status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StartsWith(stream->status().message(), "open")) << stream->status();
  }
  {
    auto stream = Connect();
    ASSERT_TRUE(stream->Send(Open(9999)));
    ASSERT_TRUE(stream->Send(Credits(2)));  // 10001 unused credits
    ASSERT_TRUE(stream->Await([](Collector& c) { return c.ended_; }));
    EXPECT_EQ(stream->status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StartsWith(stream->status().message(), "credits")) << stream->status();
  }
  {
    auto stream = Connect();
    ASSERT_TRUE(stream->Send(Open(1, "")));
    ASSERT_TRUE(stream->Await([](Collector& c) { return c.ended_; }));
    EXPECT_EQ(stream->status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_TRUE(absl::StartsWith(stream->status().message(), "open.queue")) << stream->status();
  }
  {
    auto stream = Connect();
    ASSERT_TRUE(stream->Send(Open(1)));
    ASSERT_TRUE(stream->Send(Open(1)));  // a second open
    ASSERT_TRUE(stream->Await([](Collector& c) { return c.ended_; }));
    EXPECT_EQ(stream->status().code(), absl::StatusCode::kInvalidArgument);
  }
}

TEST_F(WorkStreamTest, StopLeasingIsAnsweredPromptlyAndLeasesNothingMore) {
  auto stream = Connect();
  ASSERT_TRUE(stream->Send(Open(5)));  // parks a lease on the empty queue
  std::this_thread::sleep_for(Millis(100));
  v1::WorkStreamRequest stop;
  stop.set_stop_leasing(true);
  const auto start = std::chrono::steady_clock::now();
  ASSERT_TRUE(stream->Send(stop));
  ASSERT_TRUE(stream->Await([](Collector& c) { return c.stopped_; }));
  EXPECT_LT(std::chrono::steady_clock::now() - start, Millis(500))
      << "the parked lease held the stop up";
  EnqueueN(3);
  std::this_thread::sleep_for(Millis(300));
  EXPECT_TRUE(stream->jobs().empty());
  EXPECT_EQ(client().GetQueue("q")->available(), 3);
}

TEST_F(WorkStreamTest, ServerShutdownEndsTheStreamUnavailable) {
  auto stream = Connect();
  ASSERT_TRUE(stream->Send(Open(5)));
  std::this_thread::sleep_for(Millis(100));
  const auto start = std::chrono::steady_clock::now();
  std::thread stopper([this] { server_->Shutdown(Millis(10000)); });
  ASSERT_TRUE(stream->Await([](Collector& c) { return c.ended_; }));
  EXPECT_LT(std::chrono::steady_clock::now() - start, Millis(3000))
      << "shutdown waited for its grace period instead of ending the stream";
  EXPECT_EQ(stream->status().code(), absl::StatusCode::kUnavailable) << stream->status();
  stopper.join();
}

TEST_F(WorkStreamTest, TheFirstAnswerSaysTheItemLimitAndAcksKeepMessageOrder) {
  EnqueueN(1);
  auto stream = Connect();
  ASSERT_TRUE(stream->Send(Open(1)));
  ASSERT_TRUE(stream->Await([](Collector& c) { return c.jobs_.size() == 1; }));
  v1::LeasedJob job = stream->jobs()[0];
  for (int round = 0; round < 20; ++round) {
    // A message the engine applies, then one answered at the edge (an
    // invalid extension): the second's ack must not overtake the first's.
    v1::WorkStreamRequest first;
    first.set_seq(2 * round + 1);
    first.add_heartbeats()->set_job_id(job.job_id());
    first.mutable_heartbeats(0)->set_fencing_token(job.fencing_token());
    v1::WorkStreamRequest second;
    second.set_seq(2 * round + 2);
    second.add_heartbeats()->set_job_id(job.job_id());
    second.mutable_heartbeats(0)->mutable_extension()->set_nanos(-5);
    ASSERT_TRUE(stream->Send(first));
    ASSERT_TRUE(stream->Send(second));
  }
  ASSERT_TRUE(stream->Await([](Collector& c) { return c.acks_.size() == 40; }));
  std::vector<v1::WorkStreamAck> acks = stream->acks();
  for (size_t i = 0; i < acks.size(); ++i) EXPECT_EQ(acks[i].seq(), i + 1);
  EXPECT_TRUE(FromRpcStatus(acks[0].heartbeats(0).status()).ok());
  EXPECT_EQ(FromRpcStatus(acks[1].heartbeats(0).status()).code(),
            absl::StatusCode::kInvalidArgument);
}

// The engine's max_lease_jobs bounds what the stream leases and the items
// a message may carry; the server says so, and the Worker keeps to it.
class SmallBatchStreamTest : public WorkStreamTest {
 protected:
  void SetUp() override {
    configure_engine_ = [](EngineOptions& o) { o.max_lease_jobs = 5; };
    WorkStreamTest::SetUp();
  }
};

TEST_F(SmallBatchStreamTest, AWorkerWithMoreCreditsThanTheBatchLimitStillDrains) {
  EnqueueN(60);
  Worker worker(&client(), {.queue = "q", .concurrency = 8});
  worker.Register("t", [](JobContext&) { return HandlerResult::Success(); });
  ASSERT_TRUE(worker.Start().ok());
  for (int i = 0; i < 500 && worker.stats().completed < 60; ++i) {
    std::this_thread::sleep_for(Millis(10));
  }
  worker.Stop();
  EXPECT_EQ(worker.stats().completed, 60u) << worker.stats().last_stream_error;
  EXPECT_EQ(worker.stats().stream_restarts, 0u) << worker.stats().last_stream_error;
}

}  // namespace
}  // namespace ratchet::testing
