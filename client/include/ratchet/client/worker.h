// ratchet::Worker: runs job handlers against ratchetd.
//
// Register one handler per job type, then Start. The worker leases jobs of
// one queue in batches (a long poll, so an idle worker costs no CPU on
// either side), runs up to `concurrency` handlers at once, heartbeats every
// running job at a third of its lease's length, and reports each outcome:
// Complete with the handler's result, or Fail (retryable or not).
//
// Leases are timed on the worker's steady clock from when the lease (or
// its last heartbeat) was answered, never from the server's lease_deadline
// against the worker's wall clock, so clock skew between the machines does
// not matter. The lease's length is LeasedJob::lease_duration when the
// server sends it, else WorkerOptions::visibility_timeout.
//
// Server restarts: the worker keeps running while ratchetd is down. Leasing
// waits for the server to come back (wait-for-ready, then backoff); an
// outcome is sent again until it is answered or the job's lease has ended
// (Complete and Fail are fenced by the token, so a repeat is harmless);
// heartbeats retry every half second or so. Jobs in flight across the
// outage keep their outcomes as long as the server is back before their
// lease ends; the others run again after the lease expires.
// A handler that throws counts as a retryable failure. A job whose type has
// no handler fails retryably ("no handler"), so a worker that has one can
// take it.
//
// Exactly-once effects: the handler gets the lease's fencing token, to pass
// to downstream systems that can reject stale writers, and a stable
// idempotency token (the same on every attempt of the job) to deduplicate
// external calls. When a heartbeat finds the lease lost (it expired and the
// job went to another worker) or the job cancelled, or the job's attempt
// timeout passes (the worker then stops heartbeating it: the server ends the
// attempt whatever the heartbeats), JobContext says so; the handler should
// stop early. Its outcome is still reported: the server
// rejects a stale one (LEASE_LOST), which the worker counts and drops.
//
// Stop() is graceful: no new leases, running handlers finish and their
// outcomes are reported, then it returns.
//
// Thread safety: Register before Start; Start, Stop and stats are safe from
// any thread. Handlers run on the worker's threads, concurrently.
#ifndef RATCHET_CLIENT_WORKER_H_
#define RATCHET_CLIENT_WORKER_H_

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "ratchet/client/client.h"
#include "ratchet/durable/workflow_context.h"

namespace ratchet {

// What a handler returns.
struct HandlerResult {
  // kSuspend: a code-first workflow waits (a durable timer or an event);
  // see RegisterWorkflow.
  enum class Kind { kSuccess, kRetryableError, kNonRetryableError, kSuspend };
  Kind kind = Kind::kSuccess;
  std::string value;      // the result on success, else the error message
  Suspension suspension;  // kSuspend

  static HandlerResult Success(std::string result = "") {
    return {Kind::kSuccess, std::move(result)};
  }
  static HandlerResult RetryableError(std::string message) {
    return {Kind::kRetryableError, std::move(message)};
  }
  static HandlerResult NonRetryableError(std::string message) {
    return {Kind::kNonRetryableError, std::move(message)};
  }
};

// One running job, as its handler sees it. Owned by the worker; valid for
// the handler call. The flags are set by the worker's heartbeat thread.
class JobContext {
 public:
  explicit JobContext(v1::LeasedJob job) : job_(std::move(job)) {}

  const v1::LeasedJob& job() const { return job_; }
  const std::string& payload() const { return job_.payload(); }
  int attempt() const { return job_.attempt(); }
  // The lease's fencing token: larger than every token issued before it.
  uint64_t fencing_token() const { return job_.fencing_token(); }
  // "ratchet:<queue>:<job id>": the same on every attempt of this job.
  std::string idempotency_token() const;
  // The W3C traceparent the job was enqueued with ("" if none), and its
  // trace-id (log it as trace_id). While the handler runs it is the
  // thread's current one (ratchet/client/trace_context.h), so the Client
  // forwards it on every call the handler makes on that thread.
  const std::string& traceparent() const { return job_.traceparent(); }
  std::string trace_id() const;

