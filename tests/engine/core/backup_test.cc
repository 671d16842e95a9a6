// Engine::Backup (an online RocksDB checkpoint) and Engine::RestoreBackup:
// every write acknowledged before a backup starts is in it, with its state,
// while writes go on; the path rules; a restore never overwrites data and
// survives a crashed earlier restore.
#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>
#include <vector>

#include "engine_harness.h"
#include "ratchet/engine/engine.h"

namespace ratchet {
namespace {

namespace fs = std::filesystem;
using testing::EngineHarness;
using testing::TempDir;

// Opens `dir` as a data directory on `h`'s clock.
std::unique_ptr<Engine> OpenAt(EngineHarness& h, const std::string& dir) {
  EngineOptions options = h.options();
  options.data_dir = dir;
  auto engine = Engine::Open(options);
  EXPECT_TRUE(engine.ok()) << engine.status();
  return engine.ok() ? std::move(*engine) : nullptr;
}

TEST(BackupTest, EveryJobAcknowledgedBeforeTheBackupIsInItWithItsStateWhileWritesGoOn) {
  EngineHarness h(/*in_memory=*/true);
  // Before the backup: 200 jobs, every other one completed.
  std::vector<JobId> jobs;
  for (int i = 0; i < 200; ++i) jobs.push_back(h.Enqueue("q", "p" + std::to_string(i)));
  for (int i = 0; i < 100; ++i) {
    LeasedJob l = h.LeaseOne("q");
    ASSERT_TRUE(h->Complete({.id = l.id, .token = l.token}).ok());
  }
  // During the backup: a writer enqueues into another queue without pause.
  std::mutex mu;
  std::vector<JobId> acked;  // guarded by mu
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; !stop.load(); ++i) {
      auto r = h->Enqueue({"load", "t", "x" + std::to_string(i), ""});
      ASSERT_TRUE(r.ok()) << r.status();
      std::lock_guard<std::mutex> lock(mu);
      acked.push_back(r->id);
    }
  });
  while (true) {  // let the writer get going
    std::lock_guard<std::mutex> lock(mu);
    if (acked.size() >= 50) break;
  }
  std::vector<JobId> acked_before;
  {
    std::lock_guard<std::mutex> lock(mu);
    acked_before = acked;
  }
  TempDir backups(/*in_memory=*/true);
  const std::string dest = backups.Sub("b1");
  auto info = h->Backup(dest);
  stop.store(true);
  writer.join();
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->path, dest);
  EXPECT_GT(info->files, 0u);
  EXPECT_GT(info->bytes, 0u);

  std::map<JobId, Job> want;
  for (JobId id : jobs) want[id] = *h->Get(id);
  h.Close();

  for (bool restored : {true, false}) {  // restore first: opening the backup changes it
    SCOPED_TRACE(restored ? "restored copy" : "backup directory");
    std::string dir = dest;
    if (restored) {
      dir = backups.Sub("restored");
      EngineOptions options = h.options();
      options.data_dir = dir;
      auto r = Engine::RestoreBackup(dest, options);
      ASSERT_TRUE(r.ok()) << r.status();
      EXPECT_EQ(r->files, info->files);
    }
    auto engine = OpenAt(h, dir);
    ASSERT_NE(engine, nullptr);
    for (const auto& [id, job] : want) {
      auto got = engine->Get(id);
      ASSERT_TRUE(got.ok()) << "job " << id << ": " << got.status();
      EXPECT_EQ(got->state, job.state) << "job " << id;
      EXPECT_EQ(got->payload, job.payload) << "job " << id;
    }
    for (JobId id : acked_before) {
      EXPECT_TRUE(engine->Get(id).ok()) << "acknowledged before the backup: job " << id;
    }
    auto queue = engine->GetQueue("q");
    ASSERT_TRUE(queue.ok());
    EXPECT_EQ(queue->available, 100);
    // The copy is a working data directory.
    EXPECT_TRUE(engine->Enqueue({"q", "t", "after", ""}).ok());
  }
}

