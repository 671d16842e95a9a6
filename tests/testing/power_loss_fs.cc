#include "power_loss_fs.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace ratchet::testing {

namespace {

using rocksdb::IODebugContext;
using rocksdb::IOOptions;
using rocksdb::IOStatus;
using rocksdb::Slice;

std::string TrimSlashes(std::string path) {
  while (path.size() > 1 && path.back() == '/') path.pop_back();
  return path;
}

std::string DirOf(const std::string& fname) {
  size_t slash = fname.find_last_of('/');
  return slash == std::string::npos ? "." : TrimSlashes(fname.substr(0, slash));
}

IOStatus PowerIsCut() { return IOStatus::IOError("power cut (PowerLossFs)"); }

}  // namespace

// Writes through to the real file (the page cache) and counts what a Sync
// made durable. Each call runs under the file system's lock, so it is wholly
// before or wholly after a cut.
class PowerLossFs::TrackedFile : public rocksdb::FSWritableFileOwnerWrapper {
 public:
  TrackedFile(std::unique_ptr<rocksdb::FSWritableFile> file, PowerLossFs* fs,
              std::shared_ptr<FileState> state)
      : FSWritableFileOwnerWrapper(std::move(file)), fs_(fs), state_(std::move(state)) {}

  IOStatus Append(const Slice& data, const IOOptions& options, IODebugContext* dbg) override {
    return Write(kAtEnd, data.size(), [&] { return target()->Append(data, options, dbg); });
  }
  IOStatus Append(const Slice& data, const IOOptions& options,
                  const rocksdb::DataVerificationInfo& info, IODebugContext* dbg) override {
    return Write(kAtEnd, data.size(), [&] { return target()->Append(data, options, info, dbg); });
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& options,
                            IODebugContext* dbg) override {
    return Write(offset, data.size(),
                 [&] { return target()->PositionedAppend(data, offset, options, dbg); });
  }
  IOStatus PositionedAppend(const Slice& data, uint64_t offset, const IOOptions& options,
                            const rocksdb::DataVerificationInfo& info,
                            IODebugContext* dbg) override {
    return Write(offset, data.size(),
                 [&] { return target()->PositionedAppend(data, offset, options, info, dbg); });
  }

  IOStatus Truncate(uint64_t size, const IOOptions& options, IODebugContext* dbg) override {
    absl::MutexLock lock(&fs_->mu_);
    if (IOStatus s = fs_->Gate(); !s.ok()) return s;
    IOStatus s = target()->Truncate(size, options, dbg);
    if (s.ok()) {
      state_->size = size;
      state_->synced = std::min(state_->synced, size);
    }
    return s;
  }

  // Durability is simulated: the real fsync is skipped.
  IOStatus Sync(const IOOptions& options, IODebugContext* dbg) override {
    absl::MutexLock lock(&fs_->mu_);
    if (IOStatus s = fs_->Gate(); !s.ok()) return s;
    IOStatus s = target()->Flush(options, dbg);
    if (s.ok()) state_->synced = state_->size;
    return s;
  }
  IOStatus Fsync(const IOOptions& options, IODebugContext* dbg) override {
    return Sync(options, dbg);
  }
  bool IsSyncThreadSafe() const override { return true; }
  // sync_file_range promises nothing durable; neither does this.
  IOStatus RangeSync(uint64_t, uint64_t, const IOOptions&, IODebugContext*) override {
    return IOStatus::OK();
  }

  // Preallocation (fallocate with FALLOC_FL_KEEP_SIZE) changes no file's
  // size or data; skipping it spares tmpfs from allocating a WAL's worth of
  // pages per file.
  IOStatus Allocate(uint64_t, uint64_t, const IOOptions&, IODebugContext*) override {
    return IOStatus::OK();
  }
  void PrepareWrite(size_t, size_t, const IOOptions&, IODebugContext*) override {}

  // Closing makes nothing durable. The real file is closed even after a cut,
  // to release its descriptor.
  IOStatus Close(const IOOptions& options, IODebugContext* dbg) override {
    IOStatus s = target()->Close(options, dbg);
    absl::MutexLock lock(&fs_->mu_);
    return fs_->cut_ ? PowerIsCut() : s;
  }

 private:
  static constexpr uint64_t kAtEnd = ~uint64_t{0};

  // Writes `n` bytes at `offset` (kAtEnd: appends).
  template <typename WriteFn>
  IOStatus Write(uint64_t offset, size_t n, WriteFn write) {
    absl::MutexLock lock(&fs_->mu_);
    if (IOStatus s = fs_->Gate(); !s.ok()) return s;
    IOStatus s = write();
    if (s.ok())
      state_->size = std::max(state_->size, (offset == kAtEnd ? state_->size : offset) + n);
    return s;
  }

  PowerLossFs* const fs_;
  const std::shared_ptr<FileState> state_;
};

