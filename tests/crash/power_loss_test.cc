// Power-loss test: an in-process engine on PowerLossFs runs traffic from
// several threads and records every acknowledged operation; the power is cut
// at a random moment (after a random number of file-system calls, so the cut
// can fall inside a WAL write, a memtable flush, a MANIFEST switch or
// Engine::Open itself); the engine is abandoned, the disk "reboots" (every
// unsynced write dropped), and the engine must open cleanly and show every
// acknowledged operation (ack_log.h). SIGKILL (crash_test.cc) keeps the page
// cache; this does not, so it catches a missing fsync.
//
// Cycles from RATCHET_POWERLOSS_CYCLES (default 200), seed from
// RATCHET_POWERLOSS_SEED (printed first and in every failure). The seed fixes
// every cut point and every thread's choices; the threads' interleaving is
// not deterministic.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "ack_log.h"
#include "power_loss_fs.h"
#include "ratchet/engine/engine.h"
#include "spdlog/spdlog.h"
#include "temp_dir.h"

namespace ratchet {
namespace {

using testing::AckLog;
using testing::PowerLossDamage;
using testing::PowerLossFs;

constexpr int kThreads = 3;
// A fresh data directory every kEpochCycles cycles bounds the cost of
// checking the whole log after every cut.
constexpr int kEpochCycles = 8;
// The cut falls uniformly within this many file-system calls of traffic.
constexpr uint64_t kMaxCallsBeforeCut = 300;
// One cycle in kCutDuringOpenOneIn also cuts the power within the first
// kMaxOpenCalls calls of an Engine::Open (WAL recovery, flush, new MANIFEST
// and CURRENT); an open makes about 70 to 90.
constexpr int kCutDuringOpenOneIn = 4;
constexpr uint64_t kMaxOpenCalls = 90;
constexpr Millis kLease{60000};

// The acknowledgements of all traffic threads, and any error the cut does
// not explain.
class Acks {
 public:
  explicit Acks(AckLog* log) : log_(log) {}

  template <typename Fn>
  void Record(Fn fn) {
    std::lock_guard<std::mutex> lock(mu_);
    fn(*log_);
  }
  // An error before the power was cut is a finding, not an in-doubt outcome.
  void Check(const absl::Status& status, const PowerLossFs& fs, const char* op) {
    if (status.ok() || fs.power_cut()) return;
    std::lock_guard<std::mutex> lock(mu_);
    if (unexpected_.empty()) unexpected_ = std::string(op) + ": " + status.ToString();
  }
  std::string unexpected() {
    std::lock_guard<std::mutex> lock(mu_);
    return unexpected_;
  }

 private:
  std::mutex mu_;
  AckLog* log_;
  std::string unexpected_;
};

EnqueueRequest CrashJob(const std::string& key) {
  EnqueueRequest req{"q", "crash", "payload-" + key, key};
  // Failed attempts come back within milliseconds.
  req.retry_policy = RetryPolicy{Millis(1), Millis(5), 2.0, JitterMode::kFull};
  return req;
}

class TrafficThread {
 public:
  TrafficThread(Engine& engine, PowerLossFs& fs, Acks& acks, uint64_t seed, const std::string& name)
      : engine_(engine), fs_(fs), acks_(acks), random_(seed), name_(name) {}

  // Runs until the power is cut.
  void Run() {
    while (!fs_.power_cut()) {
      const int64_t pick = random_.UniformInt(0, 99);
      if (pick < 35) {
        EnqueueOne();
      } else if (pick < 45) {
        EnqueueSome();
      } else if (pick < 50) {
        EnqueueAndCancel();
      } else {
        LeaseAndWork();
      }
    }
  }

 private:
  std::string NextKey() { return name_ + "-" + std::to_string(n_++); }

  std::optional<JobId> EnqueueOne() {
    const std::string key = NextKey();
    auto e = engine_.Enqueue(CrashJob(key));
    acks_.Check(e.status(), fs_, "Enqueue");
    if (!e.ok()) return std::nullopt;
    acks_.Record([&](AckLog& log) { log.Enqueued(e->id, key); });
    return e->id;
  }

  void EnqueueSome() {
    std::vector<EnqueueRequest> batch;
    for (int64_t i = random_.UniformInt(2, 5); i > 0; --i) batch.push_back(CrashJob(NextKey()));
    auto e = engine_.EnqueueBatch(batch);
    acks_.Check(e.status(), fs_, "EnqueueBatch");
    if (!e.ok()) return;
    acks_.Record([&](AckLog& log) {
      for (size_t i = 0; i < e->size(); ++i) log.Enqueued((*e)[i].id, batch[i].idempotency_key);
    });
  }

