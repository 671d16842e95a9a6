// A request body that does not parse (garbage bytes, or a proto3 string that
// is not valid UTF-8) gets INVALID_ARGUMENT naming the request, on every
// method of every ratchet.v1 service, and the server keeps serving. Sent raw
// over a generic stub, as a broken or hostile client would.
#include <string>

#include "absl/synchronization/notification.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/grpcpp.h"
#include "ratchet/api/status_codec.h"
#include "server_fixture.h"

namespace ratchet::testing {
namespace {

using absl::StatusCode;

class ParseGuardTest : public ServerFixture {
 protected:
  // Sends `body` as the request of `method` ("/ratchet.v1.JobService/Enqueue").
  absl::Status RawCall(const std::string& method, const std::string& body) {
    if (!channel_) {
      channel_ = grpc::CreateChannel("127.0.0.1:" + std::to_string(port()),
                                     grpc::InsecureChannelCredentials());
    }
    grpc::GenericStub stub(channel_);
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + Millis(5000));
    grpc::Slice slice(body);
    grpc::ByteBuffer request(&slice, 1), response;
    absl::Notification done;
    grpc::Status status;
    stub.UnaryCall(&context, method, grpc::StubOptions(), &request, &response, [&](grpc::Status s) {
      status = std::move(s);
      done.Notify();
    });
    done.WaitForNotification();
    return FromGrpcStatus(status);
  }

  static void ExpectDidNotParse(const absl::Status& s, const std::string& method) {
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << method << ": " << s;
    EXPECT_EQ(ReasonOf(s), kReasonInvalidArgument) << method << ": " << s;
    EXPECT_NE(s.message().find("request: the body did not parse"), std::string::npos)
        << method << ": " << s;
  }

  std::shared_ptr<grpc::Channel> channel_;
};

// A varint whose continuation bit never ends: no message parses it.
const std::string kGarbage = "\xff\xff\xff\xff\xff";

TEST_F(ParseGuardTest, GarbageIsInvalidArgumentOnEveryMethod) {
  int methods = 0;
  for (const char* name : {"JobService", "WorkerService", "QueueService", "WorkflowService",
                           "ScheduleService", "AdminService"}) {
    const auto* service = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
        std::string("ratchet.v1.") + name);
    ASSERT_NE(service, nullptr) << name;
    for (int i = 0; i < service->method_count(); ++i) {
      std::string method = "/" + service->full_name() + "/" + service->method(i)->name();
      ExpectDidNotParse(RawCall(method, kGarbage), method);
      ++methods;
    }
  }
  EXPECT_EQ(methods, 44);  // all of ratchet.v1, WorkStream included
}

TEST_F(ParseGuardTest, InvalidUtf8InAStringFieldIsInvalidArgument) {
  // EnqueueRequest{job: JobSpec{queue: "\xff"}}.
  ExpectDidNotParse(RawCall("/ratchet.v1.JobService/Enqueue", std::string("\x0a\x03\x0a\x01\xff")),
                    "Enqueue");
  // SendEventRequest{workflow_id: 1, name: "\xc3"} (a truncated character).
  ExpectDidNotParse(
      RawCall("/ratchet.v1.WorkflowService/SendEvent", std::string("\x08\x01\x12\x01\xc3")),
      "SendEvent");
}

TEST_F(ParseGuardTest, ServerKeepsServingAfterBadRequests) {
  for (int i = 0; i < 20; ++i) {
    ExpectDidNotParse(RawCall("/ratchet.v1.JobService/Enqueue", kGarbage), "Enqueue");
  }
  v1::JobSpec job;
  job.set_queue("q");
  job.set_job_type("t");
  auto r = client().Enqueue(job);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(client().GetJob(r->job_id())->state(), v1::JOB_STATE_AVAILABLE);
  // A well-formed body on the raw path still reaches the method.
  v1::GetJobRequest get;
  get.set_job_id(r->job_id());
  EXPECT_TRUE(RawCall("/ratchet.v1.JobService/GetJob", get.SerializeAsString()).ok());
}

}  // namespace
}  // namespace ratchet::testing
