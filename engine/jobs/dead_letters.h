// DeadLetters: the dead-letter queue. Dead jobs keep their record in the
// jobs column family; the dead_letters column family indexes them by queue
// and time of death. Redrive makes them available again (their owners are
// told through JobObserver::OnJobRedriven); purge deletes them.
//
// Both read the committed index, so the sequencer runs them on a fresh batch.
// Thread safety: sequencer thread only.
#ifndef RATCHET_ENGINE_JOBS_DEAD_LETTERS_H_
#define RATCHET_ENGINE_JOBS_DEAD_LETTERS_H_

#include <vector>

#include "absl/status/statusor.h"
#include "job_store.h"

namespace ratchet::internal {

class DeadLetters {
 public:
  // `jobs` is borrowed and must outlive this object.
  explicit DeadLetters(JobStore* jobs) : jobs_(*jobs) {}

  // Errors: INVALID_ARGUMENT (filter); NOT_FOUND / INVALID_STATE for a
  // job_id filter naming a job that is absent or not dead.
  absl::StatusOr<BulkResult> Redrive(storage::Batch& batch, TimePoint now,
                                     const RedriveRequest& req);
  absl::StatusOr<BulkResult> Purge(storage::Batch& batch, const DeadLetterFilter& filter);

 private:
  // The dead jobs `filter` selects, at most filter.limit; *more if cut.
  absl::StatusOr<std::vector<JobId>> MatchDead(const DeadLetterFilter& filter, bool* more);
  // The records of `ids`, loaded before anything changes.
  absl::StatusOr<std::vector<JobRecord>> LoadAll(storage::Batch& batch,
                                                 const std::vector<JobId>& ids);

  JobStore& jobs_;
};

}  // namespace ratchet::internal

#endif  // RATCHET_ENGINE_JOBS_DEAD_LETTERS_H_
