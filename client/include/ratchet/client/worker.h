// ratchet::Worker: runs job handlers against ratchetd.
//
// Register one handler per job type, then Start. The worker leases jobs of
// one queue in batches (a long poll, so an idle worker costs no CPU on
// either side), runs up to `concurrency` handlers at once, heartbeats every
// running job at about a third of its visibility timeout, and reports each
// outcome: Complete with the handler's result, or Fail (retryable or not).
// A handler that throws counts as a retryable failure. A job whose type has
// no handler fails retryably ("no handler"), so a worker that has one can
// take it.
//
// Exactly-once effects: the handler gets the lease's fencing token, to pass
// to downstream systems that can reject stale writers, and a stable
// idempotency token (the same on every attempt of the job) to deduplicate
// external calls. When a heartbeat finds the lease lost (it expired and the
// job went to another worker) or the job cancelled, JobContext says so; the
// handler should stop early. Its outcome is still reported: the server
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
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
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

  // The lease is gone (expired and re-leased, or the job finished): stop.
  bool lease_lost() const { return lease_lost_.load(); }
  // An operator cancelled the job: stop; the worker reports a failure,
  // which the server turns into CANCELLED.
  bool cancel_requested() const { return cancel_requested_.load(); }
  // lease_lost() || cancel_requested() || the worker is stopping.
  bool should_stop() const;

 private:
  friend class Worker;
  v1::LeasedJob job_;
  std::atomic<bool> lease_lost_{false};
  std::atomic<bool> cancel_requested_{false};
  const std::atomic<bool>* stopping_ = nullptr;
};

using Handler = std::function<HandlerResult(JobContext& job)>;

struct WorkerOptions {
  std::string queue;        // required
  std::string worker_id;    // recorded on leased jobs; default "<hostname>-<pid>"
  int concurrency = 4;      // handlers running at once, 1..1000
  int lease_batch = 0;      // most jobs per Lease; 0 = concurrency
  Millis lease_wait{5000};  // long-poll wait per Lease
  // Lease length to ask for; default: the job's own, else the queue's.
  std::optional<Millis> visibility_timeout;
};

struct WorkerStats {
  uint64_t completed = 0;
  uint64_t suspended = 0;      // code-first workflow runs that now wait
  uint64_t failed = 0;         // retryable and non-retryable failures reported
  uint64_t lease_lost = 0;     // outcomes or heartbeats rejected as stale
  uint64_t report_errors = 0;  // outcomes that could not be reported
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
  // Graceful stop; see the file comment. Idempotent.
  void Stop();
  WorkerStats stats() const;

 private:
  struct Running;
  void LeaseLoop();
  void HandlerLoop();
  void HeartbeatLoop();
  void RunJob(const std::shared_ptr<Running>& running);
  void Report(const JobContext& ctx, const HandlerResult& result);

  Client* const client_;
  WorkerOptions options_;
  std::map<std::string, Handler> handlers_;

  class State;
  std::unique_ptr<State> state_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stopping_{false};
  bool started_ = false;
};

}  // namespace ratchet

#endif  // RATCHET_CLIENT_WORKER_H_
