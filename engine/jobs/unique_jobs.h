// UniqueJobs: "at most one job with these args (or this key) in these states
// within this period", per queue (EnqueueRequest::unique; the rules are in
// docs/consistency.md, "Unique jobs").
//
// Storage: one entry per (queue, unique digest) in the idempotency CF,
// 'u' queue 0x00 by digest -> UniqueRecord {the newest job enqueued with
// it}. An enqueue reads the entry and the job it names (O(1): two point
// reads): if that job is in a covered state and within the period, the
// enqueue answers it and writes nothing; otherwise it inserts the new job
// and points the entry at it, in the same write.
//
// Why one entry is enough: the covered states are closed under "can come
// before" (ValidateUnique), and a job's state as uniqueness sees it only
// moves forward (a started job counts as running, also while it waits for a
// retry), so a job the entry stops naming is not covered and never will be.
// Redrive is the documented exception (an operator's action).
//
// Cleanup: a finishing unique job puts a cleanup key 'x' be64(due_at) entry
// (due at once if its final state is not covered, else when its retention or
// period ends); the retention sweeper deletes the entry once it names a job
// that is gone or no longer covered, a bounded number per pass.
//
// Thread safety: sequencer thread only.
#ifndef RATCHET_ENGINE_JOBS_UNIQUE_JOBS_H_
#define RATCHET_ENGINE_JOBS_UNIQUE_JOBS_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "job_store.h"
#include "ratchet/engine/types.h"

namespace ratchet::internal {

inline constexpr size_t kMaxUniqueKeyBytes = 256;

// INVALID_ARGUMENT naming `field` + ".key" / ".states" / ".period" for bad
// or conflicting options (see UniqueOptions).
absl::Status ValidateUnique(const std::string& field, const UniqueOptions& u);

class UniqueJobs {
 public:
  // A stored job an enqueue matched, and its state as uniqueness sees it.
  struct Match {
    JobId id = 0;
    JobState state = JobState::kScheduled;
  };

  // `jobs` is borrowed and must outlive this object.
  explicit UniqueJobs(JobStore* jobs) : jobs_(*jobs) {}

  // The entry key of a request with `unique` set.
  static std::string EntryKey(const EnqueueRequest& req);

  // The stored job `req` (with `unique` set) matches, if any. May promote
  // the due jobs of the matched job's queue (as a Lease would), so a job
  // once judged available stays so after a backward clock step.
  // Errors: DATA_LOSS (a record that does not parse), UNAVAILABLE.
  absl::StatusOr<std::optional<Match>> Find(storage::Batch& batch, TimePoint now,
                                            const EnqueueRequest& req, const std::string& entry);

  // For a request matching the same entry as `first`, an earlier request of
  // the same call that will be inserted: `first`'s state if it matches.
  static std::optional<JobState> MatchesEarlier(const EnqueueRequest& first,
                                                const EnqueueRequest& req, TimePoint now);

  // Records `req.unique` on the new job's record `r` (before it is saved)
  // and points the entry at it.
  static void OnInsert(storage::Batch& batch, const EnqueueRequest& req, JobRecord& r);

  // A unique job finishes (its record already terminal): puts its cleanup key.
  void OnFinish(storage::Batch& batch, const JobRecord& r);

  // Processes cleanup keys due at `now_ms`, writing at most about `budget`
  // keys; sets `*backlog` if due ones are left. Returns the keys deleted.
  absl::StatusOr<int> Sweep(storage::Batch& batch, int64_t now_ms, int budget, bool* backlog);

  // The state `r` is in for uniqueness (see UniqueOptions).
  JobState StateFor(const JobRecord& r, int64_t now_ms);

 private:
  // When `r` (finished) stops needing its entry: now if its final state is
  // not covered, else at the end of its retention or period.
  int64_t CleanupDue(const JobRecord& r, int64_t now_ms) const;
  // One due cleanup key; adds the keys it wrote to `*written`.
  absl::Status CleanUp(storage::Batch& batch, int64_t now_ms, std::string_view entry,
                       std::string_view cleanup_key, int* written);

  JobStore& jobs_;
};

}  // namespace ratchet::internal

#endif  // RATCHET_ENGINE_JOBS_UNIQUE_JOBS_H_
