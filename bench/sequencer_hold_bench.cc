// Sequencer-hold benchmark (issue 11). Prints figures; it is not a test.
//
//   1. Parked long polls: a stream of Enqueue, Lease and Complete on one
//      queue, one call at a time, while N long-poll Leases wait (none; N
//      across N queues; N on one queue). Per-call latency and calls/s: what
//      each group pays for the parked polls.
//   2. Dead letters: redrive and purge of D dead jobs (limit 10,000 per
//      call, called again while `more`), and a redrive by a job type that
//      matches none of them, while a prober thread calls GetQueue in a
//      loop. The prober's longest wait is the longest sequencer hold.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <future>
#include <string>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "ratchet/engine/engine.h"
#include "spdlog/spdlog.h"

namespace ratchet::bench {
namespace {

using Steady = std::chrono::steady_clock;

double MsSince(Steady::time_point start) {
  return std::chrono::duration<double, std::milli>(Steady::now() - start).count();
}

template <typename T>
T Check(absl::StatusOr<T> r, const char* what) {
  if (!r.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, r.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(*r);
}

void Check(const absl::Status& s, const char* what) {
  if (!s.ok()) {
    std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
    std::exit(1);
  }
}

int slice_keys = EngineOptions().dead_letter_slice_keys;

std::unique_ptr<Engine> OpenEngine(const std::string& dir) {
  std::filesystem::remove_all(dir);
  EngineOptions options;
  options.dead_letter_slice_keys = slice_keys;
  options.data_dir = dir;
  options.max_lease_wait = Millis(3600000);  // parked polls outlive the run
  return Check(Engine::Open(options), "open");
}

struct Latencies {
  std::vector<double> ms;
  double Percentile(double p) {
    if (ms.empty()) return 0;
    std::sort(ms.begin(), ms.end());
    return ms[std::min(ms.size() - 1, static_cast<size_t>(p * ms.size()))];
  }
};

// Parks `n` long polls: on n queues, or all on "crowded".
void Park(Engine& engine, int n, bool one_queue, std::atomic<int>& answered) {
  for (int i = 0; i < n; ++i) {
    LeaseRequest req{one_queue ? "crowded" : "idle-" + std::to_string(i), 1, std::nullopt, "w"};
    req.wait = Millis(3600000);
    engine.LeaseAsync(req, [&answered](absl::StatusOr<std::vector<LeasedJob>>) { ++answered; });
  }
  Check(engine.UpdateQueue("busy", QueueSettings{}), "sync");  // after every park
}

void RunLongPolls(const std::string& dir, int parked, bool one_queue, int rounds) {
  std::atomic<int> answered{0};
  {
    auto engine = OpenEngine(dir);
    Park(*engine, parked, one_queue, answered);
    Latencies lat;
    const uint64_t checks = engine->Stats().parked_lease_checks;
    auto start = Steady::now();
    for (int i = 0; i < rounds; ++i) {
      auto t = Steady::now();
      JobId id = Check(engine->Enqueue({"busy", "bench", "p", ""}), "enqueue").id;
      lat.ms.push_back(MsSince(t));
      t = Steady::now();
      auto leased = Check(engine->Lease({.queue = "busy"}), "lease");
      lat.ms.push_back(MsSince(t));
      t = Steady::now();
      Check(engine->Complete({id, leased.at(0).token, "", {}}), "complete");
      lat.ms.push_back(MsSince(t));
    }
    const double seconds = MsSince(start) / 1000;
    const double per_call =
        static_cast<double>(engine->Stats().parked_lease_checks - checks) / (3.0 * rounds);
    std::printf(
        "long polls: %6d parked %-14s  %7.0f calls/s  p50 %6.3f ms  p99 %6.3f ms  max %7.3f ms  "
        "(%.0f parked leases examined per call)\n",
        parked,
        parked == 0 ? ""
        : one_queue ? "on one queue"
                    : "on as many queues",
        3.0 * rounds / seconds, lat.Percentile(0.5), lat.Percentile(0.99), lat.Percentile(1.0),
        per_call);
  }
  std::filesystem::remove_all(dir);
}

// Kills `n` jobs of `type` in queue "dlq" a thousand at a time.
void KillMany(Engine& engine, int n, const std::string& type) {
  for (int done = 0; done < n;) {
    const int k = std::min(1000, n - done);
    std::vector<EnqueueRequest> reqs(k, EnqueueRequest{"dlq", type, std::string(100, 'x'), ""});
    Check(engine.EnqueueBatch(reqs), "enqueue");
    auto leased = Check(engine.Lease({.queue = "dlq", .max_jobs = k}), "lease");
    std::vector<FailRequest> fails;
    for (const LeasedJob& j : leased) fails.push_back({j.id, j.token, "fatal", false});
    Check(engine.FailBatch(fails), "fail");
    done += k;
  }
}

// Runs `bulk` (one call; returns its result) until it reports no more,
// while a prober measures the longest GetQueue wait.
template <typename Fn>
void MeasureHold(Engine& engine, const char* what, Fn bulk) {
  std::atomic<bool> done{false};
  Latencies probe;
  std::thread prober([&] {
    while (!done) {
      auto t = Steady::now();
      Check(engine.GetQueue("dlq"), "probe");
      probe.ms.push_back(MsSince(t));
    }
  });
  auto start = Steady::now();
  int count = 0, calls = 0;
  for (bool more = true; more; ++calls) {
    BulkResult r = Check(bulk(), what);
    count += r.count;
    more = r.more;
  }
  const double ms = MsSince(start);
  done = true;
  prober.join();
  std::printf(
      "%-34s %6d jobs in %d call(s), %8.1f ms;  probe calls during it: %6zu, "
      "p50 %6.3f ms, p99 %7.3f ms, max (longest hold) %7.3f ms\n",
      what, count, calls, ms, probe.ms.size(), probe.Percentile(0.5), probe.Percentile(0.99),
      probe.Percentile(1.0));
}

void RunDeadLetters(const std::string& dir, int dead) {
  {
    auto engine = OpenEngine(dir);
    KillMany(*engine, dead, "t");
    MeasureHold(*engine, "redrive by a type matching none:", [&] {
      RedriveRequest req;
      req.filter = {.queue = "dlq", .job_type = "none", .limit = 10000};
      return engine->Redrive(req);
    });
    MeasureHold(*engine, "purge:", [&] { return engine->Purge({.queue = "dlq", .limit = 10000}); });
    KillMany(*engine, dead, "t");
    MeasureHold(*engine, "redrive:", [&] {
      RedriveRequest req;
      req.filter = {.queue = "dlq", .limit = 10000};
      return engine->Redrive(req);
    });
  }
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ratchet::bench

int main(int argc, char** argv) {
  CLI::App app{"Ratchet sequencer-hold benchmark: parked long polls, bulk dead-letter calls"};
  int parked = 20000, rounds = 2000, dead = 50000;
  std::string dir = "/var/tmp/ratchet-hold-bench";
  app.add_option("--parked", parked, "long polls parked");
  app.add_option("--rounds", rounds, "enqueue+lease+complete rounds per long-poll run");
  app.add_option("--dead", dead, "dead jobs to redrive and purge");
  app.add_option("--slice-keys", ratchet::bench::slice_keys, "dead_letter_slice_keys");
  app.add_option("--dir", dir, "scratch directory on the disk to measure");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);
  using ratchet::bench::RunLongPolls;
  if (rounds > 0) {
    RunLongPolls(dir, 0, false, rounds);
    RunLongPolls(dir, parked, false, rounds);
    RunLongPolls(dir, parked, true, rounds);
  }
  if (dead > 0) ratchet::bench::RunDeadLetters(dir, dead);
  std::filesystem::remove_all(dir);
  return 0;
}
