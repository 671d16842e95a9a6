// UnaryCall: one unary RPC in flight on the gRPC callback API, and
// CallDeadlines, the server-side deadline that bounds every call.
//
// A service method creates a UnaryCall, hands the request to the engine and
// returns the call (a grpc::ServerUnaryReactor) at once; the gRPC thread
// never blocks. The call is then finished exactly once, by whichever comes
// first:
//   - Reply(), from the engine's callback once the write is durable;
//   - Expire(), from CallDeadlines when the server's deadline for the call
//     passes: DEADLINE_EXCEEDED, "outcome unknown" (the operation may still
//     commit; mutating calls are idempotent so the client can retry).
// A client that cancels or times out flips cancelled(), which a parked
// long-poll Lease watches so it leases nothing to a departed caller.
//
// Lifetime: reference counted. gRPC holds one reference until OnDone, the
// engine callback holds one until it calls Reply (exactly once).
//
// Thread safety: Reply, Expire and cancelled() are safe from any thread.
#ifndef RATCHET_API_SERVER_CALL_H_
#define RATCHET_API_SERVER_CALL_H_

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <thread>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "grpcpp/support/server_callback.h"

namespace ratchet::server {

class CallDeadlines;

class UnaryCall final : public grpc::ServerUnaryReactor {
 public:
  using SteadyTime = std::chrono::steady_clock::time_point;

  // Registers the call with `deadlines` (not owned; must outlive the call),
  // to be expired at `deadline`. With `finish` set (a transport other than
  // gRPC: call_info.h) the call ends by calling it instead of Finish, and
  // holds no gRPC reference.
  UnaryCall(CallDeadlines* deadlines, SteadyTime deadline,
            std::function<void(const grpc::Status&)> finish = nullptr);

  // Unless the call has already finished: runs `fill` (which writes the
  // response) when `status` is OK, then finishes the call with `status`.
  // Releases the engine's reference: call exactly once per call.
  void Reply(const absl::Status& status, absl::FunctionRef<void()> fill);
  // Reply(status) for a call rejected before it reached the engine.
  UnaryCall* Reject(const absl::Status& status);

  // Set once the client cancelled, or the call expired.
  std::shared_ptr<const std::atomic<bool>> cancelled() const { return cancelled_; }

 private:
  friend class CallDeadlines;
  ~UnaryCall() override = default;

  void Expire();
  // Finishes through gRPC, or through finish_ (then ends as OnDone would).
  void End(const grpc::Status& status);
  void Ref() { refs_.fetch_add(1, std::memory_order_relaxed); }
  void Unref();
  void OnCancel() override;
  void OnDone() override;

  CallDeadlines* const deadlines_;
  const std::function<void(const grpc::Status&)> finish_;
  const std::shared_ptr<std::atomic<bool>> cancelled_ = std::make_shared<std::atomic<bool>>(false);
  std::atomic<int> refs_{2};
  std::multimap<SteadyTime, UnaryCall*>::iterator entry_;  // guarded by deadlines_->mu_

  // Whoever flips this first (Reply or Expire) finishes the call; the other
  // never touches the response. An atomic rather than a mutex: one is made
  // per call, and absl::Mutex's deadlock-graph bookkeeping showed in profiles.
  std::atomic<bool> finished_{false};
};

// Expires calls whose server-side deadline has passed. One thread; it sleeps
// until the earliest deadline (or until woken for an earlier one).
class CallDeadlines {
 public:
  CallDeadlines();
  // Expires nothing more; calls still registered must finish on their own.
  ~CallDeadlines();

 private:
  friend class UnaryCall;
  void Add(UnaryCall* call, UnaryCall::SteadyTime deadline);
  void Remove(UnaryCall* call);
  void Run();

  absl::Mutex mu_;
  std::multimap<UnaryCall::SteadyTime, UnaryCall*> calls_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace ratchet::server

#endif  // RATCHET_API_SERVER_CALL_H_
