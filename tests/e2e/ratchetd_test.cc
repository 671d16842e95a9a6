// The ratchetd binary: start-up errors, graceful shutdown on SIGTERM, and
// recovery of acknowledged jobs after a restart.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <memory>

#include "ratchet/client/client.h"
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

}  // namespace
}  // namespace ratchet::testing
