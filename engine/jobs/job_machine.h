// JobMachine: the job lifecycle on the sequencer. Enqueue (with idempotency
// keys), lease with fencing tokens, heartbeat, complete, fail with backoff,
// lease expiry and cancel. docs/consistency.md gives each operation's keys.
//
// Contract of every operation: it validates and checks everything first and
// returns an error before touching any state, so a rejected request leaves
// both the batch and the indexes unchanged. An accepted operation appends
// all of its writes to `batch` (one atomic write) and updates the indexes
// as if the batch will commit; if the commit fails, the engine is poisoned
// and the indexes are thrown away with it.
//
// Fencing: an attempt may end, or be extended, only with the job's current
// token (CheckLease, the one fencing check). Tokens come from one monotonic
// counter persisted with each lease.
//
// Thread safety: sequencer thread only.
#ifndef RATCHET_ENGINE_JOBS_JOB_MACHINE_H_
#define RATCHET_ENGINE_JOBS_JOB_MACHINE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "job_store.h"
#include "ratchet/base/random.h"
#include "ratchet/engine/types.h"
#include "unique_jobs.h"

namespace ratchet::internal {

// Where a job inserted by the engine itself comes from (a workflow step, a
// code-first workflow's main job, or a schedule tick). Stored on the job so
// its JobObservers recognise it.
struct JobOrigin {
  WorkflowId workflow_id = 0;
  int step_index = 0;  // -1: a code-first workflow's main job
  std::string step_name;
  std::vector<StepOutputRecord> inputs;
  std::string schedule_id;
  int64_t schedule_tick_ms = 0;
};

// How Enqueue names the fields of a request in its errors.
enum class FieldNames {
  kPlain,    // "queue" (Enqueue)
  kIndexed,  // "jobs[3].queue" (EnqueueBatch, CommitOutbox)
};

// The idempotency-key prefix of the jobs schedule ticks enqueue
// ("schedule:<id>:<tick ms>"); Enqueue rejects callers' keys that use it.
inline constexpr char kScheduleKeyPrefix[] = "schedule:";

class JobMachine {
 public:
  // What PlanEnqueue decided for one request.
  struct EnqueuePlan {
    JobId existing = 0;       // duplicate of a stored job
    int duplicate_of = -1;    // duplicate of an earlier request in the same call
    std::string fingerprint;  // of a keyed job to insert
    // Unique jobs: the stored job it matches, or an earlier request of the
    // same call (a job about to be inserted) it matches, and that job's state.
    JobId unique_match = 0;
    int unique_match_of = -1;
    JobState unique_match_state = JobState::kScheduled;
  };

  // `jobs` and `random` are borrowed and must outlive this object.
  JobMachine(JobStore* jobs, Random* random) : jobs_(*jobs), random_(*random), unique_(jobs) {}

  // Enqueues all or none, and applies `app_writes`, in one write.
  absl::StatusOr<std::vector<EnqueueResult>> Enqueue(storage::Batch& batch, TimePoint now,
                                                     const std::vector<EnqueueRequest>& reqs,
                                                     const std::vector<AppWrite>& app_writes,
                                                     FieldNames names);
  absl::StatusOr<std::vector<LeasedJob>> Lease(storage::Batch& batch, TimePoint now,
                                               const LeaseRequest& req);
  // True if a Lease on `queue` now would lease at least one job.
  bool CanLease(const std::string& queue, TimePoint now);
  // When `queue` may next be able to lease without an enqueue, a finish or
  // a settings change: its earliest scheduled job's run_at, or a rate
  // limit's reopening, whichever is first (a long poll wakes then).
  std::optional<int64_t> NextRunAt(const std::string& queue);
  absl::StatusOr<HeartbeatResult> Heartbeat(storage::Batch& batch, TimePoint now,
                                            const HeartbeatRequest& req);
  absl::Status Complete(storage::Batch& batch, TimePoint now, const CompleteRequest& req);
  absl::StatusOr<FailResult> Fail(storage::Batch& batch, TimePoint now, const FailRequest& req);
  absl::StatusOr<JobState> Cancel(storage::Batch& batch, TimePoint now, JobId id);
  // Engine::RetryJob: a scheduled job becomes available now.
  absl::StatusOr<JobState> RetryNow(storage::Batch& batch, TimePoint now, JobId id);
  // Ends up to `max_jobs` expired leases as failed attempts ("lease
  // expired", or "attempt timed out" for a lease that ran to its attempt
  // deadline), then cancels up to `max_jobs` waiting jobs whose expires_at
  // passed before they started (job_expiry.cc).
  absl::Status ExpireLeases(storage::Batch& batch, TimePoint now, int max_jobs);
  // Jobs cancelled by expiry since open (EngineStats::expired_jobs).
  uint64_t expired_jobs() const { return expired_jobs_; }

  // ---- For the owners of engine-made jobs (workflows, schedules). ----

