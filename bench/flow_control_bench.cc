// Flow-control benchmark (issue 12). Prints figures; it is not a test.
//
//   --mode hotkey  One hot key with --hot-jobs (100,000) queued jobs under a
//                  per-key limit of --key-limit (4), while --cold-keys (1,000)
//                  other keys each get one job at --cold-rate (200/s).
//                  --workers (16) threads run blocking long-poll Lease(1),
//                  a handler of --handler-us (2,000 us), Complete. Prints the
//                  cold jobs' enqueue-to-start latency (p50/p99/max; target
//                  p99 < 10 ms) and the hot key's drain rate. (That the key
//                  limit holds is the property tests' to check: a client
//                  sees a Complete return a group commit after the engine
//                  freed the slot, so client-side overlap overstates it.)
//   --mode rate    A queue with a rate limit of --rate (1,000) starts per
//                  --period-ms (1,000), more jobs queued than it can start,
//                  drained for --seconds (60) by --workers long-poll
//                  consumers leasing up to 100 at a time. Prints the start
//                  rate measured over the run (target: within 1% of the
//                  limit) and the most starts in any window, both on the
//                  engine's start times (lease_deadline - visibility
//                  timeout, exact to the ms).
//   --mode all     Both (the default).
//
// Enqueue-to-start is measured from just before the Enqueue call to the
// return of the Lease that took the job, on the steady clock; it includes
// the enqueue's synced commit.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <deque>
#include <filesystem>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "CLI/CLI.hpp"
#include "bench_engine.h"
#include "ratchet/engine/engine.h"
#include "spdlog/spdlog.h"

