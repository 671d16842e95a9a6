// Store::Checkpoint: an online, consistent copy of the store (backups).
#include <cstdint>
#include <memory>

#include "absl/strings/str_cat.h"
#include "ratchet/storage/store.h"
#include "rocksdb/utilities/checkpoint.h"
#include "status_util.h"

namespace ratchet::storage {

absl::Status Store::Checkpoint(const std::string& dir) const {
  rocksdb::Checkpoint* raw = nullptr;
  rocksdb::Status s = rocksdb::Checkpoint::Create(db_.get(), &raw);
  std::unique_ptr<rocksdb::Checkpoint> checkpoint(raw);
  // log_size_for_flush = max: never flush the memtables; the live WAL files
  // are copied instead, so the copy is the store as of one sequence number
  // across every column family, and the call does not wait for a flush.
  if (s.ok()) s = checkpoint->CreateCheckpoint(dir, UINT64_MAX);
  return s.ok() ? absl::OkStatus() : FromRocksDb(s, absl::StrCat("checkpoint to ", dir));
}

}  // namespace ratchet::storage