  // The lease is gone (expired and re-leased, or the job finished): stop.
  bool lease_lost() const { return lease_lost_.load(); }
  // An operator cancelled the job: stop; the worker reports a failure,
  // which the server turns into CANCELLED.
  bool cancel_requested() const { return cancel_requested_.load(); }
  // The job's attempt timeout (LeasedJob::attempt_timeout) has passed,
  // timed on the worker's steady clock from the lease's arrival: the server
  // has ended (or is about to end) this attempt as "attempt timed out", and
  // the worker no longer heartbeats it. Stop; the outcome will be stale.
  bool attempt_timed_out() const { return attempt_timed_out_.load(); }
  // lease_lost() || cancel_requested() || attempt_timed_out() || the worker
  // is stopping.
  bool should_stop() const;

  // Reports progress: a fraction done in [0, 1] and a short note (at most
  // 256 bytes of UTF-8). Sent with the job's next heartbeat (a third of the
  // lease's length after the last one); a later call before that replaces
  // it. GetJob and `ratchet jobs get` show it. Thread-safe.
  // Errors: INVALID_ARGUMENT naming `progress` or `progress_message` (too
  // long, or not UTF-8)
  // (nothing is stored).
  absl::Status set_progress(double fraction, std::string message = "");

 private:
  friend class Worker;
  struct Progress {
    double fraction = 0;
    std::string message;
  };
  // The progress not yet sent, if any; clears it.
  std::optional<Progress> TakeProgress();
  // Puts back progress whose heartbeat failed, unless newer was set.
  void RestoreProgress(Progress p);

  v1::LeasedJob job_;
  mutable absl::Mutex progress_mu_;
  std::optional<Progress> progress_ ABSL_GUARDED_BY(progress_mu_);
  std::atomic<bool> lease_lost_{false};
  std::atomic<bool> cancel_requested_{false};
  std::atomic<bool> attempt_timed_out_{false};
  const std::atomic<bool>* stopping_ = nullptr;
};

using Handler = std::function<HandlerResult(JobContext& job)>;

// How a Worker talks to ratchetd.
enum class WorkerProtocol {
  // One WorkStream (docs/api.md, "WorkStream"), the default: the server
  // pushes jobs as the worker grants credits (concurrency + prefetch), and
  // the worker sends everything finished since its last flush in one
  // message (one flush in flight, no added delay), and every heartbeat due
  // in one message. Against a server without WorkStream (it answers
  // UNIMPLEMENTED) the worker falls back to kUnary by itself.
  kStream,
  // Unary calls: a long-poll Lease when handlers are free, one Complete or
  // Fail per job, one Heartbeat per job. For servers without WorkStream.
  kUnary,
};

struct WorkerOptions {
  std::string queue;        // required
  std::string worker_id;    // recorded on leased jobs; default "<hostname>-<pid>"
  int concurrency = 4;      // handlers running at once, 1..1000
  int lease_batch = 0;      // most jobs per Lease; 0 = concurrency
  Millis lease_wait{5000};  // long-poll wait per Lease (kUnary)
  WorkerProtocol protocol = WorkerProtocol::kStream;
  // kStream: the least jobs held beyond `concurrency`, leased ahead so that
  // a handler that frees up never waits for a round trip; 0..1000, -1
  // (default) means `concurrency`. While handlers finish jobs quickly the
  // worker holds more: as many as they finished in the last 50 ms (at most
  // 1000), about 50 ms of work, so slow jobs are never hoarded away from
  // other workers. Prefetched jobs are heartbeated like running ones.
  int prefetch = -1;
  // Lease length to ask for; default: the job's own, else the queue's.
  // Against a server that does not send LeasedJob::lease_duration, leaving
  // this unset makes the worker estimate the lease's length from the
  // server's deadline and its own wall clock, which clock skew distorts:
  // set it there.
  std::optional<Millis> visibility_timeout;
  // Stop()'s drain (as Sidekiq's shutdown timeout). Unset: Stop() tells
  // running handlers to stop at once (JobContext::should_stop()), runs
  // the jobs already leased, and waits for all of them. Set: Stop() stops
  // leasing and lets the leased jobs run undisturbed for up to this long;
  // then it fails the jobs not yet started back to the server (retryable,
  // "the worker stopped before starting the job"; this counts an attempt
  // and applies the retry backoff, as lease expiry would, but without
  // waiting for the lease), tells the running
  // handlers to stop, and waits for them (a handler that ignores
  // should_stop() still holds Stop() up). 0: at once.
  std::optional<Millis> drain_timeout;
};

struct WorkerStats {
  uint64_t completed = 0;
  uint64_t suspended = 0;        // code-first workflow runs that now wait
  uint64_t failed = 0;           // retryable and non-retryable failures reported
  uint64_t lease_lost = 0;       // outcomes or heartbeats rejected as stale
  uint64_t report_errors = 0;    // outcomes that could not be reported
  uint64_t stream_restarts = 0;  // kStream: streams that broke and were opened again
  // kStream: how the last stream that broke ended ("" if none did), e.g.
  // "UNAVAILABLE: ..." while the server is down, or a PERMISSION_DENIED.
  std::string last_stream_error;
};

class Worker {
 public:
  // `client` is not owned and must outlive the worker.
  Worker(Client* client, WorkerOptions options);
  // Stops (gracefully) if running.
  ~Worker();

