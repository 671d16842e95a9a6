// ExplainJob: why a job is not running now, from the job domain's indexes
// (ratchet/engine/explain.h). It applies what a Lease applies first
// (promotion of due jobs and reopened rate limits) and then reads the same
// state the Lease decides by, so the two agree.
//
// Thread safety: sequencer thread only.
#ifndef RATCHET_ENGINE_JOBS_EXPLAIN_H_
#define RATCHET_ENGINE_JOBS_EXPLAIN_H_

#include "absl/status/statusor.h"
#include "job_store.h"
#include "ratchet/engine/explain.h"

namespace ratchet::internal {

// A queue nobody has leased from for this long gets a kNoRecentLease cause.
inline constexpr Millis kNoRecentLeaseAfter{60000};
// ahead_in_key counts at most this many jobs.
inline constexpr int64_t kMaxAheadCounted = 10000;

// Errors: NOT_FOUND; DATA_LOSS / UNAVAILABLE from reading the record.
absl::StatusOr<JobExplanation> ExplainJob(JobStore& jobs, storage::Batch& batch, TimePoint now,
                                          JobId id);

}  // namespace ratchet::internal

#endif  // RATCHET_ENGINE_JOBS_EXPLAIN_H_
