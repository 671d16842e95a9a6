// Embedded engine benchmark. Prints figures; it is not a test.
//
//   1. end-to-end jobs/s (enqueue -> lease -> complete, 100-byte payloads,
//      synced group commit), one job per call (async, many in flight) and
//      batched;
//   2. the raw RocksDB limit on the same disk in the same run: synced single
//      Puts, and synced WriteBatches of the engine's average group-commit size;
//   3. time to reopen with N live jobs (default 1,000,000) and resident
//      memory per live job beyond RocksDB's own memory;
//   4. flow control's cost (issue 12): the batched run again with every job
//      carrying one of --keys distinct concurrency keys (10,000 by default)
//      under a per-key limit of 1, as a ratio of the unkeyed run.
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "CLI/CLI.hpp"
#include "bench_engine.h"
#include "ratchet/engine/engine.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "spdlog/spdlog.h"

namespace ratchet::bench {
namespace {

using Clock = std::chrono::steady_clock;

double Seconds(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

uint64_t RssBytes() {
  std::ifstream statm("/proc/self/statm");
  uint64_t size = 0, resident = 0;
  statm >> size >> resident;
  return resident * static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
}

// Bounds the number of async calls in flight.
class Window {
 public:
  explicit Window(int size) : free_(size) {}
  void Acquire() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return free_ > 0; });
    --free_;
  }
  void Release() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++free_;
    }
    cv_.notify_one();
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int free_;
};

std::unique_ptr<Engine> OpenEngine(const std::string& dir) {
  EngineOptions options;
  options.data_dir = dir;
  return OpenEngineOrExit(options);
}

// A job of `queue`; with keys > 0, the concurrency key "k<n % keys>".
EnqueueRequest Job(const std::string& queue, int keys = 0, int n = 0) {
  EnqueueRequest request{queue, "bench", std::string(100, 'x'), ""};
  if (keys > 0) request.concurrency_key = "k" + std::to_string(n % keys);
  return request;
}

struct E2eResult {
  double jobs_per_s = 0;
  double ops_per_commit = 0;
  double entries_per_commit = 0;
  double bytes_per_commit = 0;
  double bytes_per_job = 0;
  double commit_share = 0;  // fraction of wall time the sequencer spent in synced writes
};

// Producer and consumer run concurrently; `batch` jobs per enqueue and per
// lease call (1 = single operations), up to `window` calls in flight each.
// With keys > 0 the queue has a per-key limit of 1 and job n carries key
// n % keys.
E2eResult RunEndToEnd(const std::string& dir, int jobs, int batch, int window, int keys = 0) {
  auto engine = OpenEngine(dir);
  if (keys > 0) {
    QueueSettingsUpdate update;
    update.key_concurrency_limit = 1;
    if (!engine->UpdateQueue("bench", update).ok()) std::abort();
  }
  EngineStats before = engine->Stats();
  std::atomic<int> completed{0};
  auto start = Clock::now();

  std::thread producer([&] {
    Window w(window);
    for (int sent = 0; sent < jobs; sent += batch) {
      w.Acquire();
      int n = std::min(batch, jobs - sent);
      if (n == 1) {
        engine->EnqueueAsync(Job("bench", keys, sent), [&](absl::StatusOr<EnqueueResult> r) {
          if (!r.ok()) std::abort();
          w.Release();
        });
      } else {
        std::vector<EnqueueRequest> reqs;
        for (int i = 0; i < n; ++i) reqs.push_back(Job("bench", keys, sent + i));
        engine->EnqueueBatchAsync(std::move(reqs),
                                  [&](absl::StatusOr<std::vector<EnqueueResult>> r) {
                                    if (!r.ok()) std::abort();
                                    w.Release();
                                  });
      }
    }
    for (int i = 0; i < window; ++i) w.Acquire();
  });

  Window w(window);
  std::atomic<int> leased{0};
  std::atomic<bool> starved{false};
  while (leased.load() < jobs) {
    w.Acquire();
    // Callbacks run on the engine's sequencer and must not block; back off
    // here, on the client thread, when leases come back empty.
    if (starved.exchange(false)) std::this_thread::sleep_for(std::chrono::microseconds(200));
    engine->LeaseAsync(
        {"bench", batch, Millis(60000), "bench"}, [&](absl::StatusOr<std::vector<LeasedJob>> r) {
          if (!r.ok()) std::abort();
          leased.fetch_add(static_cast<int>(r->size()));
          if (batch == 1) {
            for (const LeasedJob& job : *r) {
              engine->CompleteAsync({job.id, job.token, "", {}}, [&](absl::Status s) {
                if (!s.ok()) std::abort();
                completed.fetch_add(1);
              });
            }
          } else if (!r->empty()) {
            std::vector<CompleteRequest> done;
            for (const LeasedJob& job : *r) done.push_back({job.id, job.token, "", {}});
            engine->CompleteBatchAsync(std::move(done),
                                       [&](absl::StatusOr<std::vector<absl::Status>> s) {
                                         if (!s.ok()) std::abort();
                                         for (const auto& item : *s) {
                                           if (!item.ok()) std::abort();
                                         }
                                         completed.fetch_add(static_cast<int>(s->size()));
                                       });
          }
          if (r->empty()) starved.store(true);
          w.Release();
        });
  }
  producer.join();
  while (completed.load() < jobs) std::this_thread::sleep_for(std::chrono::microseconds(100));
  double elapsed = Seconds(start);
  EngineStats after = engine->Stats();
  E2eResult r;
  r.jobs_per_s = jobs / elapsed;
  double commits = static_cast<double>(after.commits - before.commits);
  r.ops_per_commit = (after.operations - before.operations) / commits;
  r.entries_per_commit = (after.entries - before.entries) / commits;
  r.bytes_per_commit = (after.bytes - before.bytes) / commits;
  r.bytes_per_job = static_cast<double>(after.bytes - before.bytes) / jobs;
  r.commit_share = (after.commit_micros - before.commit_micros) / 1e6 / elapsed;
  return r;
}

