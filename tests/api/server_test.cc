// ratchetd's server-wide behaviour: the standard health and reflection services, the
// server-side deadline, graceful shutdown with a parked long poll.
#include <chrono>
#include <thread>

#include "absl/synchronization/notification.h"
#include "fault_injection_fs.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "ratchet/api/time_codec.h"
#include "server_fixture.h"

namespace ratchet::testing {
namespace {

using std::chrono::steady_clock;

class ServerTest : public ServerFixture {
 protected:
  // grpc.health.v1.Health/Check for the whole server, over a generic stub
  // (Debian ships no generated health stubs). Returns the serving status
  // (1 = SERVING) or -1 if the call failed.
  int HealthStatus() {
    auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port()),
                                       grpc::InsecureChannelCredentials());
    grpc::GenericStub stub(channel);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + Millis(5000));
    grpc::Slice empty("");  // an empty HealthCheckRequest: the whole server
    grpc::ByteBuffer request(&empty, 1), response;
    absl::Notification done;
    grpc::Status status;
    stub.UnaryCall(&context, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request,
                   &response, [&](grpc::Status s) {
                     status = std::move(s);
                     done.Notify();
                   });
    done.WaitForNotification();
    if (!status.ok()) return -1;
    std::vector<grpc::Slice> slices;
    if (!response.Dump(&slices).ok()) return -1;
    std::string bytes;
    for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
    // HealthCheckResponse{status = 1}: field 1, varint.
    if (bytes.size() == 2 && bytes[0] == 0x08) return bytes[1];
    return bytes.empty() ? 0 : -1;
  }
};

TEST_F(ServerTest, HealthServiceReportsServing) { EXPECT_EQ(HealthStatus(), 1); }

// What grpcurl and grpc_cli do first: ask server reflection for the services.
TEST_F(ServerTest, ReflectionListsTheRatchetServices) {
  auto channel = grpc::CreateChannel("127.0.0.1:" + std::to_string(port()),
                                     grpc::InsecureChannelCredentials());
  grpc::GenericStub stub(channel);
  grpc::CompletionQueue cq;
  grpc::ClientContext context;
  context.set_deadline(std::chrono::system_clock::now() + Millis(5000));
  auto call = stub.PrepareCall(
      &context, "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo", &cq);
  auto step = [&](auto&& op) {
    void* tag;
    bool ok = false;
    op();
    EXPECT_TRUE(cq.Next(&tag, &ok));
    return ok;
  };
  ASSERT_TRUE(step([&] { call->StartCall(reinterpret_cast<void*>(1)); }));
  // ServerReflectionRequest{list_services: ""}: field 7, length-delimited.
  grpc::Slice request_bytes(std::string("\x3a\x00", 2));
  grpc::ByteBuffer request(&request_bytes, 1), response;
  ASSERT_TRUE(step([&] { call->Write(request, reinterpret_cast<void*>(2)); }));
  ASSERT_TRUE(step([&] { call->Read(&response, reinterpret_cast<void*>(3)); }));
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
  for (const char* service : {"ratchet.v1.JobService", "ratchet.v1.WorkerService",
                              "ratchet.v1.QueueService", "grpc.health.v1.Health"}) {
    EXPECT_NE(bytes.find(service), std::string::npos) << service;
  }
  step([&] { call->WritesDone(reinterpret_cast<void*>(4)); });
  grpc::Status status;
  step([&] { call->Finish(&status, reinterpret_cast<void*>(5)); });
  EXPECT_TRUE(status.ok()) << status.error_message();
}

TEST_F(ServerTest, ServerDeadlineEndsACallStuckOnTheDisk) {
  auto fs = std::make_shared<FaultInjectionFs>();
  Stop();
  configure_engine_ = [fs](EngineOptions& o) { o.file_system = fs; };
  server_options_.call_timeout = Millis(200);
  Start();
  fs->SetSyncDelayMs(1500);
  v1::JobSpec job;
  job.set_queue("q");
  job.set_job_type("t");
  v1::EnqueueRequest req;
  *req.mutable_job() = job;
  req.mutable_job()->set_idempotency_key("k");
  auto stub = v1::JobService::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(port()),
                                                          grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;  // no client deadline: the server's applies
  v1::EnqueueResponse resp;
  auto start = steady_clock::now();
  grpc::Status s = stub->Enqueue(&context, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DEADLINE_EXCEEDED) << s.error_message();
  EXPECT_NE(s.error_message().find("outcome is unknown"), std::string::npos);
  EXPECT_LT(steady_clock::now() - start, Millis(1200));
  // The write still lands; retrying with the same key finds it.
  fs->SetSyncDelayMs(0);
  std::this_thread::sleep_for(Millis(1600));
  auto again = client().Enqueue(req.job());
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_TRUE(again->duplicate());
}

TEST_F(ServerTest, ShutdownEndsAParkedLease) {
  std::thread waiter([&] {
    v1::LeaseRequest req;
    req.set_queue("q");
    *req.mutable_wait() = ToProtoDuration(Millis(4000));
    auto start = steady_clock::now();
    auto r = client().Lease(req);
    // Ended by the shutdown, well before its 4 s wait: empty, or cancelled.
    EXPECT_LT(steady_clock::now() - start, Millis(3000));
    EXPECT_TRUE(!r.ok() || r->jobs_size() == 0);
  });
  std::this_thread::sleep_for(Millis(200));
  auto start = steady_clock::now();
  server_->Shutdown(Millis(100));
  EXPECT_LT(steady_clock::now() - start, Millis(3000));
  waiter.join();
}

}  // namespace
}  // namespace ratchet::testing
