// What every ratchetd service shares: the engine, the call deadlines, the
// pool for blocking engine calls, and the server's limits.
#ifndef RATCHET_API_SERVER_SERVICE_CONTEXT_H_
#define RATCHET_API_SERVER_SERVICE_CONTEXT_H_

#include <algorithm>
#include <atomic>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <chrono>
#include <set>
#include <type_traits>
#include <utility>

#include "auth/gate.h"
#include "call.h"
#include "call_info.h"
#include "grpcpp/support/server_callback.h"
#include "method_table.h"
#include "page_cursor.h"
#include "ratchet/base/clock.h"
#include "ratchet/base/status.h"
#include "ratchet/engine/engine.h"

namespace ratchet::server {

struct ServiceLimits {
  Millis call_timeout{10000};    // server-side deadline of every call
  Millis max_lease_wait{30000};  // cap on a Lease's long-poll wait
  // Bound on the leased jobs' bytes in one answer: the message limit less
  // room for the response's own framing (LeaseRequest::max_bytes).
  size_t max_lease_bytes = (16 << 20) - (64 << 10);
  // Items of one batch (HeartbeatBatch, a WorkStream message's
  // completions, failures or heartbeats) and jobs of one WorkStream lease:
  // the engine's max_lease_jobs (the server sets it from the engine).
  int max_batch_items = 1000;
  // Jobs a WorkStream may be owed: its credits granted and not yet used.
  int max_stream_credits = 10000;
};

// The queue of a job, workflow or schedule, for ServiceContext::
// AfterQueueCheck. Errors: those of Engine::Get, GetWorkflow, GetSchedule.
inline absl::StatusOr<std::string> QueueOfJob(Engine& engine, JobId id) {
  absl::StatusOr<Job> job = engine.Get(id);
  if (!job.ok()) return job.status();
  return job->queue;
}
// A workflow's own queue and every step's: a workflow reveals and cancels
// what runs in all of them.
inline absl::StatusOr<std::vector<std::string>> QueuesOfWorkflow(const Workflow& w) {
  std::vector<std::string> queues = {w.queue};
  for (const StepInfo& s : w.steps) {
    if (std::find(queues.begin(), queues.end(), s.queue) == queues.end()) {
      queues.push_back(s.queue);
    }
  }
  return queues;
}
inline absl::StatusOr<std::vector<std::string>> QueuesOfWorkflow(Engine& engine, WorkflowId id) {
  absl::StatusOr<Workflow> w = engine.GetWorkflow(id);
  if (!w.ok()) return w.status();
  return QueuesOfWorkflow(*w);
}
// What cancelling job `id` may touch: its queue and, for a workflow's job
// (whose cancel fails the workflow and cancels its other steps), every
// queue of that workflow, as CancelWorkflow needs.
inline absl::StatusOr<std::vector<std::string>> QueuesCancellingJob(Engine& engine, JobId id) {
  absl::StatusOr<Job> job = engine.Get(id);
  if (!job.ok()) return job.status();
  if (job->workflow_id == 0) return std::vector<std::string>{job->queue};
  absl::StatusOr<std::vector<std::string>> queues = QueuesOfWorkflow(engine, job->workflow_id);
  if (!queues.ok()) return queues.status();
  if (std::find(queues->begin(), queues->end(), job->queue) == queues->end()) {
    queues->push_back(job->queue);
  }
  return queues;
}
inline absl::StatusOr<std::string> QueueOfSchedule(Engine& engine, const std::string& id) {
  absl::StatusOr<ScheduleInfo> s = engine.GetSchedule(id);
  if (!s.ok()) return s.status();
  return s->spec.queue;
}

// OK if `access` is unrestricted, or covers the queue `lookup()` returns
// (absl::StatusOr<std::string>; a blocking read: call on the blocking pool).
// Errors: the lookup's, or PERMISSION_DENIED.
template <typename Lookup>
absl::Status CheckLookedUpQueue(const auth::CallAccess& access, Lookup lookup) {
  if (access.unrestricted()) return absl::OkStatus();
  auto found = lookup();
  if (!found.ok()) return found.status();
  if constexpr (std::is_same_v<std::decay_t<decltype(*found)>, std::string>) {
    return access.CheckLookedUp(*found);
  } else {
    for (const std::string& q : *found) RATCHET_RETURN_IF_ERROR(access.CheckLookedUp(q));
    return absl::OkStatus();
  }
}

// A long-lived call (a WorkStream) the server asks to end when it shuts
// down: it answers what is in flight and finishes UNAVAILABLE, so its
// worker reconnects (to this server once it is back) instead of waiting for
// gRPC's grace period to cancel it.
class DrainableCall {
 public:
  virtual ~DrainableCall() = default;
  // Ends the call with `why` once what is in flight is answered.
  virtual void Drain(const absl::Status& why) = 0;
};

// Why a stream ends at shutdown, and when the credentials were reloaded
// (its principal's grant may have changed: it must authenticate again).
inline absl::Status ServerShuttingDown() {
  return WithReason(absl::UnavailableError("the server is shutting down; reconnect"),
                    kReasonEngineClosed);
}
inline absl::Status CredentialsReloaded() {
  return absl::UnavailableError("the server reloaded its credentials; reconnect");
}

class ServiceContext {
 public:
  // `engine` is not owned and must outlive the context. `blocking_threads`
  // run the engine's blocking calls (reads, admin operations) so that no
  // gRPC thread ever waits on RocksDB.
  // `authenticator` decides who calls (auth/authenticator.h).
  ServiceContext(Engine* engine, ServiceLimits limits, int blocking_threads,
                 std::shared_ptr<auth::Authenticator> authenticator)
      : engine_(engine),
        limits_(limits),
        gate_(std::move(authenticator)),
        pool_(blocking_threads) {}
  // Waits for the blocking calls already posted.
  ~ServiceContext() { pool_.join(); }

