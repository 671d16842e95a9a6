// ratchet::Client: the C++ client of ratchetd's ratchet.v1 API.
//
// Calls are typed (the ratchet.v1 messages) and blocking; each call has a
// deadline (CallOptions::deadline, default ClientOptions::deadline) that
// covers all its attempts. Errors are absl::Status with gRPC's codes and,
// for errors from the server, the machine-readable reason of
// ratchet/base/status.h (ReasonOf(status)): LEASE_LOST,
// IDEMPOTENCY_CONFLICT, PAYLOAD_TOO_LARGE, NOT_FOUND, INVALID_STATE,
// INVALID_ARGUMENT, STORAGE_FAILED, ENGINE_CLOSED.
//
// Riding through a server restart: the channel reconnects by itself, with
// exponential backoff between ClientOptions::initial_reconnect_backoff and
// max_reconnect_backoff (gRPC's connection backoff, jittered), so a
// restarted ratchetd is found again within about max_reconnect_backoff.
// Calls that are safe to repeat, and Lease and CompleteAndLease, are
// wait-for-ready: while the server is unreachable they wait (until their
// deadline) for the connection to come back instead of failing at once.
// Waiting never sends a request twice. The other calls fail fast with
// UNAVAILABLE when the server is unreachable.
//
// Retries: a call that is safe to repeat is sent again on UNAVAILABLE,
// DEADLINE_EXCEEDED and CANCELLED (unless its CallCanceller cancelled it: a
// server shutting down cancels the calls in flight), up to ClientOptions::max_attempts attempts and
// within its deadline, sleeping a capped exponential backoff with full jitter between them (Marc
// Brooker, "Exponential Backoff And Jitter", AWS Architecture Blog, 2015). Safe to repeat: reads;
// Enqueue and EnqueueBatch (the client gives every job without an idempotency key a random one, so
// a retry never duplicates it); Heartbeat; Complete(Batch) and Fail(Batch) (fenced by the token: a
// repeat is acknowledged with the first outcome, or answers LEASE_LOST); CancelJob, UpdateQueue,
// PauseQueue and ResumeQueue (idempotent on the server). Sent at most once, but wait-for-ready:
// Lease and CompleteAndLease (a lost answer leaves its jobs leased to nobody until their visibility
// timeout; the caller leases again). Never retried, fail fast: RedriveDeadLetters,
// PurgeDeadLetters and CancelJobs (a repeat acts on more jobs). The last attempt's error is
// returned; a call whose deadline passes while the server is down returns DEADLINE_EXCEEDED.
//
// Thread safety: a Client is safe to use from many threads at once; calls
// share one channel (HTTP/2 connection).
#ifndef RATCHET_CLIENT_CLIENT_H_
#define RATCHET_CLIENT_CLIENT_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "ratchet/base/clock.h"
#include "ratchet/base/random.h"
#include "ratchet/v1/admin_service.grpc.pb.h"
#include "ratchet/v1/job_service.grpc.pb.h"
#include "ratchet/v1/queue_service.grpc.pb.h"
#include "ratchet/v1/schedule_service.grpc.pb.h"
#include "ratchet/v1/worker_service.grpc.pb.h"
#include "ratchet/v1/workflow_service.grpc.pb.h"

namespace grpc {
class Channel;
class ClientContext;
}  // namespace grpc

