// ratchet::EmbeddedWorker: the pipelined worker loop for a program that
// embeds the engine (issue 14), the in-process twin of the client's
// ratchet::Worker over WorkStream. Register one handler per job type, then
// Start. It keeps one long-poll Lease in flight that takes as many jobs as
// there are free slots (concurrency + prefetch, so a handler that frees up
// finds its next job already leased), runs up to `concurrency` handlers at
// once, and reports outcomes in batches: every outcome finished since the
// last flush goes in one CompleteBatch and one FailBatch (each one atomic
// write), with one flush in flight and no added delay. Heartbeats for every
// held job that is due go in one HeartbeatBatch, at a third of each lease's
// length (prefetched jobs included).
//
// Semantics are the Engine's: at-least-once delivery, fenced outcomes. When
// a heartbeat finds the lease lost or the job cancelled, or the job's
// attempt timeout passes (the worker then stops heartbeating it), the
// handler's EmbeddedJob says so; its outcome is still reported and the
// engine rejects a stale one (LEASE_LOST, counted in stats().lease_lost).
// A handler that throws counts as a retryable failure; a job whose type has
// no handler fails retryably ("no handler"). A result longer than
// EngineOptions::max_payload_bytes fails the job for good (the engine would
// refuse it on every attempt). Code-first workflows
// registered with RegisterWorkflow run through RunWorkflowJob
// (ratchet/engine/workflow_runner.h), which ends each attempt itself.
//
// Timing: leases and heartbeats are timed on the steady clock from when the
// lease (or the last heartbeat) was answered, from LeasedJob::lease_duration.
//
// Stop() is graceful: leasing stops (a parked lease ends at once, through
// Engine::ReleaseAbandonedLeases), running handlers are told to stop
// (EmbeddedJob::should_stop()), the jobs already leased run, every outcome
// is reported, then it returns. The destructor calls Stop().
//
// Thread safety: Register and RegisterWorkflow before Start; Start, Stop and
// stats are safe from any thread. Handlers run on the worker's threads,
// concurrently. The Engine is borrowed and must outlive the worker.
#ifndef RATCHET_ENGINE_EMBEDDED_WORKER_H_
#define RATCHET_ENGINE_EMBEDDED_WORKER_H_

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "ratchet/durable/workflow_context.h"
#include "ratchet/engine/engine.h"

namespace ratchet {

// What an embedded handler returns.
struct EmbeddedResult {
  enum class Kind { kSuccess, kRetryableError, kNonRetryableError };
  Kind kind = Kind::kSuccess;
  std::string value;  // the result on success (at most max_payload_bytes), else the error

  static EmbeddedResult Success(std::string result = "") {
    return {Kind::kSuccess, std::move(result)};
  }
  static EmbeddedResult RetryableError(std::string message) {
    return {Kind::kRetryableError, std::move(message)};
  }
  static EmbeddedResult NonRetryableError(std::string message) {
    return {Kind::kNonRetryableError, std::move(message)};
  }
};

// One held job, as its handler sees it. Owned by the worker; valid for the
// handler call. The flags are set by the worker's heartbeat thread.
class EmbeddedJob {
 public:
  explicit EmbeddedJob(LeasedJob job) : job_(std::move(job)) {}

  const LeasedJob& job() const { return job_; }
  const std::string& payload() const { return job_.payload; }
  bool lease_lost() const { return lease_lost_.load(); }
  bool cancel_requested() const { return cancel_requested_.load(); }
  bool attempt_timed_out() const { return attempt_timed_out_.load(); }
  // lease_lost() || cancel_requested() || attempt_timed_out() || the worker
  // is stopping.
  bool should_stop() const;

  // Progress, sent with the job's next heartbeat (a later call before that
  // replaces it): a fraction in [0, 1] and a note of at most 256 bytes of
  // UTF-8. Errors: INVALID_ARGUMENT naming `progress` or `progress_message`
  // (nothing is kept). Thread-safe.
  absl::Status set_progress(double fraction, std::string message = "");

 private:
  friend class EmbeddedWorker;
  struct Progress {
    double fraction = 0;
    std::string message;
  };
  std::optional<Progress> TakeProgress();

  LeasedJob job_;
  absl::Mutex progress_mu_;
  std::optional<Progress> progress_ ABSL_GUARDED_BY(progress_mu_);
  std::atomic<bool> lease_lost_{false};
  std::atomic<bool> cancel_requested_{false};
  std::atomic<bool> attempt_timed_out_{false};
  const std::atomic<bool>* stopping_ = nullptr;
};

using EmbeddedHandler = std::function<EmbeddedResult(EmbeddedJob& job)>;

struct EmbeddedWorkerOptions {
  std::string queue;      // required
  std::string worker_id;  // recorded on leased jobs; default "embedded-<pid>"
  int concurrency = 4;    // handlers running at once, 1..1000
  // The least jobs held beyond `concurrency`, leased ahead; 0..1000, -1
  // (default) means `concurrency`. While handlers finish jobs quickly the
  // worker holds more: as many as they finished in the last 50 ms (at most
  // 1000), about 50 ms of work, so slow jobs are never hoarded away from
  // other workers (as the client's Worker). Prefetched jobs are
  // heartbeated like running ones.
  int prefetch = -1;
  // Lease length to ask for; default: the job's own, else the queue's.
  std::optional<Millis> visibility_timeout;
};

struct EmbeddedWorkerStats {
  uint64_t completed = 0;
  uint64_t workflow_runs = 0;  // code-first workflow attempts ended (complete, fail or suspend)
  uint64_t failed = 0;         // retryable and non-retryable failures reported
  uint64_t lease_lost = 0;     // outcomes or heartbeats rejected as stale
  uint64_t report_errors = 0;  // outcomes the engine refused for another reason
  uint64_t flushes = 0;        // CompleteBatch/FailBatch writes (one flush may be both)
  uint64_t skipped = 0;        // prefetched jobs whose lease ended before they started
  // Jobs held now, leased and not yet finished by a handler: at most
  // concurrency + the prefetch of the moment. (The engine counts a finished job as running
  // until its batched outcome is written.)
  uint64_t held = 0;
  std::string last_lease_error;  // the last Lease error ("" if none); leasing retries
};

class EmbeddedWorker {
 public:
  // `engine` is borrowed. Options are checked by Start.
  EmbeddedWorker(Engine* engine, EmbeddedWorkerOptions options);
  ~EmbeddedWorker();
  EmbeddedWorker(const EmbeddedWorker&) = delete;
  EmbeddedWorker& operator=(const EmbeddedWorker&) = delete;

