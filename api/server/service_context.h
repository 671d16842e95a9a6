// What every ratchetd service shares: the engine, the call deadlines, the
// pool for blocking engine calls, and the server's limits.
#ifndef RATCHET_API_SERVER_SERVICE_CONTEXT_H_
#define RATCHET_API_SERVER_SERVICE_CONTEXT_H_

#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <utility>

#include "call.h"
#include "grpcpp/support/server_callback.h"
#include "ratchet/base/clock.h"
#include "ratchet/engine/engine.h"

namespace ratchet::server {

struct ServiceLimits {
  Millis call_timeout{10000};    // server-side deadline of every call
  Millis max_lease_wait{30000};  // cap on a Lease's long-poll wait
  // Bound on the leased jobs' bytes in one answer: the message limit less
  // room for the response's own framing (LeaseRequest::max_bytes).
  size_t max_lease_bytes = (16 << 20) - (64 << 10);
};

class ServiceContext {
 public:
  // `engine` is not owned and must outlive the context. `blocking_threads`
  // run the engine's blocking calls (reads, admin operations) so that no
  // gRPC thread ever waits on RocksDB.
  ServiceContext(Engine* engine, ServiceLimits limits, int blocking_threads)
      : engine_(engine), limits_(limits), pool_(blocking_threads) {}
  // Waits for the blocking calls already posted.
  ~ServiceContext() { pool_.join(); }

  Engine& engine() { return *engine_; }
  const ServiceLimits& limits() const { return limits_; }

  // A call whose server-side deadline is `extra` beyond the call timeout.
  UnaryCall* StartCall(Millis extra = Millis(0)) {
    return new UnaryCall(&deadlines_,
                         std::chrono::steady_clock::now() + limits_.call_timeout + extra);
  }

  // Runs `f` on the blocking pool.
  template <typename F>
  void RunBlocking(F&& f) {
    boost::asio::post(pool_, std::forward<F>(f));
  }

  // A call that runs `work()` (returning absl::StatusOr<T>) on the blocking
  // pool and answers with `fill(value)` writing the response on success.
  template <typename Work, typename Fill>
  UnaryCall* Blocking(Work work, Fill fill) {
    UnaryCall* call = StartCall();
    RunBlocking([call, work = std::move(work), fill = std::move(fill)]() mutable {
      auto r = work();
      call->Reply(r.status(), [&] { fill(*r); });
    });
    return call;
  }

 private:
  Engine* const engine_;
  const ServiceLimits limits_;
  CallDeadlines deadlines_;
  boost::asio::thread_pool pool_;
};

}  // namespace ratchet::server

#endif  // RATCHET_API_SERVER_SERVICE_CONTEXT_H_
