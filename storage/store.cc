#include "ratchet/storage/store.h"

#include <linux/magic.h>
#include <sys/vfs.h>

#include <array>
#include <filesystem>
#include <map>
#include <unordered_set>

#include "absl/strings/str_cat.h"
#include "ratchet/base/status.h"
#include "ratchet/storage/keys.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/memory_util.h"
#include "rocksdb/utilities/table_properties_collectors.h"
#include "rocksdb/write_batch.h"
#include "status_util.h"

namespace ratchet::storage {

namespace {

constexpr std::array<const char*, static_cast<int>(Cf::kCount)> kCfNames = {
    "default",  // kMeta lives in RocksDB's default column family
    "jobs",      "job_index", "dead_letters",  "idempotency", "queues",      "app",
    "workflows", "schedules", "finished_jobs", "quarantine",  "job_payloads"};

constexpr std::string_view kSchemaKey = "schema_version";

// Column families whose keys are deleted queue-style (insert, later delete).
// Faktory left RocksDB partly over slow start-ups caused by scanning tombstones;
// NewCompactOnDeletionCollectorFactory compacts an SST file once a sliding
// window of 128 entries holds 64 deletions, before tombstones pile up.
bool SeesQueueStyleDeletes(Cf cf) {
  return cf == Cf::kJobs || cf == Cf::kFinishedJobs || cf == Cf::kJobPayloads ||
         cf == Cf::kJobIndex || cf == Cf::kDeadLetters || cf == Cf::kIdempotency;
}

rocksdb::ColumnFamilyOptions CfOptions(Cf cf, const StoreOptions& options,
                                       const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions cf_options;
  cf_options.write_buffer_size = options.write_buffer_bytes;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  // Index and filter blocks count against the bounded cache, so memory stays
  // within block_cache_bytes however large the data grows.
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  cf_options.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  // Data on the upper levels is young and mostly rewritten or deleted soon
  // (a job is written at enqueue, lease and completion); compressing it
  // costs CPU that the sequencer needs. Lower levels are compressed.
  cf_options.compression_per_level = {rocksdb::kNoCompression,  rocksdb::kNoCompression,
                                      rocksdb::kLZ4Compression, rocksdb::kLZ4Compression,
                                      rocksdb::kLZ4Compression, rocksdb::kLZ4Compression,
                                      rocksdb::kLZ4Compression};
  if (SeesQueueStyleDeletes(cf)) {
    cf_options.table_properties_collector_factories.push_back(
        rocksdb::NewCompactOnDeletionCollectorFactory(128, 64));
  }
  return cf_options;
}

// Whether `path` (or, before it exists, its nearest existing parent) is on
// tmpfs (statfs(2), TMPFS_MAGIC).
bool OnTmpfs(const std::string& path) {
  std::filesystem::path p = std::filesystem::absolute(path);
  std::error_code ec;
  while (!std::filesystem::exists(p, ec) && p.has_parent_path() && p != p.parent_path()) {
    p = p.parent_path();
  }
  struct statfs fs {};
  return statfs(p.c_str(), &fs) == 0 && fs.f_type == TMPFS_MAGIC;
}

}  // namespace

std::string_view CfName(Cf cf) { return kCfNames[static_cast<int>(cf)]; }

absl::StatusOr<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  std::unique_ptr<Store> store(new Store());
  rocksdb::DBOptions db_options;
  db_options.create_if_missing = true;
  db_options.create_missing_column_families = true;
  // The WAL is on (RocksDB's default) and every Commit syncs it. Recovery
  // stops at the first corrupt record, which is the torn tail of a crash.
  db_options.wal_recovery_mode = rocksdb::WALRecoveryMode::kPointInTimeRecovery;
  db_options.max_total_wal_size = 256 << 20;
  db_options.max_background_jobs = 2;
  db_options.keep_log_file_num = 4;
  // RocksDB preallocates each WAL file (about write_buffer_bytes). On tmpfs
  // that allocates memory pages at once and buys nothing: skip it there.
  db_options.allow_fallocate = !OnTmpfs(options.path);
  if (options.file_system) {
    store->env_ = rocksdb::NewCompositeEnv(options.file_system);
    db_options.env = store->env_.get();
  }
  store->read_fault_ = options.read_fault;
  store->cache_ = rocksdb::NewLRUCache(options.block_cache_bytes);
  const auto& cache = store->cache_;
  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  for (int i = 0; i < static_cast<int>(Cf::kCount); ++i) {
    descriptors.emplace_back(kCfNames[i], CfOptions(static_cast<Cf>(i), options, cache));
  }
  rocksdb::DB* raw = nullptr;
  rocksdb::Status s =
      rocksdb::DB::Open(db_options, options.path, descriptors, &store->handles_, &raw);
  if (!s.ok()) {
    return WithReason(
        absl::UnavailableError(absl::StrCat("open store at '", options.path, "': ", s.ToString())),
        kReasonStorageFailed);
  }
  store->db_.reset(raw);
  if (absl::Status schema = store->CheckSchema(); !schema.ok()) return schema;
  return store;
}