// Raw RocksDB on the same disk: synced Puts and synced WriteBatches.
void RunRawRocksDb(const std::string& dir, const E2eResult& single, const E2eResult& batched) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(options, dir, &raw).ok()) std::exit(1);
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteOptions synced;
  synced.sync = true;
  std::string value(100, 'x');

  const int puts = 2000;
  auto start = Clock::now();
  for (int i = 0; i < puts; ++i) {
    if (!db->Put(synced, "put" + std::to_string(i), value).ok()) std::exit(1);
  }
  double put_rate = puts / Seconds(start);
  std::printf("raw RocksDB synced single Put (100 B):        %10.0f puts/s\n", put_rate);

  for (const auto* e2e : {&single, &batched}) {
    // Same entry count and bytes per batch as the engine's group commits.
    int entries = std::max(1, static_cast<int>(e2e->entries_per_commit));
    int entry_bytes = std::max(1, static_cast<int>(e2e->bytes_per_commit / entries));
    std::string v(entry_bytes, 'y');
    const double budget_s = 3.0;
    int batches = 0;
    double bytes = 0;
    start = Clock::now();
    while (Seconds(start) < budget_s) {
      rocksdb::WriteBatch wb;
      for (int i = 0; i < entries; ++i) {
        wb.Put("wb" + std::to_string(batches) + "-" + std::to_string(i), v);
      }
      bytes += wb.GetDataSize();
      if (!db->Write(synced, &wb).ok()) std::exit(1);
      ++batches;
    }
    double elapsed = Seconds(start);
    double ceiling_jobs = bytes / elapsed / e2e->bytes_per_job;
    std::printf(
        "raw RocksDB synced WriteBatch (%5d x %4d B): %10.0f batches/s = %7.1f MB/s "
        "= %9.0f jobs/s ceiling; engine reaches %.2f of it\n",
        entries, entry_bytes, batches / elapsed, bytes / elapsed / 1e6, ceiling_jobs,
        e2e->jobs_per_s / ceiling_jobs);
  }
}

