// A rocksdb::FileSystem that simulates a power cut: it remembers, for every
// file written through it, how much was made durable (Sync/Fsync), and for
// every directory which entries (new files, renames) were made durable (a
// directory Fsync). After CutPower(), every call that would change the disk
// fails with an I/O error; Reboot() then puts the disk in the state a power
// loss would leave: each file truncated to its last synced size, files
// created since their directory's last sync deleted, renames since the
// directory's last sync undone. SIGKILL keeps the page cache; this does not,
// so it catches a missing fsync. After RocksDB's FaultInjectionTestFS
// (utilities/fault_injection_fs.cc), which Debian does not ship.
//
// Modelled: file data (appends, positioned appends, truncation) is durable up
// to the last Sync/Fsync of that file; a file's creation, and a rename, are
// durable only once the directory that holds the new name is fsynced; the
// overwritten target of an undone rename gets its durable content back; a cut
// is atomic with respect to every call (each runs under one lock), and
// CutPowerAfter(n) cuts at the n-th changing call, so a cut can fall inside
// RocksDB's open, a flush or a MANIFEST switch.
// Not modelled (pessimistic or untracked): data is never partly kept (a
// torn or reordered write of the unsynced tail), deletions are durable at
// once, directory creation is durable at once, RangeSync makes nothing
// durable, NewRandomRWFile and LinkFile files are not tracked (only refused
// after the cut), and fsync never fails on its own. Sync and directory Fsync
// do not reach the real disk: durability is simulated, which keeps the test
// fast.
//
// Thread safety: every method is safe from any thread. Reboot() must be
// called only once no file opened through this file system is still open
// (the engine is destroyed).
#ifndef RATCHET_TESTS_TESTING_POWER_LOSS_FS_H_
#define RATCHET_TESTS_TESTING_POWER_LOSS_FS_H_

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "rocksdb/file_system.h"

namespace ratchet::testing {

// What one Reboot() threw away.
struct PowerLossDamage {
  int files_truncated = 0;
  uint64_t bytes_dropped = 0;
  int files_deleted = 0;  // created since their directory's last sync
  int renames_undone = 0;
};

class PowerLossFs : public rocksdb::FileSystemWrapper {
 public:
  // Wraps FileSystem::Default().
  PowerLossFs();
  const char* Name() const override { return "PowerLossFs"; }

  // Cuts the power now: every later changing call fails with IOError.
  void CutPower();
  // Cuts the power at the `calls`-th changing call from now (appends, syncs,
  // creations, renames, deletions, directory syncs); that call fails.
  // `calls` == 0 disarms.
  void CutPowerAfter(uint64_t calls);
  bool power_cut() const;
  // Changing calls made so far (whatever their outcome), for choosing a cut.
  uint64_t calls() const;
  // Drops everything not durable as described above, forgets all tracking
  // and restores the power. Returns what it dropped; on an error of the real
  // disk, the message of the first one.
  rocksdb::IOStatus Reboot(PowerLossDamage* damage);

  // ---- rocksdb::FileSystem ----
  rocksdb::IOStatus NewWritableFile(const std::string& fname, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSWritableFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReopenWritableFile(const std::string& fname,
                                       const rocksdb::FileOptions& options,
                                       std::unique_ptr<rocksdb::FSWritableFile>* result,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus ReuseWritableFile(const std::string& fname, const std::string& old_fname,
                                      const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewRandomRWFile(const std::string& fname, const rocksdb::FileOptions& options,
                                    std::unique_ptr<rocksdb::FSRandomRWFile>* result,
                                    rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus NewDirectory(const std::string& name, const rocksdb::IOOptions& options,
                                 std::unique_ptr<rocksdb::FSDirectory>* result,
                                 rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteFile(const std::string& fname, const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus RenameFile(const std::string& src, const std::string& target,
                               const rocksdb::IOOptions& options,
                               rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus LinkFile(const std::string& src, const std::string& target,
                             const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus CreateDir(const std::string& dirname, const rocksdb::IOOptions& options,
                              rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus CreateDirIfMissing(const std::string& dirname,
                                       const rocksdb::IOOptions& options,
                                       rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus DeleteDir(const std::string& dirname, const rocksdb::IOOptions& options,
                              rocksdb::IODebugContext* dbg) override;
  rocksdb::IOStatus Truncate(const std::string& fname, size_t size,
                             const rocksdb::IOOptions& options,
                             rocksdb::IODebugContext* dbg) override;

 private:
  class TrackedFile;       // an FSWritableFile that reports to this
  class TrackedDirectory;  // an FSDirectory whose Fsync makes entries durable

  // Sizes of one file's data: written, and durable.
  struct FileState {
    uint64_t size = 0;
    uint64_t synced = 0;
  };
  // A rename not yet made durable by a sync of the target's directory.
  struct Rename {
    std::string from, to;
    bool replaced = false;    // `to` existed before
    std::string old_content;  // its durable content then
  };
  struct DirState {
    std::set<std::string> new_files;  // full paths created since the last sync
    std::vector<Rename> renames;      // in the order they happened
  };

  // Fails if the power is cut, or cuts it now if this is the armed call.
  rocksdb::IOStatus Gate() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Runs fn under the lock unless the power is cut.
  template <typename Fn>
  rocksdb::IOStatus Gated(Fn fn) ABSL_LOCKS_EXCLUDED(mu_);
  rocksdb::IOStatus OpenTracked(const std::string& fname, bool reopen,
                                const rocksdb::FileOptions& options,
                                std::unique_ptr<rocksdb::FSWritableFile>* result,
                                rocksdb::IODebugContext* dbg);
  std::string DurableContent(const std::string& fname) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  rocksdb::IOStatus UndoRename(const Rename& rename, PowerLossDamage* damage)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  bool cut_ ABSL_GUARDED_BY(mu_) = false;
  uint64_t countdown_ ABSL_GUARDED_BY(mu_) = 0;  // 0: not armed
  uint64_t calls_ ABSL_GUARDED_BY(mu_) = 0;
  // Files written since the last reboot, by path; shared with their open
  // FSWritableFile, so a rename of an open file keeps its state.
  std::map<std::string, std::shared_ptr<FileState>> files_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, DirState> dirs_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ratchet::testing

#endif  // RATCHET_TESTS_TESTING_POWER_LOSS_FS_H_