  Engine& engine() { return *engine_; }
  const ServiceLimits& limits() const { return limits_; }
  // Seals the page cursors of callers who may not read every queue.
  const CursorSealer& cursors() const { return cursors_; }
  auth::Gate& gate() { return gate_; }
  // Every unary method of the services over this context (each registers
  // itself as it is built): what the HTTP/JSON API calls.
  MethodTable& methods() { return methods_; }
  const MethodTable& methods() const { return methods_; }

  // A call whose server-side deadline is `extra` beyond the call timeout,
  // finished the way `info`'s transport finishes calls.
  UnaryCall* StartCall(const CallInfo& info, Millis extra = Millis(0)) {
    return new UnaryCall(
        &deadlines_, std::chrono::steady_clock::now() + limits_.call_timeout + extra, info.finish);
  }

  // Runs `act()` once `access` is found to cover the queue `lookup()`
  // returns (absl::StatusOr<std::string>, run on the blocking pool);
  // otherwise answers `call` with the lookup's error or the refusal.
  // Unrestricted access acts at once, without the lookup. For resources
  // whose queue never changes (a job's, a workflow's); a schedule's can
  // (UpdateSchedule), so its changes also pass a QueueGuard checked inside
  // the engine's operation.
  template <typename Lookup, typename Act>
  UnaryCall* AfterQueueCheck(UnaryCall* call, const auth::CallAccess& access, Lookup lookup,
                             Act act) {
    if (access.unrestricted()) {
      act();
      return call;
    }
    RunBlocking([call, access, lookup = std::move(lookup), act = std::move(act)]() mutable {
      absl::StatusOr<std::string> queue = lookup();
      absl::Status s = queue.ok() ? access.CheckLookedUp(*queue) : queue.status();
      if (!s.ok()) return call->Reply(s, [] {});
      act();
    });
    return call;
  }

  // Streams register while they run (they must unregister before they are
  // destroyed); DrainStreams drains every one, and every one that
  // registers afterwards. Thread-safe.
  void RegisterStream(DrainableCall* call) {
    bool drain;
    {
      absl::MutexLock lock(&streams_mu_);
      streams_.insert(call);
      drain = draining_;
    }
    if (drain) call->Drain(ServerShuttingDown());
  }
  void UnregisterStream(DrainableCall* call) {
    absl::MutexLock lock(&streams_mu_);
    streams_.erase(call);
  }
  void DrainStreams() {
    absl::MutexLock lock(&streams_mu_);
    draining_ = true;
    for (DrainableCall* call : streams_) call->Drain(ServerShuttingDown());
  }
  // Ends every stream open now (after a credentials reload): each is
  // authenticated only when it opens.
  void RestartStreams() {
    absl::MutexLock lock(&streams_mu_);
    for (DrainableCall* call : streams_) call->Drain(CredentialsReloaded());
  }

  // Runs `f` on the blocking pool.
  template <typename F>
  void RunBlocking(F&& f) {
    boost::asio::post(pool_, std::forward<F>(f));
  }

  // A call that runs `work()` (returning absl::StatusOr<T>) on the blocking
  // pool and answers with `fill(value)` writing the response on success.
  template <typename Work, typename Fill>
  UnaryCall* Blocking(const CallInfo& info, Work work, Fill fill) {
    UnaryCall* call = StartCall(info);
    RunBlocking([call, work = std::move(work), fill = std::move(fill)]() mutable {
      auto r = work();
      call->Reply(r.status(), [&] { fill(*r); });
    });
    return call;
  }

 private:
  Engine* const engine_;
  const ServiceLimits limits_;
  const CursorSealer cursors_;
  auth::Gate gate_;
  MethodTable methods_;
  CallDeadlines deadlines_;
  absl::Mutex streams_mu_;
  std::set<DrainableCall*> streams_ ABSL_GUARDED_BY(streams_mu_);
  bool draining_ ABSL_GUARDED_BY(streams_mu_) = false;
  boost::asio::thread_pool pool_;
};

}  // namespace ratchet::server

#endif  // RATCHET_API_SERVER_SERVICE_CONTEXT_H_
