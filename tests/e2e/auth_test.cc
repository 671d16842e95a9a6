// Authentication against the real ratchetd: bearer tokens from the C++
// client and the CLI, a token removed and reloaded on SIGHUP, the rate
// limit's RESOURCE_EXHAUSTED with a retry delay, the audit log, and that
// no token reaches the log.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "auth/auth_file.h"
#include "ratchet/base/status.h"
#include "ratchet/client/client.h"
#include "ratchetd_process.h"
#include "run_command.h"
#include "temp_dir.h"

namespace ratchet::testing {
namespace {

std::string Entry(const std::string& name, const std::string& token, const std::string& role,
                  const std::string& extra = "") {
  return "[[principal]]\nname = \"" + name + "\"\ntoken_sha256 = [\"" +
         server::auth::Sha256Hex(token) + "\"]\n" + extra + "grants = [{ role = \"" + role +
         "\", queues = \"*\" }]\n";
}

class AuthTest : public ::testing::Test {
 protected:
  void WriteAuth(const std::string& text) {
    std::ofstream out(auth_, std::ios::trunc);
    out << text;
  }

  std::unique_ptr<RatchetdProcess> Serve() {
    auto server = std::make_unique<RatchetdProcess>(
        RATCHETD_PATH, dir_.Sub("data"), port_,
        std::vector<std::string>{"--auth-file", auth_, "--shutdown-grace-ms", "200", "--log-level",
                                 "info"});
    EXPECT_TRUE(server->Start());
    return server;
  }

  std::unique_ptr<Client> Connect(const std::string& token) {
    auto c = Client::Connect({.target = "127.0.0.1:" + std::to_string(port_),
                              .deadline = Millis(3000),
                              .max_attempts = 1,
                              .token = token});
    EXPECT_TRUE(c.ok()) << c.status();
    return std::move(*c);
  }

  static absl::Status Enqueue(Client& c) {
    v1::JobSpec job;
    job.set_queue("q");
    job.set_job_type("t");
    return c.Enqueue(job).status();
  }

