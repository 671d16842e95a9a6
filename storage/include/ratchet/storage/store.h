// Store: Ratchet's durable keyspace on RocksDB. It owns every RocksDB detail
// (column families, options, the write path, status conversion) so the engine
// sees only column-family names, string keys and absl::Status.
//
// Durability: every Commit is one atomic WriteBatch written to the WAL and
// fsynced (WriteOptions::sync) before Commit returns OK. A failed Commit
// poisons the Store: RocksDB may hold a partial WAL record, so the Store
// refuses every later Commit with UNAVAILABLE until it is reopened. It never
// retries an fsync (see "fsyncgate": a failed fsync may have dropped pages).
//
// Thread safety: Get, ForEach and Commit are safe from any thread. A Batch is
// not thread-safe and must not outlive the Store that made it.
#ifndef RATCHET_STORAGE_STORE_H_
#define RATCHET_STORAGE_STORE_H_

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
class FileSystem;
class Env;
class WriteBatch;
class Cache;
}  // namespace rocksdb

namespace ratchet::storage {

// The column families. See docs/consistency.md for what each key holds.
enum class Cf : int {
  kMeta = 0,      // schema version and id/token high-water marks
  kJobs,          // live job id -> JobRecord (scheduled, available, running)
  kJobIndex,      // finished (completed/cancelled) jobs by queue, state, time
  kDeadLetters,   // dead-lettered jobs by queue and time (the DLQ index)
  kIdempotency,   // (queue, idempotency key) -> job id, plus an expiry index
  kQueues,        // queue name -> QueueSettings
  kApp,           // the embedding application's own keyspace (outbox)
  kWorkflows,     // workflows, their steps, journals, events and indexes
  kSchedules,     // schedule id -> ScheduleRecord
  kFinishedJobs,  // finished job id -> JobRecord (completed, cancelled, dead), until retention
  kQuarantine,    // records moved aside by salvage: cf name 0x00 key -> original value
  kJobPayloads,   // job id -> JobPayloadRecord (payload and step inputs; schema 3)
  kCount,
};

// The column family's RocksDB name ("default" for kMeta, "jobs", ...).
std::string_view CfName(Cf cf);

// The schema version this build writes and understands. Opening a store with
// a newer version fails with FAILED_PRECONDITION (reason SCHEMA_TOO_NEW); an
// older one opens as it is, and the engine migrates it (docs/operations.md).
//   1: every job record in `jobs`.
//   2: finished job records in `finished_jobs`, and per-queue finished
//      counts in the meta column family (recovery reads only live jobs).
//   3: a job's payload and step inputs in `job_payloads`, written once;
//      its state record in `jobs`/`finished_jobs` without them. Records
//      written by schema 2 (payload inline) are still read, and are split
//      at their next write.
inline constexpr uint32_t kSchemaVersion = 3;

struct StoreOptions {
  // Directory of the RocksDB database. Created if missing.
  std::string path;
  // Bound on RocksDB's LRU block cache, shared by all column families.
  size_t block_cache_bytes = 64 << 20;
  // Memtable size per column family before a flush.
  size_t write_buffer_bytes = 32 << 20;
  // A file system to run on instead of the default (fault injection in
  // tests). Shared ownership; null means the POSIX file system.
  std::shared_ptr<rocksdb::FileSystem> file_system;
  // Fault injection for tests: called before every point read of committed
  // data (Get) with the column family's name and the key; a non-OK status
  // fails that read with it. Scans (ForEach) are not affected. Null, the
  // default, injects nothing. Called on the reading thread.
  std::function<absl::Status(std::string_view cf, std::string_view key)> read_fault;
};

class Store;

// An atomic group of writes with read-your-writes lookups: Get sees this
// batch's own puts and deletes layered over the committed store. A plain
// rocksdb::WriteBatch plus a hash-map overlay of the latest value per key;
// (rocksdb::WriteBatchWithIndex's skiplist cost a third of the sequencer's
// time in the batched benchmark.)
class Batch {
 public:
  explicit Batch(Store* store);
  ~Batch();
  Batch(const Batch&) = delete;
  Batch& operator=(const Batch&) = delete;

  void Put(Cf cf, std::string_view key, std::string_view value);
  void Delete(Cf cf, std::string_view key);
  // The value for `key` as this batch would leave it, or nullopt if absent:
  // this batch's writes, then the base batch's, then the committed store.
  // Errors: UNAVAILABLE on a RocksDB read error.
  absl::StatusOr<std::optional<std::string>> Get(Cf cf, std::string_view key);
  // True if this batch or its base deletes `key` (its last write to it is a
  // delete). Reads no committed data: for a key just seen in the committed
  // store, false means it is still there as far as this batch can tell.
  bool DeletesPending(Cf cf, std::string_view key) const;
  // Number of puts and deletes since construction or Clear().
  size_t Count() const;
  size_t ByteSize() const;
  // Clears writes, savepoints and base.
  void Clear();