namespace ratchet {

class WorkStream;

// Longest deadline (and longest Lease wait) a call takes; longer ones are
// cut to it, so adding them to a clock reading cannot overflow. 1 year.
inline constexpr Millis kMaxCallDeadline{int64_t{365} * 24 * 3600 * 1000};

struct ClientOptions {
  // ratchetd's address, host:port.
  std::string target = "127.0.0.1:7070";
  // Deadline of a call, all its attempts and the waits between them
  // included. A Lease gets its long-poll wait on top of this. A deadline
  // (or wait) longer than kMaxCallDeadline counts as kMaxCallDeadline.
  Millis deadline{10000};
  // Attempts for calls that are safe to repeat (1 = no retries).
  int max_attempts = 5;
  Millis initial_backoff{50};  // first retry delay bound
  Millis max_backoff{2000};    // cap on any retry delay
  // The channel's reconnect backoff after a lost connection
  // (GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS and GRPC_ARG_MAX_RECONNECT_-
  // BACKOFF_MS; gRPC's own defaults are 1 s and 120 s, far too slow to
  // notice a restarted server). Ignored when `channel` is given.
  Millis initial_reconnect_backoff{100};
  Millis max_reconnect_backoff{2000};
  // Largest message sent or received, bytes.
  int max_message_bytes = 16 << 20;
  // Jitter and idempotency-key source; null means a randomly seeded one.
  // Used under the client's lock.
  std::shared_ptr<Random> random;
  // TLS (docs/operations.md, "TLS"). With tls_ca_file (PEM) the channel
  // speaks TLS and trusts only that CA; tls_cert_file and tls_key_file (PEM)
  // add a client certificate for servers that require one (mTLS).
  // tls_server_name overrides the name the server's certificate must carry
  // (default: the host of `target`). Files are read once, by Connect.
  // All empty: plaintext. Ignored when `channel` is given.
  std::string tls_ca_file, tls_cert_file, tls_key_file, tls_server_name;
  // Authentication (docs/operations.md, "Authentication"): a bearer token
  // sent with every call as `authorization: Bearer <token>`, given as is or
  // read once, by Connect, from token_file (surrounding whitespace is
  // dropped). At most one of the two. Printable ASCII only. Send tokens
  // over TLS: over plaintext anyone on the path can read them.
  std::string token, token_file;
  // Use this channel instead of creating one for `target` (tests).
  std::shared_ptr<grpc::Channel> channel;
};

// Cancels a call in flight from another thread (e.g. a long-poll Lease when
// a worker stops). Once cancelled it stays cancelled: calls made with it
// fail with CANCELLED. Thread-safe.
class CallCanceller {
 public:
  void Cancel();
  bool cancelled() const;

 private:
  friend class Client;
  // Registers the attempt's context; false if already cancelled.
  bool Begin(grpc::ClientContext* context);
  void End();
  mutable absl::Mutex mu_;
  grpc::ClientContext* context_ ABSL_GUARDED_BY(mu_) = nullptr;
  bool cancelled_ ABSL_GUARDED_BY(mu_) = false;
};

struct CallOptions {
  std::optional<Millis> deadline;      // the call's; default ClientOptions::deadline
  CallCanceller* canceller = nullptr;  // not owned; outlives the call
};

class Client {
 public:
  // Creates the channel; it connects lazily, so this fails only for bad
  // options (INVALID_ARGUMENT naming the option).
  static absl::StatusOr<std::unique_ptr<Client>> Connect(ClientOptions options);

  // ---- JobService ----
  // Sets a random idempotency key (auto-<32 hex>) when job.idempotency_key
  // is empty; the key is in the response's job, via GetJob. A job with
  // `unique` set that matches an existing one answers unique_match = true
  // and that job's id (a retry whose first attempt was written answers
  // duplicate = true instead: the key is checked first).
  absl::StatusOr<v1::EnqueueResponse> Enqueue(v1::JobSpec job, CallOptions call = {});
  absl::StatusOr<v1::EnqueueBatchResponse> EnqueueBatch(std::vector<v1::JobSpec> jobs,
                                                        CallOptions call = {});
  absl::StatusOr<v1::Job> GetJob(uint64_t job_id, CallOptions call = {});
  // Why the job is not running now, and when it could (docs/api.md,
  // ExplainJob). Read-only, retried. Errors: NOT_FOUND.
  absl::StatusOr<v1::ExplainJobResponse> ExplainJob(uint64_t job_id, CallOptions call = {});
  absl::StatusOr<v1::ListJobsResponse> ListJobs(const v1::ListJobsRequest& req,
                                                CallOptions call = {});
  absl::StatusOr<v1::JobState> CancelJob(uint64_t job_id, CallOptions call = {});
  // Retry now: a scheduled job (delay or retry backoff) becomes available
  // at once (JobService.RetryJob). Retried (idempotent). Errors: NOT_FOUND;
  // FAILED_PRECONDITION/INVALID_STATE for a job that is not scheduled or
  // belongs to a workflow.
  absl::StatusOr<v1::JobState> RetryJob(uint64_t job_id, CallOptions call = {});
  // Cancels the live jobs of a queue that match the filter (docs/api.md,
  // CancelJobs). Never retried (a repeat acts on the jobs matching then).
  // Errors: INVALID_ARGUMENT naming the field.
  absl::StatusOr<v1::CancelJobsResponse> CancelJobs(const v1::CancelJobsRequest& req,
                                                    CallOptions call = {});