Store::~Store() {
  if (!db_) return;
  for (auto* handle : handles_) db_->DestroyColumnFamilyHandle(handle).PermitUncheckedError();
  // Close flushes nothing we depend on: every commit is already in the WAL.
  db_->Close().PermitUncheckedError();
  db_.reset();
}

absl::StatusOr<uint32_t> Store::SchemaVersion() const {
  auto current = Get(Cf::kMeta, kSchemaKey);
  if (!current.ok()) return current.status();
  uint64_t version = 0;
  if (!current->has_value() || !KeyReader(**current).U64(&version) || version > UINT32_MAX) {
    return WithReason(absl::DataLossError("schema_version is missing or does not parse"),
                      kReasonStorageFailed);
  }
  return static_cast<uint32_t>(version);
}

absl::Status Store::CheckSchema() {
  auto current = Get(Cf::kMeta, kSchemaKey);
  if (!current.ok()) return current.status();
  if (current->has_value()) {
    RATCHET_ASSIGN_OR_RETURN(uint32_t version, SchemaVersion());
    if (version > kSchemaVersion) {
      return WithReason(absl::FailedPreconditionError(
                            absl::StrCat("data directory has schema version ", version,
                                         ", newer than this build understands (", kSchemaVersion,
                                         "); run a newer ratchet or restore a matching backup")),
                        kReasonSchemaTooNew);
    }
    return absl::OkStatus();
  }
  Batch batch(this);
  SetSchemaVersion(batch, kSchemaVersion);
  return Commit(batch);
}

void Store::SetSchemaVersion(Batch& batch, uint32_t version) {
  batch.Put(Cf::kMeta, kSchemaKey, KeyBuilder().U64(version).Build());
}

absl::Status Store::Commit(Batch& batch) {
  if (failed_.load()) {
    return WithReason(absl::UnavailableError("store refused the write: an earlier write failed; "
                                             "reopen the engine to recover"),
                      kReasonStorageFailed);
  }
  rocksdb::WriteOptions write_options;
  write_options.sync = true;
  rocksdb::Status s = db_->Write(write_options, batch.wb_.get());
  if (!s.ok()) {
    failed_.store(true);
    return FromRocksDb(s, "synced write failed");
  }
  return absl::OkStatus();
}

absl::StatusOr<std::optional<std::string>> Store::Get(Cf cf, std::string_view key) const {
  if (read_fault_) RATCHET_RETURN_IF_ERROR(read_fault_(kCfNames[static_cast<int>(cf)], key));
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), handles_[static_cast<int>(cf)],
                               rocksdb::Slice(key.data(), key.size()), &value);
  if (s.IsNotFound()) return std::optional<std::string>();
  if (!s.ok()) return FromRocksDb(s, "read");
  return std::optional<std::string>(std::move(value));
}

