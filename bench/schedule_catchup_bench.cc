// Schedules after downtime. Prints figures; it is not a test.
//
// N every-second schedules (default 10,000; run_once, 24 h catch-up window,
// 60 s misfire grace: the defaults) are created on an engine whose clock is
// a ManualClock; the engine closes, the clock moves on by the downtime
// (default 24 h) and stands still, and the engine reopens on the same data
// directory. Each schedule then fires its latest missed tick and the 61
// ticks within the grace, and counts the rest as skipped. Printed:
//   - the time to reopen;
//   - the delay of the first enqueue after the reopen (when a GetQueue
//     first sees a job: the fire is committed);
//   - the time until every schedule has caught up (all expected jobs seen);
//   - the latency of GetQueue, a trivial engine call issued back to back
//     during the catch-up (p50, p99, max): it waits for the group in
//     progress and its commit, so its max bounds the longest sequencer hold
//     from above.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <optional>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "bench_engine.h"
#include "ratchet/engine/engine.h"
#include "spdlog/spdlog.h"

namespace ratchet::bench {
namespace {

using Steady = std::chrono::steady_clock;

double Ms(Steady::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

std::unique_ptr<Engine> OpenEngine(const std::string& dir, ManualClock* clock) {
  EngineOptions options;
  options.data_dir = dir;
  options.clock = clock;  // borrowed: outlives the engine
  return OpenEngineOrExit(options);
}

void CreateSchedules(Engine& engine, int count, int threads) {
  std::atomic<int> next{0};
  std::vector<std::thread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (int i = next.fetch_add(1); i < count; i = next.fetch_add(1)) {
        ScheduleSpec spec;
        spec.id = "every-second-" + std::to_string(i);
        spec.spec = "@every 1s";
        spec.queue = "bench";
        spec.job_type = "tick";
        absl::Status s = engine.CreateSchedule(spec);
        if (!s.ok()) {
          std::fprintf(stderr, "create: %s\n", s.ToString().c_str());
          std::exit(1);
        }
      }
    });
  }
  for (std::thread& w : workers) w.join();
}

// Jobs in "bench", or 0 before the queue exists.
int64_t Jobs(Engine& engine, Steady::duration* latency) {
  auto start = Steady::now();
  auto info = engine.GetQueue("bench");
  *latency = Steady::now() - start;
  return info.ok() ? info->available + info->scheduled : 0;
}

void Run(int schedules, int down_hours, const std::string& dir) {
  std::filesystem::remove_all(dir);
  auto clock = std::make_unique<ManualClock>(FromUnixMs(1767225600000));  // 2026-01-01
  {
    auto engine = OpenEngine(dir, clock.get());
    auto start = Steady::now();
    CreateSchedules(*engine, schedules, 32);
    std::printf("created %d '@every 1s' schedules in %.1f s\n", schedules,
                Ms(Steady::now() - start) / 1000);
  }
  const int64_t down_s = int64_t{down_hours} * 3600;
  clock->Advance(Millis(down_s * 1000));
  // Per schedule (run_once, 60 s grace): the latest late tick and the ticks
  // of the last 60 s (both ends included).
  const int64_t per_schedule = std::min<int64_t>(61, down_s) + (down_s > 61 ? 1 : 0);
  const int64_t expected = per_schedule * schedules;

  auto opening = Steady::now();
  auto engine = OpenEngine(dir, clock.get());
  auto opened = Steady::now();
  Steady::duration latency{};
  std::vector<double> latencies;
  std::optional<Steady::duration> first;
  int64_t jobs = 0;
  int64_t calls = 0;
  while (jobs < expected && Steady::now() - opened < std::chrono::minutes(20)) {
    jobs = Jobs(*engine, &latency);
    ++calls;
    latencies.push_back(Ms(latency));
    if (jobs > 0 && !first) first = Steady::now() - opened;
  }
  auto done = Steady::now() - opened;
  std::printf("down %d h; reopen took %.1f ms\n", down_hours, Ms(opened - opening));
  std::printf("first enqueue after reopen: %.1f ms (target < 50 ms)\n", first ? Ms(*first) : -1.0);
  std::printf("all %d schedules caught up (%lld of %lld jobs) in %.1f ms\n", schedules,
              static_cast<long long>(jobs), static_cast<long long>(expected), Ms(done));
  std::sort(latencies.begin(), latencies.end());
  auto at = [&](double q) { return latencies[static_cast<size_t>(q * (latencies.size() - 1))]; };
  std::printf(
      "GetQueue latency during catch-up over %lld calls: p50 %.1f ms, p99 %.1f ms, "
      "max %.1f ms (the max bounds the longest sequencer hold from above)\n",
      static_cast<long long>(calls), at(0.5), at(0.99), latencies.back());
  engine.reset();
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ratchet::bench

int main(int argc, char** argv) {
  CLI::App app{"Ratchet schedule catch-up benchmark"};
  int schedules = 10000, down_hours = 24;
  std::string dir = "/tmp/ratchet-schedule-catchup-bench";
  app.add_option("--schedules", schedules, "every-second schedules");
  app.add_option("--down-hours", down_hours, "hours the engine is down");
  app.add_option("--dir", dir, "scratch data directory (deleted)");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);
  ratchet::bench::Run(schedules, down_hours, dir);
  return 0;
}