  // Validates `reqs` and resolves their idempotency keys and unique options;
  // changes nothing (it may promote due jobs, as a Lease would).
  absl::StatusOr<std::vector<EnqueuePlan>> PlanEnqueue(storage::Batch& batch, TimePoint now,
                                                       const std::vector<EnqueueRequest>& reqs,
                                                       FieldNames names);
  // Inserts a validated job. `fingerprint` is PlanEnqueue's, for a keyed job.
  JobId Insert(storage::Batch& batch, TimePoint now, const EnqueueRequest& req,
               const std::string& fingerprint, const JobOrigin* origin = nullptr);
  // OK if `token` holds `r`'s current lease; FAILED_PRECONDITION/LEASE_LOST
  // naming `op`, the job and why otherwise. The one fencing check.
  absl::Status CheckLease(const JobRecord& r, FencingToken token, TimePoint now,
                          absl::string_view op) const;
  // True while the job is scheduled, available or running.
  bool IsLive(JobId id) const { return jobs_.indexes().Find(id) != nullptr; }
  // What CancelForOwner does to a running job.
  enum class IfRunning { kLeave, kRequestCancel };
  // Cancels a waiting job for its owner, without telling the observers; a
  // running one is left alone or gets a cancel request. Returns true if the
  // job ended now (false also for a job that had already ended).
  absl::StatusOr<bool> CancelForOwner(storage::Batch& batch, TimePoint now, JobId id,
                                      IfRunning if_running);
  // Ends a running job's attempt without counting it and makes it wait
  // until `wake` (a code-first workflow's durable sleep or event wait).
  // A job whose cancellation was requested is cancelled instead.
  // Errors: an observer's, on cancellation (see Finish).
  absl::Status Park(storage::Batch& batch, TimePoint now, JobRecord& r, TimePoint wake,
                    const std::string& awaiting_event);
  // Makes a parked (waiting) job available now. No-op for other jobs.
  absl::Status WakeNow(storage::Batch& batch, TimePoint now, JobId id,
                       const std::string& awaiting_event);

 private:
  // The Fail path shared by Fail and lease expiry.
  absl::StatusOr<FailResult> EndAttemptInFailure(storage::Batch& batch, TimePoint now, JobRecord& r,
                                                 absl::string_view error, bool retryable);
  // Ends a job in a terminal state and tells the observers. Errors: the
  // first observer's (a read error, a record that does not parse); the
  // caller fails, and the sequencer rolls the operation back.
  absl::Status Finish(storage::Batch& batch, TimePoint now, JobRecord& r, JobState state);
  // Ends a job in a terminal state; the observers are not told.
  void FinishQuietly(storage::Batch& batch, TimePoint now, JobRecord& r, JobState state);
  // Moves a live job back to waiting until `run_at_ms`, in the indexes.
  void Requeue(const JobRecord& r);
  // Tell the job events (metrics) that `r` ended in `state`, or that its
  // running attempt ended (with its run time).
  void CountFinish(const JobRecord& r, JobState state);
  void CountAttemptEnd(TimePoint now, const JobRecord& r);
  // Jobs a Lease of `max_jobs` may take from `q` now under its queue-wide
  // concurrency and rate limits (key limits are the groups').
  int64_t LeaseAllowance(const QueueState& q, int64_t max_jobs) const;
  // Records a start in the rate-limit logs that apply to `r` (start_logs.h).
  void LogStart(storage::Batch& batch, const QueueState& q, const JobRecord& r);

  // The unique-options part of PlanEnqueue for request `i`, which would
  // otherwise be inserted. `earlier`: entry -> index of an earlier request
  // of the call to be inserted.
  absl::Status PlanUnique(storage::Batch& batch, TimePoint now,
                          const std::vector<EnqueueRequest>& reqs, size_t i,
                          absl::flat_hash_map<std::string, int>& earlier,
                          std::vector<EnqueuePlan>& plans);

  // ---- Timeouts and expiry (job_expiry.cc) ----
  // The expiry clock: the high-water mark of the engine clock, so a clock
  // stepped back never makes an expired job leasable again.
  int64_t ExpiryNowMs(TimePoint now);
  // True if `id` is a waiting, never-started job whose expires_at passed.
  bool IsExpired(JobId id, int64_t expiry_now_ms) const;
  // Dead-letters the waiting job `r`, whose lease answer alone (job_bytes)
  // is over the most one answer can carry (max_bytes), with an error naming
  // both;
  // no attempt is counted. Errors: as Finish.
  absl::Status DeadLetterUndeliverable(storage::Batch& batch, TimePoint now, JobRecord& r,
                                       size_t job_bytes, size_t max_bytes);
  // Ends a waiting job that expired: cancelled, cancel_reason "expired".
  absl::Status CancelExpired(storage::Batch& batch, TimePoint now, JobId id);
  // Cancels up to `max_jobs` expired waiting jobs, earliest expiry first.
  absl::Status ExpireWaitingJobs(storage::Batch& batch, TimePoint now, int max_jobs);
  // Starts an attempt on `r` (leased now): running, attempts + 1, a new
  // token, the lease capped at the attempt deadline, no progress.
  void StartAttempt(TimePoint now, Millis visibility_timeout, const std::string& worker_id,
                    JobRecord& r);

  JobStore& jobs_;
  Random& random_;
  UniqueJobs unique_;
  uint64_t expired_jobs_ = 0;
};

// The time (Unix ms, engine clock) at which `r`'s current attempt ends
// whatever its heartbeats, if it has an attempt timeout.
std::optional<int64_t> AttemptDeadlineMs(const JobRecord& r);
// True while `r`'s expires_at still applies: set, and never leased.
bool ExpiryApplies(const JobRecord& r);

}  // namespace ratchet::internal

#endif  // RATCHET_ENGINE_JOBS_JOB_MACHINE_H_
