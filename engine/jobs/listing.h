// Listing jobs of one queue and state, a page at a time. Finished jobs
// (completed, cancelled, dead) are read straight from the committed store,
// off the sequencer thread; live ones from the in-memory indexes, on it.
#ifndef RATCHET_ENGINE_JOBS_LISTING_H_
#define RATCHET_ENGINE_JOBS_LISTING_H_

#include "absl/status/statusor.h"
#include "job_store.h"
#include "ratchet/engine/types.h"
#include "ratchet/storage/store.h"

namespace ratchet::internal {

// A page ends before the job that would take its bytes past
// `req.max_bytes` (resolved by the caller: never 0 here), after at least one.
// Errors: INVALID_ARGUMENT (queue, limit, cursor); UNAVAILABLE on reads.
absl::StatusOr<ListResult> ListFinished(const storage::Store& store, const ListRequest& req,
                                        TimePoint now);

// Live states (scheduled, available, running), on the sequencer thread.
// Errors: as ListFinished; DATA_LOSS if a listed record does not parse.
absl::StatusOr<ListResult> ListLive(JobStore& jobs, storage::Batch& batch, TimePoint now,
                                    const ListRequest& req);

// Checks the queue, state-independent limit and cursor syntax of a List.
absl::Status ValidateList(const ListRequest& req);

// Opaque page cursors: hex of the index key suffix after the last job.
std::string EncodeCursor(std::string_view raw);
absl::StatusOr<std::string> DecodeCursor(std::string_view cursor);

}  // namespace ratchet::internal

#endif  // RATCHET_ENGINE_JOBS_LISTING_H_
