// Scale benchmark of the embedded engine (issue 11). Prints figures; it is
// not a test.
//
//   retention: jobs finished at a steady rate (default 20,000/s) with 1 s
//     retention for --seconds (default 300): prints, every --every seconds,
//     the finished jobs still stored (they must stay bounded) and the
//     sweeper's figures.
//   reopen: a data directory with --live live jobs (default 1,000,000) and
//     --finished finished jobs (default 10,000,000): time to reopen, and the
//     job records recovery parsed.
//
// Both print the longest sequencer hold seen: a probe thread calls GetQueue
// (an operation on the sequencer that writes nothing) every 5 ms; its worst
// latency is the longest the sequencer was busy plus at most one group
// commit in flight.
//
//   scale_bench --mode retention --rate 20000 --seconds 300 --dir /var/tmp/x
//   scale_bench --mode reopen --live 1000000 --finished 10000000 --dir /var/tmp/x
//   (or the load with --keep, then --reopen-only on a quiet machine)
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "bench_engine.h"
#include "ratchet/engine/engine.h"
#include "spdlog/spdlog.h"

namespace ratchet::bench {
namespace {

using SteadyClock = std::chrono::steady_clock;

double Seconds(SteadyClock::time_point start) {
  return std::chrono::duration<double>(SteadyClock::now() - start).count();
}

std::unique_ptr<Engine> OpenEngine(const std::string& dir) {
  EngineOptions options;
  options.data_dir = dir;
  return OpenEngineOrExit(options);
}

// Calls GetQueue every 5 ms and keeps the worst latency.
class HoldProbe {
 public:
  explicit HoldProbe(Engine* engine)
      : thread_([this, engine] {
          while (!stop_.load()) {
            auto start = SteadyClock::now();
            (void)engine->GetQueue("probe");
            auto us =
                std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - start)
                    .count();
            int64_t seen = worst_us_.load();
            while (us > seen && !worst_us_.compare_exchange_weak(seen, us)) {
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(5));
          }
        }) {}
  ~HoldProbe() {
    stop_ = true;
    thread_.join();
  }
  // Worst latency since the last call, in ms.
  double TakeWorstMs() { return static_cast<double>(worst_us_.exchange(0)) / 1000.0; }

 private:
  std::atomic<bool> stop_{false};
  std::atomic<int64_t> worst_us_{0};
  std::thread thread_;
};

// Enqueues, leases and completes `n` jobs of `queue` (batches of 500).
void FinishBatch(Engine& engine, const std::string& queue, int n) {
  std::vector<EnqueueRequest> reqs(n, EnqueueRequest{queue, "t", std::string(100, 'x'), ""});
  if (!engine.EnqueueBatch(std::move(reqs)).ok()) std::abort();
  int left = n;
  while (left > 0) {
    auto leased = engine.Lease({.queue = queue, .max_jobs = std::min(left, 500)});
    if (!leased.ok()) std::abort();
    std::vector<CompleteRequest> done;
    for (const LeasedJob& j : *leased) done.push_back({j.id, j.token, "", {}});
    left -= static_cast<int>(done.size());
    if (!engine.CompleteBatch(std::move(done)).ok()) std::abort();
  }
}

void RunRetention(const std::string& dir, int rate, int seconds, int every, int threads) {
  auto engine = OpenEngine(dir);
  QueueSettings s;
  s.completed_retention = Millis(1000);
  const int queues = threads;
  for (int q = 0; q < queues; ++q) {
    if (!engine->UpdateQueue("q" + std::to_string(q), s).ok()) std::abort();
  }
  HoldProbe probe(engine.get());
  std::atomic<bool> stop{false};
  std::atomic<int64_t> finished{0};
  std::vector<std::thread> workers;
  const int per_thread_rate = std::max(1, rate / threads);
  const int batch = 500;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      const std::string queue = "q" + std::to_string(t);
      auto start = SteadyClock::now();
      int64_t mine = 0;
      while (!stop.load()) {
        FinishBatch(*engine, queue, batch);
        mine += batch;
        finished += batch;
        // Pace to the rate: sleep until this thread's schedule catches up.
        auto due = start + std::chrono::microseconds(mine * 1000000 / per_thread_rate);
        std::this_thread::sleep_until(due);
      }
    });
  }
  std::printf("retention: %d jobs/s offered over %d queues, completed_retention 1 s, %d s\n", rate,
              queues, seconds);
  std::printf("%6s %12s %14s %12s %12s %14s\n", "t(s)", "finished/s", "stored_done", "swept_keys",
              "largest_pass", "worst_hold_ms");
  auto start = SteadyClock::now();
  int64_t last_finished = 0;
  for (int t = every; t <= seconds; t += every) {
    std::this_thread::sleep_until(start + std::chrono::seconds(t));
    int64_t stored = 0;
    for (int q = 0; q < queues; ++q) stored += engine->GetQueue("q" + std::to_string(q))->completed;
    EngineStats st = engine->Stats();
    int64_t now_finished = finished.load();
    std::printf("%6d %12.0f %14lld %12llu %12llu %14.1f\n", t,
                static_cast<double>(now_finished - last_finished) / every,
                static_cast<long long>(stored),
                static_cast<unsigned long long>(st.sweeper_keys_deleted),
                static_cast<unsigned long long>(st.sweeper_largest_pass_keys), probe.TakeWorstMs());
    std::fflush(stdout);
    last_finished = now_finished;
  }
  stop = true;
  for (auto& w : workers) w.join();
}

