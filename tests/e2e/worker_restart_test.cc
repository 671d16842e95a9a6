// A Worker rides through ratchetd restarts: jobs are enqueued, a Worker
// runs them, and ratchetd is stopped (once by SIGTERM, once by SIGKILL),
// left down for a while and restarted on the same data directory and port.
// The Worker keeps running across each outage, reports the outcome of every
// job it ran (retrying Complete until the lease's deadline), and resumes
// leasing when the server is back:
//   - every job ends COMPLETED: none lost, none dead-lettered;
//   - no outcome the Worker produced was dropped (report_errors == 0);
//   - the Worker completed jobs after each restart.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "ratchet/api/time_codec.h"
#include "ratchet/client/client.h"
#include "ratchet/client/worker.h"
#include "ratchetd_process.h"
#include "temp_dir.h"

namespace ratchet::testing {
namespace {

constexpr int kJobs = 300;
constexpr char kQueue[] = "restart";

void EnqueueAll(Client& client) {
  std::vector<v1::JobSpec> jobs;
  for (int i = 0; i < kJobs; ++i) {
    v1::JobSpec job;
    job.set_queue(kQueue);
    job.set_job_type("sleep");
    job.set_payload("job-" + std::to_string(i));
    job.set_idempotency_key("key-" + std::to_string(i));
    jobs.push_back(std::move(job));
  }
  auto r = client.EnqueueBatch(std::move(jobs));
  ASSERT_TRUE(r.ok()) << r.status();
}

// Waits (up to `limit`) until the worker has completed more than `n` jobs.
bool AwaitCompletedAbove(const Worker& worker, uint64_t n, Millis limit) {
  auto end = std::chrono::steady_clock::now() + limit;
  while (worker.stats().completed <= n) {
    if (std::chrono::steady_clock::now() > end) return false;
    std::this_thread::sleep_for(Millis(10));
  }
  return true;
}

TEST(WorkerRestartTest, EveryJobCompletesAcrossServerRestarts) {
  TempDir dir;
  const int port = FreePort();
  RatchetdProcess server(RATCHETD_PATH, dir.Sub("data"), port, {"--shutdown-grace-ms", "200"});
  ASSERT_TRUE(server.Start()) << "see " << server.log_path();
  auto client = Client::Connect({.target = "127.0.0.1:" + std::to_string(port)});
  ASSERT_TRUE(client.ok()) << client.status();
  EnqueueAll(**client);

  Worker worker(client->get(), {.queue = kQueue,
                                .worker_id = "restart-worker",
                                .concurrency = 8,
                                .lease_wait = Millis(200),
                                .visibility_timeout = Millis(6000)});
  std::atomic<int> runs{0};
  worker.Register("sleep", [&](JobContext& job) {
    runs++;
    std::this_thread::sleep_for(Millis(40));
    return HandlerResult::Success("done:" + job.payload());
  });
  ASSERT_TRUE(worker.Start().ok());

  const int kSignals[] = {SIGTERM, SIGKILL};
  for (int signal : kSignals) {
    // Stop mid-run, with handlers in flight, and stay down long enough that
    // their completions cannot simply be retried through the gap.
    uint64_t before = worker.stats().completed;
    ASSERT_TRUE(AwaitCompletedAbove(worker, before + 30, Millis(10000)))
        << "the worker stalled: " << worker.stats().last_stream_error << " ("
        << worker.stats().stream_restarts << " stream restarts, " << worker.stats().completed
        << " completed)";
    server.Stop(signal);
    std::this_thread::sleep_for(Millis(1500));
    ASSERT_TRUE(server.Start()) << "restart after signal " << signal << "; see "
                                << server.log_path();
    uint64_t at_restart = worker.stats().completed;
    ASSERT_LT(at_restart, static_cast<uint64_t>(kJobs)) << "the run ended before the restart";
    EXPECT_TRUE(AwaitCompletedAbove(worker, at_restart, Millis(10000)))
        << "the worker did not resume after signal " << signal << ": "
        << worker.stats().last_stream_error << " (" << worker.stats().stream_restarts
        << " stream restarts)";
  }

  // Drain: every job completed (those whose Lease answer was lost in the
  // SIGKILL come back after their visibility timeout).
  bool drained = false;
  v1::QueueInfo q;
  for (int i = 0; i < 200 && !drained; ++i) {
    auto info = (*client)->GetQueue(kQueue);
    if (info.ok()) q = *info;
    drained = info.ok() && q.completed() == kJobs;
    if (!drained) std::this_thread::sleep_for(Millis(100));
  }
  worker.Stop();
  EXPECT_TRUE(drained) << "completed " << q.completed() << " of " << kJobs;
  EXPECT_EQ(q.dead(), 0);
  EXPECT_EQ(q.scheduled() + q.available() + q.running(), 0);
  WorkerStats stats = worker.stats();
  EXPECT_EQ(stats.report_errors, 0u) << "outcomes dropped during the outages";
  EXPECT_EQ(stats.failed, 0u);
  EXPECT_GE(stats.completed, static_cast<uint64_t>(kJobs));
  std::printf("worker_restart: %d handler runs, %llu completed, %llu lease_lost\n", runs.load(),
              static_cast<unsigned long long>(stats.completed),
              static_cast<unsigned long long>(stats.lease_lost));
  server.Stop(SIGTERM);
}

}  // namespace
}  // namespace ratchet::testing
