#include "ratchet/client/client.h"

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <thread>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "client_call.h"
#include "grpcpp/grpcpp.h"
#include "ratchet/api/status_codec.h"
#include "ratchet/api/time_codec.h"
#include "ratchet/base/status.h"
#include "ratchet/client/trace_context.h"

namespace ratchet {
namespace {

using JobStub = v1::JobService::Stub;
using WorkerStub = v1::WorkerService::Stub;
using QueueStub = v1::QueueService::Stub;

// The outcome is unknown, and a repeat may get an answer: the server was
// unreachable, the answer was lost, or a server shutting down cancelled the
// call (its caller did not).
bool Retryable(const absl::Status& s, const CallOptions& call) {
  if (s.code() == absl::StatusCode::kCancelled) {
    return call.canceller == nullptr || !call.canceller->cancelled();
  }
  // Over the caller's rate limit: the server did nothing; try again after
  // the delay it named.
  if (ReasonOf(s) == kReasonRateLimited) return true;
  return s.code() == absl::StatusCode::kUnavailable ||
         s.code() == absl::StatusCode::kDeadlineExceeded;
}

}  // namespace

namespace {

// The bearer token of `o`: token, or token_file's contents trimmed.
absl::StatusOr<std::string> Token(const ClientOptions& o) {
  if (!o.token.empty() && !o.token_file.empty()) {
    return InvalidArgument("token_file", "give token or token_file, not both");
  }
  std::string token = o.token;
  if (!o.token_file.empty()) {
    std::ifstream in(o.token_file, std::ios::binary);
    if (!in) {
      return InvalidArgument("token_file", absl::StrCat("'", o.token_file, "' cannot be read"));
    }
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    token = std::string(absl::StripAsciiWhitespace(text));
    if (token.empty()) {
      return InvalidArgument("token_file", absl::StrCat("'", o.token_file, "' is empty"));
    }
  }
  for (char c : token) {
    if (c < 0x21 || c > 0x7e) {
      return InvalidArgument(o.token.empty() ? "token_file" : "token",
                             "must be printable ASCII without spaces");
    }
  }
  return token;
}

// The whole of a PEM file named by option `field`.
absl::StatusOr<std::string> ReadPem(const char* field, const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::string pem((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (!in.good() && !in.eof()) pem.clear();
  if (pem.rfind("-----BEGIN ", 0) != 0) {
    return InvalidArgument(field, absl::StrCat("'", path, "' is not a readable PEM file"));
  }
  return pem;
}

// Plaintext, or TLS trusting tls_ca_file (with a client certificate if given).
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> ChannelCredentials(
    const ClientOptions& o, grpc::ChannelArguments* args) {
  if (o.tls_ca_file.empty()) {
    if (!o.tls_cert_file.empty() || !o.tls_key_file.empty() || !o.tls_server_name.empty()) {
      return InvalidArgument("tls_ca_file", "is required with any other tls_ option");
    }
    return grpc::InsecureChannelCredentials();
  }
  if (o.tls_cert_file.empty() != o.tls_key_file.empty()) {
    return InvalidArgument("tls_cert_file", "tls_cert_file and tls_key_file go together");
  }
  grpc::SslCredentialsOptions ssl;
  RATCHET_ASSIGN_OR_RETURN(ssl.pem_root_certs, ReadPem("tls_ca_file", o.tls_ca_file));
  if (!o.tls_cert_file.empty()) {
    RATCHET_ASSIGN_OR_RETURN(ssl.pem_cert_chain, ReadPem("tls_cert_file", o.tls_cert_file));
    RATCHET_ASSIGN_OR_RETURN(ssl.pem_private_key, ReadPem("tls_key_file", o.tls_key_file));
  }
  if (!o.tls_server_name.empty()) args->SetSslTargetNameOverride(o.tls_server_name);
  return grpc::SslCredentials(ssl);
}

}  // namespace

absl::StatusOr<std::unique_ptr<Client>> Client::Connect(ClientOptions options) {
  if (options.target.empty() && options.channel == nullptr) {
    return InvalidArgument("target", "must be host:port");
  }
  if (options.max_attempts < 1) return InvalidArgument("max_attempts", "must be at least 1");
  if (options.deadline <= Millis(0)) return InvalidArgument("deadline", "must be positive");
  if (options.initial_backoff <= Millis(0) || options.max_backoff < options.initial_backoff) {
    return InvalidArgument("initial_backoff", "must be positive and at most max_backoff");
  }
  if (options.initial_reconnect_backoff <= Millis(0) ||
      options.max_reconnect_backoff < options.initial_reconnect_backoff ||
      options.max_reconnect_backoff > Millis(INT32_MAX)) {
    return InvalidArgument("initial_reconnect_backoff",
                           "must be positive and at most max_reconnect_backoff (< 2^31 ms)");
  }
  RATCHET_ASSIGN_OR_RETURN(options.token, Token(options));
  options.token_file.clear();
  if (options.random == nullptr) options.random = NewDefaultRandom();
  if (options.channel == nullptr) {
    grpc::ChannelArguments args;
    args.SetMaxReceiveMessageSize(options.max_message_bytes);
    args.SetMaxSendMessageSize(options.max_message_bytes);
    args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS,
                static_cast<int>(options.initial_reconnect_backoff.count()));
    args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS,
                static_cast<int>(options.max_reconnect_backoff.count()));
    RATCHET_ASSIGN_OR_RETURN(auto credentials, ChannelCredentials(options, &args));
    options.channel = grpc::CreateCustomChannel(options.target, credentials, args);
  }
  return std::unique_ptr<Client>(new Client(std::move(options)));
}

Client::Client(ClientOptions options)
    : options_(std::move(options)),
      jobs_(v1::JobService::NewStub(options_.channel)),
      workers_(v1::WorkerService::NewStub(options_.channel)),
      queues_(v1::QueueService::NewStub(options_.channel)),
      workflows_(v1::WorkflowService::NewStub(options_.channel)),
      schedules_(v1::ScheduleService::NewStub(options_.channel)),
      admin_(v1::AdminService::NewStub(options_.channel)),
      health_(grpc::health::v1::Health::NewStub(options_.channel)),
      random_(options_.random) {}

Millis Client::Deadline(const CallOptions& call) const {
  return std::clamp(call.deadline.value_or(options_.deadline), Millis(0), kMaxCallDeadline);
}

Millis Client::RetryDelay(int attempt) {
  // Full jitter: uniform[0, min(cap, base * 2^(attempt-1))].
  int64_t exp = options_.initial_backoff.count() << std::min(attempt - 1, 20);
  int64_t cap = std::min<int64_t>(options_.max_backoff.count(), exp);
  absl::MutexLock lock(&mu_);
  return Millis(random_->UniformInt(0, cap));
}

std::string Client::NewIdempotencyKey() {
  absl::MutexLock lock(&mu_);
  char buf[40];
  std::snprintf(buf, sizeof(buf), "auto-%016llx%016llx",
                static_cast<unsigned long long>(random_->UniformInt(0, INT64_MAX)),
                static_cast<unsigned long long>(random_->UniformInt(0, INT64_MAX)));
  return buf;
}

void CallCanceller::Cancel() {
  absl::MutexLock lock(&mu_);
  cancelled_ = true;
  if (context_ != nullptr) context_->TryCancel();
}

bool CallCanceller::cancelled() const {
  absl::MutexLock lock(&mu_);
  return cancelled_;
}

bool CallCanceller::Begin(grpc::ClientContext* context) {
  absl::MutexLock lock(&mu_);
  if (cancelled_) return false;
  context_ = context;
  return true;
}

void CallCanceller::End() {
  absl::MutexLock lock(&mu_);
  context_ = nullptr;
}

absl::Status Client::Run(Retry retry, const CallOptions& call, Millis deadline,
                         absl::FunctionRef<grpc::Status(grpc::ClientContext*)> attempt) {
  // Steady time bounds the call; gRPC takes the attempt's deadline as a
  // wall-clock time point, derived from what is left of it.
  const auto end = std::chrono::steady_clock::now() + deadline;
  absl::Status status = absl::DeadlineExceededError("call deadline passed before an attempt");
  // A call refused for the rate limit was not run, so any call may repeat
  // it (Retryable); only safe calls repeat anything else.
  int attempts = retry == Retry::kNever ? 1 : options_.max_attempts;
  for (int i = 1; i <= attempts; ++i) {
    const auto left = end - std::chrono::steady_clock::now();
    if (left <= Millis(0)) break;
    grpc::ClientContext context;
    context.set_deadline(std::chrono::system_clock::now() + left);
    context.set_wait_for_ready(retry != Retry::kNever);
    if (!options_.token.empty()) context.AddMetadata("authorization", "Bearer " + options_.token);
    if (!CurrentTraceparent().empty()) context.AddMetadata("traceparent", CurrentTraceparent());
    if (call.canceller != nullptr && !call.canceller->Begin(&context)) {
      return absl::CancelledError("call cancelled");
    }
    status = FromGrpcStatus(attempt(&context));
    if (call.canceller != nullptr) call.canceller->End();
    if (status.ok() || !Retryable(status, call) || i == attempts) break;
    if (retry != Retry::kSafe && ReasonOf(status) != kReasonRateLimited) break;
    Millis wait = std::max(RetryDelay(i), RetryDelayOf(status).value_or(Millis(0)));
    std::this_thread::sleep_until(std::min(end, std::chrono::steady_clock::now() + wait));
  }
  return status;
}

absl::StatusOr<v1::EnqueueResponse> Client::Enqueue(v1::JobSpec job, CallOptions call) {
  v1::EnqueueRequest req;
  if (job.idempotency_key().empty()) job.set_idempotency_key(NewIdempotencyKey());
  *req.mutable_job() = std::move(job);
  return Call(*jobs_, &JobStub::Enqueue, req, Retry::kSafe, call);
}

absl::StatusOr<v1::EnqueueBatchResponse> Client::EnqueueBatch(std::vector<v1::JobSpec> jobs,
                                                              CallOptions call) {
  v1::EnqueueBatchRequest req;
  for (v1::JobSpec& job : jobs) {
    if (job.idempotency_key().empty()) job.set_idempotency_key(NewIdempotencyKey());
    *req.add_jobs() = std::move(job);
  }
  return Call(*jobs_, &JobStub::EnqueueBatch, req, Retry::kSafe, call);
}

absl::StatusOr<v1::Job> Client::GetJob(uint64_t job_id, CallOptions call) {
  v1::GetJobRequest req;
  req.set_job_id(job_id);
  return Call(*jobs_, &JobStub::GetJob, req, Retry::kSafe, call);
}

absl::StatusOr<v1::ExplainJobResponse> Client::ExplainJob(uint64_t job_id, CallOptions call) {
  v1::ExplainJobRequest req;
  req.set_job_id(job_id);
  return Call(*jobs_, &JobStub::ExplainJob, req, Retry::kSafe, call);
}

absl::StatusOr<v1::ListJobsResponse> Client::ListJobs(const v1::ListJobsRequest& req,
                                                      CallOptions call) {
  return Call(*jobs_, &JobStub::ListJobs, req, Retry::kSafe, call);
}

absl::StatusOr<v1::JobState> Client::CancelJob(uint64_t job_id, CallOptions call) {
  v1::CancelJobRequest req;
  req.set_job_id(job_id);
  RATCHET_ASSIGN_OR_RETURN(v1::CancelJobResponse resp,
                           Call(*jobs_, &JobStub::CancelJob, req, Retry::kSafe, call));
  return resp.state();
}

absl::StatusOr<v1::JobState> Client::RetryJob(uint64_t job_id, CallOptions call) {
  v1::RetryJobRequest req;
  req.set_job_id(job_id);
  RATCHET_ASSIGN_OR_RETURN(v1::RetryJobResponse resp,
                           Call(*jobs_, &JobStub::RetryJob, req, Retry::kSafe, call));
  return resp.state();
}

absl::StatusOr<v1::CancelJobsResponse> Client::CancelJobs(const v1::CancelJobsRequest& req,
                                                          CallOptions call) {
  return Call(*jobs_, &JobStub::CancelJobs, req, Retry::kNever, call);
}

absl::StatusOr<v1::LeaseResponse> Client::Lease(const v1::LeaseRequest& req, CallOptions call) {
  return Call(*workers_, &WorkerStub::Lease, req, Retry::kOnce, call,
              FromProtoDuration(req.wait()));
}

absl::StatusOr<v1::HeartbeatResponse> Client::Heartbeat(const v1::HeartbeatRequest& req,
                                                        CallOptions call) {
  return Call(*workers_, &WorkerStub::Heartbeat, req, Retry::kSafe, call);
}

absl::StatusOr<v1::HeartbeatBatchResponse> Client::HeartbeatBatch(
    const v1::HeartbeatBatchRequest& req, CallOptions call) {
  return Call(*workers_, &WorkerStub::HeartbeatBatch, req, Retry::kSafe, call);
}

absl::Status Client::Complete(const v1::CompleteRequest& req, CallOptions call) {
  return Call(*workers_, &WorkerStub::Complete, req, Retry::kSafe, call).status();
}

absl::StatusOr<std::vector<absl::Status>> Client::CompleteBatch(const v1::CompleteBatchRequest& req,
                                                                CallOptions call) {
  RATCHET_ASSIGN_OR_RETURN(v1::CompleteBatchResponse resp,
                           Call(*workers_, &WorkerStub::CompleteBatch, req, Retry::kSafe, call));
  std::vector<absl::Status> out;
  out.reserve(resp.statuses_size());
  for (const auto& s : resp.statuses()) out.push_back(FromRpcStatus(s));
  return out;
}

absl::StatusOr<v1::FailResponse> Client::Fail(const v1::FailRequest& req, CallOptions call) {
  return Call(*workers_, &WorkerStub::Fail, req, Retry::kSafe, call);
}

absl::StatusOr<v1::FailBatchResponse> Client::FailBatch(const v1::FailBatchRequest& req,
                                                        CallOptions call) {
  return Call(*workers_, &WorkerStub::FailBatch, req, Retry::kSafe, call);
}

absl::StatusOr<v1::CompleteAndLeaseResponse> Client::CompleteAndLease(
    const v1::CompleteAndLeaseRequest& req, CallOptions call) {
  return Call(*workers_, &WorkerStub::CompleteAndLease, req, Retry::kOnce, call,
              FromProtoDuration(req.lease().wait()));
}

absl::StatusOr<v1::ListQueuesResponse> Client::ListQueues(const v1::ListQueuesRequest& req,
                                                          CallOptions call) {
  return Call(*queues_, &QueueStub::ListQueues, req, Retry::kSafe, call);
}

absl::StatusOr<v1::QueueInfo> Client::GetQueue(const std::string& queue, CallOptions call) {
  v1::GetQueueRequest req;
  req.set_queue(queue);
  return Call(*queues_, &QueueStub::GetQueue, req, Retry::kSafe, call);
}

absl::StatusOr<v1::QueueInfo> Client::UpdateQueue(const v1::UpdateQueueRequest& req,
                                                  CallOptions call) {
  return Call(*queues_, &QueueStub::UpdateQueue, req, Retry::kSafe, call);
}

absl::StatusOr<v1::QueueInfo> Client::PauseQueue(const std::string& queue, CallOptions call) {
  v1::PauseQueueRequest req;
  req.set_queue(queue);
  return Call(*queues_, &QueueStub::PauseQueue, req, Retry::kSafe, call);
}

absl::StatusOr<v1::QueueInfo> Client::ResumeQueue(const std::string& queue, CallOptions call) {
  v1::ResumeQueueRequest req;
  req.set_queue(queue);
  return Call(*queues_, &QueueStub::ResumeQueue, req, Retry::kSafe, call);
}

absl::StatusOr<v1::ListJobsResponse> Client::ListDeadLetters(const v1::ListDeadLettersRequest& req,
                                                             CallOptions call) {
  return Call(*queues_, &QueueStub::ListDeadLetters, req, Retry::kSafe, call);
}

absl::StatusOr<v1::BulkResponse> Client::RedriveDeadLetters(
    const v1::RedriveDeadLettersRequest& req, CallOptions call) {
  return Call(*queues_, &QueueStub::RedriveDeadLetters, req, Retry::kNever, call);
}

absl::StatusOr<v1::BulkResponse> Client::PurgeDeadLetters(const v1::PurgeDeadLettersRequest& req,
                                                          CallOptions call) {
  return Call(*queues_, &QueueStub::PurgeDeadLetters, req, Retry::kNever, call);
}

}  // namespace ratchet