// Loads `live` and `finished` jobs into `dir` (skipped when `load` is
// false: the directory of an earlier --keep run), then times a reopen.
void RunReopen(const std::string& dir, int live, int64_t finished, bool load) {
  if (load) {
    auto engine = OpenEngine(dir);
    QueueSettings s;
    s.completed_retention = Millis(30LL * 24 * 3600 * 1000);
    if (!engine->UpdateQueue("done", s).ok()) std::abort();
    auto start = SteadyClock::now();
    std::vector<std::thread> loaders;
    std::atomic<int64_t> left{finished};
    for (int t = 0; t < 4; ++t) {
      loaders.emplace_back([&] {
        while (true) {
          int64_t n = std::min<int64_t>(500, left.fetch_sub(500));
          if (n <= 0) break;
          FinishBatch(*engine, "done", static_cast<int>(n));
        }
      });
    }
    for (auto& l : loaders) l.join();
    std::printf("loaded %lld finished jobs in %.1f s\n", static_cast<long long>(finished),
                Seconds(start));
    start = SteadyClock::now();
    for (int sent = 0; sent < live; sent += 1000) {
      std::vector<EnqueueRequest> reqs(std::min(1000, live - sent),
                                       EnqueueRequest{"live", "t", std::string(100, 'x'), ""});
      if (!engine->EnqueueBatch(std::move(reqs)).ok()) std::abort();
    }
    std::printf("loaded %d live jobs in %.1f s\n", live, Seconds(start));
  }
  auto start = SteadyClock::now();
  auto engine = OpenEngine(dir);
  double reopen_s = Seconds(start);
  EngineStats st = engine->Stats();
  int64_t stored_finished = 0;
  for (const char* queue : {"done", "live"}) {
    auto q = engine->GetQueue(queue);
    if (q.ok()) stored_finished += q->completed + q->cancelled + q->dead;
  }
  std::printf("reopen with %llu live and %lld finished jobs: %.2f s (job records parsed: %llu)\n",
              static_cast<unsigned long long>(st.live_jobs),
              static_cast<long long>(stored_finished), reopen_s,
              static_cast<unsigned long long>(st.recovered_job_records));
  // The first sweeper passes after open visit every queue with finished
  // jobs once; the probe shows what they cost.
  HoldProbe probe(engine.get());
  std::this_thread::sleep_for(std::chrono::seconds(3));
  std::printf("worst sequencer hold in the 3 s after reopen: %.1f ms\n", probe.TakeWorstMs());
}

}  // namespace
}  // namespace ratchet::bench

int main(int argc, char** argv) {
  CLI::App app{"Ratchet scale benchmark (prints figures; not a test)"};
  std::string mode = "retention";
  std::string dir = "/var/tmp/ratchet-scale-bench";
  int rate = 20000, seconds = 300, every = 30, threads = 4, live = 1000000;
  int64_t finished = 10000000;
  app.add_option("--mode", mode, "retention or reopen")
      ->check(CLI::IsMember({"retention", "reopen"}));
  app.add_option("--dir", dir, "scratch directory (deleted first)");
  app.add_option("--rate", rate, "retention: jobs finished per second, offered");
  app.add_option("--seconds", seconds, "retention: run time");
  app.add_option("--every", every, "retention: seconds between printed lines");
  app.add_option("--threads", threads, "retention: driver threads (one queue each)");
  app.add_option("--live", live, "reopen: live jobs");
  app.add_option("--finished", finished, "reopen: finished jobs within retention");
  bool keep = false, reopen_only = false;
  app.add_flag("--keep", keep, "leave the data directory in place at the end");
  app.add_flag("--reopen-only", reopen_only,
               "reopen: time a reopen of the directory an earlier --keep run left (no load), "
               "so the load can run while the machine is busy and the reopen while it is not");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);
  if (!reopen_only) std::filesystem::remove_all(dir);
  if (mode == "retention") {
    ratchet::bench::RunRetention(dir, rate, seconds, every, threads);
  } else {
    ratchet::bench::RunReopen(dir, live, finished, !reopen_only);
  }
  if (!keep) std::filesystem::remove_all(dir);
  return 0;
}
