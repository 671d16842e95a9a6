// Engine::Impl: the sequencer, the writer and the callback threads.
//
// The sequencer thread owns the Machines (every domain's state machine and
// in-memory indexes). Callers push
// operations into an inbox; the sequencer takes up to max_group_ops of them
// and applies each, in order, to one batch (a group). It then hands the
// group to the writer thread, which commits it with one synced write (group
// commit) and only then runs the group's callbacks, in order. An operation
// is never split across groups.
//
// Pipelining: while the writer fsyncs group N, the sequencer applies group
// N+1, reading through group N's batch (Batch::set_base). Group N+1 is handed
// over only after group N is durable, so acknowledgements stay in order, and
// if group N fails, group N+1 (built on N's effects) is never written: its
// callers get the same UNAVAILABLE. Operations that read committed data
// directly (dead-letter scans, the sweeper) first wait until nothing is in
// flight. No lock is held during a commit.
#ifndef RATCHET_ENGINE_CORE_SEQUENCER_H_
#define RATCHET_ENGINE_CORE_SEQUENCER_H_

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "engine_metrics.h"
#include "lease_waiters.h"
#include "machines.h"
#include "ratchet/engine/engine.h"
#include "ratchet/storage/store.h"
#include "worker_tracker.h"

namespace ratchet {

// What an operation reads from the store.
enum class Reads {
  // Through the group being built (read-your-writes): the usual case.
  kThroughGroup,
  // Committed data only: the group built so far is committed first. For
  // scans of committed indexes (dead letters, the sweeper).
  kCommitted,
};

class Engine::Impl {
 public:
  // Delivers an operation's outcome once its batch's commit status is known.
  using Completion = std::function<void(const absl::Status& commit)>;
  // Applies an operation. `batch` is null when the engine has failed: the
  // operation must not run and its Completion reports the failure.
  using Apply = std::function<Completion(storage::Batch* batch, TimePoint now)>;

  static absl::StatusOr<std::unique_ptr<Impl>> Open(const EngineOptions& options);
  ~Impl();

  // Queues `fn(batch, now) -> StatusOr<T>` to run on the sequencer; `cb`
  // gets its result after the commit.
  template <typename T, typename Fn>
  void Submit(Reads reads, Fn fn, Callback<T> cb) {
    Push({[this, fn = std::move(fn), cb = std::move(cb)](storage::Batch* batch,
                                                         TimePoint now) mutable -> Completion {
            if (batch == nullptr) return [cb](const absl::Status& s) { cb(s); };
            return Deliver(std::move(cb), Atomically<T>(*batch, [&] { return fn(*batch, now); }));
          },
          reads});
  }

  // Runs `fn` -> absl::StatusOr<T> (or absl::Status) as one operation of
  // the building group: if it fails, everything it wrote to `batch` is
  // rolled back, and if it had written anything, the in-memory state (which
  // it may have changed too) is rebuilt from the store before the next
  // operation runs (RebuildIfNeeded). A rejected operation changes nothing.
  template <typename T, typename Fn>
  absl::StatusOr<T> Atomically(storage::Batch& batch, Fn&& fn) {
    batch.SetSavePoint();
    absl::StatusOr<T> result = fn();
    EndOperation(batch, result.status());
    return result;
  }
  template <typename Fn>
  absl::Status AtomicallyStatus(storage::Batch& batch, Fn&& fn) {
    batch.SetSavePoint();
    absl::Status result = fn();
    EndOperation(batch, result);
    return result;
  }

  // A Completion that hands `result` to `cb` if the commit succeeded, and
  // the commit's error otherwise.
  template <typename T>
  static Completion Deliver(Callback<T> cb, absl::StatusOr<T> result) {
    return [cb = std::move(cb), result = std::move(result)](const absl::Status& commit) mutable {
      if (commit.ok()) {
        cb(std::move(result));
      } else {
        cb(commit);
      }
    };
  }

