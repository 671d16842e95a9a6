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
#include <map>
#include <random>
#include <sstream>

#include "ratchet/engine/engine.h"
#include "spdlog/spdlog.h"
#include "temp_dir.h"

namespace ratchet {
namespace {

struct AckLog {
  std::map<JobId, std::string> enqueued;              // id -> idempotency key
  std::map<JobId, FencingToken> leased;               // id -> highest leased token
  std::map<JobId, FencingToken> completed;            // id -> completing token
  std::map<JobId, std::vector<FencingToken>> failed;  // id -> tokens whose attempt failed
  FencingToken max_token = 0;
};

AckLog ReadAckLog(const std::string& path) {
  AckLog log;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string kind, key;
    uint64_t id = 0, value = 0;
    fields >> kind >> id;
    if (kind == "E" && (fields >> key)) {
      log.enqueued[id] = key;
    } else if ((kind == "L" || kind == "C" || kind == "F") && (fields >> value)) {
      log.leased[id] = std::max(log.leased[id], value);
      log.max_token = std::max(log.max_token, value);
      if (kind == "C") log.completed[id] = value;
      if (kind == "F") log.failed[id].push_back(value);
    }
  }
  return log;
}

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

void Verify(Engine& engine, const AckLog& log, uint64_t seed) {
  for (const auto& [id, key] : log.enqueued) {
    auto job = engine.Get(id);
    ASSERT_TRUE(job.ok()) << "seed " << seed << ": acknowledged job " << id << " lost";
    EnqueueRequest again{"q", "crash", "payload-" + key, key};
    auto dup = engine.Enqueue(again);
    ASSERT_TRUE(dup.ok()) << dup.status();
    ASSERT_TRUE(dup->duplicate && dup->id == id)
        << "seed " << seed << ": idempotency key " << key << " lost for job " << id;
  }
  for (const auto& [id, token] : log.leased) {
    auto job = engine.Get(id);
    ASSERT_TRUE(job.ok()) << "seed " << seed << ": leased job " << id << " lost";
    ASSERT_GE(job->token, token) << "seed " << seed << ": job " << id << " token went back";
  }
  for (const auto& [id, tokens] : log.failed) {
    auto job = engine.Get(id);
    ASSERT_TRUE(job.ok());
    for (FencingToken token : tokens) {
      // The failed attempt ended: that lease is gone for good.
      ASSERT_FALSE(job->state == JobState::kRunning && job->token == token)
          << "seed " << seed << ": acknowledged Fail of job " << id << " token " << token
          << " lost";
    }
    ASSERT_GE(job->errors.size(), 1u) << "seed " << seed << ": job " << id << " lost its errors";
  }
  for (const auto& [id, token] : log.completed) {
    auto job = engine.Get(id);
    ASSERT_EQ(job->state, JobState::kCompleted)
        << "seed " << seed << ": completion of " << id << " lost";
    ASSERT_EQ(job->token, token);
  }
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

    AckLog log = ReadAckLog(ack_log);
    EngineOptions options;
    options.data_dir = data_dir;
    auto engine = Engine::Open(options);
    ASSERT_TRUE(engine.ok()) << "seed " << seed << " cycle " << cycle << ": " << engine.status();
    Verify(**engine, log, seed);
    if (::testing::Test::HasFatalFailure()) return;
    // Tokens are never reissued across restarts.
    ASSERT_TRUE((*engine)->Enqueue({"probe", "t", "", ""}).ok());
    auto probe = (*engine)->Lease({"probe", 1, Millis(1000), "parent"});
    ASSERT_TRUE(probe.ok() && !probe->empty());
    ASSERT_GT(probe->front().token, log.max_token) << "seed " << seed << ": token reissued";
    ASSERT_TRUE((*engine)->Complete({probe->front().id, probe->front().token, "", {}}).ok());
    last_acks = log.enqueued.size();
  }
  std::printf("crash test: %zu acknowledged enqueues verified\n", last_acks);
  EXPECT_GT(last_acks, 0u) << "the worker never acknowledged anything";
}

}  // namespace
}  // namespace ratchet