namespace ratchet::bench {
namespace {

using Steady = std::chrono::steady_clock;

double Seconds(Steady::time_point start) {
  return std::chrono::duration<double>(Steady::now() - start).count();
}

constexpr int64_t kLeaseMs = 60000;  // every lease's visibility timeout here

// When the engine started `job`: its lease deadline less the visibility
// timeout (no attempt timeout caps it here), on the engine's clock.
int64_t EngineStartMs(const LeasedJob& job) { return ToUnixMs(job.lease_deadline) - kLeaseMs; }

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  return v[i];
}

struct HotKeyOptions {
  int hot_jobs = 100000;
  int cold_keys = 1000;
  int key_limit = 4;
  int workers = 16;
  int cold_rate = 200;
  int handler_us = 2000;
};

EnqueueRequest KeyedJob(const std::string& key) {
  EnqueueRequest request{"fc", "bench", std::string(100, 'x'), ""};
  request.concurrency_key = key;
  return request;
}

void LoadHotKey(Engine& engine, int jobs) {
  for (int sent = 0; sent < jobs; sent += 1000) {
    std::vector<EnqueueRequest> batch;
    for (int i = sent; i < std::min(jobs, sent + 1000); ++i) batch.push_back(KeyedJob("hot"));
    if (!engine.EnqueueBatch(std::move(batch)).ok()) std::abort();
  }
}

// What the hot-key run's workers record.
struct HotKeyTally {
  std::mutex mu;
  std::unordered_map<JobId, Steady::time_point> cold_enqueued;  // guarded by mu
  std::vector<double> cold_latency_ms;                          // guarded by mu
  std::atomic<int> hot_done{0};
  std::atomic<int> cold_done{0};
};

void RunHotKeyWorker(Engine& engine, const HotKeyOptions& o, HotKeyTally& t,
                     const std::atomic<bool>& stop) {
  LeaseRequest lease{"fc", 1, Millis(kLeaseMs), "bench"};
  lease.wait = Millis(200);
  while (!stop.load()) {
    auto jobs = engine.Lease(lease);
    if (!jobs.ok()) std::abort();
    auto leased_at = Steady::now();
    for (const LeasedJob& job : *jobs) {
      bool hot = job.concurrency_key == "hot";
      if (!hot) {
        std::lock_guard<std::mutex> lock(t.mu);
        auto it = t.cold_enqueued.find(job.id);
        if (it != t.cold_enqueued.end()) {
          t.cold_latency_ms.push_back(
              std::chrono::duration<double, std::milli>(leased_at - it->second).count());
        }
      }
      std::this_thread::sleep_for(std::chrono::microseconds(o.handler_us));
      if (!engine.Complete({job.id, job.token, "", {}}).ok()) std::abort();
      (hot ? t.hot_done : t.cold_done).fetch_add(1);
    }
  }
}

void RunHotKey(const std::string& dir, const HotKeyOptions& o) {
  EngineOptions options;
  options.data_dir = dir;
  auto engine = OpenEngineOrExit(options);
  QueueSettingsUpdate update;
  update.key_concurrency_limit = o.key_limit;
  if (!engine->UpdateQueue("fc", update).ok()) std::abort();
  LoadHotKey(*engine, o.hot_jobs);

  HotKeyTally tally;
  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  auto start = Steady::now();
  for (int i = 0; i < o.workers; ++i) {
    workers.emplace_back([&] { RunHotKeyWorker(*engine, o, tally, stop); });
  }
  auto gap = std::chrono::microseconds(1000000 / std::max(1, o.cold_rate));
  auto next = Steady::now();
  for (int i = 0; i < o.cold_keys; ++i) {
    std::this_thread::sleep_until(next);
    next += gap;
    std::lock_guard<std::mutex> lock(tally.mu);  // the lease waits for the id
    auto enqueued_at = Steady::now();
    auto r = engine->Enqueue(KeyedJob("cold-" + std::to_string(i)));
    if (!r.ok()) std::abort();
    tally.cold_enqueued[r->id] = enqueued_at;
  }
  while (tally.cold_done.load() < o.cold_keys && Seconds(start) < 120) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  double elapsed = Seconds(start);
  int hot_done = tally.hot_done.load();
  stop.store(true);
  for (auto& w : workers) w.join();

  std::lock_guard<std::mutex> lock(tally.mu);
  const auto& lat = tally.cold_latency_ms;
  std::printf(
      "hot key (%d queued, per-key limit %d) + %d cold keys at %d/s, %d workers, "
      "%d us handlers:\n",
      o.hot_jobs, o.key_limit, o.cold_keys, o.cold_rate, o.workers, o.handler_us);
  std::printf(
      "  cold jobs' enqueue-to-start: p50 %.2f ms, p99 %.2f ms, max %.2f ms over %zu jobs "
      "(target p99 < 10 ms)\n",
      Percentile(lat, 0.5), Percentile(lat, 0.99), Percentile(lat, 1.0), lat.size());
  double limit_rate = o.key_limit * 1e6 / o.handler_us;
  std::printf(
      "  hot key drained %d jobs in %.1f s = %.0f jobs/s (its limit of %d allows at most "
      "%.0f/s)\n",
      hot_done, elapsed, hot_done / elapsed, o.key_limit, limit_rate);
}

struct RateOptions {
  int rate = 1000;
  int period_ms = 1000;
  int seconds = 60;
  int workers = 4;
};

void RunRate(const std::string& dir, const RateOptions& o) {
  EngineOptions options;
  options.data_dir = dir;
  auto engine = OpenEngineOrExit(options);
  QueueSettingsUpdate update;
  update.rate_limit = RateLimit{o.rate, Millis(o.period_ms)};
  if (!engine->UpdateQueue("rl", update).ok()) std::abort();
  double per_s = o.rate * 1000.0 / o.period_ms;
  int queued = static_cast<int>(per_s * (o.seconds + 5)) + o.rate;
  for (int sent = 0; sent < queued; sent += 1000) {
    std::vector<EnqueueRequest> batch(std::min(1000, queued - sent),
                                      EnqueueRequest{"rl", "bench", std::string(100, 'x'), ""});
    if (!engine->EnqueueBatch(std::move(batch)).ok()) std::abort();
  }

  std::mutex mu;
  std::vector<int64_t> starts;  // engine start times, ms; guarded by mu
  std::atomic<bool> stop{false};
  auto start = Steady::now();
  std::vector<std::thread> workers;
  for (int i = 0; i < o.workers; ++i) {
    workers.emplace_back([&] {
      LeaseRequest lease{"rl", 100, Millis(kLeaseMs), "bench"};
      lease.wait = Millis(200);
      while (!stop.load()) {
        auto jobs = engine->Lease(lease);
        if (!jobs.ok()) std::abort();
        std::vector<CompleteRequest> done;
        {
          std::lock_guard<std::mutex> lock(mu);
          for (const LeasedJob& job : *jobs) {
            done.push_back({job.id, job.token, "", {}});
            starts.push_back(EngineStartMs(job));
          }
        }
        if (!done.empty() && !engine->CompleteBatch(std::move(done)).ok()) std::abort();
      }
    });
  }
  std::this_thread::sleep_for(std::chrono::seconds(o.seconds));
  double elapsed = Seconds(start);
  stop.store(true);
  for (auto& w : workers) w.join();

  std::lock_guard<std::mutex> lock(mu);
  if (starts.empty()) std::abort();
  std::sort(starts.begin(), starts.end());
  // On the engine's clock, from the first start, over --seconds.
  const int64_t first = starts.front(), run_ms = int64_t{o.seconds} * 1000;
  const auto at = [&](int64_t ms) {
    return static_cast<size_t>(std::lower_bound(starts.begin(), starts.end(), first + ms) -
                               starts.begin());
  };
  const size_t in_run = at(run_ms);
  // The first window's burst (up to `rate` at once) is allowed: measure the
  // steady rate from the first window's end.
  const size_t after_first = at(o.period_ms);
  double steady = static_cast<double>(in_run - after_first) * 1000.0 / (run_ms - o.period_ms);
  size_t most = 0;  // starts in any window (t - period, t]
  for (size_t i = 0, j = 0; j < in_run; ++j) {
    while (starts[j] - starts[i] >= o.period_ms) ++i;
    most = std::max(most, j - i + 1);
  }
  std::printf("rate limit %d per %d ms (%.0f/s), %d consumers, %.0f s:\n", o.rate, o.period_ms,
              per_s, o.workers, elapsed);
  std::printf(
      "  %zu starts = %.1f/s overall; %.1f/s after the first window = %.2f%% of the limit "
      "(target within 1%%)\n",
      in_run, in_run * 1000.0 / run_ms, steady, 100.0 * steady / per_s);
  std::printf("  most starts in any %d ms window (engine start times): %zu (limit %d)\n",
              o.period_ms, most, o.rate);
}

}  // namespace
}  // namespace ratchet::bench

