// A rocksdb::FileSystem that injects errors into WAL writes, after LevelDB's
// fault_injection_test and RocksDB's FaultInjectionTestFS (which Debian does
// not ship). On an injected sync failure it truncates the WAL back to its
// last synced size, as a power loss would drop the unsynced pages, so a test
// can check that the failed write is not visible after reopen.
//
// Thread safety: the fault switches are atomics; safe from any thread.
#ifndef RATCHET_TESTS_TESTING_FAULT_INJECTION_FS_H_
#define RATCHET_TESTS_TESTING_FAULT_INJECTION_FS_H_

#include <atomic>
#include <memory>
#include <mutex>
#include <string>

#include "rocksdb/file_system.h"

namespace ratchet::testing {

enum class WalFault {
  kNone,
  kAppendIoError,  // the next WAL appends fail with an I/O error
  kSyncIoError,    // the next WAL syncs fail with an I/O error
  kNoSpace,        // the next WAL appends fail with ENOSPC (disk full)
};

class FaultInjectionFs : public rocksdb::FileSystemWrapper {
 public:
  FaultInjectionFs();
  const char* Name() const override { return "FaultInjectionFs"; }

  void SetWalFault(WalFault fault) { fault_.store(fault); }
  // Makes every WAL sync take at least `ms` longer (a slow disk), so tests
  // can rely on a write still being in flight.
  void SetSyncDelayMs(int ms) { sync_delay_ms_.store(ms); }
  int sync_delay_ms() const { return sync_delay_ms_.load(); }
  WalFault wal_fault() const { return fault_.load(); }
  // Number of faults injected so far.
  int injected() const { return injected_.load(); }
  void CountInjection() { injected_.fetch_add(1); }

  rocksdb::IOStatus NewWritableFile(const std::string& fname, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& fname, const std::string& old_fname,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override;

 private:
  std::atomic<WalFault> fault_{WalFault::kNone};
  std::atomic<int> injected_{0};
  std::atomic<int> sync_delay_ms_{0};
};

}  // namespace ratchet::testing

#endif  // RATCHET_TESTS_TESTING_FAULT_INJECTION_FS_H_
