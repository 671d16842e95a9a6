// Schema migration of the job domain's storage, run by JobStore::Recover
// before it reads anything (storage/store.h lists the schema versions).
//
// 1 -> 2: finished job records move from `jobs` to `finished_jobs`, and each
// queue's finished counts (counted from the job_index and dead_letters
// indexes) are written to the meta column family. It runs in batches of
// kMigrationBatchRecords moved records, each one atomic write; the counts
// and the new schema version are the last write. A crash part-way leaves a
// schema-1 directory whose finished records are in either column family
// (both are read by this build), and the next open runs it again from the
// start: moving is idempotent, and the counting restarts.
//
// 2 -> 3: job payloads (payload and step inputs) move to their own column
// family, job_payloads. Nothing is rewritten at open: one write sets the
// version. A schema-2 record holds its payload inline (payload_split false)
// and is read as it is; the engine splits it at its next write, and
// retention deletes finished ones as before. An older build (which would
// read split records as jobs without payload) cannot open the directory:
// RocksDB refuses the job_payloads column family it does not know, which
// any open by this build creates, and the version is SCHEMA_TOO_NEW to it.
//
// Thread safety: call at open, before the engine serves anything.
#ifndef RATCHET_ENGINE_JOBS_JOB_MIGRATION_H_
#define RATCHET_ENGINE_JOBS_JOB_MIGRATION_H_

#include "absl/status/status.h"
#include "ratchet/storage/store.h"

namespace ratchet::internal {

inline constexpr int kMigrationBatchRecords = 10000;
inline constexpr size_t kMigrationBatchBytes = 64 << 20;

// No-op at schema 2. Errors: DATA_LOSS (CorruptRecord) if a job record does
// not parse (docs/operations.md#corrupt-records: salvage, then reopen);
// UNAVAILABLE on a read or write error.
absl::Status MigrateJobsToSchema2(storage::Store& store);

// No-op at schema 3; run after MigrateJobsToSchema2. Errors: UNAVAILABLE on
// a read or write error.
absl::Status MigrateJobsToSchema3(storage::Store& store);

// Adds to `batch` the finished counts of every queue recounted from the
// job_index and dead_letters indexes (committed data), replacing the stored
// ones: the migration's last write, and salvage's, after it moved index
// entries aside. Reads every index key. Errors: UNAVAILABLE.
absl::Status RecountFinished(storage::Store& store, storage::Batch& batch);

}  // namespace ratchet::internal

#endif  // RATCHET_ENGINE_JOBS_JOB_MIGRATION_H_