int main(int argc, char** argv) {
  CLI::App app{"Ratchet flow-control benchmark (issue 12)"};
  std::string mode = "all";
  std::string dir = "/var/tmp/ratchet-fc-bench";
  ratchet::bench::HotKeyOptions hot;
  ratchet::bench::RateOptions rate;
  app.add_option("--mode", mode, "hotkey, rate or all")
      ->check(CLI::IsMember({"hotkey", "rate", "all"}));
  app.add_option("--dir", dir, "scratch directory on the disk to measure");
  app.add_option("--hot-jobs", hot.hot_jobs, "jobs queued under the hot key");
  app.add_option("--cold-keys", hot.cold_keys, "cold keys, one job each");
  app.add_option("--key-limit", hot.key_limit, "per-key concurrency limit");
  app.add_option("--cold-rate", hot.cold_rate, "cold jobs enqueued per second");
  app.add_option("--handler-us", hot.handler_us, "handler time per job, microseconds");
  app.add_option("--workers", hot.workers, "worker threads in the hot-key run");
  app.add_option("--rate", rate.rate, "rate limit: starts per period");
  app.add_option("--period-ms", rate.period_ms, "rate limit period, milliseconds");
  app.add_option("--seconds", rate.seconds, "length of the rate run");
  app.add_option("--rate-workers", rate.workers, "consumers in the rate run");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  if (mode != "rate") ratchet::bench::RunHotKey(dir + "/hotkey", hot);
  if (mode != "hotkey") ratchet::bench::RunRate(dir + "/rate", rate);
  std::filesystem::remove_all(dir);
  return 0;
}
