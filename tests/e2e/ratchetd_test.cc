// The ratchetd binary: start-up errors, graceful shutdown on SIGTERM, and
// recovery of acknowledged jobs after a restart.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "ratchet/client/client.h"
#include "ratchet/storage/keys.h"
#include "ratchet/storage/store.h"
#include "ratchetd_process.h"
#include "run_command.h"
#include "temp_dir.h"

namespace ratchet::testing {
namespace {

// Runs ratchetd with `args`, returning its exit code and output.
std::pair<int, std::string> RunRatchetd(const std::string& args) {
  CommandResult r = RunCommand(std::string(RATCHETD_PATH) + " " + args);
  return {r.exit_code, r.output};
}

TEST(RatchetdTest, InvalidSettingStopsStartupNamingIt) {
  auto [code, out] = RunRatchetd("--max-lease-wait-ms -5");
  EXPECT_EQ(code, 2);
  EXPECT_NE(out.find("max_lease_wait_ms"), std::string::npos) << out;
  std::tie(code, out) = RunRatchetd("--listen 127.0.0.1:1 --data-dir /proc/forbidden/x");
  EXPECT_EQ(code, 1);
  EXPECT_NE(out.find("start_failed"), std::string::npos) << out;
}

TEST(RatchetdTest, SigtermShutsDownGracefullyAndRestartKeepsJobs) {
  TempDir dir;
  int port = FreePort();
  RatchetdProcess server(RATCHETD_PATH, dir.Sub("data"), port, {"--shutdown-grace-ms", "300"});
  ASSERT_TRUE(server.Start());
  auto client = Client::Connect({.target = "127.0.0.1:" + std::to_string(port)});
  v1::JobSpec job;
  job.set_queue("q");
  job.set_job_type("t");
  auto enq = (*client)->Enqueue(job);
  ASSERT_TRUE(enq.ok()) << enq.status();

  int status = server.Stop(SIGTERM);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);

  ASSERT_TRUE(server.Start());
  auto got = (*client)->GetJob(enq->job_id());
  ASSERT_TRUE(got.ok()) << got.status();
  EXPECT_EQ(got->state(), v1::JOB_STATE_AVAILABLE);
  server.Stop(SIGTERM);
}

// --log-format json: every line ratchetd writes, start to shutdown, is one
// JSON object with time, level and an event of its own.
TEST(RatchetdTest, JsonLogsAreOneObjectPerLineEachWithAnEvent) {
  TempDir dir;
  int port = FreePort();
  RatchetdProcess server(RATCHETD_PATH, dir.Sub("data"), port,
                         {"--log-format", "json", "--log-level", "debug"});
  ASSERT_TRUE(server.Start());
  auto client = Client::Connect({.target = "127.0.0.1:" + std::to_string(port)});
  v1::JobSpec job;
  job.set_queue("q");
  job.set_job_type("t");
  ASSERT_TRUE((*client)->Enqueue(job).ok());
  v1::LeaseRequest lease;
  lease.set_queue("q");
  lease.set_worker_id("w-1");
  ASSERT_TRUE((*client)->Lease(lease).ok());
  ASSERT_TRUE((*client)->PauseQueue("q").ok());
  server.Stop(SIGTERM);
  std::ifstream in(server.log_path());
  std::string line;
  std::set<std::string> events;
  int lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    nlohmann::json j;
    ASSERT_NO_THROW(j = nlohmann::json::parse(line)) << line;
    for (const char* key : {"time", "level", "event"}) EXPECT_TRUE(j.contains(key)) << line;
    EXPECT_NE(j["event"], "log") << "a line without an event: " << line;
    events.insert(j["event"].get<std::string>());
    if (j["event"] == "job_leased") {
      EXPECT_EQ(j["queue"], "q");
      EXPECT_EQ(j["worker_id"], "w-1");
      EXPECT_TRUE(j["job_id"].is_number()) << line;
    }
  }
  EXPECT_GT(lines, 3);
  for (const char* e : {"engine_opened", "serving", "job_leased", "audit", "shutdown_complete"}) {
    EXPECT_EQ(events.count(e), 1u) << "no " << e << " line";
  }
}

