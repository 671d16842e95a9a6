#include "status_util.h"

#include "absl/strings/str_cat.h"
#include "ratchet/base/status.h"

namespace ratchet::storage {

absl::Status FromRocksDb(const rocksdb::Status& s, absl::string_view context) {
  if (s.ok()) return absl::OkStatus();
  std::string message = absl::StrCat(context, ": ", s.ToString());
  switch (s.code()) {
    case rocksdb::Status::kNotFound:
      return NotFound(message);
    case rocksdb::Status::kInvalidArgument:
      return absl::InvalidArgumentError(message);
    case rocksdb::Status::kNotSupported:
      return absl::UnimplementedError(message);
    case rocksdb::Status::kTimedOut:
      return absl::DeadlineExceededError(message);
    case rocksdb::Status::kBusy:
    case rocksdb::Status::kTryAgain:
      return absl::UnavailableError(message);
    default:  // kIOError, kCorruption, kIncomplete, kAborted, ...
      return WithReason(absl::UnavailableError(message), kReasonStorageFailed);
  }
}

}  // namespace ratchet::storage
