// The Worker paces heartbeats from the lease's length, on its own clock,
// whatever the server's clock says. A fake WorkerService hands out one
// lease whose lease_deadline is a day off from the worker's wall clock (in
// the past or in the future, as a skewed server would) and records when
// each heartbeat arrives; the handler runs for 1.5 s on a 600 ms lease, so
// a right-paced worker heartbeats about every 200 ms (a third of it).
#include <gtest/gtest.h>

#include <chrono>
#include <optional>
#include <thread>
#include <utility>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "ratchet/api/time_codec.h"
#include "ratchet/client/worker.h"

namespace ratchet::testing {
namespace {

using SteadyClock = std::chrono::steady_clock;
constexpr Millis kLease{600};
constexpr Millis kHandler{1500};

// Leases one job, once; its deadlines are `skew` off the real time.
class SkewedWorkerService final : public v1::WorkerService::Service {
 public:
  SkewedWorkerService(Millis skew, bool send_duration, Millis lease = kLease)
      : skew_(skew), send_duration_(send_duration), lease_(lease) {}

  grpc::Status Lease(grpc::ServerContext*, const v1::LeaseRequest* req,
                     v1::LeaseResponse* resp) override {
    if (!TakeTheJob()) {  // an idle long poll
      std::this_thread::sleep_for(std::min(FromProtoDuration(req->wait()), Millis(100)));
      return grpc::Status::OK;
    }
    absl::MutexLock lock(&mu_);
    v1::LeasedJob* job = resp->add_jobs();
    job->set_job_id(1);
    job->set_queue(req->queue());
    job->set_job_type("slow");
    job->set_attempt(1);
    job->set_fencing_token(7);
    *job->mutable_lease_deadline() = ToProtoTime(Deadline());
    if (send_duration_) *job->mutable_lease_duration() = ToProtoDuration(lease_);
    if (lease_ > kLease) *job->mutable_attempt_timeout() = ToProtoDuration(lease_);
    events_.push_back(SteadyClock::now());
    return grpc::Status::OK;
  }

  grpc::Status Heartbeat(grpc::ServerContext*, const v1::HeartbeatRequest*,
                         v1::HeartbeatResponse* resp) override {
    absl::MutexLock lock(&mu_);
    *resp->mutable_lease_deadline() = ToProtoTime(Deadline());
    events_.push_back(SteadyClock::now());
    return grpc::Status::OK;
  }

  grpc::Status Complete(grpc::ServerContext*, const v1::CompleteRequest*,
                        v1::CompleteResponse*) override {
    return grpc::Status::OK;
  }

  // The lease's start, then each heartbeat's arrival.
  std::vector<SteadyClock::time_point> events() {
    absl::MutexLock lock(&mu_);
    return events_;
  }

 private:
  bool TakeTheJob() {
    absl::MutexLock lock(&mu_);
    return !std::exchange(leased_, true);
  }
  TimePoint Deadline() const {
    return std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now()) + skew_ + kLease;
  }

  const Millis skew_;
  const bool send_duration_;
  const Millis lease_;
  absl::Mutex mu_;
  bool leased_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<SteadyClock::time_point> events_ ABSL_GUARDED_BY(mu_);
};

struct Pace {
  int heartbeats = 0;
  Millis longest_gap{0};  // between the lease and heartbeats, or heartbeats
};

// Runs one job on a worker against a server skewed by `skew`.
Pace RunAgainstSkewedServer(Millis skew, bool send_duration,
                            std::optional<Millis> visibility_timeout, Millis lease = kLease) {
  SkewedWorkerService service(skew, send_duration, lease);
  int port = 0;
  grpc::ServerBuilder builder;
  builder.AddListeningPort("127.0.0.1:0", grpc::InsecureServerCredentials(), &port);
  builder.RegisterService(&service);
  std::unique_ptr<grpc::Server> server = builder.BuildAndStart();
  auto client = Client::Connect({.target = "127.0.0.1:" + std::to_string(port)});
  EXPECT_TRUE(client.ok());
  {
    Worker worker(client->get(), {.queue = "q",
                                  .concurrency = 1,
                                  .lease_wait = Millis(100),
                                  .visibility_timeout = visibility_timeout});
    worker.Register("slow", [](JobContext&) {
      std::this_thread::sleep_for(kHandler);
      return HandlerResult::Success();
    });
    EXPECT_TRUE(worker.Start().ok());
    std::this_thread::sleep_for(kHandler + Millis(300));
    worker.Stop();
    EXPECT_EQ(worker.stats().completed, 1u);
  }
  server->Shutdown();
  Pace pace;
  std::vector<SteadyClock::time_point> events = service.events();
  pace.heartbeats = static_cast<int>(events.size()) - 1;
  for (size_t i = 1; i < events.size(); ++i) {
    pace.longest_gap =
        std::max(pace.longest_gap, std::chrono::duration_cast<Millis>(events[i] - events[i - 1]));
  }
  return pace;
}

// About 1500 / 200 = 7 heartbeats, never a gap near the lease's length.
void ExpectRightPace(const Pace& pace) {
  EXPECT_GE(pace.heartbeats, 4) << "too few heartbeats: the lease would expire";
  EXPECT_LE(pace.heartbeats, 10) << "too many heartbeats for a " << kLease.count() << " ms lease";
  EXPECT_LT(pace.longest_gap, kLease / 2) << "a heartbeat came too late";
}

TEST(WorkerHeartbeatTest, ServerClockFarAheadDoesNotDelayHeartbeats) {
  ExpectRightPace(RunAgainstSkewedServer(Millis(24 * 3600 * 1000), true, std::nullopt));
}

TEST(WorkerHeartbeatTest, ServerClockFarBehindDoesNotSpeedUpHeartbeats) {
  ExpectRightPace(RunAgainstSkewedServer(-Millis(24 * 3600 * 1000), true, std::nullopt));
}

// A server that predates lease_duration: the visibility timeout asked for.
TEST(WorkerHeartbeatTest, WithoutLeaseDurationTheRequestedTimeoutPacesHeartbeats) {
  ExpectRightPace(RunAgainstSkewedServer(Millis(24 * 3600 * 1000), false, kLease));
  ExpectRightPace(RunAgainstSkewedServer(-Millis(24 * 3600 * 1000), false, kLease));
}

// A hostile server's lease and attempt timeout of 295 years (inside
// protobuf's Duration range) are more nanoseconds than steady_clock holds:
// added as they are, the lease's end wrapped into the past and the worker
// dropped the job as lease_lost without running it. Capped, the job runs.
TEST(WorkerHeartbeatTest, AHugeLeaseFromTheServerDoesNotWrapTheSteadyClock) {
  const Millis huge{9'300'000'000'000};  // > 2^63 ns
  Pace pace = RunAgainstSkewedServer(Millis(0), true, std::nullopt, huge);
  EXPECT_EQ(pace.heartbeats, 0);  // a third of a year-long lease never comes
}

}  // namespace
}  // namespace ratchet::testing
