// Online backup and restore of a data directory (Engine::Backup and
// Engine::RestoreBackup; docs/operations.md#backup-and-restore). Plain values.
#ifndef RATCHET_ENGINE_BACKUP_H_
#define RATCHET_ENGINE_BACKUP_H_

#include <cstdint>
#include <string>

#include "ratchet/base/clock.h"

namespace ratchet {

// Limits on a backup or restore path: absolute, UTF-8 without NUL, at most
// this many bytes.
inline constexpr size_t kMaxBackupPathBytes = 4096;

// What one backup wrote. The backup directory is itself a data directory:
// Engine::Open (ratchetd --data-dir) opens it as it is, and RestoreBackup
// copies it into place.
struct BackupInfo {
  std::string path;      // the backup directory, as given
  uint64_t files = 0;    // files in it
  uint64_t bytes = 0;    // their total size, bytes (hard-linked files count whole)
  Millis duration{0};    // wall time the backup took, on the steady clock
  TimePoint started_at;  // on the engine's clock: every write acknowledged
                         // before this is in the backup
};

}  // namespace ratchet

#endif  // RATCHET_ENGINE_BACKUP_H_
