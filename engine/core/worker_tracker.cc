#include "worker_tracker.h"

#include <algorithm>

namespace ratchet::internal {
namespace {
constexpr size_t kMaxQueuesPerWorker = 16;
}  // namespace

WorkerTracker::Worker& WorkerTracker::Touch(const std::string& worker_id, TimePoint now) {
  auto it = workers_.find(worker_id);
  if (it == workers_.end()) {
    if (workers_.size() >= kMaxTrackedWorkers) Forget(now);
    if (workers_.size() >= kMaxTrackedWorkers) {
      // Still full: forget the least recently seen.
      auto oldest = std::min_element(workers_.begin(), workers_.end(), [](auto& a, auto& b) {
        return a.second.last_seen < b.second.last_seen;
      });
      for (const auto& [job, deadline] : oldest->second.jobs) job_worker_.erase(job);
      workers_.erase(oldest);
    }
    it = workers_.emplace(worker_id, Worker{}).first;
  }
  it->second.last_seen = now;
  if (++calls_ % 1024 == 0) Forget(now);
  return it->second;
}

void WorkerTracker::Forget(TimePoint now) {
  for (auto it = workers_.begin(); it != workers_.end();) {
    Worker& w = it->second;
    for (auto j = w.jobs.begin(); j != w.jobs.end();) {
      if (j->second <= now) {
        job_worker_.erase(j->first);
        j = w.jobs.erase(j);
      } else {
        ++j;
      }
    }
    if (w.jobs.empty() && w.last_seen + kWorkerForgetAfter <= now) {
      it = workers_.erase(it);
    } else {
      ++it;
    }
  }
}

void WorkerTracker::Leased(const std::string& worker_id, const std::string& queue,
                           const std::vector<LeasedJob>& jobs) {
  if (worker_id.empty()) return;
  const TimePoint now = clock_->Now();
  absl::MutexLock lock(&mu_);
  Worker* w = &Touch(worker_id, now);
  auto add_queue = [&](const std::string& q) {
    if (w->queues.count(q) > 0) return;
    if (w->queues.size() < kMaxQueuesPerWorker) {
      w->queues.insert(q);
    } else {
      w->more_queues = true;
    }
  };
  add_queue(queue);
  for (const LeasedJob& j : jobs) {
    add_queue(j.queue);
    auto [it, inserted] = job_worker_.emplace(j.id, Held{worker_id, j.token});
    if (!inserted) {
      if (it->second.worker_id != worker_id) {
        // Leased again by another worker: the old one no longer holds it.
        auto old = workers_.find(it->second.worker_id);
        if (old != workers_.end()) old->second.jobs.erase(j.id);
      }
      it->second = Held{worker_id, j.token};
    }
    w->jobs[j.id] = j.lease_deadline;
  }
}

void WorkerTracker::Heartbeat(JobId id, TimePoint lease_deadline) {
  const TimePoint now = clock_->Now();
  absl::MutexLock lock(&mu_);
  auto it = job_worker_.find(id);
  if (it == job_worker_.end()) return;
  Worker& w = Touch(it->second.worker_id, now);
  w.jobs[id] = lease_deadline;
}

void WorkerTracker::Finished(JobId id, FencingToken token) {
  absl::MutexLock lock(&mu_);
  auto it = job_worker_.find(id);
  if (it == job_worker_.end() || it->second.token != token) return;
  auto w = workers_.find(it->second.worker_id);
  if (w != workers_.end()) w->second.jobs.erase(id);
  job_worker_.erase(it);
}

std::vector<WorkerInfo> WorkerTracker::List(size_t max) {
  const TimePoint now = clock_->Now();
  absl::MutexLock lock(&mu_);
  Forget(now);
  std::vector<WorkerInfo> out;
  out.reserve(workers_.size());
  for (const auto& [id, w] : workers_) {
    WorkerInfo info{.worker_id = id,
                    .queues = {w.queues.begin(), w.queues.end()},
                    .more_queues = w.more_queues,
                    .jobs_held = static_cast<int64_t>(w.jobs.size()),
                    .last_seen = w.last_seen};
    for (const auto& [job, deadline] : w.jobs) {
      if (info.job_ids.size() == kMaxListedWorkerJobs) break;
      info.job_ids.push_back(job);
    }
    out.push_back(std::move(info));
  }
  std::sort(out.begin(), out.end(), [](const WorkerInfo& a, const WorkerInfo& b) {
    return a.last_seen != b.last_seen ? a.last_seen > b.last_seen : a.worker_id < b.worker_id;
  });
  if (out.size() > max) out.resize(max);
  return out;
}

}  // namespace ratchet::internal
