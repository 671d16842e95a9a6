// JobRetention: the retention sweeper of the job domain. It deletes finished
// jobs (completed, cancelled, dead) past their queue's retention, and
// idempotency keys past their window.
//
// Bounded work (docs/consistency.md, "Background work"):
// - It visits only queues on the retention schedule (Indexes), which holds
//   queues with finished jobs, by the time their oldest one comes due: a
//   queue with nothing to delete costs nothing.
// - A pass visits at most kMaxQueuesPerPass due queues, earliest first, and
//   gives each an equal slice of `max_keys` (at least kMinSliceKeys), so a
//   hot queue cannot starve the others; a queue left with due jobs stays due
//   and comes back after the queues that were waiting longer.
// - NextDue() says when the next pass has work: the sequencer runs one
//   whenever it is due, so while a backlog lasts passes follow each other
//   (one per group) and deletion keeps up with finishing.
// - It reads the index through the committed store and checks each entry
//   against the pending batch before deleting it, so it needs no idle
//   writer and never deletes what the pending group redrove or purged.
// - Its time never goes back and keeps moving while the clock is behind: it
//   is max(clock, its previous time + the steady (monotonic) time elapsed
//   since). A backward clock step does not pause retention; a correction
//   forward after it does not put the sweeper ahead of the clock. Jobs that
//   finish while the clock is behind carry finish times that look older by
//   the step, so they may be deleted up to the step's length early. In
//   memory: a restart or rebuild takes the clock as it is. Idempotency keys
//   are swept by the clock itself, so a key never expires early.
//
// Thread safety: sequencer thread only.
#ifndef RATCHET_ENGINE_JOBS_RETENTION_H_
#define RATCHET_ENGINE_JOBS_RETENTION_H_

#include <chrono>
#include <optional>

#include "absl/status/statusor.h"
#include "job_store.h"
#include "unique_jobs.h"

namespace ratchet::internal {

inline constexpr size_t kMaxQueuesPerPass = 64;
inline constexpr int kMinSliceKeys = 16;
// Keys one finished job takes: its index entry, state and payload records.
inline constexpr int kKeysPerJob = 3;
// A queue whose remaining finished jobs are not yet committed is looked at
// again after its retention, and at least this long after.
inline constexpr int64_t kRecheckMs = 100;

class JobRetention {
 public:
  // `jobs` is borrowed and must outlive this object.
  explicit JobRetention(JobStore* jobs) : jobs_(*jobs), unique_(jobs) {}

  // One bounded pass: deletes at most about `max_keys` keys (a job is its
  // record and its index entry). Returns the number of keys deleted.
  // Errors: UNAVAILABLE on a read error.
  absl::StatusOr<int> Sweep(storage::Batch& batch, TimePoint now, int max_keys);

  // When a pass next has work, on the clock that reads `now`, if ever: the
  // earliest queue on the retention schedule, or now while idempotency keys
  // are left over. After a backward clock step it is as much earlier as
  // the step (the sweeper's time does not go back).
  std::optional<TimePoint> NextDue(TimePoint now) const;

  // Counters since construction, for EngineStats.
  uint64_t passes() const { return passes_; }
  uint64_t queues_visited() const { return queues_visited_; }
  uint64_t keys_deleted() const { return keys_deleted_; }
  uint64_t largest_pass_keys() const { return largest_pass_keys_; }

 private:
  // Sweeps one queue's class up to `budget` keys; returns keys deleted and
  // sets its next due time on the schedule.
  absl::StatusOr<int> SweepQueue(storage::Batch& batch, QueueState* q, RetentionClass c,
                                 int64_t now_ms, int budget);
  absl::StatusOr<int> SweepIdempotencyKeys(storage::Batch& batch, int64_t now_ms, int budget);
  // The sweeper's time at `now` (see above); Tick also records it.
  int64_t SweeperTime(TimePoint now) const;
  int64_t Tick(TimePoint now);

  JobStore& jobs_;
  UniqueJobs unique_;  // its entries' cleanup keys are swept with the idempotency keys
  // The sweeper's time (ms since the epoch), and the steady clock when it
  // was last read.
  std::optional<int64_t> sweeper_ms_;
  std::chrono::steady_clock::time_point last_steady_;
  bool idempotency_backlog_ = false;
  uint64_t passes_ = 0, queues_visited_ = 0, keys_deleted_ = 0, largest_pass_keys_ = 0;
};

}  // namespace ratchet::internal

#endif  // RATCHET_ENGINE_JOBS_RETENTION_H_
