// EngineMetrics: the engine's Prometheus metrics (docs/operations.md,
// "Metrics"), registered in the caller's prometheus::Registry
// (EngineOptions::metrics_registry). Names follow Prometheus conventions:
// a ratchet_ prefix, _total counters, _seconds and _bytes base units.
//
// Label cardinality is bounded: the only variable label is `queue`, and only
// the first EngineOptions::metrics_max_queues queues seen get their own
// series; later ones count under queue="~other" (a name no queue can have)
// and get no per-queue gauges.
//
// Job events come from the job machine (JobEvents) inside an operation and
// are buffered until the sequencer ends it: EndOperation(true) applies them,
// EndOperation(false) (a rolled-back operation) drops them. A group whose
// commit then fails stops the engine (STORAGE_FAILED); its events may have
// been counted.
//
// Thread safety: the JobEvents calls, EndOperation and Refresh run on the
// sequencer thread; ObserveCommit on the writer thread; ObserveLeaseWait on
// any thread. prometheus-cpp's metrics are thread-safe for scraping.
#ifndef RATCHET_ENGINE_CORE_ENGINE_METRICS_H_
#define RATCHET_ENGINE_CORE_ENGINE_METRICS_H_

#include <array>
#include <memory>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "indexes.h"
#include "job_events.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "ratchet/storage/store.h"

namespace ratchet::internal {

// The queue label of queues past the series cap.
inline constexpr char kOtherQueueLabel[] = "~other";

class EngineMetrics final : public JobEvents {
 public:
  // Registers every family in `registry` (which must outlive this object).
  EngineMetrics(prometheus::Registry& registry, int max_queues);

  // JobEvents (buffered until EndOperation).
  void Count(const std::string& queue, JobEvent event) override;
  void Started(Millis waited) override;
  void AttemptEnded(Millis ran) override;
  void ScheduleFired(Millis lag) override;
  // The operation whose events are buffered ended: applied if it stood.
  void EndOperation(bool stood);

  // Gauges from the engine's state: per-queue job counts and the oldest
  // available job's age for
  // at most kRefreshQueues queues per call (round robin over the queues),
  // live jobs, parked long polls, rate-limit starts, the retention backlog
  // (`retention_overdue`: how far past due the sweeper's next queue is) and
  // RocksDB's size and stall properties. Sequencer thread, about once a
  // second.
  void Refresh(Indexes& indexes, const storage::Store& store, int64_t now_ms, uint64_t parked,
               Millis retention_overdue);
  // One group's commit: its operations and its synced write's duration.
  void ObserveCommit(size_t operations, std::chrono::microseconds took);
  // A commit failed: the engine refuses writes until reopened (1 from now).
  void SetStorageFailed() { storage_failed_.Set(1); }
  // The sequencer held one group for `took`.
  void ObserveHold(std::chrono::microseconds took);
  // A Lease call was answered `took` after it was made (long polls included).
  void ObserveLeaseWait(std::chrono::microseconds took);

  static constexpr int kRefreshQueues = 1000;

 private:
  struct QueueSeries {
    std::array<prometheus::Counter*, kJobEventCount> events{};
    // scheduled, available, running, completed, cancelled, dead; null past the cap
    std::array<prometheus::Gauge*, 6> jobs{};
    prometheus::Gauge* oldest_age = nullptr;
  };
  QueueSeries& SeriesOf(const std::string& queue);
  struct Pending {
    enum Kind { kCount, kStarted, kRan, kFired } kind;
    QueueSeries* series;
    JobEvent event;
    double seconds;
  };

  const int max_queues_;
  prometheus::Family<prometheus::Counter>& events_;
  prometheus::Family<prometheus::Gauge>& jobs_;
  prometheus::Family<prometheus::Gauge>& oldest_age_;
  prometheus::Histogram& start_latency_;
  prometheus::Histogram& run_duration_;
  prometheus::Histogram& lease_wait_;
  prometheus::Histogram& commit_ops_;
  prometheus::Histogram& commit_seconds_;
  prometheus::Histogram& hold_seconds_;
  prometheus::Histogram& fire_lag_;
  prometheus::Gauge& live_jobs_;
  prometheus::Gauge& parked_leases_;
  prometheus::Gauge& rate_starts_;
  prometheus::Gauge& retention_overdue_;
  prometheus::Gauge& queues_over_cap_;
  prometheus::Gauge& storage_failed_;
  prometheus::Gauge& sst_bytes_;
  prometheus::Gauge& pending_compaction_bytes_;
  prometheus::Gauge& memtable_bytes_;
  prometheus::Gauge& write_stopped_;
  prometheus::Gauge& delayed_write_rate_;
  absl::flat_hash_map<std::string, std::unique_ptr<QueueSeries>> queues_;
  std::unique_ptr<QueueSeries> other_;
  std::vector<Pending> pending_;
  std::string refresh_after_;  // the name of the last queue refreshed
};

}  // namespace ratchet::internal

#endif  // RATCHET_ENGINE_CORE_ENGINE_METRICS_H_
