// JobRetention: the retention sweeper of the job domain. It walks the
// time-ordered indexes of finished jobs (per queue and state) and of
// idempotency keys, and deletes what is past retention, at most `max_keys`
// keys per pass so it never holds the sequencer for long.
//
// It reads committed data, so the sequencer runs it on a fresh batch.
// Thread safety: sequencer thread only.
#ifndef RATCHET_ENGINE_JOBS_RETENTION_H_
#define RATCHET_ENGINE_JOBS_RETENTION_H_

#include "absl/status/statusor.h"
#include "job_store.h"

namespace ratchet::internal {

class JobRetention {
 public:
  // `jobs` is borrowed and must outlive this object.
  explicit JobRetention(JobStore* jobs) : jobs_(*jobs) {}

  // One bounded pass. Returns the number of keys deleted. Errors: UNAVAILABLE.
  absl::StatusOr<int> Sweep(storage::Batch& batch, TimePoint now, int max_keys);

 private:
  JobStore& jobs_;
};

}  // namespace ratchet::internal

#endif  // RATCHET_ENGINE_JOBS_RETENTION_H_
