// The engine's Prometheus metrics (EngineOptions::metrics_registry;
// docs/operations.md, "Metrics"): job events per queue, counted only for
// operations that stood; gauges from the engine's state; the series cap.
#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <memory>
#include <optional>

#include "engine_harness.h"
#include "fault_injection_fs.h"
#include "prometheus/registry.h"
#include "ratchet/engine/engine.h"

namespace ratchet {
namespace {

using testing::EngineHarness;
using testing::kStartMs;

using Labels = std::map<std::string, std::string>;

// The value of the series `name` with exactly `labels` (counter, gauge, or
// a histogram's sample count), or nullopt if there is none.
std::optional<double> Value(prometheus::Registry& r, const std::string& name,
                            const Labels& labels = {}) {
  for (const prometheus::MetricFamily& f : r.Collect()) {
    if (f.name != name) continue;
    for (const prometheus::ClientMetric& m : f.metric) {
      Labels got;
      for (const auto& l : m.label) got[l.name] = l.value;
      if (got != labels) continue;
      switch (f.type) {
        case prometheus::MetricType::Counter:
          return m.counter.value;
        case prometheus::MetricType::Gauge:
          return m.gauge.value;
        case prometheus::MetricType::Histogram:
          return static_cast<double>(m.histogram.sample_count);
        default:
          return std::nullopt;
      }
    }
  }
  return std::nullopt;
}

double Events(prometheus::Registry& r, const std::string& queue, const std::string& event) {
  return Value(r, "ratchet_job_events_total", {{"queue", queue}, {"event", event}}).value_or(-1);
}

struct MetricsHarness {
  std::shared_ptr<prometheus::Registry> registry = std::make_shared<prometheus::Registry>();
  EngineHarness h;
  explicit MetricsHarness(int max_queues = 500)
      : h(true, 42, [this, max_queues](EngineOptions& o) {
          o.metrics_registry = registry;
          o.metrics_max_queues = max_queues;
        }) {}
  JobId Enqueue(const std::string& queue, int max_attempts = 3, const std::string& key = "") {
    EnqueueRequest r;
    r.queue = queue;
    r.job_type = "t";
    r.max_attempts = max_attempts;
    r.idempotency_key = key;
    r.retry_policy = RetryPolicy{Millis(1000), Millis(1000), 1.0, JitterMode::kNone};
    auto res = h->Enqueue(r);
    EXPECT_TRUE(res.ok()) << res.status();
    return res.ok() ? res->id : 0;
  }
  LeasedJob Lease(const std::string& queue) {
    auto r = h->Lease(LeaseRequest{queue, 1, Millis(30000), "w"});
    EXPECT_TRUE(r.ok() && r->size() == 1u);
    return r.ok() && !r->empty() ? r->front() : LeasedJob{};
  }
};

TEST(EngineMetricsTest, JobEventsAreCountedPerQueue) {
  MetricsHarness m;
  prometheus::Registry& r = *m.registry;
  m.Enqueue("a", 3, "k1");
  m.Enqueue("a", 3, "k1");  // a duplicate: not a new job
  m.Enqueue("a", 1);
  m.Enqueue("a", 3);
  m.Enqueue("b");
  EXPECT_EQ(Events(r, "a", "enqueued"), 3);
  EXPECT_EQ(Events(r, "b", "enqueued"), 1);

  LeasedJob first = m.Lease("a");
  m.h.clock().Advance(Millis(250));
  ASSERT_TRUE(m.h->Complete({first.id, first.token, "", {}}).ok());
  LeasedJob second = m.Lease("a");  // max_attempts 1: a failure dead-letters it
  ASSERT_TRUE(m.h->Fail({second.id, second.token, "boom", true}).ok());
  LeasedJob third = m.Lease("a");  // retried
  ASSERT_TRUE(m.h->Fail({third.id, third.token, "boom", true}).ok());
  ASSERT_TRUE(m.h->Cancel(third.id).ok());
  EXPECT_EQ(Events(r, "a", "leased"), 3);
  EXPECT_EQ(Events(r, "a", "completed"), 1);
  EXPECT_EQ(Events(r, "a", "failed"), 2);
  EXPECT_EQ(Events(r, "a", "retried"), 1);
  EXPECT_EQ(Events(r, "a", "dead_lettered"), 1);
  EXPECT_EQ(Events(r, "a", "cancelled"), 1);
  EXPECT_EQ(Events(r, "b", "leased"), 0);
  // One start latency per lease; one run duration per ended attempt.
  EXPECT_EQ(Value(r, "ratchet_job_start_latency_seconds"), 3);
  EXPECT_EQ(Value(r, "ratchet_job_run_duration_seconds"), 3);
  EXPECT_EQ(Value(r, "ratchet_lease_wait_seconds"), 3);
  EXPECT_GT(Value(r, "ratchet_commit_duration_seconds").value_or(0), 0);
  EXPECT_GT(Value(r, "ratchet_group_commit_operations").value_or(0), 0);
  EXPECT_GT(Value(r, "ratchet_sequencer_hold_seconds").value_or(0), 0);
}

TEST(EngineMetricsTest, ExpiredJobsCountAsExpiredNotCancelled) {
  MetricsHarness m;
  EnqueueRequest req;
  req.queue = "q";
  req.job_type = "t";
  req.expires_at = FromUnixMs(kStartMs + 100);
  ASSERT_TRUE(m.h->Enqueue(req).ok());
  m.h.clock().Advance(Millis(200));
  ASSERT_TRUE(m.h->RunMaintenance().ok());
  EXPECT_EQ(Events(*m.registry, "q", "expired"), 1);
  EXPECT_EQ(Events(*m.registry, "q", "cancelled"), 0);
}

TEST(EngineMetricsTest, RejectedOperationsCountNothing) {
  MetricsHarness m;
  m.Enqueue("q");
  LeasedJob job = m.Lease("q");
  EXPECT_FALSE(m.h->Complete({job.id, job.token + 1, "", {}}).ok());  // stale token
  EnqueueRequest bad;
  bad.queue = "q";
  bad.job_type = "";  // rejected
  EXPECT_FALSE(m.h->Enqueue(bad).ok());
  EXPECT_EQ(Events(*m.registry, "q", "completed"), 0);
  EXPECT_EQ(Events(*m.registry, "q", "enqueued"), 1);
  EXPECT_EQ(Value(*m.registry, "ratchet_job_run_duration_seconds"), 0);
}

// A Lease that counted its first job and then failed on the second (a read
// error) is rolled back: its events are dropped with it.
TEST(EngineMetricsTest, ARolledBackOperationCountsNothing) {
  auto registry = std::make_shared<prometheus::Registry>();
  auto armed = std::make_shared<std::atomic<int>>(-1);  // reads of "jobs" left before the fault
  EngineHarness h(true, 42, [&](EngineOptions& o) {
    o.metrics_registry = registry;
    o.record_cache_bytes = 0;  // every Load reads the store
    o.read_fault = [armed](std::string_view cf, std::string_view) -> absl::Status {
      if (cf == "jobs" && armed->load() >= 0 && armed->fetch_sub(1) == 0) {
        return absl::UnavailableError("injected read fault");
      }
      return absl::OkStatus();
    };
  });
  for (int i = 0; i < 2; ++i) {
    EnqueueRequest r;
    r.queue = "q";
    r.job_type = "t";
    ASSERT_TRUE(h->Enqueue(r).ok());
  }
  // Two more groups, so that both jobs are read from the store, not from
  // the previous group's batch.
  for (int i = 0; i < 2; ++i) {
    EnqueueRequest other;
    other.queue = "other";
    other.job_type = "t";
    ASSERT_TRUE(h->Enqueue(other).ok());
  }
  armed->store(1);  // the first job's read passes, the second's fails
  auto leased = h->Lease(LeaseRequest{"q", 2, Millis(30000), "w"});
  ASSERT_FALSE(leased.ok());
  EXPECT_EQ(Events(*registry, "q", "leased"), 0);
  EXPECT_EQ(Value(*registry, "ratchet_job_start_latency_seconds"), 0);
  armed->store(-1);
  auto again = h->Lease(LeaseRequest{"q", 2, Millis(30000), "w"});
  ASSERT_TRUE(again.ok()) << again.status();
  EXPECT_EQ(again->size(), 2u);
  EXPECT_EQ(Events(*registry, "q", "leased"), 2);
}

TEST(EngineMetricsTest, GaugesFollowTheQueuesAfterASecond) {
  MetricsHarness m;
  prometheus::Registry& r = *m.registry;
  m.Enqueue("q");
  m.Enqueue("q");
  m.Enqueue("q");
  m.Lease("q");
  m.h.clock().Advance(Millis(2500));
  ASSERT_TRUE(m.h->RunMaintenance().ok());  // a group at the new time refreshes
  EXPECT_EQ(Value(r, "ratchet_jobs", {{"queue", "q"}, {"state", "available"}}), 2);
  EXPECT_EQ(Value(r, "ratchet_jobs", {{"queue", "q"}, {"state", "running"}}), 1);
  EXPECT_EQ(Value(r, "ratchet_jobs", {{"queue", "q"}, {"state", "scheduled"}}), 0);
  EXPECT_EQ(Value(r, "ratchet_live_jobs"), 3);
  // The oldest available job has waited since the enqueue, 2.5 s ago, even
  // behind a newer job of a better priority that leases first.
  EnqueueRequest urgent;
  urgent.queue = "q";
  urgent.job_type = "t";
  urgent.priority = 0;
  ASSERT_TRUE(m.h->Enqueue(urgent).ok());
  m.h.clock().Advance(Millis(1000));
  ASSERT_TRUE(m.h->RunMaintenance().ok());
  EXPECT_DOUBLE_EQ(
      Value(r, "ratchet_queue_oldest_available_age_seconds", {{"queue", "q"}}).value_or(-1), 3.5);
  // A paused queue's backlog is intended: 0.
  ASSERT_TRUE(m.h->PauseQueue("q").ok());
  m.h.clock().Advance(Millis(1000));
  ASSERT_TRUE(m.h->RunMaintenance().ok());
  EXPECT_EQ(Value(r, "ratchet_queue_oldest_available_age_seconds", {{"queue", "q"}}), 0);
  EXPECT_TRUE(Value(r, "ratchet_rocksdb_memtable_bytes").has_value());
}

TEST(EngineMetricsTest, QueuesPastTheCapShareOneSeries) {
  MetricsHarness m(/*max_queues=*/2);
  prometheus::Registry& r = *m.registry;
  m.Enqueue("a");
  m.Enqueue("b");
  m.Enqueue("c");
  m.Enqueue("d");
  EXPECT_EQ(Events(r, "a", "enqueued"), 1);
  EXPECT_EQ(Events(r, "b", "enqueued"), 1);
  EXPECT_EQ(Events(r, "~other", "enqueued"), 2);
  EXPECT_EQ(Events(r, "c", "enqueued"), -1) << "no series of its own";
  m.h.clock().Advance(Millis(1500));
  ASSERT_TRUE(m.h->RunMaintenance().ok());
  EXPECT_EQ(Value(r, "ratchet_metrics_queues_over_cap"), 2);
  EXPECT_FALSE(Value(r, "ratchet_jobs", {{"queue", "~other"}, {"state", "available"}}));
  EXPECT_FALSE(Value(r, "ratchet_jobs", {{"queue", "c"}, {"state", "available"}}));
}

// A failed synced write shows as ratchet_storage_failed 1 (the alert
// RatchetStorageFailed in deploy/prometheus).
TEST(EngineMetricsTest, AFailedWriteSetsStorageFailed) {
  auto fs = std::make_shared<testing::FaultInjectionFs>();
  auto registry = std::make_shared<prometheus::Registry>();
  EngineHarness h(true, 42, [&](EngineOptions& o) {
    o.metrics_registry = registry;
    o.file_system = fs;
  });
  EnqueueRequest r;
  r.queue = "q";
  r.job_type = "t";
  ASSERT_TRUE(h->Enqueue(r).ok());
  EXPECT_EQ(Value(*registry, "ratchet_storage_failed"), 0);
  fs->SetWalFault(testing::WalFault::kSyncIoError);
  EXPECT_FALSE(h->Enqueue(r).ok());
  EXPECT_EQ(Value(*registry, "ratchet_storage_failed"), 1);
  fs->SetWalFault(testing::WalFault::kNone);
  h.Close();
}

// A refresh covers at most 1,000 queues; the next ones continue by name
// and wrap around, so every queue's gauges are kept, a refresh at a time.
TEST(EngineMetricsTest, RefreshesWalkEveryQueueAThousandAtATime) {
  MetricsHarness m(/*max_queues=*/5000);
  prometheus::Registry& r = *m.registry;
  std::vector<EnqueueRequest> jobs;
  for (int i = 0; i < 2500; ++i) {
    EnqueueRequest req;
    req.queue = "q" + std::to_string(10000 + i);
    req.job_type = "t";
    jobs.push_back(req);
  }
  ASSERT_TRUE(m.h->EnqueueBatch(jobs).ok());
  // ratchet_jobs{state="available"} per queue, from one Collect.
  auto available = [&r] {
    std::map<std::string, double> out;
    for (const prometheus::MetricFamily& f : r.Collect()) {
      if (f.name != "ratchet_jobs") continue;
      for (const prometheus::ClientMetric& m : f.metric) {
        Labels l;
        for (const auto& label : m.label) l[label.name] = label.value;
        if (l["state"] == "available") out[l["queue"]] = m.gauge.value;
      }
    }
    return out;
  };
  int refreshed_once = 0;
  for (int round = 0; round < 3; ++round) {
    m.h.clock().Advance(Millis(1500));
    ASSERT_TRUE(m.h->RunMaintenance().ok());
    if (round == 0) {
      for (const auto& [queue, n] : available()) refreshed_once += n == 1 ? 1 : 0;
    }
  }
  EXPECT_GT(refreshed_once, 0);
  EXPECT_LE(refreshed_once, 1000) << "one refresh visits at most 1,000 queues";
  const std::map<std::string, double> after = available();
  ASSERT_EQ(after.size(), 2500u);
  for (const auto& [queue, n] : after) EXPECT_EQ(n, 1) << queue;
}

TEST(EngineMetricsTest, ZeroQueueSeriesIsRefused) {
  EngineOptions o;
  o.data_dir = "/nonexistent-never-created";
  o.metrics_max_queues = 0;
  auto e = Engine::Open(o);
  ASSERT_FALSE(e.ok());
  EXPECT_EQ(e.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(e.status().message().find("metrics_max_queues"), std::string::npos);
}

}  // namespace
}  // namespace ratchet