  // Queues a Lease; with req.wait > 0 and nothing to lease, the request is
  // parked on the sequencer and answered when a job becomes available or
  // the wait ends (long poll).
  void SubmitLease(LeaseRequest req, Callback<std::vector<LeasedJob>> cb);
  // Queues Complete then Lease as one operation (Engine::CompleteAndLease):
  // the lease request is validated before anything is written.
  void SubmitCompleteAndLease(CompleteRequest complete, LeaseRequest req,
                              Callback<CompleteAndLeaseResult> cb);

  // Sequencer-only accessors (use inside Submit'ed functions).
  internal::Machines& machines() { return *machines_; }
  // The metrics, or null (for Engine::LeaseAsync's lease wait). Thread-safe.
  internal::EngineMetrics* metrics() const { return metrics_.get(); }
  // Safe from any thread.
  const storage::Store& store() const { return *store_; }
  Clock* clock() const { return clock_; }
  const EngineOptions& options() const { return options_; }
  // The workers seen recently (Engine::ListWorkers). Thread-safe.
  internal::WorkerTracker& workers() { return workers_; }

  EngineStats Stats() const;

  // Sequencer-only: lease expiry, schedule firing and a sweeper pass, as
  // in the timer.
  absl::Status RunMaintenance(storage::Batch& batch, TimePoint now);
  // Sequencer-only: lease expiry, then schedule firing, each one operation.
  absl::Status ExpireAndFire(storage::Batch& batch, TimePoint now);
  // Sequencer-only: one retention pass (one operation) if one is due, or
  // `always`. After a failure it backs off on its own (1 s doubling to 1 min).
  absl::Status SweepRetention(storage::Batch& batch, TimePoint now, bool always);

 private:
  struct Op {
    Apply apply;
    Reads reads = Reads::kThroughGroup;
  };

  // A batch and the callbacks to run once its fate is known.
  struct Group {
    explicit Group(storage::Store* store) : batch(store) {}
    storage::Batch batch;
    std::vector<Completion> completions;
  };

  Impl(const EngineOptions& options, std::unique_ptr<storage::Store> store);
  // Queues `op`. Once the sequencer has exited (the engine is closing), it
  // is answered ENGINE_CLOSED at once instead, on the caller's thread (so a
  // bulk call's next slice, queued from a callback, never hangs).
  void Push(Op op);
  // Sequencer: closes the savepoint Atomically opened. On failure with
  // writes, rolls them back and marks the in-memory state for a rebuild.
  void EndOperation(storage::Batch& batch, const absl::Status& status);
  // Sequencer, between operations (no batch reference held: it hands the
  // group off): if an operation failed after writing, commits what the group
  // holds before it, then rebuilds every domain's in-memory state from the
  // store (Machines::Recover). If that fails, the engine fails as after a
  // storage write failure: every later operation gets the error.
  void RebuildIfNeeded();
  void Loop();
  void RunGroup(std::deque<Op>& ops);
  // Sequencer: EngineMetrics::Refresh, at most once a second.
  void RefreshMetrics(TimePoint now);
  // Sequencer: hands the building group to the writer (after the previous
  // one is durable) and starts a new group reading through it.
  void HandOff();
  // Sequencer: waits until no group is in flight; returns the failure, if any.
  absl::Status WaitWriterIdle();
  // True once a commit (or a rebuild) has failed.
  bool EngineFailed();
  void WriterLoop();
  void Commit(Group& group);
  // Queues a group's callbacks for the callback thread, which runs them in
  // order: the writer goes on to the next fsync without waiting for them.
  void PostCompletions(std::vector<Completion> done, const absl::Status& status);
  void CallbackLoop();
  absl::Duration TimeToNextMaintenance();
  // Sequencer: leases for `req` now, or parks it (long poll) when nothing
  // is available and req.wait > 0; the Completion answers `cb`.
  Completion LeaseOrPark(storage::Batch& batch, TimePoint now, LeaseRequest req,
                         Callback<std::vector<LeasedJob>> cb);
  // Sequencer, after each group: ends the waits of callers that left (a
  // bounded sweep), leases to the parked waiters of the queues that may
  // have become leasable (Indexes::TakeChanged, a scheduled job due, all
  // after a rebuild), and ends the waits that are over. Its work follows
  // those queues and waiters, not the number parked. Answers join the
  // building group.
  void ServeWaiters(TimePoint now);
  // Sequencer: serves `queue`'s waiters in arrival order while it can lease.
  void ServeQueue(const std::string& queue, TimePoint now);
  // The run_at of `queue`'s earliest scheduled job if it is after `now`.
  std::optional<int64_t> FutureRunAt(const std::string& queue, TimePoint now);
  // Sequencer: answers a waiter whose wait ended with nothing leased.
  void AnswerEmpty(internal::LeaseWaiters::Waiter& w);
  // Sequencer: answers every parked waiter with `status` (shutdown, failure).
  void DropWaiters(const absl::Status& status);
  void PublishWaiterStats();