  std::string Log(const RatchetdProcess& p) {
    std::ifstream in(p.log_path());
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

  std::string Cli(const std::string& args) {
    return std::string(RATCHET_CLI_PATH) + " --server 127.0.0.1:" + std::to_string(port_) + " " +
           args;
  }

  TempDir dir_;
  std::string auth_ = dir_.Sub("auth.toml");
  int port_ = FreePort();
};

TEST_F(AuthTest, ARemovedTokenStopsWorkingAfterSighup) {
  WriteAuth(Entry("alice", "alice-token-1", "admin") + Entry("bob", "bob-token-1", "producer"));
  auto server = Serve();
  auto bob = Connect("bob-token-1");
  ASSERT_TRUE(Enqueue(*bob).ok());
  EXPECT_EQ(Enqueue(*Connect("")).code(), absl::StatusCode::kUnauthenticated);
  EXPECT_EQ(Enqueue(*Connect("mallory")).code(), absl::StatusCode::kUnauthenticated);

  WriteAuth(Entry("alice", "alice-token-1", "admin"));
  server->Signal(SIGHUP);
  bool refused = false;
  for (int i = 0; i < 100 && !refused; ++i) {
    refused = Enqueue(*bob).code() == absl::StatusCode::kUnauthenticated;
    if (!refused) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(refused) << "bob's token still works after the reload";
  EXPECT_TRUE(Enqueue(*Connect("alice-token-1")).ok());

  // A reload of a broken file keeps the principals in use.
  WriteAuth("[[principal]]\nname = \"alice\"\n");
  server->Signal(SIGHUP);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_TRUE(Enqueue(*Connect("alice-token-1")).ok());
  server->Stop(SIGTERM);
  std::string log = Log(*server);
  EXPECT_NE(log.find("event=auth_reloaded principals=1"), std::string::npos) << log;
  EXPECT_NE(log.find("event=auth_reload_failed"), std::string::npos) << log;
  for (const char* secret : {"alice-token-1", "bob-token-1", "mallory"}) {
    EXPECT_EQ(log.find(secret), std::string::npos) << "the log holds a token: " << secret;
  }
}

TEST_F(AuthTest, TheCliSendsItsTokenAndOperatorActionsAreAudited) {
  WriteAuth(Entry("oncall", "oncall-token", "operator") +
            Entry("feeder", "feeder-token", "producer"));
  auto server = Serve();
  ASSERT_TRUE(Enqueue(*Connect("feeder-token")).ok());
  const std::string token_file = dir_.Sub("token");
  std::ofstream(token_file) << "oncall-token\n";
  CommandResult ok = RunCommand(Cli("--token-file " + token_file + " queues pause q"));
  EXPECT_EQ(ok.exit_code, 0) << ok.output;
  CommandResult env = RunCommand("RATCHET_TOKEN=oncall-token " + Cli("queues resume q"));
  EXPECT_EQ(env.exit_code, 0) << env.output;
  CommandResult none = RunCommand(Cli("queues list"));
  EXPECT_EQ(none.exit_code, 1) << none.output;
  EXPECT_NE(none.output.find("UNAUTHENTICATED"), std::string::npos) << none.output;
  // The producer may not pause.
  CommandResult denied = RunCommand(Cli("--token feeder-token queues pause q"));
  EXPECT_EQ(denied.exit_code, 1) << denied.output;
  EXPECT_NE(denied.output.find("PERMISSION_DENIED"), std::string::npos) << denied.output;
  EXPECT_NE(denied.output.find("'manage'"), std::string::npos) << denied.output;
  server->Stop(SIGTERM);
  std::string log = Log(*server);
  EXPECT_NE(log.find("event=audit principal=\"oncall\" rpc=QueueService.PauseQueue queues=\"q\""),
            std::string::npos)
      << log;
  EXPECT_NE(log.find("event=access_denied principal=\"feeder\" rpc=QueueService.PauseQueue"),
            std::string::npos)
      << log;
}

TEST_F(AuthTest, APrincipalOverItsRateLimitGetsResourceExhaustedWithADelay) {
  WriteAuth(Entry("slow", "slow-token", "producer", "requests_per_second = 1\nburst = 2\n"));
  auto server = Serve();
  auto slow = Connect("slow-token");
  absl::Status s;
  int ok = 0;
  for (int i = 0; i < 5; ++i) {
    s = Enqueue(*slow);
    if (s.ok()) ++ok;
  }
  EXPECT_LE(ok, 3);
  EXPECT_EQ(s.code(), absl::StatusCode::kResourceExhausted) << s;
  EXPECT_EQ(ReasonOf(s), kReasonRateLimited);
  ASSERT_TRUE(RetryDelayOf(s).has_value()) << s;
  EXPECT_GT(*RetryDelayOf(s), Millis(0));
  EXPECT_LE(*RetryDelayOf(s), Millis(1001));
  // A client that may retry waits the delay and gets through.
  auto patient = Client::Connect({.target = "127.0.0.1:" + std::to_string(port_),
                                  .deadline = Millis(5000),
                                  .token = "slow-token"});
  ASSERT_TRUE(patient.ok());
  EXPECT_TRUE(Enqueue(**patient).ok());
  server->Stop(SIGTERM);
}

TEST_F(AuthTest, ABadAuthFileStopsStartup) {
  WriteAuth("[[principal]]\nname = \"x\"\ntoken_sha256 = [\"not-a-hash\"]\n");
  CommandResult r = RunCommand(std::string(RATCHETD_PATH) + " --listen 127.0.0.1:0 --data-dir " +
                               dir_.Sub("d") + " --auth-file " + auth_);
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("principal[0].token_sha256[0]"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("not-a-hash"), std::string::npos) << r.output;
  // /metrics never faces the network without --insecure.
  r = RunCommand(std::string(RATCHETD_PATH) + " --listen 127.0.0.1:0 --http-listen 0.0.0.0:0 " +
                 "--data-dir " + dir_.Sub("d2") + " --auth-file " + auth_);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("http_listen"), std::string::npos) << r.output;
  // Tokens do not cross a network in clear: a non-loopback listen needs TLS.
  r = RunCommand(std::string(RATCHETD_PATH) + " --listen 0.0.0.0:0 --data-dir " + dir_.Sub("d3") +
                 " --auth-file " + auth_);
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("no TLS"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace ratchet::testing