absl::StatusOr<std::vector<std::optional<std::string>>> Store::GetConsistent(
    std::initializer_list<std::pair<Cf, std::string_view>> keys) const {
  const rocksdb::Snapshot* snapshot = db_->GetSnapshot();
  rocksdb::ReadOptions read_options;
  read_options.snapshot = snapshot;
  absl::Status status;
  std::vector<std::optional<std::string>> out;
  out.reserve(keys.size());
  for (const auto& [cf, key] : keys) {
    if (read_fault_) {
      status = read_fault_(kCfNames[static_cast<int>(cf)], key);
      if (!status.ok()) break;
    }
    std::string value;
    rocksdb::Status s = db_->Get(read_options, handles_[static_cast<int>(cf)],
                                 rocksdb::Slice(key.data(), key.size()), &value);
    if (s.IsNotFound()) {
      out.emplace_back();
    } else if (!s.ok()) {
      status = FromRocksDb(s, "read");
      break;
    } else {
      out.emplace_back(std::move(value));
    }
  }
  db_->ReleaseSnapshot(snapshot);
  if (!status.ok()) return status;
  return out;
}

absl::Status Store::ForEach(
    Cf cf, std::string_view start, std::string_view end,
    const std::function<bool(std::string_view, std::string_view)>& fn) const {
  rocksdb::ReadOptions read_options;
  rocksdb::Slice upper(end.data(), end.size());
  if (!end.empty()) read_options.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(read_options, handles_[static_cast<int>(cf)]));
  for (it->Seek(rocksdb::Slice(start.data(), start.size())); it->Valid(); it->Next()) {
    if (!fn(it->key().ToStringView(), it->value().ToStringView())) break;
  }
  return FromRocksDb(it->status(), "iterate");
}

uint64_t Store::MemoryUsageBytes() const {
  std::map<rocksdb::MemoryUtil::UsageType, uint64_t> usage;
  std::unordered_set<const rocksdb::Cache*> caches = {cache_.get()};
  rocksdb::MemoryUtil::GetApproximateMemoryUsageByType({db_.get()}, caches, &usage)
      .PermitUncheckedError();
  // kMemTableUnFlushed is part of kMemTableTotal; do not count it twice.
  return usage[rocksdb::MemoryUtil::kMemTableTotal] +
         usage[rocksdb::MemoryUtil::kTableReadersTotal] + usage[rocksdb::MemoryUtil::kCacheTotal];
}

uint64_t Store::IntProperty(const std::string& name) const {
  uint64_t value = 0;
  return db_->GetAggregatedIntProperty(name, &value) ? value : 0;
}

uint64_t Store::DbIntProperty(const std::string& name) const {
  uint64_t value = 0;
  return db_->GetIntProperty(name, &value) ? value : 0;
}

uint64_t Store::CfIntProperty(Cf cf, const std::string& name) const {
  uint64_t value = 0;
  return db_->GetIntProperty(handles_[static_cast<int>(cf)], name, &value) ? value : 0;
}

namespace {

std::string OverlayKey(Cf cf, std::string_view key) {
  std::string k(1, static_cast<char>(cf));
  k.append(key);
  return k;
}

}  // namespace

Batch::Batch(Store* store) : store_(store), wb_(std::make_unique<rocksdb::WriteBatch>()) {}

Batch::~Batch() = default;

void Batch::Put(Cf cf, std::string_view key, std::string_view value) {
  wb_->Put(store_->handles_[static_cast<int>(cf)], rocksdb::Slice(key.data(), key.size()),
           rocksdb::Slice(value.data(), value.size()))
      .PermitUncheckedError();  // in-memory append; fails only past max_bytes (unset)
  overlay_.insert_or_assign(OverlayKey(cf, key), std::string(value));
}

void Batch::Delete(Cf cf, std::string_view key) {
  wb_->Delete(store_->handles_[static_cast<int>(cf)], rocksdb::Slice(key.data(), key.size()))
      .PermitUncheckedError();  // as in Put
  overlay_.insert_or_assign(OverlayKey(cf, key), std::nullopt);
}

