// The one seam where rocksdb::Status becomes absl::Status.
#ifndef RATCHET_STORAGE_STATUS_UTIL_H_
#define RATCHET_STORAGE_STATUS_UTIL_H_

#include <string_view>

#include "absl/status/status.h"
#include "rocksdb/status.h"

namespace ratchet::storage {

// Maps a RocksDB status to a canonical code; `context` prefixes the message.
// I/O errors, corruption and out-of-space become UNAVAILABLE with reason
// STORAGE_FAILED: the caller cannot fix them by changing its request.
absl::Status FromRocksDb(const rocksdb::Status& s, absl::string_view context);

}  // namespace ratchet::storage

#endif  // RATCHET_STORAGE_STATUS_UTIL_H_