// A directory whose Fsync makes its new entries and renames durable. The real
// directory fsync is skipped.
class PowerLossFs::TrackedDirectory : public rocksdb::FSDirectoryWrapper {
 public:
  TrackedDirectory(std::unique_ptr<rocksdb::FSDirectory> dir, PowerLossFs* fs, std::string name)
      : FSDirectoryWrapper(std::move(dir)), fs_(fs), name_(std::move(name)) {}

  IOStatus Fsync(const IOOptions&, IODebugContext*) override {
    absl::MutexLock lock(&fs_->mu_);
    if (IOStatus s = fs_->Gate(); !s.ok()) return s;
    fs_->dirs_.erase(name_);
    return IOStatus::OK();
  }
  IOStatus FsyncWithDirOptions(const IOOptions& options, IODebugContext* dbg,
                               const rocksdb::DirFsyncOptions&) override {
    return Fsync(options, dbg);
  }

 private:
  PowerLossFs* const fs_;
  const std::string name_;
};

PowerLossFs::PowerLossFs() : FileSystemWrapper(rocksdb::FileSystem::Default()) {}

void PowerLossFs::CutPower() {
  absl::MutexLock lock(&mu_);
  cut_ = true;
}

void PowerLossFs::CutPowerAfter(uint64_t calls) {
  absl::MutexLock lock(&mu_);
  countdown_ = calls;
}

bool PowerLossFs::power_cut() const {
  absl::MutexLock lock(&mu_);
  return cut_;
}

uint64_t PowerLossFs::calls() const {
  absl::MutexLock lock(&mu_);
  return calls_;
}

IOStatus PowerLossFs::Gate() {
  ++calls_;
  if (!cut_ && countdown_ > 0 && --countdown_ == 0) cut_ = true;
  return cut_ ? PowerIsCut() : IOStatus::OK();
}

template <typename Fn>
IOStatus PowerLossFs::Gated(Fn fn) {
  absl::MutexLock lock(&mu_);
  if (IOStatus s = Gate(); !s.ok()) return s;
  return fn();
}

IOStatus PowerLossFs::OpenTracked(const std::string& fname, bool reopen,
                                  const rocksdb::FileOptions& options,
                                  std::unique_ptr<rocksdb::FSWritableFile>* result,
                                  IODebugContext* dbg) {
  absl::MutexLock lock(&mu_);
  if (IOStatus s = Gate(); !s.ok()) return s;
  const bool existed = target()->FileExists(fname, options.io_options, dbg).ok();
  IOStatus s = reopen ? target()->ReopenWritableFile(fname, options, result, dbg)
                      : target()->NewWritableFile(fname, options, result, dbg);
  if (!s.ok()) return s;
  std::shared_ptr<FileState>& state = files_[fname];
  if (!reopen || !state) {
    // A truncated or untracked file: what is there now counts as durable
    // (not modelled: the old content of a truncated file coming back).
    uint64_t size = 0;
    if (reopen) target()->GetFileSize(fname, options.io_options, &size, dbg).PermitUncheckedError();
    state = std::make_shared<FileState>(FileState{size, size});
  }
  if (!existed) dirs_[DirOf(fname)].new_files.insert(fname);
  *result = std::make_unique<TrackedFile>(std::move(*result), this, state);
  return IOStatus::OK();
}

IOStatus PowerLossFs::NewWritableFile(const std::string& fname, const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSWritableFile>* result,
                                      IODebugContext* dbg) {
  return OpenTracked(fname, /*reopen=*/false, options, result, dbg);
}

IOStatus PowerLossFs::ReopenWritableFile(const std::string& fname,
                                         const rocksdb::FileOptions& options,
                                         std::unique_ptr<rocksdb::FSWritableFile>* result,
                                         IODebugContext* dbg) {
  return OpenTracked(fname, /*reopen=*/true, options, result, dbg);
}

IOStatus PowerLossFs::ReuseWritableFile(const std::string& fname, const std::string& old_fname,
                                        const rocksdb::FileOptions& options,
                                        std::unique_ptr<rocksdb::FSWritableFile>* result,
                                        IODebugContext* dbg) {
  // FileSystem's own version: a tracked rename, then a tracked new file.
  return rocksdb::FileSystem::ReuseWritableFile(fname, old_fname, options, result, dbg);
}

IOStatus PowerLossFs::NewRandomRWFile(const std::string& fname, const rocksdb::FileOptions& options,
                                      std::unique_ptr<rocksdb::FSRandomRWFile>* result,
                                      IODebugContext* dbg) {
  return Gated([&] { return target()->NewRandomRWFile(fname, options, result, dbg); });
}

IOStatus PowerLossFs::NewDirectory(const std::string& name, const IOOptions& options,
                                   std::unique_ptr<rocksdb::FSDirectory>* result,
                                   IODebugContext* dbg) {
  std::unique_ptr<rocksdb::FSDirectory> dir;
  IOStatus s = target()->NewDirectory(name, options, &dir, dbg);
  if (s.ok()) *result = std::make_unique<TrackedDirectory>(std::move(dir), this, TrimSlashes(name));
  return s;
}

