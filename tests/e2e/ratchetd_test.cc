// The ratchetd binary: start-up errors, graceful shutdown on SIGTERM, and
// recovery of acknowledged jobs after a restart.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <memory>

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

}  // namespace
}  // namespace ratchet::testing
