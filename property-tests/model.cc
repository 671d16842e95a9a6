#include "model.h"

#include <algorithm>
#include <cmath>
#include <tuple>

#include "ratchet/engine/backoff.h"

namespace ratchet::model {

namespace {

// Adapts the model's generator to the engine's Random interface, drawing
// exactly as SeededRandom does.
class GeneratorRef final : public Random {
 public:
  explicit GeneratorRef(std::mt19937_64* g) : g_(g) {}
  int64_t UniformInt(int64_t lo, int64_t hi) override {
    return std::uniform_int_distribution<int64_t>(lo, hi)(*g_);
  }

 private:
  std::mt19937_64* g_;
};

}  // namespace

RetryPolicy PolicyFor(JitterMode jitter) {
  return RetryPolicy{Millis(500), Millis(4000), 2.0, jitter};
}

void DelayBounds(const RetryPolicy& p, int attempt, int64_t previous, int64_t* lo, int64_t* hi) {
  const int64_t base = p.initial_backoff.count();
  const int64_t cap = p.max_backoff.count();
  int64_t e = base;
  for (int i = 1; i < attempt && e < cap; ++i) e = static_cast<int64_t>(e * p.multiplier);
  e = std::min(e, cap);
  switch (p.jitter) {
    case JitterMode::kNone:
      *lo = *hi = e;
      break;
    case JitterMode::kFull:
      *lo = 0;
      *hi = e;
      break;
    case JitterMode::kEqual:
      *lo = (e + 1) / 2;
      *hi = e;
      break;
    case JitterMode::kDecorrelated:
      *lo = base;
      *hi = std::max(base, std::min(cap, 3 * (previous > 0 ? previous : base)));
      break;
  }
}

JobState Model::Visible(const MJob& j) const {
  switch (j.st) {
    case St::kWaiting:
      return j.run_at <= now ? JobState::kAvailable : JobState::kScheduled;
    case St::kRunning:
      return JobState::kRunning;
    case St::kCompleted:
      return JobState::kCompleted;
    case St::kDead:
      return JobState::kDead;
    case St::kCancelled:
      return JobState::kCancelled;
  }
  return JobState::kScheduled;
}

int Model::Running(const std::string& queue) const {
  int n = 0;
  for (const auto& [id, j] : jobs) n += j.queue == queue && j.st == St::kRunning;
  return n;
}

Expect Model::EnqueueBatch(const std::vector<EnqueueSpec>& specs, std::vector<JobId>* ids) {
  // First pass: decide everything; nothing changes on a conflict.
  std::map<std::pair<std::string, std::string>, MKey> seen;
  std::vector<std::optional<JobId>> existing(specs.size());
  JobId next = next_id;
  for (size_t i = 0; i < specs.size(); ++i) {
    const auto& s = specs[i];
    if (s.key.empty()) {
      ++next;
      continue;
    }
    auto k = std::make_pair(s.queue, s.key);
    const MKey* owner = nullptr;
    if (auto it = keys.find(k); it != keys.end()) {
      owner = &it->second;
    } else if (auto it2 = seen.find(k); it2 != seen.end()) {
      owner = &it2->second;
    }
    if (owner) {
      if (owner->job_type != s.job_type || owner->payload != s.payload) return Expect::kConflict;
      existing[i] = owner->id;
    } else {
      seen[k] = {next++, s.job_type, s.payload};
    }
  }
  bool any_new = false;
  ids->clear();
  for (size_t i = 0; i < specs.size(); ++i) {
    if (existing[i]) {
      ids->push_back(*existing[i]);
      continue;
    }
    const auto& s = specs[i];
    MJob j;
    j.queue = s.queue;
    j.key = s.key;
    j.payload = s.payload;
    j.job_type = s.job_type;
    j.priority = s.priority;
    j.run_at = now + s.delay;
    j.max_attempts = s.max_attempts;
    j.jitter = s.jitter;
    JobId id = next_id++;
    jobs[id] = j;
    if (!s.key.empty()) keys[{s.queue, s.key}] = {id, s.job_type, s.payload};
    queues[s.queue];  // created on first use
    ids->push_back(id);
    any_new = true;
  }
  return any_new || specs.empty() ? Expect::kOk : Expect::kDuplicate;
}

Expect Model::CommitOutbox(const std::vector<AppWrite>& writes,
                           const std::vector<EnqueueSpec>& specs, std::vector<JobId>* ids) {
  for (const AppWrite& w : writes) {
    if (w.key.empty()) return Expect::kInvalidArgument;
  }
  Expect e = EnqueueBatch(specs, ids);
  if (e != Expect::kConflict) ApplyWrites(writes);
  return e;
}

void Model::ApplyWrites(const std::vector<AppWrite>& writes) {
  for (const AppWrite& w : writes) {
    if (w.value) {
      app[w.key] = *w.value;
    } else {
      app.erase(w.key);
    }
  }
}

void Model::Promote(const std::string& queue) {
  for (auto& [id, j] : jobs) {
    if (j.queue == queue && j.st == St::kWaiting && j.run_at <= now) j.due = true;
  }
}

void Model::Reopen() {
  for (auto& [id, j] : jobs) j.due = false;
  for (const auto& [name, q] : queues) Promote(name);
}

std::vector<JobId> Model::Lease(const std::string& queue, int max_jobs, int64_t vt) {
  std::vector<JobId> out;
  auto q = queues.find(queue);
  if (q == queues.end() || q->second.paused) return out;
  Promote(queue);
  int n = max_jobs;
  if (q->second.limit > 0) n = std::min(n, q->second.limit - Running(queue));
  std::vector<std::tuple<int, int64_t, JobId>> ready;
  for (const auto& [id, j] : jobs) {
    if (j.queue == queue && j.st == St::kWaiting && j.due) {
      ready.emplace_back(j.priority, j.run_at, id);
    }
  }
  std::sort(ready.begin(), ready.end());
  for (int i = 0; i < n && i < static_cast<int>(ready.size()); ++i) {
    MJob& j = jobs.at(std::get<2>(ready[i]));
    j.st = St::kRunning;
    j.due = false;
    j.progress.reset();
    j.attempts++;
    j.token = next_token++;
    j.deadline = now + vt;
    out.push_back(std::get<2>(ready[i]));
  }
  return out;
}

Expect Model::Heartbeat(JobId id, FencingToken token, int64_t ext, std::optional<double> progress) {
  if (progress && !(*progress >= 0.0 && *progress <= 1.0)) return Expect::kInvalidArgument;
  auto it = jobs.find(id);
  if (it == jobs.end()) return Expect::kNotFound;
  MJob& j = it->second;
  if (j.st != St::kRunning || j.token != token) return Expect::kLeaseLost;
  j.deadline = now + ext;
  if (progress) j.progress = progress;
  return Expect::kOk;
}

Expect Model::Complete(JobId id, FencingToken token, const std::vector<AppWrite>& effects) {
  for (const AppWrite& w : effects) {
    if (w.key.empty()) return Expect::kInvalidArgument;
  }
  auto it = jobs.find(id);
  if (it == jobs.end()) return Expect::kNotFound;
  MJob& j = it->second;
  if (j.st == St::kRunning && j.token == token) {
    Finish(j, St::kCompleted);
    ApplyWrites(effects);
    return Expect::kOk;
  }
  if (j.st == St::kCompleted && j.token == token) return Expect::kOk;  // writes nothing
  return Expect::kLeaseLost;
}

Expect Model::CompleteAndLease(JobId id, FencingToken token, const std::vector<AppWrite>& effects,
                               const std::string& queue, int max_jobs, int64_t vt,
                               Expect* completion, std::vector<JobId>* leased) {
  if (queue.empty() || max_jobs < 1 || max_jobs > max_lease_jobs) return Expect::kInvalidArgument;
  *completion = Complete(id, token, effects);
  *leased = Lease(queue, max_jobs, vt);
  return Expect::kOk;
}

void Model::Finish(MJob& j, St st) {
  j.st = st;
  j.finished_at = now;
}

void Model::EndAttempt(MJob& j, bool retryable, int64_t* delay) {
  *delay = -1;
  j.errors++;
  if (j.cancel_requested) {
    Finish(j, St::kCancelled);
  } else if (!retryable || j.attempts >= j.max_attempts) {
    Finish(j, St::kDead);
  } else {
    RetryPolicy p = PolicyFor(j.jitter);
    GeneratorRef random(&rng);
    int64_t d = RetryDelay(p, j.attempts, Millis(j.last_backoff), random).count();
    int64_t lo, hi;
    DelayBounds(p, j.attempts, j.last_backoff, &lo, &hi);
    delays.push_back({d, lo, hi});
    j.last_backoff = d;
    j.run_at = now + d;
    j.st = St::kWaiting;
    j.due = false;
    *delay = d;
  }
}

Expect Model::Fail(JobId id, FencingToken token, bool retryable, int64_t* delay) {
  *delay = -1;
  auto it = jobs.find(id);
  if (it == jobs.end()) return Expect::kNotFound;
  MJob& j = it->second;
  if (j.st == St::kRunning && j.token == token) {
    j.failed_token = j.token;  // only a Fail marks its token; expiry does not
    EndAttempt(j, retryable, delay);
    return Expect::kOk;
  }
  if (token != 0 && j.failed_token == token) return Expect::kOk;
  return Expect::kLeaseLost;
}

Expect Model::Cancel(JobId id) {
  auto it = jobs.find(id);
  if (it == jobs.end()) return Expect::kNotFound;
  MJob& j = it->second;
  switch (j.st) {
    case St::kWaiting:
      Finish(j, St::kCancelled);
      return Expect::kOk;
    case St::kRunning:
      j.cancel_requested = true;
      return Expect::kOk;
    case St::kCancelled:
      return Expect::kOk;
    default:
      return Expect::kInvalidState;
  }
}

Expect Model::CancelJobs(const CancelFilter& filter, int64_t* cancelled, int64_t* requested) {
  *cancelled = *requested = 0;
  if (filter.state && IsTerminal(*filter.state)) return Expect::kInvalidArgument;
  Promote(filter.queue);
  for (auto& [id, j] : jobs) {
    if (j.queue != filter.queue || (!filter.job_type.empty() && j.job_type != filter.job_type)) {
      continue;
    }
    if (j.st != St::kWaiting && j.st != St::kRunning) continue;
    const JobState state = j.st == St::kRunning ? JobState::kRunning
                           : j.due              ? JobState::kAvailable
                                                : JobState::kScheduled;
    if (filter.state && *filter.state != state) continue;
    if (j.st == St::kWaiting) {
      Finish(j, St::kCancelled);
      ++*cancelled;
    } else if (!j.cancel_requested) {
      j.cancel_requested = true;
      ++*requested;
    }
  }
  return Expect::kOk;
}

Expect Model::MatchDead(const Filter& filter, std::vector<JobId>* ids, bool* more) const {
  *more = false;
  if (filter.job_id) {
    auto it = jobs.find(*filter.job_id);
    if (it == jobs.end()) return Expect::kNotFound;
    if (!filter.queue.empty() && it->second.queue != filter.queue) return Expect::kNotFound;
    if (it->second.st != St::kDead) return Expect::kInvalidState;
    ids->push_back(*filter.job_id);
    return Expect::kOk;
  }
  std::vector<std::pair<int64_t, JobId>> dead;  // the dead-letter key order
  for (const auto& [id, j] : jobs) {
    if (j.queue == filter.queue && j.st == St::kDead &&
        (filter.job_type.empty() || j.job_type == filter.job_type)) {
      dead.emplace_back(j.finished_at, id);
    }
  }
  std::sort(dead.begin(), dead.end());
  for (const auto& [at, id] : dead) {
    if (static_cast<int>(ids->size()) == filter.limit) {
      *more = true;
      break;
    }
    ids->push_back(id);
  }
  return Expect::kOk;
}

Expect Model::Redrive(const Filter& filter, bool reset, int* count, bool* more) {
  std::vector<JobId> ids;
  Expect e = MatchDead(filter, &ids, more);
  *count = static_cast<int>(ids.size());
  for (JobId id : ids) {
    MJob& j = jobs.at(id);
    if (reset) {
      j.attempts = 0;
      j.last_backoff = 0;
    } else {
      j.max_attempts = std::max(j.max_attempts, j.attempts + 1);
    }
    j.st = St::kWaiting;
    j.due = false;
    j.run_at = now;
    j.finished_at = 0;
    j.cancel_requested = false;
  }
  return e;
}

Expect Model::Purge(const Filter& filter, int* count, bool* more) {
  std::vector<JobId> ids;
  Expect e = MatchDead(filter, &ids, more);
  *count = static_cast<int>(ids.size());
  for (JobId id : ids) {
    jobs.erase(id);  // its idempotency key stays (keys)
    purged.push_back(id);
  }
  return e;
}

void Model::Advance(int64_t ms) {
  // Backward (ms < 0): every live lease's deadline is past the old now, so
  // none ends; nothing else changes.
  now += ms;
  // Expired leases end in deadline order, then id order, as in the engine.
  std::vector<std::pair<int64_t, JobId>> expired;
  for (const auto& [id, j] : jobs) {
    if (j.st == St::kRunning && j.deadline <= now) expired.emplace_back(j.deadline, id);
  }
  std::sort(expired.begin(), expired.end());
  for (const auto& [deadline, id] : expired) {
    int64_t delay;
    EndAttempt(jobs.at(id), true, &delay);
  }
}

}  // namespace ratchet::model