  // Savepoints, as rocksdb::WriteBatch's: SetSavePoint marks the current
  // end of the batch (marks nest); RollbackToSavePoint drops every Put and
  // Delete since the newest mark, and the mark, so reads see the batch as it
  // was; PopSavePoint drops the newest mark and keeps the writes. Rollback
  // costs O(size of the batch) (the read overlay is rebuilt from the
  // remaining writes); setting and popping a mark is O(1).
  // Errors (Rollback and Pop): FAILED_PRECONDITION if no mark is set.
  void SetSavePoint();
  absl::Status RollbackToSavePoint();
  absl::Status PopSavePoint();
  // Puts and deletes since the newest mark (Count() if none is set).
  size_t CountSinceSavePoint() const;
  // Reads fall through to `base` (a batch being committed, or committed)
  // before the store. `base` must stay unmodified while this batch reads.
  void set_base(const Batch* base) { base_ = base; }

 private:
  friend class Store;
  Store* store_;
  const Batch* base_ = nullptr;
  std::unique_ptr<rocksdb::WriteBatch> wb_;
  std::vector<size_t> savepoint_counts_;  // Count() at each mark, oldest first
  // (cf byte + key) -> value, or nullopt for a delete.
  absl::flat_hash_map<std::string, std::optional<std::string>> overlay_;
};

class Store {
 public:
  // Opens or creates the store at options.path, creating missing column
  // families and checking the schema version.
  // Errors: FAILED_PRECONDITION/SCHEMA_TOO_NEW if the data was written by a
  // newer schema; UNAVAILABLE if RocksDB cannot open the directory.
  static absl::StatusOr<std::unique_ptr<Store>> Open(const StoreOptions& options);
  ~Store();

  // Writes `batch` atomically and fsyncs the WAL. On OK the batch is durable.
  // Errors: UNAVAILABLE/STORAGE_FAILED if the write or sync failed (nothing
  // of the batch may be assumed durable) or an earlier Commit failed.
  absl::Status Commit(Batch& batch);

  // Reads a committed value. Errors: UNAVAILABLE on a read error.
  absl::StatusOr<std::optional<std::string>> Get(Cf cf, std::string_view key) const;

  // Committed values of several keys, all read from one snapshot: a write
  // that changes some of them in one Commit is seen whole or not at all.
  // Each result is nullopt where the key is absent.
  // Errors: UNAVAILABLE on a read error.
  absl::StatusOr<std::vector<std::optional<std::string>>> GetConsistent(
      std::initializer_list<std::pair<Cf, std::string_view>> keys) const;

  // Calls fn(key, value) for committed keys in [start, end) in key order
  // (end "" means no bound) until fn returns false.
  // Errors: UNAVAILABLE on an iteration error.
  absl::Status ForEach(Cf cf, std::string_view start, std::string_view end,
                       const std::function<bool(std::string_view, std::string_view)>& fn) const;

  // The committed schema version (kSchemaVersion for a store this build
  // created). Errors: UNAVAILABLE on a read error; DATA_LOSS if it does not
  // parse.
  absl::StatusOr<uint32_t> SchemaVersion() const;
  // Adds the write of `version` to `batch` (a migration's last step).
  static void SetSchemaVersion(Batch& batch, uint32_t version);

  // True once a Commit has failed; the Store must then be reopened.
  bool failed() const { return failed_.load(); }

  // Bytes RocksDB holds in memory: memtables, block cache and table readers.
  uint64_t MemoryUsageBytes() const;
  // A RocksDB integer property summed over every column family (e.g.
  // "rocksdb.live-sst-files-size"), or a DB-wide one (e.g.
  // "rocksdb.is-write-stopped"). 0 if RocksDB does not know it.
  uint64_t IntProperty(const std::string& name) const;
  uint64_t DbIntProperty(const std::string& name) const;
  // A RocksDB integer property of one column family (e.g.
  // "rocksdb.total-sst-files-size", "rocksdb.cur-size-all-mem-tables"), or 0
  // if RocksDB does not know it. Reads RocksDB's in-memory state only: no I/O.
  uint64_t CfIntProperty(Cf cf, const std::string& name) const;

  // Writes a consistent, openable copy of the store to `dir`, which must not
  // exist (its parent must): a RocksDB checkpoint (hard links to the
  // immutable SST files where `dir` is on the same file system, copies
  // otherwise, plus copies of the live WAL files, without a memtable flush).
  // Every Commit that returned before the call is in the copy. Safe to call
  // concurrently with Commit and reads, and with other checkpoints. Source:
  // RocksDB's utilities/checkpoint.h.
  // Errors: UNAVAILABLE/STORAGE_FAILED naming `dir` if RocksDB fails (the
  // partial copy is removed by RocksDB).
  absl::Status Checkpoint(const std::string& dir) const;

 private:
  friend class Batch;
  Store() = default;
  absl::Status CheckSchema();

  std::unique_ptr<rocksdb::Env> env_;  // set when a custom file system is used
  std::shared_ptr<rocksdb::Cache> cache_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // indexed by Cf
  std::atomic<bool> failed_{false};
  std::function<absl::Status(std::string_view, std::string_view)> read_fault_;
};

}  // namespace ratchet::storage

#endif  // RATCHET_STORAGE_STORE_H_