  // ---- WorkerService ----
  absl::StatusOr<v1::LeaseResponse> Lease(const v1::LeaseRequest& req, CallOptions call = {});
  absl::StatusOr<v1::HeartbeatResponse> Heartbeat(const v1::HeartbeatRequest& req,
                                                  CallOptions call = {});
  absl::Status Complete(const v1::CompleteRequest& req, CallOptions call = {});
  // One status per item, in order.
  absl::StatusOr<std::vector<absl::Status>> CompleteBatch(const v1::CompleteBatchRequest& req,
                                                          CallOptions call = {});
  absl::StatusOr<v1::FailResponse> Fail(const v1::FailRequest& req, CallOptions call = {});
  absl::StatusOr<v1::FailBatchResponse> FailBatch(const v1::FailBatchRequest& req,
                                                  CallOptions call = {});
  // One result per item, in order, as Heartbeat would answer it
  // (HeartbeatBatchItem: status, and the result when OK). Retried.
  absl::StatusOr<v1::HeartbeatBatchResponse> HeartbeatBatch(const v1::HeartbeatBatchRequest& req,
                                                            CallOptions call = {});
  // Opens the streaming worker protocol (ratchet/client/work_stream.h):
  // never retried by the client, which cannot know what the stream's
  // messages did; the caller reconnects (ratchet::Worker does). Sends the
  // token and the thread's traceparent.
  std::unique_ptr<WorkStream> OpenWorkStream();
  // `completion` of the response is the completion's outcome (see
  // FromRpcStatus in ratchet/api/status_codec.h).
  absl::StatusOr<v1::CompleteAndLeaseResponse> CompleteAndLease(
      const v1::CompleteAndLeaseRequest& req, CallOptions call = {});

  // ---- QueueService ----
  // A page of queues by name; follow next_cursor for the rest. With
  // authorization, only queues the caller may read: a page may then hold
  // fewer than `limit`, even none, and still carry a next_cursor.
  absl::StatusOr<v1::ListQueuesResponse> ListQueues(const v1::ListQueuesRequest& req = {},
                                                    CallOptions call = {});
  absl::StatusOr<v1::QueueInfo> GetQueue(const std::string& queue, CallOptions call = {});
  absl::StatusOr<v1::QueueInfo> UpdateQueue(const v1::UpdateQueueRequest& req,
                                            CallOptions call = {});
  absl::StatusOr<v1::QueueInfo> PauseQueue(const std::string& queue, CallOptions call = {});
  absl::StatusOr<v1::QueueInfo> ResumeQueue(const std::string& queue, CallOptions call = {});
  absl::StatusOr<v1::ListJobsResponse> ListDeadLetters(const v1::ListDeadLettersRequest& req,
                                                       CallOptions call = {});
  absl::StatusOr<v1::BulkResponse> RedriveDeadLetters(const v1::RedriveDeadLettersRequest& req,
                                                      CallOptions call = {});
  absl::StatusOr<v1::BulkResponse> PurgeDeadLetters(const v1::PurgeDeadLettersRequest& req,
                                                    CallOptions call = {});

  // Workflows (docs/workflows.md). Submit and Start get an automatic
  // idempotency key when the request has none, so they are retried safely;
  // Cancel, SendEvent and RecordStep are idempotent on the server.
  // SuspendWorkflow is not retried (a repeat answers LEASE_LOST).
  absl::StatusOr<v1::SubmitWorkflowResponse> SubmitWorkflow(v1::SubmitWorkflowRequest req,
                                                            CallOptions call = {});
  absl::StatusOr<v1::SubmitWorkflowResponse> StartWorkflow(v1::StartWorkflowRequest req,
                                                           CallOptions call = {});
  absl::StatusOr<v1::Workflow> GetWorkflow(uint64_t workflow_id, CallOptions call = {});
  absl::StatusOr<v1::ListWorkflowsResponse> ListWorkflows(const v1::ListWorkflowsRequest& req,
                                                          CallOptions call = {});
  absl::StatusOr<v1::WorkflowState> CancelWorkflow(uint64_t workflow_id, CallOptions call = {});
  absl::Status SendEvent(const v1::SendEventRequest& req, CallOptions call = {});
  absl::Status RecordStep(const v1::RecordStepRequest& req, CallOptions call = {});
  absl::Status SuspendWorkflow(const v1::SuspendWorkflowRequest& req, CallOptions call = {});

  // Schedules (docs/schedules.md). Create (same definition), Update, Pause
  // and Resume are idempotent and retried; Delete and Trigger are not.
  absl::StatusOr<v1::ScheduleInfo> CreateSchedule(const v1::ScheduleSpec& spec,
                                                  CallOptions call = {});
  absl::StatusOr<v1::ScheduleInfo> UpdateSchedule(const v1::ScheduleSpec& spec,
                                                  CallOptions call = {});
  absl::Status DeleteSchedule(const std::string& id, CallOptions call = {});
  absl::StatusOr<v1::ScheduleInfo> GetSchedule(const std::string& id, CallOptions call = {});
  // A page of schedules by id, bounded in count and bytes; follow
  // next_cursor for the rest (filtered by authorization as ListQueues).
  absl::StatusOr<v1::ListSchedulesResponse> ListSchedules(const v1::ListSchedulesRequest& req = {},
                                                          CallOptions call = {});
  absl::StatusOr<v1::ScheduleInfo> PauseSchedule(const std::string& id, CallOptions call = {});
  absl::StatusOr<v1::ScheduleInfo> ResumeSchedule(const std::string& id, CallOptions call = {});
  absl::StatusOr<uint64_t> TriggerSchedule(const std::string& id, CallOptions call = {});

