// Listing finished jobs (completed, cancelled, dead) straight from the
// committed store, off the sequencer thread. Live states are listed by
// StateMachine::ListLive from the in-memory indexes.
#ifndef RATCHET_ENGINE_LISTING_H_
#define RATCHET_ENGINE_LISTING_H_

#include "absl/status/statusor.h"
#include "ratchet/engine/types.h"
#include "ratchet/storage/store.h"

namespace ratchet::internal {

// Errors: INVALID_ARGUMENT (queue, limit, cursor); UNAVAILABLE on reads.
absl::StatusOr<ListResult> ListFinished(const storage::Store& store, const ListRequest& req,
                                        TimePoint now);

// Checks the queue, state-independent limit and cursor syntax of a List.
absl::Status ValidateList(const ListRequest& req);

// Opaque page cursors: hex of the index key suffix after the last job.
std::string EncodeCursor(std::string_view raw);
absl::StatusOr<std::string> DecodeCursor(std::string_view cursor);

}  // namespace ratchet::internal

#endif  // RATCHET_ENGINE_LISTING_H_