// A data directory with a corrupt job: ratchetd refuses to start, naming the
// record and the way out; with --salvage it quarantines it and serves the rest.
TEST(RatchetdTest, CorruptRecordStopsStartupAndSalvageLetsItServe) {
  TempDir dir;
  const std::string data = dir.Sub("data");
  int port = FreePort();
  auto client = Client::Connect({.target = "127.0.0.1:" + std::to_string(port)});
  std::vector<uint64_t> ids;
  {
    RatchetdProcess server(RATCHETD_PATH, data, port);
    ASSERT_TRUE(server.Start());
    for (int i = 0; i < 2; ++i) {
      v1::JobSpec job;
      job.set_queue("q");
      job.set_job_type("t");
      auto enq = (*client)->Enqueue(job);
      ASSERT_TRUE(enq.ok()) << enq.status();
      ids.push_back(enq->job_id());
    }
    server.Stop(SIGTERM);
  }
  {
    auto store = storage::Store::Open({.path = data});
    ASSERT_TRUE(store.ok()) << store.status();
    storage::Batch batch(store->get());
    batch.Put(storage::Cf::kJobs, storage::KeyBuilder().U64(ids[0]).Build(), "\xffgarbage");
    ASSERT_TRUE((*store)->Commit(batch).ok());
  }
  auto [code, out] =
      RunRatchetd("--listen 127.0.0.1:" + std::to_string(port) + " --data-dir " + data);
  EXPECT_EQ(code, 1);
  EXPECT_NE(out.find("corrupt record in column family 'jobs'"), std::string::npos) << out;
  EXPECT_NE(out.find("ratchetd --salvage"), std::string::npos) << out;

  RatchetdProcess server(RATCHETD_PATH, data, port, {"--salvage"});
  ASSERT_TRUE(server.Start());
  v1::LeaseRequest lease;
  lease.set_queue("q");
  lease.set_max_jobs(10);
  lease.set_worker_id("w");
  auto leased = (*client)->Lease(lease);
  ASSERT_TRUE(leased.ok()) << leased.status();
  ASSERT_EQ(leased->jobs_size(), 1);
  EXPECT_EQ(leased->jobs(0).job_id(), ids[1]);
  server.Stop(SIGTERM);
}

// Backup over gRPC while serving, then a second ratchetd restored from it
// (--restore-from) serves the same jobs in the same states; a restore into a
// data directory that holds data is refused.
TEST(RatchetdTest, BackupWhileServingAndRestoreFromIt) {
  TempDir dir;
  int port = FreePort();
  auto client = Client::Connect({.target = "127.0.0.1:" + std::to_string(port)});
  RatchetdProcess server(RATCHETD_PATH, dir.Sub("data"), port);
  ASSERT_TRUE(server.Start());
  std::vector<uint64_t> ids;
  for (int i = 0; i < 3; ++i) {
    v1::JobSpec job;
    job.set_queue("q");
    job.set_job_type("t");
    job.set_payload("p" + std::to_string(i));
    auto enq = (*client)->Enqueue(job);
    ASSERT_TRUE(enq.ok()) << enq.status();
    ids.push_back(enq->job_id());
  }
  v1::LeaseRequest lease;
  lease.set_queue("q");
  lease.set_worker_id("w");
  auto leased = (*client)->Lease(lease);
  ASSERT_TRUE(leased.ok() && leased->jobs_size() == 1) << leased.status();
  v1::CompleteRequest done;
  done.set_job_id(leased->jobs(0).job_id());
  done.set_fencing_token(leased->jobs(0).fencing_token());
  ASSERT_TRUE((*client)->Complete(done).ok());

  auto backup = (*client)->Backup(dir.Sub("backup"));
  ASSERT_TRUE(backup.ok()) << backup.status();
  EXPECT_GT(backup->files(), 0u);
  EXPECT_EQ((*client)->Backup(dir.Sub("backup")).status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ((*client)->Backup("relative").status().code(), absl::StatusCode::kInvalidArgument);
  server.Stop(SIGTERM);

  auto [code, out] = RunRatchetd("--listen 127.0.0.1:" + std::to_string(port) + " --data-dir " +
                                 dir.Sub("data") + " --restore-from " + dir.Sub("backup"));
  EXPECT_EQ(code, 1);
  EXPECT_NE(out.find("restore_failed"), std::string::npos) << out;
  EXPECT_NE(out.find("not empty"), std::string::npos) << out;

  RatchetdProcess restored(RATCHETD_PATH, dir.Sub("restored"), port,
                           {"--restore-from", dir.Sub("backup")});
  ASSERT_TRUE(restored.Start());
  for (uint64_t id : ids) {
    auto got = (*client)->GetJob(id);
    ASSERT_TRUE(got.ok()) << got.status();
    EXPECT_EQ(got->state(),
              id == leased->jobs(0).job_id() ? v1::JOB_STATE_COMPLETED : v1::JOB_STATE_AVAILABLE);
  }
  restored.Stop(SIGTERM);
}

}  // namespace
}  // namespace ratchet::testing