  // Administration (docs/operations.md). Backup writes an online backup of
  // the server's data directory to `destination`, an absolute path on the
  // server's machine that must not exist. Sent once, never retried (a repeat
  // would answer ALREADY_EXISTS); give it a deadline long enough for the copy
  // (CallOptions::deadline). Errors: INVALID_ARGUMENT naming `destination`,
  // ALREADY_EXISTS, FAILED_PRECONDITION (no parent directory),
  // UNAVAILABLE/STORAGE_FAILED.
  absl::StatusOr<v1::BackupResponse> Backup(const std::string& destination, CallOptions call = {});
  // One page of the server's storage and backlog statistics (AdminService.
  // GetStats): bytes per column family, live and retained jobs, and up to
  // `limit` queues (1..1000; 0 means 100) after `cursor` ("" for the first
  // page) with each one's oldest available job. A read: retried on
  // UNAVAILABLE. Follow next_cursor until it is "": a page may be short.
  // Errors: INVALID_ARGUMENT naming `limit` or `cursor`.
  absl::StatusOr<v1::GetStatsResponse> GetStats(int limit = 0, const std::string& cursor = "",
                                                CallOptions call = {});

  // The workers the server has seen recently (WorkerService.ListWorkers),
  // most recently seen first, at most `limit` (0: 1000). A read: retried.
  // Errors: INVALID_ARGUMENT naming `limit`.
  absl::StatusOr<v1::ListWorkersResponse> ListWorkers(int limit = 0, CallOptions call = {});

  // The server's gRPC health (grpc.health.v1.Health/Check, for `service`;
  // "" is the whole server): SERVING while ratchetd serves, NOT_SERVING
  // once its shutdown began. Needs no credentials. Not retried: a probe.
  // Errors: UNAVAILABLE when the server cannot be reached; NOT_FOUND for
  // an unknown `service`.
  absl::StatusOr<grpc::health::v1::HealthCheckResponse::ServingStatus> CheckHealth(
      const std::string& service = "", CallOptions call = {});

  const ClientOptions& options() const { return options_; }

 private:
  explicit Client(ClientOptions options);

  // How a call meets an unreachable server or a lost answer (see "Retries"
  // above): kSafe waits for the connection and is sent again; kOnce waits
  // for the connection and is sent once; kNever fails fast and is sent once.
  // kSafe and kOnce calls refused with RATE_LIMITED (not run) are sent again
  // after the delay the server names, within the attempts and deadline.
  enum class Retry { kSafe, kOnce, kNever };

  // One unary RPC, `(stub.*method)(context, req, &response)`, through Run
  // with a fresh response per attempt. The call's deadline is Deadline(call)
  // plus `long_poll` (the server-side wait of a Lease).
  // Defined in src/client_call.h, the only place that instantiates it.
  template <typename Stub, typename Req, typename Resp>
  absl::StatusOr<Resp> Call(Stub& stub,
                            grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
                            const Req& req, Retry retry, const CallOptions& call,
                            Millis long_poll = Millis(0));
  // Runs `attempt` (one RPC with a fresh context) until it succeeds, fails
  // in a way a repeat cannot mend (see "Retries" above), `retry` is not
  // kSafe, the attempts are used up, or `deadline` (from now, for all
  // attempts) has passed.
  absl::Status Run(Retry retry, const CallOptions& call, Millis deadline,
                   absl::FunctionRef<grpc::Status(grpc::ClientContext*)> attempt);
  Millis Deadline(const CallOptions& call) const;
  Millis RetryDelay(int attempt);
  std::string NewIdempotencyKey();

  const ClientOptions options_;
  std::unique_ptr<v1::JobService::Stub> jobs_;
  std::unique_ptr<v1::WorkerService::Stub> workers_;
  std::unique_ptr<v1::QueueService::Stub> queues_;
  std::unique_ptr<v1::WorkflowService::Stub> workflows_;
  std::unique_ptr<v1::ScheduleService::Stub> schedules_;
  std::unique_ptr<v1::AdminService::Stub> admin_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
  absl::Mutex mu_;
  std::shared_ptr<Random> random_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ratchet

#endif  // RATCHET_CLIENT_CLIENT_H_
