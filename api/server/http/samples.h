// QueueSamples: a ring of recent samples of the engine's metrics, for the
// dashboard's overview charts (docs/operations.md, "Dashboard"). Every
// `interval` a thread reads the Prometheus registry the engine fills
// (engine_metrics.h) and keeps, per sample:
//   - per queue: completed, failed and enqueued jobs per second (from the
//     ratchet_job_events_total counters) and the oldest available job's
//     age (ratchet_queue_oldest_available_age_seconds);
//   - server-wide: enqueue-to-start latency p50 and p99 over the interval,
//     from the ratchet_job_start_latency_seconds histogram's bucket deltas,
//     interpolated linearly within a bucket as Prometheus's
//     histogram_quantile does (prometheus/promql/quantile.go, bucketQuantile).
//
// Bounds: kCapacity samples of at most kMaxQueues queues each (the
// busiest: most jobs completed, failed and enqueued per second, then the
// longest wait), among those the metrics have (the first
// metrics_max_queues queues, the rest under "~other").
//
// Thread safety: safe from any thread. The destructor stops the thread.
#ifndef RATCHET_API_SERVER_HTTP_SAMPLES_H_
#define RATCHET_API_SERVER_HTTP_SAMPLES_H_

#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "prometheus/registry.h"

namespace ratchet::server::http {

struct QueueSample {
  double completed_per_second = 0, failed_per_second = 0, enqueued_per_second = 0;
  double oldest_available_age_seconds = 0;
};

struct Sample {
  std::chrono::system_clock::time_point time;
  double start_latency_p50_seconds = 0, start_latency_p99_seconds = 0;  // 0: no start
  std::map<std::string, QueueSample> queues;
};

// The q-quantile (0..1) of observations whose histogram buckets have upper
// bounds `bounds` (ascending, the last +Inf) and cumulative counts
// `counts`; 0 when there are none.
double BucketQuantile(double q, const std::vector<double>& bounds,
                      const std::vector<double>& counts);

class QueueSamples {
 public:
  static constexpr size_t kCapacity = 120;
  static constexpr size_t kMaxQueues = 200;

  // Samples `registry` (shared) every `interval` on its own thread.
  QueueSamples(std::shared_ptr<prometheus::Registry> registry, std::chrono::milliseconds interval);
  ~QueueSamples();

  std::chrono::milliseconds interval() const { return interval_; }
  // The samples, oldest first.
  std::vector<Sample> Snapshot() const;
  // Takes one sample now (the thread calls it; tests may too).
  void SampleNow();

 private:
  struct Totals {
    std::map<std::string, double> completed, failed, enqueued;
    std::vector<double> latency_bounds, latency_counts;
    std::chrono::steady_clock::time_point at;
  };
  Totals Read(std::map<std::string, double>* oldest_age) const;
  void Run();

  const std::shared_ptr<prometheus::Registry> registry_;
  const std::chrono::milliseconds interval_;
  mutable absl::Mutex mu_;
  std::deque<Sample> samples_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<Totals> last_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace ratchet::server::http

#endif  // RATCHET_API_SERVER_HTTP_SAMPLES_H_
