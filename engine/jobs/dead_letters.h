// DeadLetters: the dead-letter queue. Dead jobs keep their record in the
// jobs column family; the dead_letters column family indexes them by queue
// and time of death. Redrive makes them available again (their owners are
// told through JobObserver::OnJobRedriven); purge deletes them.
//
// A redrive or purge by filter runs as a series of slices, each one atomic
// write that examines at most `max_keys` dead-letter keys (and so redrives
// or purges at most as many jobs); the engine queues the next slice behind
// the operations submitted meanwhile (engine/core/engine.cc). A DeadLetterRun
// carries the progress from slice to slice: it walks the queue's dead-letter
// keys in order (time of death, then id) from where the last slice stopped,
// and never takes a job twice, so a job that dies again after an earlier
// slice redrove it is not redriven again by the same run. A job that dies
// during the run, ahead of the cursor, may be taken (within the limit).
//
// Slices read the committed index, so the sequencer runs each on a fresh
// batch. Thread safety: sequencer thread only.
#ifndef RATCHET_ENGINE_JOBS_DEAD_LETTERS_H_
#define RATCHET_ENGINE_JOBS_DEAD_LETTERS_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "job_store.h"

namespace ratchet::internal {

// The progress of one redrive or purge across its slices. Start with a
// default one and hand the same one to every slice of the run.
struct DeadLetterRun {
  bool started = false;
  std::string next_key;                // the first dead-letter key not yet examined
  std::string end_key;                 // keys from here on died after the run started
  absl::flat_hash_set<JobId> touched;  // redriven or purged by this run
  int count = 0;                       // jobs redriven or purged so far
  bool more = false;                   // the limit cut the run short
  bool done = false;                   // no slice left to run
  int64_t start_ms = -1;               // a paced redrive's start: the first slice's now
};

class DeadLetters {
 public:
  // `jobs` is borrowed and must outlive this object.
  explicit DeadLetters(JobStore* jobs) : jobs_(*jobs) {}

  // One slice of a redrive: examines at most `max_keys` dead-letter keys
  // from where the last slice stopped and redrives the jobs that match, at
  // most filter.limit over the run. A job_id filter is done in one slice.
  // Returns the keys examined; sets run.done after the last slice.
  // Errors: INVALID_ARGUMENT (filter); NOT_FOUND / INVALID_STATE for a
  // job_id filter naming a job that is absent or not dead; a read error, or
  // an observer's (the slice is rolled back).
  absl::StatusOr<int> RedriveSlice(storage::Batch& batch, TimePoint now, const RedriveRequest& req,
                                   DeadLetterRun& run, int max_keys);
  // One slice of a purge, as RedriveSlice.
  absl::StatusOr<int> PurgeSlice(storage::Batch& batch, const DeadLetterFilter& filter,
                                 DeadLetterRun& run, int max_keys);

 private:
  // The records of this slice's jobs, loaded before anything changes;
  // *examined counts the keys looked at.
  absl::StatusOr<std::vector<JobRecord>> MatchSlice(storage::Batch& batch,
                                                    const DeadLetterFilter& filter,
                                                    DeadLetterRun& run, int max_keys,
                                                    int* examined);
  // The one dead job a job_id filter names.
  absl::StatusOr<JobRecord> MatchJob(storage::Batch& batch, const DeadLetterFilter& filter);
  // The ids of the next dead jobs that match, within the slice's budget.
  absl::StatusOr<std::vector<JobId>> ScanSlice(const DeadLetterFilter& filter, DeadLetterRun& run,
                                               int max_keys, int* examined);
  // Whether the dead job `id` is of `job_type`; false if it is gone.
  // Errors: DATA_LOSS if its record does not parse (as a run without a
  // job-type filter gets; nothing is skipped silently), UNAVAILABLE.
  absl::StatusOr<bool> HasType(JobId id, const std::string& job_type);
  // Takes `r` out of the dead-letter queue (its key and its queue's count).
  void Unlist(storage::Batch& batch, const JobRecord& r);

  JobStore& jobs_;
};

}  // namespace ratchet::internal

#endif  // RATCHET_ENGINE_JOBS_DEAD_LETTERS_H_
