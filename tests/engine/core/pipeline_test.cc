// The sequencer applies group N+1 while group N is being written. These
// tests use small groups so operations read through in-flight batches.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include "engine_harness.h"
#include "fault_injection_fs.h"
#include "ratchet/engine/engine.h"

namespace ratchet {
namespace {

using testing::EngineHarness;

void SmallGroups(EngineOptions& o) { o.max_group_ops = 16; }

TEST(PipelineTest, OperationsSeeEveryEarlierOperationAcrossGroups) {
  // A slow disk keeps each group in flight while the next one is applied,
  // so the lease must read records from a batch that is not yet written.
  auto fs = std::make_shared<testing::FaultInjectionFs>();
  EngineHarness h(true, 1, [&](EngineOptions& o) {
    SmallGroups(o);
    o.file_system = fs;
  });
  fs->SetSyncDelayMs(20);
  constexpr int kJobs = 200;
  std::atomic<int> enqueued{0};
  for (int i = 0; i < kJobs; ++i) {
    h->EnqueueAsync({"q", "t", "p" + std::to_string(i), ""}, [&](absl::StatusOr<EnqueueResult> r) {
      ASSERT_TRUE(r.ok());
      enqueued++;
    });
  }
  // Submitted after all enqueues without waiting for them: applied after
  // them, so it must see every one, though most are still in flight.
  std::promise<absl::StatusOr<std::vector<LeasedJob>>> leased;
  h->LeaseAsync({"q", kJobs, Millis(60000), "w"},
                [&](absl::StatusOr<std::vector<LeasedJob>> r) { leased.set_value(r); });
  auto jobs = leased.get_future().get();
  ASSERT_TRUE(jobs.ok()) << jobs.status();
  EXPECT_EQ(enqueued.load(), kJobs) << "lease acknowledged before earlier enqueues";
  ASSERT_EQ(jobs->size(), static_cast<size_t>(kJobs));
  for (int i = 0; i < kJobs; ++i) EXPECT_EQ((*jobs)[i].payload, "p" + std::to_string(i));
}

TEST(PipelineTest, ConcurrentWorkersCompleteEveryJobExactlyOnce) {
  EngineHarness h(true, 1, SmallGroups);
  constexpr int kThreads = 4, kPerThread = 300;
  std::vector<std::thread> threads;
  std::mutex mu;
  std::set<JobId> completed;
  std::set<FencingToken> tokens;
  std::atomic<int> rejected{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string key = std::to_string(t) + "-" + std::to_string(i);
        ASSERT_TRUE(h->Enqueue({"q", "t", key, key}).ok());
        auto leased = h->Lease({"q", 2, Millis(60000), "w" + std::to_string(t)});
        ASSERT_TRUE(leased.ok());
        for (const LeasedJob& job : *leased) {
          absl::Status s = h->Complete({job.id, job.token, "", {}});
          std::lock_guard<std::mutex> lock(mu);
          if (!s.ok()) rejected++;
          EXPECT_TRUE(completed.insert(job.id).second) << "job " << job.id << " leased twice";
          EXPECT_TRUE(tokens.insert(job.token).second) << "token " << job.token << " reissued";
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  // Drain what is left.
  while (true) {
    auto leased = h->Lease({"q", 100, Millis(60000), "drain"});
    ASSERT_TRUE(leased.ok());
    if (leased->empty()) break;
    for (const LeasedJob& job : *leased) {
      ASSERT_TRUE(h->Complete({job.id, job.token, "", {}}).ok());
      EXPECT_TRUE(completed.insert(job.id).second);
    }
  }
  EXPECT_EQ(rejected.load(), 0);
  EXPECT_EQ(completed.size(), static_cast<size_t>(kThreads * kPerThread));
  h.Reopen();
  auto done = h->List({"q", JobState::kCompleted, 1000, ""});
  size_t total = done->jobs.size();
  while (!done->next_cursor.empty()) {
    done = h->List({"q", JobState::kCompleted, 1000, done->next_cursor});
    total += done->jobs.size();
  }
  EXPECT_EQ(total, static_cast<size_t>(kThreads * kPerThread));
}

}  // namespace
}  // namespace ratchet
