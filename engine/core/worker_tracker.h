// WorkerTracker: the workers an engine has seen, in memory, for
// Engine::ListWorkers: who leased from which queues, which jobs each holds
// and when each was last seen (a Lease or a Heartbeat). Not durable: a
// restarted engine knows a worker again at its next Lease or Heartbeat.
// Leases without a worker_id are not tracked.
//
// Bounded: at most kMaxTrackedWorkers workers (the least recently seen is
// forgotten first), 16 queues each, and the jobs of live leases only; a
// worker unseen for kWorkerForgetAfter is forgotten (checked every 1,024
// calls and at every List, so memory stays bounded without ListWorkers).
//
// Thread safety: every method is safe from any thread (one mutex; each
// call is O(jobs of the call), List O(workers + their jobs)).
#ifndef RATCHET_ENGINE_CORE_WORKER_TRACKER_H_
#define RATCHET_ENGINE_CORE_WORKER_TRACKER_H_

#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "ratchet/engine/types.h"
#include "ratchet/engine/workers.h"

namespace ratchet::internal {

class WorkerTracker {
 public:
  // `clock` is not owned and must outlive the tracker.
  explicit WorkerTracker(Clock* clock) : clock_(clock) {}

  // A Lease of `queue` by `worker_id` answered `jobs` (maybe none).
  void Leased(const std::string& worker_id, const std::string& queue,
              const std::vector<LeasedJob>& jobs);
  void Heartbeat(JobId id, TimePoint lease_deadline);
  // A Complete or Fail under `token` was accepted: the job leaves the
  // worker that holds it under that token (a repeat of an old Fail after
  // the job was leased again changes nothing).
  void Finished(JobId id, FencingToken token);
  // The workers, most recently seen first, at most `max`.
  std::vector<WorkerInfo> List(size_t max);

 private:
  struct Held {
    std::string worker_id;
    FencingToken token = 0;
  };
  struct Worker {
    std::set<std::string> queues;
    bool more_queues = false;
    std::map<JobId, TimePoint> jobs;  // id -> lease deadline
    TimePoint last_seen;
  };
  Worker& Touch(const std::string& worker_id, TimePoint now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Forget(TimePoint now) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  Clock* const clock_;
  absl::Mutex mu_;
  std::unordered_map<std::string, Worker> workers_ ABSL_GUARDED_BY(mu_);
  std::unordered_map<JobId, Held> job_worker_ ABSL_GUARDED_BY(mu_);
  uint64_t calls_ ABSL_GUARDED_BY(mu_) = 0;  // Forget every 1,024 calls
};

}  // namespace ratchet::internal

#endif  // RATCHET_ENGINE_CORE_WORKER_TRACKER_H_