absl::StatusOr<std::optional<std::string>> Batch::Get(Cf cf, std::string_view key) {
  std::string k = OverlayKey(cf, key);
  for (const Batch* b = this; b != nullptr; b = b->base_) {
    auto it = b->overlay_.find(k);
    if (it != b->overlay_.end()) return it->second;
    if (b != this) break;  // one level: the base's own base is committed
  }
  return store_->Get(cf, key);
}

bool Batch::DeletesPending(Cf cf, std::string_view key) const {
  std::string k = OverlayKey(cf, key);
  for (const Batch* b = this; b != nullptr; b = b->base_) {
    auto it = b->overlay_.find(k);
    if (it != b->overlay_.end()) return !it->second.has_value();
    if (b != this) break;  // one level, as Get
  }
  return false;
}

size_t Batch::Count() const { return wb_->Count(); }
size_t Batch::ByteSize() const { return wb_->GetDataSize(); }

void Batch::Clear() {
  wb_->Clear();
  overlay_.clear();
  savepoint_counts_.clear();
  base_ = nullptr;
}

void Batch::SetSavePoint() {
  wb_->SetSavePoint();
  savepoint_counts_.push_back(Count());
}

absl::Status Batch::PopSavePoint() {
  if (savepoint_counts_.empty()) return absl::FailedPreconditionError("no savepoint is set");
  RATCHET_RETURN_IF_ERROR(FromRocksDb(wb_->PopSavePoint(), "pop savepoint"));
  savepoint_counts_.pop_back();
  return absl::OkStatus();
}

size_t Batch::CountSinceSavePoint() const {
  return savepoint_counts_.empty() ? Count() : Count() - savepoint_counts_.back();
}

namespace {
// Replays a WriteBatch into a read overlay: (cf byte + key) -> value.
class OverlayBuilder : public rocksdb::WriteBatch::Handler {
 public:
  OverlayBuilder(const std::vector<rocksdb::ColumnFamilyHandle*>& handles,
                 absl::flat_hash_map<std::string, std::optional<std::string>>* overlay)
      : handles_(handles), overlay_(*overlay) {}

  rocksdb::Status PutCF(uint32_t cf_id, const rocksdb::Slice& key,
                        const rocksdb::Slice& value) override {
    std::optional<Cf> cf = CfOf(cf_id);
    if (!cf) return rocksdb::Status::Corruption("unknown column family id in a batch");
    overlay_.insert_or_assign(OverlayKey(*cf, key.ToStringView()), value.ToString());
    return rocksdb::Status::OK();
  }
  rocksdb::Status DeleteCF(uint32_t cf_id, const rocksdb::Slice& key) override {
    std::optional<Cf> cf = CfOf(cf_id);
    if (!cf) return rocksdb::Status::Corruption("unknown column family id in a batch");
    overlay_.insert_or_assign(OverlayKey(*cf, key.ToStringView()), std::nullopt);
    return rocksdb::Status::OK();
  }

 private:
  std::optional<Cf> CfOf(uint32_t cf_id) const {
    for (size_t i = 0; i < handles_.size(); ++i) {
      if (handles_[i]->GetID() == cf_id) return static_cast<Cf>(i);
    }
    return std::nullopt;
  }

  const std::vector<rocksdb::ColumnFamilyHandle*>& handles_;
  absl::flat_hash_map<std::string, std::optional<std::string>>& overlay_;
};
}  // namespace

absl::Status Batch::RollbackToSavePoint() {
  if (savepoint_counts_.empty()) return absl::FailedPreconditionError("no savepoint is set");
  const bool wrote = CountSinceSavePoint() > 0;
  RATCHET_RETURN_IF_ERROR(FromRocksDb(wb_->RollbackToSavePoint(), "roll back to savepoint"));
  savepoint_counts_.pop_back();
  if (!wrote) return absl::OkStatus();
  overlay_.clear();
  OverlayBuilder builder(store_->handles_, &overlay_);
  return FromRocksDb(wb_->Iterate(&builder), "replay batch");
}

}  // namespace ratchet::storage