  void EnqueueAndCancel() {
    std::optional<JobId> id = EnqueueOne();
    if (!id) return;
    auto state = engine_.Cancel(*id);
    // Another thread may have leased and finished the job meanwhile.
    if (state.status().code() != absl::StatusCode::kFailedPrecondition) {
      acks_.Check(state.status(), fs_, "Cancel");
    }
    if (state.ok() && *state == JobState::kCancelled) {
      acks_.Record([&](AckLog& log) { log.Cancelled(*id); });
    }
  }

  void LeaseAndWork() {
    auto leased = engine_.Lease({"q", 4, kLease, name_});
    acks_.Check(leased.status(), fs_, "Lease");
    if (!leased.ok()) return;
    std::vector<CompleteRequest> batch;
    for (const LeasedJob& job : *leased) {
      acks_.Record([&](AckLog& log) { log.Leased(job.id, job.token); });
      if (random_.UniformInt(0, 9) < 3) Heartbeat(job);
      const int64_t pick = random_.UniformInt(0, 99);
      CompleteRequest done{
          job.id, job.token, "ok", {{"done-" + std::to_string(job.id), std::to_string(job.token)}}};
      if (pick < 50) {
        Complete(std::move(done));
      } else if (pick < 65) {
        batch.push_back(std::move(done));
      } else if (pick < 85) {
        Fail(job);
      }  // else: the lease is left running, as a worker that died would
    }
    if (!batch.empty()) CompleteBatch(std::move(batch));
  }

  void Heartbeat(const LeasedJob& job) {
    auto hb = engine_.Heartbeat({job.id, job.token, kLease});
    acks_.Check(hb.status(), fs_, "Heartbeat");
    if (!hb.ok()) return;
    acks_.Record(
        [&](AckLog& log) { log.Heartbeat(job.id, job.token, ToUnixMs(hb->lease_deadline)); });
  }

  void Complete(CompleteRequest req) {
    absl::Status s = engine_.Complete(req);
    acks_.Check(s, fs_, "Complete");
    if (s.ok()) acks_.Record([&](AckLog& log) { RecordCompletion(log, req); });
  }

  void CompleteBatch(std::vector<CompleteRequest> reqs) {
    auto statuses = engine_.CompleteBatch(reqs);
    acks_.Check(statuses.status(), fs_, "CompleteBatch");
    if (!statuses.ok()) return;
    for (size_t i = 0; i < reqs.size(); ++i) {
      acks_.Check((*statuses)[i], fs_, "CompleteBatch item");
      if ((*statuses)[i].ok()) acks_.Record([&](AckLog& log) { RecordCompletion(log, reqs[i]); });
    }
  }

  static void RecordCompletion(AckLog& log, const CompleteRequest& req) {
    log.Completed(req.id, req.token);
    for (const AppWrite& effect : req.effects) log.Effect(effect.key, *effect.value);
  }

  void Fail(const LeasedJob& job) {
    auto failed = engine_.Fail({job.id, job.token, "transient", true});
    acks_.Check(failed.status(), fs_, "Fail");
    if (failed.ok()) acks_.Record([&](AckLog& log) { log.Failed(job.id, job.token); });
  }

  Engine& engine_;
  PowerLossFs& fs_;
  Acks& acks_;
  SeededRandom random_;
  const std::string name_;
  uint64_t n_ = 0;
};

uint64_t EnvOr(const char* name, uint64_t fallback) {
  const char* value = std::getenv(name);
  return value ? std::strtoull(value, nullptr, 10) : fallback;
}

class PowerLossTest : public ::testing::Test {
 protected:
  PowerLossTest()
      : cycles_(EnvOr("RATCHET_POWERLOSS_CYCLES", 200)),
        seed_(EnvOr("RATCHET_POWERLOSS_SEED", std::random_device{}())),
        rng_(seed_),
        dir_(true),
        fs_(std::make_shared<PowerLossFs>()) {
    options_.file_system = fs_;
    spdlog::set_level(spdlog::level::off);  // every cut logs storage errors
  }

  std::string Context(int cycle) const {
    return "RATCHET_POWERLOSS_SEED=" + std::to_string(seed_) + " cycle " + std::to_string(cycle);
  }