IOStatus PowerLossFs::DeleteFile(const std::string& fname, const IOOptions& options,
                                 IODebugContext* dbg) {
  return Gated([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    IOStatus s = target()->DeleteFile(fname, options, dbg);
    if (!s.ok()) return s;
    // Deletions are durable at once (not modelled: a deleted file coming back).
    files_.erase(fname);
    DirState& dir = dirs_[DirOf(fname)];
    dir.new_files.erase(fname);
    std::erase_if(dir.renames, [&](const Rename& r) { return r.to == fname; });
    return s;
  });
}

std::string PowerLossFs::DurableContent(const std::string& fname) {
  std::ifstream in(fname, std::ios::binary);
  std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (auto it = files_.find(fname); it != files_.end() && it->second->synced < content.size()) {
    content.resize(it->second->synced);
  }
  return content;
}

IOStatus PowerLossFs::RenameFile(const std::string& src, const std::string& dst,
                                 const IOOptions& options, IODebugContext* dbg) {
  return Gated([&]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    Rename rename{src, dst, target()->FileExists(dst, options, dbg).ok(), ""};
    if (rename.replaced) rename.old_content = DurableContent(dst);
    IOStatus s = target()->RenameFile(src, dst, options, dbg);
    if (!s.ok()) return s;
    auto moved = files_.extract(src);
    files_.erase(dst);
    if (moved) {
      moved.key() = dst;
      files_.insert(std::move(moved));
    }
    // Durable once the target's directory is synced. The source keeps its
    // place in new_files: undone, it is again the new file it was.
    dirs_[DirOf(dst)].renames.push_back(std::move(rename));
    return s;
  });
}

IOStatus PowerLossFs::LinkFile(const std::string& src, const std::string& dst,
                               const IOOptions& options, IODebugContext* dbg) {
  return Gated([&] { return target()->LinkFile(src, dst, options, dbg); });
}

IOStatus PowerLossFs::CreateDir(const std::string& dirname, const IOOptions& options,
                                IODebugContext* dbg) {
  return Gated([&] { return target()->CreateDir(dirname, options, dbg); });
}

IOStatus PowerLossFs::CreateDirIfMissing(const std::string& dirname, const IOOptions& options,
                                         IODebugContext* dbg) {
  return Gated([&] { return target()->CreateDirIfMissing(dirname, options, dbg); });
}

IOStatus PowerLossFs::DeleteDir(const std::string& dirname, const IOOptions& options,
                                IODebugContext* dbg) {
  return Gated([&] { return target()->DeleteDir(dirname, options, dbg); });
}

IOStatus PowerLossFs::Truncate(const std::string& fname, size_t size, const IOOptions& options,
                               IODebugContext* dbg) {
  return Gated([&] { return target()->Truncate(fname, size, options, dbg); });
}

IOStatus PowerLossFs::UndoRename(const Rename& rename, PowerLossDamage* damage) {
  std::error_code ec;
  if (std::filesystem::exists(rename.to, ec)) {
    std::filesystem::rename(rename.to, rename.from, ec);
    if (ec) return IOStatus::IOError("undo rename " + rename.to + ": " + ec.message());
    auto moved = files_.extract(rename.to);
    files_.erase(rename.from);
    if (moved) {
      moved.key() = rename.from;
      files_.insert(std::move(moved));
    }
  }
  if (rename.replaced) {
    std::ofstream out(rename.to, std::ios::binary | std::ios::trunc);
    out << rename.old_content;
    if (!out.flush()) return IOStatus::IOError("restore " + rename.to);
  }
  ++damage->renames_undone;
  return IOStatus::OK();
}

IOStatus PowerLossFs::Reboot(PowerLossDamage* damage) {
  absl::MutexLock lock(&mu_);
  *damage = PowerLossDamage();
  IOStatus first;
  auto note = [&first](IOStatus s) {
    if (first.ok() && !s.ok()) first = s;
  };
  for (auto& [dir, state] : dirs_) {
    for (auto it = state.renames.rbegin(); it != state.renames.rend(); ++it) {
      note(UndoRename(*it, damage));
    }
  }
  for (auto& [dir, state] : dirs_) {
    for (const std::string& fname : state.new_files) {
      std::error_code ec;
      if (std::filesystem::remove(fname, ec)) ++damage->files_deleted;
      if (ec) note(IOStatus::IOError("delete " + fname + ": " + ec.message()));
      files_.erase(fname);
    }
  }
  for (const auto& [fname, state] : files_) {
    std::error_code ec;
    const uintmax_t size = std::filesystem::file_size(fname, ec);
    if (ec || size <= state->synced) continue;
    std::filesystem::resize_file(fname, state->synced, ec);
    if (ec) note(IOStatus::IOError("truncate " + fname + ": " + ec.message()));
    ++damage->files_truncated;
    damage->bytes_dropped += size - state->synced;
  }
  files_.clear();
  dirs_.clear();
  cut_ = false;
  countdown_ = 0;
  return first;
}

}  // namespace ratchet::testing
