#include "engine_metrics.h"

#include <algorithm>
#include <limits>

#include "ratchet/base/saturating.h"

namespace ratchet::internal {

namespace {

using prometheus::Histogram;

constexpr std::array<const char*, kJobEventCount> kEventNames = {
    "enqueued", "leased",        "completed", "failed",
    "retried",  "dead_lettered", "expired",   "cancelled"};
constexpr std::array<const char*, 6> kStateNames = {"scheduled", "available", "running",
                                                    "completed", "cancelled", "dead"};

// Latencies from 1 ms to about 2 hours; run times and lags alike.
Histogram::BucketBoundaries SecondsBuckets() {
  return {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
          2.5,   5,      10,    30,   60,    300,  900, 3600, 7200};
}
// Sub-millisecond to a second: fsyncs and sequencer holds.
Histogram::BucketBoundaries FastBuckets() {
  return {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
          0.01,    0.025,  0.05,    0.1,    0.25,  0.5,    1};
}

Histogram& OneHistogram(prometheus::Registry& r, const std::string& name, const std::string& help,
                        Histogram::BucketBoundaries buckets) {
  return prometheus::BuildHistogram().Name(name).Help(help).Register(r).Add({}, std::move(buckets));
}

prometheus::Gauge& OneGauge(prometheus::Registry& r, const std::string& name,
                            const std::string& help) {
  return prometheus::BuildGauge().Name(name).Help(help).Register(r).Add({});
}

double Seconds(Millis m) { return static_cast<double>(m.count()) / 1000.0; }
double Seconds(std::chrono::microseconds us) { return static_cast<double>(us.count()) / 1e6; }

// How long the longest-waiting available job of `q` has been available.
// `ready` is in lease order (priority, then run_at): the first job of each
// priority is that priority's oldest, so the answer takes one jump per
// distinct priority (at most kMaxPriorityJumps; jobs behind more distinct
// priorities than that are not looked at).
int64_t OldestAvailableAgeMs(const QueueState& q, int64_t now_ms) {
  constexpr int kMaxPriorityJumps = 64;
  int64_t oldest = now_ms;
  auto it = q.ready.begin();
  for (int jumps = 0; it != q.ready.end() && jumps < kMaxPriorityJumps; ++jumps) {
    oldest = std::min(oldest, it->run_at_ms);
    if (it->priority == std::numeric_limits<int32_t>::max()) break;
    it = q.ready.lower_bound(ReadyKey{it->priority + 1, INT64_MIN, 0});
  }
  return std::max<int64_t>(0, SubtractSaturating(now_ms, oldest));
}

}  // namespace

EngineMetrics::EngineMetrics(prometheus::Registry& r, int max_queues)
    : max_queues_(max_queues),
      events_(prometheus::BuildCounter()
                  .Name("ratchet_job_events_total")
                  .Help("Job events per queue: enqueued, leased (an attempt started), completed, "
                        "failed (an attempt), retried, dead_lettered, expired, cancelled")
                  .Register(r)),
      jobs_(prometheus::BuildGauge()
                .Name("ratchet_jobs")
                .Help("Jobs per queue and state (finished states: within retention)")
                .Register(r)),
      oldest_age_(prometheus::BuildGauge()
                      .Name("ratchet_queue_oldest_available_age_seconds")
                      .Help("How long the queue's longest-waiting available job has been "
                            "available (0 when none is, or the queue is paused)")
                      .Register(r)),
      start_latency_(OneHistogram(
          r, "ratchet_job_start_latency_seconds",
          "Enqueue-to-start: from when a job became available (enqueue, or the end of its delay "
          "or backoff) to the start of its attempt",
          SecondsBuckets())),
      run_duration_(OneHistogram(r, "ratchet_job_run_duration_seconds",
                                 "How long attempts ran, from lease to completion or failure",
                                 SecondsBuckets())),
      lease_wait_(OneHistogram(r, "ratchet_lease_wait_seconds",
                               "How long Lease calls waited for their answer (long polls included)",
                               SecondsBuckets())),
      commit_ops_(OneHistogram(r, "ratchet_group_commit_operations",
                               "Operations per group commit (one synced write)",
                               {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096})),
      commit_seconds_(OneHistogram(r, "ratchet_commit_duration_seconds",
                                   "Duration of each synced write (the fsync wait)",
                                   FastBuckets())),
      hold_seconds_(OneHistogram(r, "ratchet_sequencer_hold_seconds",
                                 "How long the sequencer held one group", FastBuckets())),
      fire_lag_(OneHistogram(r, "ratchet_schedule_fire_lag_seconds",
                             "How late a schedule tick fired after it was due", SecondsBuckets())),
      live_jobs_(OneGauge(r, "ratchet_live_jobs", "Scheduled, available and running jobs")),
      parked_leases_(OneGauge(r, "ratchet_parked_leases", "Long-poll Lease calls waiting now")),
      rate_starts_(OneGauge(r, "ratchet_rate_limit_starts",
                            "Starts held for rate limits (within their period)")),
      retention_overdue_(OneGauge(r, "ratchet_retention_backlog_seconds",
                                  "How far past due the retention sweeper's next queue is (0 when "
                                  "it keeps up)")),
      queues_over_cap_(OneGauge(r, "ratchet_metrics_queues_over_cap",
                                "Queues counted under queue=\"~other\" (past metrics_max_queues)")),
      storage_failed_(OneGauge(r, "ratchet_storage_failed",
                               "1 once a storage write failed: the engine refuses writes "
                               "(STORAGE_FAILED) until it is reopened (docs/operations.md)")),
      sst_bytes_(OneGauge(r, "ratchet_rocksdb_live_sst_bytes", "RocksDB live SST file bytes")),
      pending_compaction_bytes_(OneGauge(r, "ratchet_rocksdb_pending_compaction_bytes",
                                         "RocksDB estimated bytes pending compaction")),
      memtable_bytes_(
          OneGauge(r, "ratchet_rocksdb_memtable_bytes", "RocksDB bytes in all memtables")),
      write_stopped_(OneGauge(r, "ratchet_rocksdb_write_stopped",
                              "1 while RocksDB stops writes (a write stall)")),
      delayed_write_rate_(OneGauge(r, "ratchet_rocksdb_delayed_write_rate_bytes",
                                   "RocksDB's delayed write rate in bytes/s while it slows writes "
                                   "(a write stall), else 0")) {
  // A registry reused by a reopened engine hands back the same series.
  storage_failed_.Set(0);
}

EngineMetrics::QueueSeries& EngineMetrics::SeriesOf(const std::string& queue) {
  auto it = queues_.find(queue);
  if (it != queues_.end()) return *it->second;
  const bool over = static_cast<int>(queues_.size()) >= max_queues_;
  if (over && other_) return *other_;
  auto series = std::make_unique<QueueSeries>();
  const std::string label = over ? kOtherQueueLabel : queue;
  for (int i = 0; i < kJobEventCount; ++i) {
    series->events[i] = &events_.Add({{"queue", label}, {"event", kEventNames[i]}});
  }
  if (over) {
    other_ = std::move(series);
    return *other_;
  }
  for (size_t i = 0; i < kStateNames.size(); ++i) {
    series->jobs[i] = &jobs_.Add({{"queue", label}, {"state", kStateNames[i]}});
  }
  series->oldest_age = &oldest_age_.Add({{"queue", label}});
  return *queues_.emplace(queue, std::move(series)).first->second;
}

void EngineMetrics::Count(const std::string& queue, JobEvent event) {
  pending_.push_back({Pending::kCount, &SeriesOf(queue), event, 0});
}
void EngineMetrics::Started(Millis waited) {
  pending_.push_back({Pending::kStarted, nullptr, JobEvent::kLeased, Seconds(waited)});
}
void EngineMetrics::AttemptEnded(Millis ran) {
  pending_.push_back({Pending::kRan, nullptr, JobEvent::kLeased, Seconds(ran)});
}
void EngineMetrics::ScheduleFired(Millis lag) {
  pending_.push_back({Pending::kFired, nullptr, JobEvent::kLeased, Seconds(lag)});
}

void EngineMetrics::EndOperation(bool stood) {
  if (stood) {
    for (const Pending& p : pending_) {
      switch (p.kind) {
        case Pending::kCount:
          p.series->events[static_cast<int>(p.event)]->Increment();
          break;
        case Pending::kStarted:
          start_latency_.Observe(p.seconds);
          break;
        case Pending::kRan:
          run_duration_.Observe(p.seconds);
          break;
        case Pending::kFired:
          fire_lag_.Observe(p.seconds);
          break;
      }
    }
  }
  pending_.clear();
}

void EngineMetrics::Refresh(Indexes& indexes, const storage::Store& store, int64_t now_ms,
                            uint64_t parked, Millis retention_overdue) {
  const size_t count = indexes.queue_count();
  // The next kRefreshQueues queues by name after the last one refreshed,
  // wrapping around: O(log queues + kRefreshQueues).
  std::vector<QueueState*> slice = indexes.QueuesAfter(refresh_after_, kRefreshQueues);
  if (slice.size() < static_cast<size_t>(kRefreshQueues) && !refresh_after_.empty()) {
    std::vector<QueueState*> wrapped =
        indexes.QueuesAfter("", kRefreshQueues - static_cast<int>(slice.size()));
    for (QueueState* q : wrapped) {
      if (q->name > refresh_after_) break;  // already in slice
      slice.push_back(q);
    }
  }
  refresh_after_ = slice.empty() ? "" : slice.back()->name;
  for (QueueState* q : slice) {
    QueueSeries& s = SeriesOf(q->name);
    if (s.jobs[0] == nullptr) continue;  // past the cap
    // Due scheduled jobs are available, as ListQueues counts them. The
    // promotion is work the next Lease would do anyway (each job is
    // promoted once), not extra work.
    indexes.PromoteDue(q, now_ms);
    const std::array<int64_t, 6> counts = {static_cast<int64_t>(q->scheduled.size()),
                                           static_cast<int64_t>(q->ready.size()),
                                           static_cast<int64_t>(q->running.size()),
                                           q->completed,
                                           q->cancelled,
                                           q->dead};
    for (size_t k = 0; k < counts.size(); ++k) s.jobs[k]->Set(static_cast<double>(counts[k]));
    s.oldest_age->Set(q->settings.paused ? 0.0 : Seconds(Millis(OldestAvailableAgeMs(*q, now_ms))));
  }
  const size_t reported = std::min(count, queues_.size());
  queues_over_cap_.Set(static_cast<double>(count - reported));
  live_jobs_.Set(static_cast<double>(indexes.live_jobs()));
  parked_leases_.Set(static_cast<double>(parked));
  rate_starts_.Set(static_cast<double>(indexes.start_logs().starts()));
  retention_overdue_.Set(Seconds(retention_overdue));
  sst_bytes_.Set(static_cast<double>(store.IntProperty("rocksdb.live-sst-files-size")));
  pending_compaction_bytes_.Set(
      static_cast<double>(store.IntProperty("rocksdb.estimate-pending-compaction-bytes")));
  memtable_bytes_.Set(static_cast<double>(store.IntProperty("rocksdb.cur-size-all-mem-tables")));
  write_stopped_.Set(store.DbIntProperty("rocksdb.is-write-stopped") > 0 ? 1.0 : 0.0);
  delayed_write_rate_.Set(
      static_cast<double>(store.DbIntProperty("rocksdb.actual-delayed-write-rate")));
}

void EngineMetrics::ObserveCommit(size_t operations, std::chrono::microseconds took) {
  commit_ops_.Observe(static_cast<double>(operations));
  commit_seconds_.Observe(Seconds(took));
}

void EngineMetrics::ObserveHold(std::chrono::microseconds took) {
  hold_seconds_.Observe(Seconds(took));
}

void EngineMetrics::ObserveLeaseWait(std::chrono::microseconds took) {
  lease_wait_.Observe(Seconds(took));
}

}  // namespace ratchet::internal