TEST(BackupTest, BadDestinationsAreRefusedAndWriteNothing) {
  EngineHarness h(/*in_memory=*/true);
  h.Enqueue("q");
  TempDir backups(/*in_memory=*/true);
  auto expect = [&](const std::string& dest, absl::StatusCode code, const std::string& text) {
    auto r = h->Backup(dest);
    ASSERT_EQ(r.status().code(), code) << dest << ": " << r.status();
    EXPECT_NE(r.status().message().find(text), std::string::npos) << r.status();
  };
  expect("", absl::StatusCode::kInvalidArgument, "destination");
  expect("relative/dir", absl::StatusCode::kInvalidArgument, "absolute");
  expect(backups.Sub("bad\xff"), absl::StatusCode::kInvalidArgument, "destination");
  expect("/" + std::string(kMaxBackupPathBytes, 'a'), absl::StatusCode::kInvalidArgument, "4096");
  expect(backups.Sub("no/such/parent"), absl::StatusCode::kFailedPrecondition, "parent");
  expect(backups.path(), absl::StatusCode::kAlreadyExists, "exists");
  EXPECT_FALSE(fs::exists(backups.Sub("no")));
  // A second backup to the same place is refused; the first is untouched.
  ASSERT_TRUE(h->Backup(backups.Sub("b")).ok());
  const auto files = std::distance(fs::directory_iterator(backups.Sub("b")), {});
  expect(backups.Sub("b"), absl::StatusCode::kAlreadyExists, "exists");
  EXPECT_EQ(std::distance(fs::directory_iterator(backups.Sub("b")), {}), files);
}

TEST(BackupTest, RestoreNeverOverwritesDataAndReplacesACrashedRestore) {
  EngineHarness h(/*in_memory=*/true);
  JobId id = h.Enqueue("q");
  TempDir dirs(/*in_memory=*/true);
  ASSERT_TRUE(h->Backup(dirs.Sub("backup")).ok());
  EngineOptions options = h.options();

  // Not a backup.
  options.data_dir = dirs.Sub("target");
  fs::create_directories(dirs.Sub("empty"));
  EXPECT_TRUE(absl::IsNotFound(Engine::RestoreBackup(dirs.Sub("empty"), options).status()));
  EXPECT_TRUE(absl::IsInvalidArgument(Engine::RestoreBackup("relative", options).status()));

  // A data directory with something in it is never overwritten.
  fs::create_directories(dirs.Sub("busy"));
  std::ofstream(dirs.Sub("busy") + "/keep") << "x";
  options.data_dir = dirs.Sub("busy");
  auto busy = Engine::RestoreBackup(dirs.Sub("backup"), options);
  EXPECT_EQ(busy.status().code(), absl::StatusCode::kFailedPrecondition) << busy.status();
  EXPECT_TRUE(fs::exists(dirs.Sub("busy") + "/keep"));
  EXPECT_FALSE(fs::exists(dirs.Sub("busy") + "/CURRENT"));

  // What a crash mid-copy leaves (a partial staging directory) is replaced;
  // an empty data directory is filled.
  fs::create_directories(dirs.Sub("target") + ".restoring");
  std::ofstream(dirs.Sub("target") + ".restoring/CURRENT") << "garbage";
  fs::create_directories(dirs.Sub("target"));
  options.data_dir = dirs.Sub("target");
  ASSERT_TRUE(Engine::RestoreBackup(dirs.Sub("backup"), options).ok());
  EXPECT_FALSE(fs::exists(dirs.Sub("target") + ".restoring"));
  auto engine = OpenAt(h, dirs.Sub("target"));
  ASSERT_NE(engine, nullptr);
  EXPECT_TRUE(engine->Get(id).ok());
  // The backup itself is unchanged by the restore and still restorable.
  options.data_dir = dirs.Sub("again");
  EXPECT_TRUE(Engine::RestoreBackup(dirs.Sub("backup"), options).ok());
}

}  // namespace
}  // namespace ratchet