  // Traffic from kThreads threads until the cut, then the engine is dropped
  // and the disk loses what was never synced.
  void RunUntilCut(std::unique_ptr<Engine> engine, int cycle) {
    fs_->CutPowerAfter(1 + rng_() % kMaxCallsBeforeCut);
    Acks acks(&log_);
    std::vector<std::thread> threads;
    for (int t = 0; t < kThreads; ++t) {
      const std::string name =
          "s" + std::to_string(seed_) + "-c" + std::to_string(cycle) + "-t" + std::to_string(t);
      threads.emplace_back(
          [&, name, seed = rng_()] { TrafficThread(*engine, *fs_, acks, seed, name).Run(); });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(acks.unexpected(), "") << Context(cycle) << ": an error before the power cut";
    engine.reset();
    Reboot(cycle);
  }

  // Sometimes the power fails again while the engine recovers.
  void MaybeCutDuringOpen(int cycle) {
    if (rng_() % kCutDuringOpenOneIn != 0) return;
    fs_->CutPowerAfter(1 + rng_() % kMaxOpenCalls);
    auto engine = Engine::Open(options_);  // may fail: the power went mid-way
    fs_->CutPower();
    if (engine.ok()) {
      engine->reset();
    } else {
      ++opens_interrupted_;
    }
    ++cuts_during_open_;
    Reboot(cycle);
  }

  void Reboot(int cycle) {
    PowerLossDamage damage;
    rocksdb::IOStatus s = fs_->Reboot(&damage);
    ASSERT_TRUE(s.ok()) << Context(cycle) << ": " << s.ToString();
    damage_.files_truncated += damage.files_truncated;
    damage_.bytes_dropped += damage.bytes_dropped;
    damage_.files_deleted += damage.files_deleted;
    damage_.renames_undone += damage.renames_undone;
  }

  std::unique_ptr<Engine> OpenAndVerify(int cycle) {
    auto engine = Engine::Open(options_);
    EXPECT_TRUE(engine.ok()) << Context(cycle) << ": reopen after the cut: " << engine.status();
    if (!engine.ok()) return nullptr;
    testing::VerifyAcknowledged(**engine, log_, Context(cycle));
    if (::testing::Test::HasFatalFailure()) return nullptr;
    testing::VerifyTokensNotReissued(**engine, log_, Context(cycle));
    if (::testing::Test::HasFatalFailure()) return nullptr;
    return std::move(*engine);
  }

  const uint64_t cycles_;
  const uint64_t seed_;
  std::mt19937_64 rng_;
  testing::TempDir dir_;
  std::shared_ptr<PowerLossFs> fs_;
  EngineOptions options_;
  AckLog log_;
  uint64_t verified_ = 0;  // acknowledgements checked after their cut
  int cuts_during_open_ = 0;
  int opens_interrupted_ = 0;  // of those, opens that the cut made fail
  PowerLossDamage damage_;
};

TEST_F(PowerLossTest, EveryAcknowledgedOperationSurvivesPowerCuts) {
  std::printf("power-loss test: %llu cycles, RATCHET_POWERLOSS_SEED=%llu\n",
              static_cast<unsigned long long>(cycles_), static_cast<unsigned long long>(seed_));
  std::fflush(stdout);  // the seed is on record even if the test hangs
  const auto start = std::chrono::steady_clock::now();
  std::unique_ptr<Engine> engine;
  for (uint64_t cycle = 0; cycle < cycles_; ++cycle) {
    if (cycle % kEpochCycles == 0) {
      engine.reset();
      verified_ += log_.operations;
      log_ = AckLog();
      std::filesystem::remove_all(options_.data_dir);
      options_.data_dir = dir_.Sub("epoch-" + std::to_string(cycle / kEpochCycles));
      auto opened = Engine::Open(options_);
      ASSERT_TRUE(opened.ok()) << Context(cycle) << ": " << opened.status();
      engine = std::move(*opened);
    }
    RunUntilCut(std::move(engine), cycle);
    if (HasFailure()) return;
    MaybeCutDuringOpen(cycle);
    if (HasFailure()) return;
    engine = OpenAndVerify(cycle);
    if (HasFailure()) return;
  }
  verified_ += log_.operations;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf(
      "power-loss test: %llu cycles (%d also cut during open, %d of those opens failed), %llu "
      "acknowledged operations "
      "verified, 0 lost; dropped %llu unsynced bytes in %d files, deleted %d unsynced files, "
      "undid %d renames; %.1f s\n",
      static_cast<unsigned long long>(cycles_), cuts_during_open_, opens_interrupted_,
      static_cast<unsigned long long>(verified_),
      static_cast<unsigned long long>(damage_.bytes_dropped), damage_.files_truncated,
      damage_.files_deleted, damage_.renames_undone, seconds);
  EXPECT_GT(verified_, 0u) << "the engine never acknowledged anything";
}

}  // namespace
}  // namespace ratchet