  void Register(const std::string& job_type, Handler handler);
  // Registers the code of a code-first workflow (ratchet/base/
  // workflow_context.h) for main jobs of `job_type`: each lease runs `fn`
  // over the job's journal; steps are journalled with RecordStep under the
  // lease, and a timer or event wait suspends the job (SuspendWorkflow), so
  // no worker thread is held while the workflow waits. fn's error is a
  // retryable failure unless it is INVALID_ARGUMENT or FAILED_PRECONDITION.
  void RegisterWorkflow(const std::string& job_type, WorkflowFunction fn);
  // Starts leasing. Errors: INVALID_ARGUMENT for bad options;
  // FAILED_PRECONDITION if already started.
  absl::Status Start();
  // Graceful stop; see the file comment and WorkerOptions::drain_timeout.
  // Idempotent.
  void Stop();
  WorkerStats stats() const;

 private:
  struct Running;
  struct Outcome;
  class Stream;
  void HandlerLoop();
  void RunJob(const std::shared_ptr<Running>& running);
  // Reports an outcome: a suspension at once (unary); otherwise by the
  // protocol's way (ReportUnary, or the stream's outbox).
  void Report(const std::shared_ptr<Running>& running, const HandlerResult& result);
  // kUnary (worker_unary.cc).
  void LeaseLoop();
  void HeartbeatLoop();
  void ReportUnary(const Running& running, const HandlerResult& result);
  // Runs `call` (with the time left on the lease as its deadline) until it
  // answers something other than UNAVAILABLE, DEADLINE_EXCEEDED or
  // CANCELLED, or the
  // lease has ended; at least once.
  absl::Status UntilLeaseEnds(const Running& running,
                              absl::FunctionRef<absl::Status(CallOptions)> call);
  // The lease's length as granted: the server's lease_duration, else the
  // visibility timeout asked for, else an estimate (see WorkerOptions).
  Millis LeaseDuration(const v1::LeasedJob& job) const;
  // kStream (worker_stream.cc): opens streams until the worker has stopped
  // and every outcome is answered or past its lease.
  void StreamLoop();
  // Runs the unary protocol on this thread (plus a heartbeat thread) after a
  // server answered UNIMPLEMENTED to WorkStream.
  void UnaryFallback();
  // Waits until the client's channel is connected (true), dropping
  // outcomes whose lease ends meanwhile; false once the worker has stopped
  // and has nothing left to send.
  bool AwaitConnected();

  Client* const client_;
  WorkerOptions options_;
  std::map<std::string, Handler> handlers_;

  class State;
  std::unique_ptr<State> state_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};        // no more leasing
  std::atomic<bool> handlers_stop_{false};   // JobContext::should_stop()
  std::atomic<bool> unary_fallback_{false};  // kStream against a server without it
  bool started_ = false;
};

}  // namespace ratchet

#endif  // RATCHET_CLIENT_WORKER_H_