  void Register(const std::string& job_type, EmbeddedHandler handler);
  // A code-first workflow's main job type (ratchet/durable/workflow_context.h).
  void RegisterWorkflow(const std::string& job_type, WorkflowFunction fn);

  // Starts the threads. Errors: INVALID_ARGUMENT naming the option (queue
  // empty or not a queue name, concurrency or prefetch out of range);
  // FAILED_PRECONDITION if already started.
  absl::Status Start();
  // Graceful stop (see above). Idempotent: a concurrent or later call
  // returns once the first has finished. Must not be called from a handler
  // (it waits for the handlers).
  void Stop();

  EmbeddedWorkerStats stats() const;

 private:
  struct Held;
  // Engine calls decided under mu_ and made without it, on the ticker
  // thread (engine callbacks only update state and wake it).
  struct Calls {
    std::optional<LeaseRequest> lease;
    std::vector<CompleteRequest> completions;
    std::vector<FailRequest> failures;
    std::vector<HeartbeatRequest> beats;
    std::vector<std::shared_ptr<Held>> beat_jobs;
    Callback<std::vector<absl::StatusOr<HeartbeatResult>>> on_beats;
  };
  Calls Plan() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void PlanHeartbeats(Calls& calls) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Issue(Calls calls) ABSL_LOCKS_EXCLUDED(mu_);
  void OnLeased(absl::StatusOr<std::vector<LeasedJob>> jobs) ABSL_LOCKS_EXCLUDED(mu_);
  // A CompleteBatch (Item: Status) or FailBatch (StatusOr<FailResult>) of
  // `n` items answered: counts each item in `accepted`, lease_lost or
  // report_errors.
  template <typename Item>
  void OnFlushed(size_t n, const absl::StatusOr<std::vector<Item>>& r,
                 uint64_t EmbeddedWorkerStats::*accepted) ABSL_LOCKS_EXCLUDED(mu_);
  void HandlerLoop() ABSL_LOCKS_EXCLUDED(mu_);
  // The handler's outcome; nullopt if the attempt was already ended (a
  // code-first workflow run).
  std::optional<EmbeddedResult> Run(EmbeddedJob& job) ABSL_LOCKS_EXCLUDED(mu_);
  void TickerLoop() ABSL_LOCKS_EXCLUDED(mu_);
  int Slots() const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  void Forget(const std::shared_ptr<Held>& held) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool HasWork() const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  bool Woken() const ABSL_SHARED_LOCKS_REQUIRED(mu_);
  bool Idle() const ABSL_SHARED_LOCKS_REQUIRED(mu_);

  Engine* const engine_;
  EmbeddedWorkerOptions options_;
  std::map<std::string, EmbeddedHandler> handlers_;
  std::map<std::string, WorkflowFunction> workflows_;
  std::atomic<bool> stopping_{false};
  std::shared_ptr<std::atomic<bool>> lease_abandoned_;

  mutable absl::Mutex mu_;
  bool started_ ABSL_GUARDED_BY(mu_) = false;
  bool stopped_ ABSL_GUARDED_BY(mu_) = false;
  bool kick_ ABSL_GUARDED_BY(mu_) = false;  // the ticker has calls to plan
  bool lease_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  bool heartbeat_in_flight_ ABSL_GUARDED_BY(mu_) = false;
  int flushes_in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  std::chrono::steady_clock::time_point lease_retry_at_ ABSL_GUARDED_BY(mu_);
  bool joined_ ABSL_GUARDED_BY(mu_) = false;                      // Stop has joined the threads
  std::deque<std::shared_ptr<Held>> ready_ ABSL_GUARDED_BY(mu_);  // leased, not started
  std::deque<std::chrono::steady_clock::time_point> recent_
      ABSL_GUARDED_BY(mu_);                                           // finishes, 50 ms
  std::map<JobId, std::shared_ptr<Held>> held_ ABSL_GUARDED_BY(mu_);  // ready and running
  std::vector<CompleteRequest> completions_ ABSL_GUARDED_BY(mu_);
  std::vector<FailRequest> failures_ ABSL_GUARDED_BY(mu_);
  EmbeddedWorkerStats stats_ ABSL_GUARDED_BY(mu_);
  std::vector<std::thread> threads_;
};

}  // namespace ratchet

#endif  // RATCHET_ENGINE_EMBEDDED_WORKER_H_
