#include "ratchet/storage/store.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>

#include "ratchet/base/status.h"
#include "ratchet/storage/keys.h"
#include "rocksdb/db.h"
#include "temp_dir.h"

namespace ratchet::storage {
namespace {

std::unique_ptr<Store> OpenAt(const std::string& path) {
  StoreOptions options;
  options.path = path;
  auto store = Store::Open(options);
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

// A data directory written before the quarantine column family existed
// opens, and gets it.
TEST(StoreTest, DirectoryWithoutTheQuarantineColumnFamilyOpens) {
  testing::TempDir dir(true);
  {
    rocksdb::DBOptions options;
    options.create_if_missing = true;
    options.create_missing_column_families = true;
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
    for (const char* name : {"default", "jobs", "job_index", "dead_letters", "idempotency",
                             "queues", "app", "workflows", "schedules"}) {
      cfs.emplace_back(name, rocksdb::ColumnFamilyOptions());
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(rocksdb::DB::Open(options, dir.path(), cfs, &handles, &db).ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), handles[1], "k", "v").ok());
    for (auto* h : handles) ASSERT_TRUE(db->DestroyColumnFamilyHandle(h).ok());
    ASSERT_TRUE(db->Close().ok());
    delete db;
  }
  auto store = OpenAt(dir.path());
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->Get(Cf::kJobs, "k")->value_or(""), "v");
  Batch batch(store.get());
  batch.Put(Cf::kQuarantine, "q", "v");
  ASSERT_TRUE(store->Commit(batch).ok());
  EXPECT_EQ(CfName(Cf::kQuarantine), "quarantine");
  EXPECT_EQ(CfName(Cf::kMeta), "default");
}

// On tmpfs the WAL is not preallocated: RocksDB's fallocate of about
// write_buffer_bytes per WAL file would take that much memory at once (and
// made every in-memory test open several times slower).
TEST(StoreTest, WalIsNotPreallocatedOnTmpfs) {
  testing::TempDir dir(true);
  auto store = OpenAt(dir.Sub("data"));  // not yet existing: its parent decides
  ASSERT_NE(store, nullptr);
  Batch batch(store.get());
  batch.Put(Cf::kJobs, "k", "v");
  ASSERT_TRUE(store->Commit(batch).ok());
  int64_t wal_bytes_allocated = -1;
  for (const auto& entry : std::filesystem::directory_iterator(dir.Sub("data"))) {
    if (entry.path().extension() != ".log") continue;
    struct stat st {};
    ASSERT_EQ(stat(entry.path().c_str(), &st), 0);
    wal_bytes_allocated = static_cast<int64_t>(st.st_blocks) * 512;
  }
  ASSERT_GE(wal_bytes_allocated, 0) << "no WAL file found";
  EXPECT_LT(wal_bytes_allocated, 1 << 20);
}

TEST(StoreTest, CommittedWritesSurviveReopen) {
  testing::TempDir dir(true);
  {
    auto store = OpenAt(dir.path());
    Batch batch(store.get());
    batch.Put(Cf::kJobs, "k1", "v1");
    batch.Put(Cf::kApp, "k1", "app");
    ASSERT_TRUE(store->Commit(batch).ok());
  }
  auto store = OpenAt(dir.path());
  EXPECT_EQ(store->Get(Cf::kJobs, "k1")->value_or(""), "v1");
  EXPECT_EQ(store->Get(Cf::kApp, "k1")->value_or(""), "app");
  EXPECT_FALSE(store->Get(Cf::kQueues, "k1")->has_value());
}

TEST(StoreTest, BatchGetSeesItsOwnWritesOverTheStore) {
  testing::TempDir dir(true);
  auto store = OpenAt(dir.path());
  Batch seed(store.get());
  seed.Put(Cf::kJobs, "a", "committed");
  seed.Put(Cf::kJobs, "b", "committed");
  ASSERT_TRUE(store->Commit(seed).ok());
  Batch batch(store.get());
  batch.Put(Cf::kJobs, "a", "pending");
  batch.Delete(Cf::kJobs, "b");
  EXPECT_EQ(batch.Get(Cf::kJobs, "a")->value_or(""), "pending");
  EXPECT_FALSE(batch.Get(Cf::kJobs, "b")->has_value());
  // Nothing is visible outside the batch before Commit.
  EXPECT_EQ(store->Get(Cf::kJobs, "a")->value_or(""), "committed");
}

// DeletesPending answers from the pending batches only: a delete in the
// batch or its base (the group being committed) counts, a later put undoes
// it, and a committed key untouched by either is not deleted.
TEST(StoreTest, DeletesPendingSeesDeletesOfTheBatchAndItsBase) {
  testing::TempDir dir(true);
  auto store = OpenAt(dir.path());
  Batch seed(store.get());
  for (std::string k : {"a", "b", "c"}) seed.Put(Cf::kJobIndex, k, "");
  ASSERT_TRUE(store->Commit(seed).ok());
  Batch base(store.get());
  base.Delete(Cf::kJobIndex, "a");
  Batch batch(store.get());
  batch.set_base(&base);
  batch.Delete(Cf::kJobIndex, "b");
  batch.Delete(Cf::kJobIndex, "c");
  batch.Put(Cf::kJobIndex, "c", "");
  EXPECT_TRUE(batch.DeletesPending(Cf::kJobIndex, "a"));
  EXPECT_TRUE(batch.DeletesPending(Cf::kJobIndex, "b"));
  EXPECT_FALSE(batch.DeletesPending(Cf::kJobIndex, "c"));
  EXPECT_FALSE(batch.DeletesPending(Cf::kJobIndex, "d"));
  EXPECT_FALSE(batch.DeletesPending(Cf::kJobs, "a")) << "another column family";
}

TEST(StoreTest, ForEachVisitsARangeInOrder) {
  testing::TempDir dir(true);
  auto store = OpenAt(dir.path());
  Batch batch(store.get());
  for (std::string k : {"a1", "a2", "a3", "b1"}) batch.Put(Cf::kJobIndex, k, "");
  ASSERT_TRUE(store->Commit(batch).ok());
  std::vector<std::string> seen;
  ASSERT_TRUE(store
                  ->ForEach(Cf::kJobIndex, "a2", "b",
                            [&](std::string_view k, std::string_view) {
                              seen.emplace_back(k);
                              return true;
                            })
                  .ok());
  EXPECT_EQ(seen, (std::vector<std::string>{"a2", "a3"}));
}

TEST(StoreTest, NewerSchemaVersionIsRefusedWithClearError) {
  testing::TempDir dir(true);
  {
    auto store = OpenAt(dir.path());
    Batch batch(store.get());
    batch.Put(Cf::kMeta, "schema_version", KeyBuilder().U64(99).Build());
    ASSERT_TRUE(store->Commit(batch).ok());
  }
  StoreOptions options;
  options.path = dir.path();
  auto store = Store::Open(options);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_EQ(ReasonOf(store.status()), kReasonSchemaTooNew);
  EXPECT_NE(store.status().message().find("schema version 99"), absl::string_view::npos)
      << store.status();
}

// Savepoints: a rollback drops the writes since the mark, from the commit
// and from the batch's reads; nested marks unwind one at a time.
TEST(StoreTest, RollbackToSavePointDropsLaterWritesFromReadsAndCommit) {
  testing::TempDir dir(true);
  auto store = OpenAt(dir.path());
  Batch seed(store.get());
  seed.Put(Cf::kJobs, "a", "committed");
  ASSERT_TRUE(store->Commit(seed).ok());

  Batch batch(store.get());
  EXPECT_EQ(batch.RollbackToSavePoint().code(), absl::StatusCode::kFailedPrecondition);
  batch.Put(Cf::kJobs, "b", "kept");
  batch.SetSavePoint();
  batch.Put(Cf::kJobs, "b", "overwritten");
  batch.Delete(Cf::kJobs, "a");
  batch.Put(Cf::kApp, "c", "dropped");
  EXPECT_EQ(batch.CountSinceSavePoint(), 3u);
  batch.SetSavePoint();  // nested, nothing written after it
  ASSERT_TRUE(batch.RollbackToSavePoint().ok());
  EXPECT_EQ(batch.Get(Cf::kJobs, "b")->value_or(""), "overwritten");
  ASSERT_TRUE(batch.RollbackToSavePoint().ok());
  EXPECT_EQ(batch.Count(), 1u);
  EXPECT_EQ(batch.Get(Cf::kJobs, "b")->value_or(""), "kept");
  EXPECT_EQ(batch.Get(Cf::kJobs, "a")->value_or(""), "committed");
  EXPECT_FALSE(batch.Get(Cf::kApp, "c")->has_value());

  batch.SetSavePoint();
  batch.Put(Cf::kApp, "d", "popped");
  ASSERT_TRUE(batch.PopSavePoint().ok());  // keeps the write
  EXPECT_EQ(batch.PopSavePoint().code(), absl::StatusCode::kFailedPrecondition);
  ASSERT_TRUE(store->Commit(batch).ok());
  EXPECT_EQ(store->Get(Cf::kJobs, "a")->value_or(""), "committed");
  EXPECT_EQ(store->Get(Cf::kJobs, "b")->value_or(""), "kept");
  EXPECT_FALSE(store->Get(Cf::kApp, "c")->has_value());
  EXPECT_EQ(store->Get(Cf::kApp, "d")->value_or(""), "popped");
}

}  // namespace
}  // namespace ratchet::storage