void RunReopen(const std::string& dir, int live_jobs) {
  {
    auto engine = OpenEngine(dir);
    Window w(8);
    auto start = Clock::now();
    for (int sent = 0; sent < live_jobs; sent += 1000) {
      w.Acquire();
      std::vector<EnqueueRequest> reqs(std::min(1000, live_jobs - sent), Job("live"));
      engine->EnqueueBatchAsync(std::move(reqs), [&](absl::StatusOr<std::vector<EnqueueResult>> r) {
        if (!r.ok()) std::abort();
        w.Release();
      });
    }
    for (int i = 0; i < 8; ++i) w.Acquire();
    std::printf("loaded %d live jobs in %.1f s\n", live_jobs, Seconds(start));
  }
  uint64_t rss_before = RssBytes();
  auto start = Clock::now();
  auto engine = OpenEngine(dir);
  double reopen_s = Seconds(start);
  EngineStats stats = engine->Stats();
  uint64_t rss_after = RssBytes();
  double beyond =
      static_cast<double>(rss_after - rss_before) - static_cast<double>(stats.rocksdb_memory_bytes);
  std::printf("reopen with %llu live jobs:                   %10.2f s\n",
              static_cast<unsigned long long>(stats.live_jobs), reopen_s);
  std::printf(
      "resident memory: +%.1f MB after open, RocksDB holds %.1f MB; "
      "%.0f bytes per live job beyond RocksDB\n",
      (rss_after - rss_before) / 1e6, stats.rocksdb_memory_bytes / 1e6,
      beyond / static_cast<double>(stats.live_jobs));
}

}  // namespace
}  // namespace ratchet::bench

int main(int argc, char** argv) {
  CLI::App app{"Ratchet embedded engine benchmark"};
  int jobs = 400000;
  int live_jobs = 1000000;
  std::string dir = "/var/tmp/ratchet-bench";
  app.add_option("--jobs", jobs, "jobs per end-to-end run");
  app.add_option("--live-jobs", live_jobs, "live jobs for the reopen figure");
  app.add_option("--dir", dir, "scratch directory on the disk to measure");
  bool profile_batched = false;
  int batch = 500, window = 8;
  app.add_option("--batch", batch, "jobs per call in the batched run");
  app.add_option("--window", window, "calls in flight per client in the batched run");
  app.add_flag("--profile-batched", profile_batched, "run only the batched end-to-end phase");
  int keys = 10000;
  app.add_option("--keys", keys,
                 "distinct concurrency keys (per-key limit 1) in the keyed runs; 0 skips them");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);

  using ratchet::bench::RunEndToEnd;
  if (profile_batched) {
    auto r = RunEndToEnd(dir + "/batched", jobs, batch, window);
    std::printf("batched: %.0f jobs/s, %.0f%% in synced writes\n", r.jobs_per_s,
                100 * r.commit_share);
    return 0;
  }
  auto single = RunEndToEnd(dir + "/single", jobs / 2, 1, 4096);
  std::printf(
      "embedded end-to-end, one job per call (async): %9.0f jobs/s  "
      "(%.0f ops, %.0f bytes per group commit; %.0f%% of time in synced writes)\n",
      single.jobs_per_s, single.ops_per_commit, single.bytes_per_commit, 100 * single.commit_share);
  auto batched = RunEndToEnd(dir + "/batched", jobs * 2, batch, window);
  std::printf(
      "embedded end-to-end, batches of %-4d:          %9.0f jobs/s  "
      "(%.0f ops, %.0f bytes per group commit; %.0f%% of time in synced writes)\n",
      batch, batched.jobs_per_s, batched.ops_per_commit, batched.bytes_per_commit,
      100 * batched.commit_share);
  if (keys > 0) {
    auto keyed = RunEndToEnd(dir + "/keyed", jobs * 2, batch, window, keys);
    std::printf(
        "embedded end-to-end, batches of %-4d, %d keys at a per-key limit of 1: %9.0f jobs/s "
        "= %.2f x unkeyed (target >= 0.80)\n",
        batch, keys, keyed.jobs_per_s, keyed.jobs_per_s / batched.jobs_per_s);
    auto keyed_single = RunEndToEnd(dir + "/keyed-single", jobs / 2, 1, 4096, keys);
    std::printf(
        "embedded end-to-end, one job per call, %d keys at a per-key limit of 1: %9.0f jobs/s "
        "= %.2f x unkeyed\n",
        keys, keyed_single.jobs_per_s, keyed_single.jobs_per_s / single.jobs_per_s);
  }
  ratchet::bench::RunRawRocksDb(dir + "/raw", single, batched);
  ratchet::bench::RunReopen(dir + "/reopen", live_jobs);
  std::filesystem::remove_all(dir);
  return 0;
}
