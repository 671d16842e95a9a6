// PowerLossFs keeps exactly what was made durable: synced file data, and
// directory entries (creations, renames) whose directory was synced. The last
// test is the negative control of the power-loss test: RocksDB writes without
// sync are lost, synced ones are kept.
#include "power_loss_fs.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "rocksdb/db.h"
#include "rocksdb/env.h"
#include "temp_dir.h"

namespace ratchet::testing {
namespace {

using rocksdb::IOOptions;
using rocksdb::Slice;

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

class PowerLossFsTest : public ::testing::Test {
 protected:
  PowerLossFsTest() : dir_(true), fs_(std::make_shared<PowerLossFs>()) {
    EXPECT_TRUE(fs_->NewDirectory(dir_.path(), IOOptions(), &dir_handle_, nullptr).ok());
  }

  std::unique_ptr<rocksdb::FSWritableFile> Create(const std::string& name) {
    std::unique_ptr<rocksdb::FSWritableFile> file;
    EXPECT_TRUE(fs_->NewWritableFile(dir_.Sub(name), rocksdb::FileOptions(), &file, nullptr).ok());
    return file;
  }
  void SyncDir() { ASSERT_TRUE(dir_handle_->Fsync(IOOptions(), nullptr).ok()); }
  PowerLossDamage CutAndReboot() {
    fs_->CutPower();
    PowerLossDamage damage;
    EXPECT_TRUE(fs_->Reboot(&damage).ok());
    return damage;
  }

  TempDir dir_;
  std::shared_ptr<PowerLossFs> fs_;
  std::unique_ptr<rocksdb::FSDirectory> dir_handle_;
};

TEST_F(PowerLossFsTest, UnsyncedTailIsDroppedSyncedDataKept) {
  auto file = Create("f");
  SyncDir();
  ASSERT_TRUE(file->Append("synced", IOOptions(), nullptr).ok());
  ASSERT_TRUE(file->Sync(IOOptions(), nullptr).ok());
  ASSERT_TRUE(file->Append("-lost", IOOptions(), nullptr).ok());
  EXPECT_EQ(Read(dir_.Sub("f")), "synced-lost");  // the page cache has it
  file.reset();
  PowerLossDamage damage = CutAndReboot();
  EXPECT_EQ(Read(dir_.Sub("f")), "synced");
  EXPECT_EQ(damage.files_truncated, 1);
  EXPECT_EQ(damage.bytes_dropped, 5u);
}

TEST_F(PowerLossFsTest, FileWhoseDirectoryWasNeverSyncedIsDeleted) {
  auto file = Create("new");
  ASSERT_TRUE(file->Append("data", IOOptions(), nullptr).ok());
  ASSERT_TRUE(file->Sync(IOOptions(), nullptr).ok());
  file.reset();
  EXPECT_EQ(CutAndReboot().files_deleted, 1);
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("new")));
}

TEST_F(PowerLossFsTest, RenameCountsOnlyAfterDirectorySync) {
  auto old_file = Create("CURRENT");
  ASSERT_TRUE(old_file->Append("old", IOOptions(), nullptr).ok());
  ASSERT_TRUE(old_file->Sync(IOOptions(), nullptr).ok());
  old_file.reset();
  SyncDir();
  auto write_tmp = [&] {
    auto tmp = Create("tmp");
    ASSERT_TRUE(tmp->Append("new", IOOptions(), nullptr).ok());
    ASSERT_TRUE(tmp->Sync(IOOptions(), nullptr).ok());
    ASSERT_TRUE(fs_->RenameFile(dir_.Sub("tmp"), dir_.Sub("CURRENT"), IOOptions(), nullptr).ok());
  };
  write_tmp();
  EXPECT_EQ(CutAndReboot().renames_undone, 1);
  EXPECT_EQ(Read(dir_.Sub("CURRENT")), "old");
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("tmp")));  // a new file, never in a synced dir

  write_tmp();
  SyncDir();
  CutAndReboot();
  EXPECT_EQ(Read(dir_.Sub("CURRENT")), "new");
}

TEST_F(PowerLossFsTest, EveryChangeIsRefusedAfterTheCut) {
  auto file = Create("f");
  fs_->CutPowerAfter(2);
  ASSERT_TRUE(file->Append("a", IOOptions(), nullptr).ok());
  EXPECT_FALSE(fs_->power_cut());
  EXPECT_FALSE(file->Append("b", IOOptions(), nullptr).ok());  // the armed call
  EXPECT_TRUE(fs_->power_cut());
  EXPECT_FALSE(file->Sync(IOOptions(), nullptr).ok());
  EXPECT_FALSE(dir_handle_->Fsync(IOOptions(), nullptr).ok());
  std::unique_ptr<rocksdb::FSWritableFile> other;
  EXPECT_FALSE(fs_->NewWritableFile(dir_.Sub("g"), rocksdb::FileOptions(), &other, nullptr).ok());
  EXPECT_FALSE(fs_->RenameFile(dir_.Sub("f"), dir_.Sub("h"), IOOptions(), nullptr).ok());
  EXPECT_FALSE(fs_->DeleteFile(dir_.Sub("f"), IOOptions(), nullptr).ok());
  EXPECT_EQ(Read(dir_.Sub("f")), "a");
  file.reset();
  PowerLossDamage damage;
  ASSERT_TRUE(fs_->Reboot(&damage).ok());
  EXPECT_FALSE(fs_->power_cut());
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("f")));
  EXPECT_TRUE(fs_->NewWritableFile(dir_.Sub("g"), rocksdb::FileOptions(), &other, nullptr).ok());
}

// The negative control: RocksDB on this file system keeps a synced write and
// loses an unsynced one, which SIGKILL would have kept in the page cache.
TEST_F(PowerLossFsTest, RocksDbLosesUnsyncedWritesKeepsSyncedOnes) {
  auto env = rocksdb::NewCompositeEnv(fs_);
  rocksdb::Options options;
  options.create_if_missing = true;
  options.env = env.get();
  const std::string path = dir_.Sub("db");
  auto open = [&] {
    rocksdb::DB* raw = nullptr;
    rocksdb::Status s = rocksdb::DB::Open(options, path, &raw);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return std::unique_ptr<rocksdb::DB>(raw);
  };
  auto db = open();
  rocksdb::WriteOptions synced;
  synced.sync = true;
  ASSERT_TRUE(db->Put(synced, "synced", "1").ok());
  ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), "unsynced", "2").ok());
  fs_->CutPower();
  db->Close().PermitUncheckedError();
  db.reset();
  PowerLossDamage damage;
  ASSERT_TRUE(fs_->Reboot(&damage).ok());
  db = open();
  ASSERT_NE(db, nullptr);
  std::string value;
  EXPECT_TRUE(db->Get(rocksdb::ReadOptions(), "synced", &value).ok());
  EXPECT_TRUE(db->Get(rocksdb::ReadOptions(), "unsynced", &value).IsNotFound());
  EXPECT_GT(damage.bytes_dropped, 0u);
}

}  // namespace
}  // namespace ratchet::testing
