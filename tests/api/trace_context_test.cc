// W3C trace context over gRPC: JobSpec.traceparent and `traceparent`
// metadata are stored on the job, handed to the worker in
// LeasedJob.traceparent, and logged as trace_id (docs/api.md).
#include "ratchet/client/trace_context.h"

#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <memory>
#include <sstream>
#include <string>

#include "grpcpp/grpcpp.h"
#include "ratchet/v1/job_service.grpc.pb.h"
#include "server_fixture.h"

namespace ratchet::testing {
namespace {

using absl::StatusCode;

constexpr char kTrace[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
constexpr char kOther[] = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01";

v1::JobSpec Spec(const std::string& queue) {
  v1::JobSpec job;
  job.set_queue(queue);
  job.set_job_type("t");
  return job;
}

// Captures the default logger's lines at debug level while alive.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()), level_(spdlog::get_level()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    spdlog::set_default_logger(std::make_shared<spdlog::logger>("capture", sink));
    spdlog::set_level(spdlog::level::debug);
  }
  ~LogCapture() {
    spdlog::set_default_logger(previous_);
    spdlog::set_level(level_);
  }
  std::string text() const { return out_.str(); }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
  spdlog::level::level_enum level_;
};

class TraceContextTest : public ServerFixture {
 protected:
  // Enqueues through a raw stub with the given `traceparent` metadata values.
  uint64_t EnqueueWithMetadata(const std::vector<std::string>& headers) {
    auto stub = v1::JobService::NewStub(grpc::CreateChannel("127.0.0.1:" + std::to_string(port()),
                                                            grpc::InsecureChannelCredentials()));
    grpc::ClientContext context;
    for (const std::string& h : headers) context.AddMetadata("traceparent", h);
    v1::EnqueueRequest req;
    *req.mutable_job() = Spec("q");
    v1::EnqueueResponse resp;
    grpc::Status s = stub->Enqueue(&context, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.job_id();
  }
  std::string StoredTraceparent(uint64_t id) {
    auto job = client().GetJob(id);
    EXPECT_TRUE(job.ok()) << job.status();
    return job.ok() ? job->traceparent() : "?";
  }
};

TEST_F(TraceContextTest, FieldIsStoredShownAndLeased) {
  v1::JobSpec spec = Spec("q");
  spec.set_traceparent(kTrace);
  auto r = client().Enqueue(spec);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(StoredTraceparent(r->job_id()), kTrace);
  EXPECT_EQ(LeaseOne("q").traceparent(), kTrace);
}

TEST_F(TraceContextTest, TheCallersContextIsForwardedAndTheFieldWins) {
  ratchet::TraceScope scope(kTrace);
  auto forwarded = client().Enqueue(Spec("q"));
  v1::JobSpec own = Spec("q");
  own.set_traceparent(kOther);
  auto named = client().Enqueue(own);
  auto batch = client().EnqueueBatch({Spec("q"), own});
  ASSERT_TRUE(forwarded.ok() && named.ok() && batch.ok());
  EXPECT_EQ(StoredTraceparent(forwarded->job_id()), kTrace);
  EXPECT_EQ(StoredTraceparent(named->job_id()), kOther);
  EXPECT_EQ(StoredTraceparent(batch->results(0).job_id()), kTrace);
  EXPECT_EQ(StoredTraceparent(batch->results(1).job_id()), kOther);
}

TEST_F(TraceContextTest, InvalidOrRepeatedMetadataIsIgnored) {
  EXPECT_EQ(StoredTraceparent(EnqueueWithMetadata({kTrace})), kTrace);
  EXPECT_EQ(StoredTraceparent(EnqueueWithMetadata({"00-not-a-trace"})), "");
  EXPECT_EQ(StoredTraceparent(EnqueueWithMetadata({kTrace, kOther})), "");
  // A later version's extra fields are dropped; its first 55 bytes stay.
  const std::string v1 = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  EXPECT_EQ(StoredTraceparent(EnqueueWithMetadata({v1 + "-more"})), v1);
}

TEST_F(TraceContextTest, AnInvalidFieldIsRejectedNamingIt) {
  v1::JobSpec spec = Spec("q");
  spec.set_traceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7");
  absl::Status s = client().Enqueue(spec).status();
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << s;
  EXPECT_NE(s.message().find("job.traceparent"), absl::string_view::npos) << s;
  auto listed = client().ListQueues();
  ASSERT_TRUE(listed.ok());
  EXPECT_TRUE(listed->queues().empty()) << "a rejected enqueue created its queue";
}

TEST_F(TraceContextTest, LogLinesAboutTheJobCarryItsTraceId) {
  LogCapture logs;
  v1::JobSpec spec = Spec("q");
  spec.set_traceparent(kTrace);
  spec.set_max_attempts(1);
  ASSERT_TRUE(client().Enqueue(spec).ok());
  KillOne("q");
  const std::string text = logs.text();
  for (const char* event : {"event=job_enqueued", "event=job_leased", "event=job_dead_lettered"}) {
    size_t at = text.find(event);
    ASSERT_NE(at, std::string::npos) << event << " not in:\n" << text;
    std::string line = text.substr(at, text.find('\n', at) - at);
    EXPECT_NE(line.find("trace_id=4bf92f3577b34da6a3ce929d0e0e4736"), std::string::npos) << line;
  }
}

}  // namespace
}  // namespace ratchet::testing
