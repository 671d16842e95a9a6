// Crash test: a child process runs traffic and logs every acknowledged
// operation; it is SIGKILLed at a random moment; the parent reopens the data
// directory and checks that every acknowledged operation is there. Cycles
// come from RATCHET_CRASH_CYCLES (default 50); the seed from
// RATCHET_CRASH_SEED (printed on every failure).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <random>

#include "ack_log.h"
#include "ratchet/engine/engine.h"
#include "spdlog/spdlog.h"
#include "temp_dir.h"

namespace ratchet {
namespace {

uintmax_t FileSize(const std::string& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  return ec ? 0 : size;
}

pid_t StartWorker(const std::string& data_dir, const std::string& ack_log, uint64_t seed) {
  pid_t pid = fork();
  if (pid == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, STDOUT_FILENO);
    execl(RATCHET_CRASH_WORKER, RATCHET_CRASH_WORKER, data_dir.c_str(), ack_log.c_str(),
          std::to_string(seed).c_str(), "3", static_cast<char*>(nullptr));
    _exit(127);
  }
  return pid;
}

TEST(CrashTest, EveryAcknowledgedOperationSurvivesSigkill) {
  const char* cycles_env = std::getenv("RATCHET_CRASH_CYCLES");
  const char* seed_env = std::getenv("RATCHET_CRASH_SEED");
  const int cycles = cycles_env ? std::atoi(cycles_env) : 50;
  const uint64_t seed = seed_env ? std::strtoull(seed_env, nullptr, 10) : std::random_device{}();
  std::printf("crash test: %d cycles, RATCHET_CRASH_SEED=%llu\n", cycles,
              static_cast<unsigned long long>(seed));
  spdlog::set_level(spdlog::level::warn);
  std::mt19937_64 rng(seed);
  testing::TempDir dir(false);
  const std::string data_dir = dir.Sub("data");
  const std::string ack_log = dir.Sub("acks.log");
  size_t last_acks = 0;
  for (int cycle = 0; cycle < cycles; ++cycle) {
    const auto acks_before = FileSize(ack_log);
    pid_t pid = StartWorker(data_dir, ack_log, seed + cycle);
    // Kill at a random moment of live traffic: wait for this worker's first
    // acknowledgement (however slow the start-up), then a random delay.
    for (int i = 0; i < 2000 && FileSize(ack_log) == acks_before; ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(rng() % 200));
    kill(pid, SIGKILL);
    int status = 0;
    waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "worker exited on its own, status " << status;

    testing::AckLog log = testing::ReadAckLog(ack_log);
    EngineOptions options;
    options.data_dir = data_dir;
    auto engine = Engine::Open(options);
    ASSERT_TRUE(engine.ok()) << "seed " << seed << " cycle " << cycle << ": " << engine.status();
    const std::string context = "seed " + std::to_string(seed) + " cycle " + std::to_string(cycle);
    testing::VerifyAcknowledged(**engine, log, context);
    if (::testing::Test::HasFatalFailure()) return;
    testing::VerifyTokensNotReissued(**engine, log, context);
    if (::testing::Test::HasFatalFailure()) return;
    last_acks = log.enqueued.size();
  }
  std::printf("crash test: %zu acknowledged enqueues verified\n", last_acks);
  EXPECT_GT(last_acks, 0u) << "the worker never acknowledged anything";
}

}  // namespace
}  // namespace ratchet
