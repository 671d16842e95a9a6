#include "fault_injection_fs.h"

#include <chrono>
#include <thread>

namespace ratchet::testing {

namespace {

using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

bool IsWal(const std::string& fname) {
  return fname.size() > 4 && fname.compare(fname.size() - 4, 4, ".log") == 0;
}

// Tracks appended and synced sizes of one WAL file and injects its faults.
class FaultyWal : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  FaultyWal(std::unique_ptr<rocksdb::FSWritableFile> file, FaultInjectionFs* fs)
      : FSWritableFileOwnerWrapper(std::move(file)), fs_(fs) {}

  IOStatus Append(const Slice& data, const IOOptions& options, IODebugContext* dbg) override {
    if (IOStatus s = AppendFault(); !s.ok()) return s;
    size_ += data.size();
    return target()->Append(data, options, dbg);
  }

  IOStatus Append(const Slice& data, const IOOptions& options,
                  const rocksdb::DataVerificationInfo& info, IODebugContext* dbg) override {
    if (IOStatus s = AppendFault(); !s.ok()) return s;
    size_ += data.size();
    return target()->Append(data, options, info, dbg);
  }

  IOStatus Sync(const IOOptions& options, IODebugContext* dbg) override {
    return SyncWith([&] { return target()->Sync(options, dbg); }, options, dbg);
  }

  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    return SyncWith([&] { return target()->Fsync(options, dbg); }, options, dbg);
  }

 private:
  IOStatus AppendFault() {
    switch (fs_->wal_fault()) {
      case WalFault::kAppendIoError:
        fs_->CountInjection();
        return IOStatus::IOError("injected WAL append error");
      case WalFault::kNoSpace:
        fs_->CountInjection();
        return IOStatus::NoSpace("injected ENOSPC on WAL append");
      default:
        return IOStatus::OK();
    }
  }

  template <typename SyncFn>
  IOStatus SyncWith(SyncFn sync, const IOOptions& options, IODebugContext* dbg) {
    if (int ms = fs_->sync_delay_ms(); ms > 0) {
      std::this_thread::sleep_for(std::chrono::milliseconds(ms));
    }
    if (fs_->wal_fault() == WalFault::kSyncIoError) {
      fs_->CountInjection();
      // Drop what was never synced, as a crash after a failed fsync would.
      target()->Flush(options, dbg).PermitUncheckedError();
      target()->Truncate(synced_, options, dbg).PermitUncheckedError();
      size_ = synced_;
      return IOStatus::IOError("injected WAL sync error");
    }
    IOStatus s = sync();
    if (s.ok()) synced_ = size_;
    return s;
  }

  FaultInjectionFs* fs_;
  uint64_t size_ = 0;
  uint64_t synced_ = 0;
};

}  // namespace

FaultInjectionFs::FaultInjectionFs() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}

IOStatus FaultInjectionFs::NewWritableFile(const std::string& fname,
                                           const rocksdb::FileOptions& options,
                                           std::unique_ptr<rocksdb::FSWritableFile>* result,
                                           IODebugContext* dbg) {
  IOStatus s = target()->NewWritableFile(fname, options, result, dbg);
  if (s.ok() && IsWal(fname)) *result = std::make_unique<FaultyWal>(std::move(*result), this);
  return s;
}

IOStatus FaultInjectionFs::ReuseWritableFile(const std::string& fname, const std::string& old_fname,
                                             const rocksdb::FileOptions& options,
                                             std::unique_ptr<rocksdb::FSWritableFile>* result,
                                             IODebugContext* dbg) {
  IOStatus s = target()->ReuseWritableFile(fname, old_fname, options, result, dbg);
  if (s.ok() && IsWal(fname)) *result = std::make_unique<FaultyWal>(std::move(*result), this);
  return s;
}

}  // namespace ratchet::testing
