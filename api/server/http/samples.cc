#include "samples.h"

#include <algorithm>

#include "prometheus/metric_family.h"

namespace ratchet::server::http {

namespace {

std::string LabelOf(const prometheus::ClientMetric& m, const char* name) {
  for (const auto& l : m.label) {
    if (l.name == name) return l.value;
  }
  return "";
}

double Rate(const std::map<std::string, double>& now, const std::map<std::string, double>& before,
            const std::string& queue, double seconds) {
  auto n = now.find(queue);
  if (n == now.end() || seconds <= 0) return 0;
  auto b = before.find(queue);
  double delta = n->second - (b == before.end() ? 0 : b->second);
  return std::max(delta, 0.0) / seconds;
}

}  // namespace

double BucketQuantile(double q, const std::vector<double>& bounds,
                      const std::vector<double>& counts) {
  if (bounds.empty() || counts.size() != bounds.size() || counts.back() <= 0) return 0;
  const double rank = q * counts.back();
  size_t b = 0;
  while (b < counts.size() && counts[b] < rank) ++b;
  if (b >= bounds.size() - 1) return bounds.size() >= 2 ? bounds[bounds.size() - 2] : 0;
  const double lower = b == 0 ? 0 : bounds[b - 1];
  const double below = b == 0 ? 0 : counts[b - 1];
  const double in_bucket = counts[b] - below;
  if (in_bucket <= 0) return bounds[b];
  return lower + (bounds[b] - lower) * ((rank - below) / in_bucket);
}

QueueSamples::QueueSamples(std::shared_ptr<prometheus::Registry> registry,
                           std::chrono::milliseconds interval)
    : registry_(std::move(registry)), interval_(interval) {
  thread_ = std::thread([this] { Run(); });
}

QueueSamples::~QueueSamples() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

std::vector<Sample> QueueSamples::Snapshot() const {
  absl::MutexLock lock(&mu_);
  return {samples_.begin(), samples_.end()};
}

QueueSamples::Totals QueueSamples::Read(std::map<std::string, double>* oldest_age) const {
  Totals t;
  t.at = std::chrono::steady_clock::now();
  for (const prometheus::MetricFamily& f : registry_->Collect()) {
    if (f.name == "ratchet_job_events_total") {
      for (const auto& m : f.metric) {
        const std::string event = LabelOf(m, "event");
        auto* into = event == "completed"  ? &t.completed
                     : event == "failed"   ? &t.failed
                     : event == "enqueued" ? &t.enqueued
                                           : nullptr;
        if (into != nullptr) (*into)[LabelOf(m, "queue")] += m.counter.value;
      }
    } else if (f.name == "ratchet_queue_oldest_available_age_seconds") {
      for (const auto& m : f.metric) (*oldest_age)[LabelOf(m, "queue")] = m.gauge.value;
    } else if (f.name == "ratchet_job_start_latency_seconds" && !f.metric.empty()) {
      for (const auto& bucket : f.metric[0].histogram.bucket) {
        t.latency_bounds.push_back(bucket.upper_bound);
        t.latency_counts.push_back(static_cast<double>(bucket.cumulative_count));
      }
    }
  }
  return t;
}

void QueueSamples::SampleNow() {
  std::map<std::string, double> oldest_age;
  auto now = std::make_unique<Totals>(Read(&oldest_age));
  Sample s;
  s.time = std::chrono::system_clock::now();
  absl::MutexLock lock(&mu_);
  const Totals empty{.at = now->at};
  const Totals& before = last_ ? *last_ : empty;
  const double seconds = std::chrono::duration<double>(now->at - before.at).count();
  std::vector<double> delta = now->latency_counts;
  if (before.latency_counts.size() == delta.size()) {
    for (size_t i = 0; i < delta.size(); ++i) delta[i] -= before.latency_counts[i];
  }
  s.start_latency_p50_seconds = BucketQuantile(0.5, now->latency_bounds, delta);
  s.start_latency_p99_seconds = BucketQuantile(0.99, now->latency_bounds, delta);
  std::map<std::string, bool> queues;
  for (const auto* m : {&now->completed, &now->failed, &now->enqueued, &oldest_age}) {
    for (const auto& [q, v] : *m) queues[q] = true;
  }
  for (const auto& [q, unused] : queues) {
    QueueSample& qs = s.queues[q];
    qs.completed_per_second = Rate(now->completed, before.completed, q, seconds);
    qs.failed_per_second = Rate(now->failed, before.failed, q, seconds);
    qs.enqueued_per_second = Rate(now->enqueued, before.enqueued, q, seconds);
    auto age = oldest_age.find(q);
    if (age != oldest_age.end()) qs.oldest_available_age_seconds = age->second;
  }
  if (s.queues.size() > kMaxQueues) {
    // The busiest queues: most jobs moving, then the longest wait.
    std::vector<std::pair<double, std::string>> busy;
    for (const auto& [q, qs] : s.queues) {
      busy.emplace_back(qs.completed_per_second + qs.failed_per_second + qs.enqueued_per_second +
                            qs.oldest_available_age_seconds / 1e6,
                        q);
    }
    std::nth_element(busy.begin(), busy.begin() + kMaxQueues, busy.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    for (size_t i = kMaxQueues; i < busy.size(); ++i) s.queues.erase(busy[i].second);
  }
  last_ = std::move(now);
  samples_.push_back(std::move(s));
  while (samples_.size() > kCapacity) samples_.pop_front();
}

void QueueSamples::Run() {
  // The first reading is the baseline: rates need two.
  {
    std::map<std::string, double> unused;
    auto first = std::make_unique<Totals>(Read(&unused));
    absl::MutexLock lock(&mu_);
    last_ = std::move(first);
  }
  while (true) {
    {
      absl::MutexLock lock(&mu_);
      if (mu_.AwaitWithTimeout(absl::Condition(&stop_), absl::FromChrono(interval_))) return;
    }
    SampleNow();
  }
}

}  // namespace ratchet::server::http
