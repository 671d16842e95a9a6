// Engine::Backup (an online RocksDB checkpoint) and Engine::RestoreBackup (a
// crash-safe copy into place). docs/operations.md#backup-and-restore.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <system_error>
#include <tuple>

#include "absl/strings/str_cat.h"
#include "ratchet/engine/engine.h"
#include "sequencer.h"
#include "validation.h"

namespace ratchet {
namespace {

namespace fs = std::filesystem;

absl::Status StorageFailed(absl::string_view what, const fs::path& path, absl::string_view why) {
  return WithReason(absl::UnavailableError(absl::StrCat(what, " ", path.string(), ": ", why)),
                    kReasonStorageFailed);
}

absl::Status ValidatePath(absl::string_view field, const std::string& path) {
  if (path.empty() || path.size() > kMaxBackupPathBytes) {
    return InvalidArgument(field, absl::StrCat("must be 1..", kMaxBackupPathBytes, " bytes"));
  }
  RATCHET_RETURN_IF_ERROR(internal::ValidateUtf8(field, path));
  if (path.find('\0') != std::string::npos) {
    return InvalidArgument(field, "must not contain NUL");
  }
  if (!fs::path(path).is_absolute()) {
    return InvalidArgument(field, "must be an absolute path");
  }
  return absl::OkStatus();
}

// Files under `dir` and their total size, in bytes.
std::pair<uint64_t, uint64_t> CountFiles(const fs::path& dir) {
  uint64_t files = 0, bytes = 0;
  std::error_code ec;
  for (const auto& entry : fs::recursive_directory_iterator(dir, ec)) {
    if (!entry.is_regular_file(ec)) continue;
    ++files;
    bytes += entry.file_size(ec);
  }
  return {files, bytes};
}

// fsync of a file or directory.
absl::Status Sync(const fs::path& path, bool directory) {
  int fd = ::open(path.c_str(), directory ? O_RDONLY | O_DIRECTORY : O_RDONLY);
  if (fd < 0) return StorageFailed("open", path, std::strerror(errno));
  int rc = ::fsync(fd);
  int err = errno;
  ::close(fd);
  return rc == 0 ? absl::OkStatus() : StorageFailed("fsync", path, std::strerror(err));
}

// Copies the files of `from` into the new directory `to` and fsyncs them
// and `to`.
absl::Status CopyAndSync(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::copy(from, to, fs::copy_options::recursive, ec);
  if (ec) return StorageFailed("copy to", to, ec.message());
  for (const auto& entry : fs::recursive_directory_iterator(to, ec)) {
    RATCHET_RETURN_IF_ERROR(Sync(entry.path(), entry.is_directory()));
  }
  if (ec) return StorageFailed("list", to, ec.message());
  return Sync(to, /*directory=*/true);
}

}  // namespace

absl::StatusOr<BackupInfo> Engine::Backup(std::string destination) {
  RATCHET_RETURN_IF_ERROR(ValidatePath("destination", destination));
  const fs::path dest(destination);
  std::error_code ec;
  if (fs::exists(dest, ec)) {
    return absl::AlreadyExistsError(
        absl::StrCat("destination: ", destination, " exists; a backup goes to a new directory"));
  }
  if (!fs::is_directory(dest.parent_path(), ec)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "destination: the parent directory ", dest.parent_path().string(), " does not exist"));
  }
  BackupInfo info;
  info.path = destination;
  info.started_at = impl_->clock()->Now();
  const auto start = std::chrono::steady_clock::now();
  RATCHET_RETURN_IF_ERROR(impl_->store().Checkpoint(destination));
  info.duration = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - start);
  std::tie(info.files, info.bytes) = CountFiles(dest);
  return info;
}

absl::StatusOr<BackupInfo> Engine::RestoreBackup(const std::string& backup,
                                                 const EngineOptions& options) {
  RATCHET_RETURN_IF_ERROR(ValidatePath("backup", backup));
  if (options.data_dir.empty() || options.data_dir.size() > kMaxBackupPathBytes) {
    return InvalidArgument("data_dir", absl::StrCat("must be 1..", kMaxBackupPathBytes, " bytes"));
  }
  std::error_code ec;
  if (!fs::exists(fs::path(backup) / "CURRENT", ec)) {
    return absl::NotFoundError(
        absl::StrCat("backup: ", backup, " is not a Ratchet backup (it has no CURRENT file)"));
  }
  const fs::path target = fs::absolute(options.data_dir, ec);
  if (fs::exists(target, ec) && !fs::is_empty(target, ec)) {
    return absl::FailedPreconditionError(absl::StrCat(
        "data_dir: ", target.string(), " is not empty; a restore never overwrites data"));
  }
  const auto start = std::chrono::steady_clock::now();
  const fs::path staging = target.string() + ".restoring";
  fs::remove_all(staging, ec);  // what a crashed restore left
  if (ec) return StorageFailed("remove", staging, ec.message());
  RATCHET_RETURN_IF_ERROR(CopyAndSync(backup, staging));
  fs::remove(target, ec);  // an empty directory, if any
  fs::rename(staging, target, ec);
  if (ec) return StorageFailed("rename to", target, ec.message());
  RATCHET_RETURN_IF_ERROR(Sync(target.parent_path(), /*directory=*/true));
  BackupInfo info;
  info.path = backup;
  info.duration = std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - start);
  std::tie(info.files, info.bytes) = CountFiles(target);
  return info;
}

}  // namespace ratchet