  // Constant after construction.
  const EngineOptions options_;
  Clock* const clock_;
  std::shared_ptr<Random> random_;
  std::unique_ptr<storage::Store> store_;
  // Null without EngineOptions::metrics_registry. Before machines_, which
  // sends it job events.
  std::unique_ptr<internal::EngineMetrics> metrics_;
  std::unique_ptr<internal::Machines> machines_;
  internal::WorkerTracker workers_{clock_};

  absl::Mutex mu_;
  std::deque<Op> inbox_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;  // the sequencer has exited

  // Sequencer thread only.
  std::unique_ptr<Group> building_;  // being applied to
  std::unique_ptr<Group> previous_;  // in flight, or committed
  // Parked long-poll leases (per queue, first come first served).
  internal::LeaseWaiters waiters_;
  // After a rebuild the queues marked changed are lost: serve every queue
  // with waiters once.
  bool recheck_all_waiters_ = false;
  TimePoint next_sweep_;
  TimePoint next_metrics_{};     // the next EngineMetrics::Refresh
  bool rebuild_needed_ = false;  // an operation failed after writing
  // A background task after a failed pass: not retried before retry_at,
  // with the wait doubling from 1 s to 1 min; a success resets it.
  struct RetryBackoff {
    TimePoint retry_at{};
    absl::Duration wait = absl::ZeroDuration();
    // Records the outcome of a pass at `now`; logs a failure naming `task`.
    void Record(const absl::Status& s, TimePoint now, const char* task);
  };
  // Lease expiry and schedule firing share one; the retention sweeper has
  // its own, so it holds up neither.
  RetryBackoff maintenance_retry_;
  RetryBackoff retention_retry_;

  absl::Mutex writer_mu_;
  Group* in_flight_ ABSL_GUARDED_BY(writer_mu_) = nullptr;
  bool writer_stopping_ ABSL_GUARDED_BY(writer_mu_) = false;

  absl::Status failed_ ABSL_GUARDED_BY(writer_mu_);  // non-OK once a commit failed

  struct Posted {
    std::vector<Completion> done;
    absl::Status status;
  };
  absl::Mutex callbacks_mu_;
  std::deque<Posted> posted_ ABSL_GUARDED_BY(callbacks_mu_);
  bool callbacks_stopping_ ABSL_GUARDED_BY(callbacks_mu_) = false;

  std::atomic<uint64_t> commits_{0}, operations_{0}, entries_{0}, bytes_{0}, live_jobs_{0},
      commit_micros_{0}, parked_leases_{0}, parked_lease_checks_{0};
  std::atomic<uint64_t> sweeper_passes_{0}, sweeper_queues_visited_{0}, sweeper_keys_deleted_{0},
      sweeper_largest_pass_keys_{0}, recovered_job_records_{0}, rate_limit_starts_{0},
      expired_jobs_{0};
  // Expired jobs counted by machines rebuilt away (sequencer thread only).
  uint64_t expired_jobs_base_ = 0;

  std::thread callbacks_;
  std::thread writer_;
  std::thread thread_;  // last: started after everything above exists
};

}  // namespace ratchet

#endif  // RATCHET_ENGINE_CORE_SEQUENCER_H_
