// WorkStreamReactor: one WorkerService.WorkStream call, the streaming
// worker protocol (docs/api.md, "WorkStream").
//
// The first message opens the stream on a queue (WorkStreamOpen) and passes
// the auth gate (permission `work` on that queue; the call is counted once
// against the principal's rate limit). From then on:
//   - credits: the server keeps one lease in flight (a long poll, re-armed
//     inside the server) while credits remain, asking for at most the
//     credits left, and pushes what it leases; it never pushes more jobs
//     than the credits granted.
//   - completions, failures, heartbeats: applied as engine batches
//     (work_items.h) and acknowledged with the message's seq, in message
//     order, once durable.
//   - stop_leasing: no more leases; the server answers leasing_stopped
//     once none is in flight.
//   - the worker's half-close: no more leases; the server finishes OK once
//     every acknowledgement is written.
//   - server shutdown (Drain): as a half-close, then UNAVAILABLE (reason
//     ENGINE_CLOSED): the worker reconnects.
// Bounded: the server reads the next message only while fewer than
// kWindow messages are being applied or waiting to be written, and leases
// only while at most one message waits to be written; every message is at
// most ServiceLimits::max_lease_bytes of jobs plus small acknowledgements.
// A slow reader therefore stalls the stream instead of growing a buffer.
//
// Errors end the stream: INVALID_ARGUMENT naming the field (`open`,
// `credits`, `completions`, ...), the gate's UNAUTHENTICATED,
// PERMISSION_DENIED or RESOURCE_EXHAUSTED, UNAVAILABLE when the engine
// fails or closes. Leases pushed on a stream that breaks run to their
// visibility timeout; unacknowledged outcomes may or may not have landed
// (repeating them is safe: they are fenced).
//
// Raw bytes: the method is registered raw (WorkerService's constructor) and
// the reactor parses each message itself, so that a message that does not
// parse (garbage, or a string field that is not UTF-8) ends the stream with
// INVALID_ARGUMENT naming `request`, as every unary method answers
// (parse_guard.h), instead of looking like the worker's half-close.
//
// Lifetime: reference counted: gRPC holds one reference until OnDone, each
// engine operation in flight holds one. Thread safety: gRPC reactions and
// engine callbacks run on many threads; the state is under mu_.
#ifndef RATCHET_API_SERVER_WORK_STREAM_H_
#define RATCHET_API_SERVER_WORK_STREAM_H_

#include <atomic>
#include <deque>
#include <map>
#include <memory>
#include <optional>

#include "absl/synchronization/mutex.h"
#include "grpcpp/support/byte_buffer.h"
#include "ratchet/v1/worker_service.grpc.pb.h"
#include "service_context.h"

namespace ratchet::server {

class WorkStreamReactor final : public grpc::ServerBidiReactor<grpc::ByteBuffer, grpc::ByteBuffer>,
                                public DrainableCall {
 public:
  // `ctx` is not owned and must outlive the stream.
  WorkStreamReactor(ServiceContext* ctx, grpc::CallbackServerContext* context);

  // The server is shutting down, or reloaded its credentials: lease
  // nothing more, read nothing more, and finish with `why` once what is in
  // flight is acknowledged.
  void Drain(const absl::Status& why) override;

 private:
  // Messages read but not yet fully acknowledged, plus messages queued to
  // write, above which the server stops reading.
  static constexpr size_t kWindow = 8;

  ~WorkStreamReactor() override = default;

  void OnReadDone(bool ok) override;
  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

  // Checks and takes in one message (under mu_): the open, credits, stop;
  // returns whether it has items to apply. Errors end the stream.
  absl::StatusOr<bool> Accept(const v1::WorkStreamRequest& msg) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Apply(const v1::WorkStreamRequest& msg);
  void Lease(LeaseRequest req);
  // Queues `resp` to be written (merged into the last queued message when
  // it is not being written and the two fit the size bound).
  void Enqueue(v1::WorkStreamResponse resp) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Starts what the state allows: a write, a read, a lease, the finish.
  void Pump();
  void Fail(absl::Status status) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // No more leases; a parked one is abandoned and ends soon.
  void StopLeasing() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  void Ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Unref();

  ServiceContext* const ctx_;
  grpc::CallbackServerContext* const context_;
  std::atomic<int> refs_{1};
  // Set when the client is gone or leasing stopped: a parked lease leases
  // nothing more and ends soon (LeaseRequest::abandoned).
  const std::shared_ptr<std::atomic<bool>> abandoned_ = std::make_shared<std::atomic<bool>>(false);

  absl::Mutex mu_;
  grpc::ByteBuffer incoming_ ABSL_GUARDED_BY(mu_);  // the read in flight
  // Queued to write; the front is being written (as write_buf_) while
  // writing_.
  std::deque<v1::WorkStreamResponse> out_ ABSL_GUARDED_BY(mu_);
  grpc::ByteBuffer write_buf_ ABSL_GUARDED_BY(mu_);
  std::optional<LeaseRequest> lease_ ABSL_GUARDED_BY(mu_);  // set by the open
  auth::CallAccess access_ ABSL_GUARDED_BY(mu_);
  int64_t credits_ ABSL_GUARDED_BY(mu_) = 0;
  size_t applying_ ABSL_GUARDED_BY(mu_) = 0;  // messages whose items are in the engine
  bool reading_ ABSL_GUARDED_BY(mu_) = false;
  bool reads_done_ ABSL_GUARDED_BY(mu_) = false;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool leasing_ ABSL_GUARDED_BY(mu_) = false;  // a lease is in the engine
  bool stop_leasing_ ABSL_GUARDED_BY(mu_) = false;
  bool stop_asked_ ABSL_GUARDED_BY(mu_) = false;  // the worker sent stop_leasing
  bool stopped_sent_ ABSL_GUARDED_BY(mu_) = false;
  bool finished_ ABSL_GUARDED_BY(mu_) = false;
  std::optional<absl::Status> draining_ ABSL_GUARDED_BY(mu_);  // set by Drain
  // Reads and writes decided under mu_ but not yet started: Finish waits
  // for them (a Start* after Finish could run after OnDone).
  int starting_ ABSL_GUARDED_BY(mu_) = 0;
  // The engine cannot park leases (max_lease_wait 0): after an empty
  // lease, the next is started by the next message, not at once.
  bool lease_idle_ ABSL_GUARDED_BY(mu_) = false;
  bool limits_sent_ ABSL_GUARDED_BY(mu_) = false;
  // Acknowledgements in message order: each applied message's number, and
  // those that finished ahead of an earlier one.
  uint64_t next_apply_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t next_ack_ ABSL_GUARDED_BY(mu_) = 0;
  std::map<uint64_t, v1::WorkStreamAck> early_acks_ ABSL_GUARDED_BY(mu_);
  std::optional<absl::Status> error_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ratchet::server

#endif  // RATCHET_API_SERVER_WORK_STREAM_H_
