#include "indexes.h"

#include <algorithm>
#include <limits>

#include "ratchet/base/saturating.h"

namespace ratchet::internal {

QueueState* Indexes::FindQueue(absl::string_view name) const {
  auto it = queues_.find(name);
  return it == queues_.end() ? nullptr : it->second.get();
}

QueueState* Indexes::AddQueue(std::string name, QueueSettings settings) {
  auto q = std::make_unique<QueueState>();
  q->name = name;
  q->settings = settings;
  QueueState* raw = q.get();
  queues_by_name_.insert_or_assign(name, raw);
  queues_[std::move(name)] = std::move(q);
  return raw;
}

std::vector<QueueState*> Indexes::Queues() {
  std::vector<QueueState*> out;
  out.reserve(queues_by_name_.size());
  for (const auto& [name, q] : queues_by_name_) out.push_back(q);
  return out;
}

std::vector<QueueState*> Indexes::QueuesAfter(const std::string& after, size_t max) const {
  std::vector<QueueState*> out;
  for (auto it = queues_by_name_.upper_bound(after);
       it != queues_by_name_.end() && out.size() < max; ++it) {
    out.push_back(it->second);
  }
  return out;
}

void Indexes::CountFinished(QueueState* q, JobState state, int64_t n) {
  // Saturating: stored counts are read back from disk, where a damaged
  // value can be anything up to INT64_MAX per queue (the recovery fuzzer).
  int64_t& count = q->FinishedCount(state);
  count = AddSaturating(count, n);
  int64_t& total = state == JobState::kCompleted ? finished_totals_.completed
                   : state == JobState::kDead    ? finished_totals_.dead
                                                 : finished_totals_.cancelled;
  total = AddSaturating(total, n);
}

std::optional<int64_t> Indexes::OldestAvailable(const QueueState* q, int64_t now_ms,
                                                int* probes) const {
  std::optional<int64_t> oldest;
  if (!q->scheduled.empty() && q->scheduled.begin()->at_ms <= now_ms) {
    oldest = q->scheduled.begin()->at_ms;  // the earliest scheduled job is due
  }
  // The first key of each priority is that priority's oldest (run_at
  // orders keys within a priority); jump from one priority to the next.
  for (auto it = q->ready.begin(); it != q->ready.end();) {
    ++*probes;
    if (!oldest || it->run_at_ms < *oldest) oldest = it->run_at_ms;
    if (it->priority == std::numeric_limits<int32_t>::max()) break;
    it = q->ready.lower_bound(
        ReadyKey{it->priority + 1, std::numeric_limits<int64_t>::min(), JobId{0}});
  }
  return oldest;
}

void Indexes::SetRetentionDue(QueueState* q, RetentionClass c, std::optional<int64_t> due_ms) {
  std::optional<int64_t>& slot = q->retention_due[static_cast<int>(c)];
  if (slot) retention_due_.erase({*slot, q->name, c});
  slot = due_ms;
  if (slot) retention_due_.insert({*slot, q->name, c});
}

void Indexes::AdvanceRetentionDue(QueueState* q, RetentionClass c, int64_t due_ms) {
  const std::optional<int64_t>& slot = q->retention_due[static_cast<int>(c)];
  if (!slot || due_ms < *slot) SetRetentionDue(q, c, due_ms);
}

std::vector<std::pair<QueueState*, RetentionClass>> Indexes::DueForRetention(int64_t now_ms,
                                                                             size_t max) const {
  std::vector<std::pair<QueueState*, RetentionClass>> out;
  for (auto it = retention_due_.begin();
       it != retention_due_.end() && it->due_ms <= now_ms && out.size() < max; ++it) {
    out.emplace_back(FindQueue(it->queue), it->retention_class);
  }
  return out;
}

std::optional<int64_t> Indexes::NextRetentionDue() const {
  if (retention_due_.empty()) return std::nullopt;
  return retention_due_.begin()->due_ms;
}

JobMeta* Indexes::Find(JobId id) {
  auto it = jobs_.find(id);
  return it == jobs_.end() ? nullptr : &it->second;
}

const JobMeta* Indexes::Find(JobId id) const {
  auto it = jobs_.find(id);
  return it == jobs_.end() ? nullptr : &it->second;
}

void Indexes::AddWaiting(JobId id, QueueState* q, int32_t priority, int64_t run_at_ms,
                         const std::string& key) {
  KeyGroup* g = GroupFor(q, key);
  ++g->live;
  jobs_[id] = JobMeta{q, g, run_at_ms, 0, priority, false, false};
  q->scheduled.insert({run_at_ms, id});
  MarkChanged(q);
}

void Indexes::AddRunning(JobId id, QueueState* q, int32_t priority, int64_t deadline_ms,
                         FencingToken token, bool cancel_requested, const std::string& key) {
  KeyGroup* g = GroupFor(q, key);
  ++g->live;
  g->running.insert({deadline_ms, id});
  jobs_[id] = JobMeta{q, g, deadline_ms, token, priority, true, cancel_requested};
  q->running.insert({deadline_ms, id});
  leases_.insert({deadline_ms, id});
  Place(q, g);
}

void Indexes::MoveToWaiting(JobId id, int64_t run_at_ms) {
  JobMeta& m = jobs_.at(id);
  Unlink(id, m);
  m.running = false;
  m.time_ms = run_at_ms;
  m.queue->scheduled.insert({run_at_ms, id});
  MarkChanged(m.queue);
  Place(m.queue, m.group);
}

void Indexes::StartLease(JobId id, int64_t deadline_ms, FencingToken token) {
  JobMeta& m = jobs_.at(id);
  Unlink(id, m);
  if (m.expires_ms != 0) expiring_.erase({m.expires_ms, id});  // started: expiry is over
  m.expires_ms = 0;
  m.running = true;
  m.time_ms = deadline_ms;
  m.token = token;
  m.group->running.insert({deadline_ms, id});
  m.queue->running.insert({deadline_ms, id});
  leases_.insert({deadline_ms, id});
  // Round robin: the group goes to the back of its priority.
  Unslot(m.queue, m.group);
  Place(m.queue, m.group);
}

void Indexes::ExtendLease(JobId id, int64_t deadline_ms) {
  JobMeta& m = jobs_.at(id);
  Unlink(id, m);
  m.time_ms = deadline_ms;
  m.queue->running.insert({deadline_ms, id});
  m.group->running.insert({deadline_ms, id});
  leases_.insert({deadline_ms, id});
}

void Indexes::Remove(JobId id) {
  auto it = jobs_.find(id);
  if (it == jobs_.end()) return;
  JobMeta m = it->second;
  if (m.running) MarkChanged(m.queue);  // a slot is free
  Unlink(id, m);
  if (m.expires_ms != 0) expiring_.erase({m.expires_ms, id});
  jobs_.erase(it);
  --m.group->live;
  Place(m.queue, m.group);  // frees the group with its last job
}

void Indexes::Unlink(JobId id, const JobMeta& m) {
  if (m.running) {
    m.queue->running.erase({m.time_ms, id});
    m.group->running.erase({m.time_ms, id});
    leases_.erase({m.time_ms, id});
  } else if (m.queue->scheduled.erase({m.time_ms, id}) == 0) {
    const ReadyKey k{m.priority, m.time_ms, id};
    m.queue->ready.erase(k);
    const bool head = !m.group->ready.empty() && *m.group->ready.begin() == k;
    m.group->ready.erase(k);
    if (head) Place(m.queue, m.group);  // its priority in the ring may change
  }
}

void Indexes::PromoteDue(QueueState* q, int64_t now_ms) {
  AdvanceRateClock(now_ms);
  if (!q->blocked.empty() && q->blocked.begin()->first < q->replace_below) ReplaceStale(q);
  while (!q->scheduled.empty() && q->scheduled.begin()->at_ms <= now_ms) {
    TimedKey k = *q->scheduled.begin();
    q->scheduled.erase(q->scheduled.begin());
    const JobMeta& m = jobs_.at(k.id);
    q->ready.insert({m.priority, k.at_ms, k.id});
    m.group->ready.insert({m.priority, k.at_ms, k.id});
    Place(q, m.group);
    MarkChanged(q);
  }
  while (!q->rate_waiting.empty() && q->rate_waiting.begin()->first.first <= rate_now_ms_) {
    KeyGroup* g = q->rate_waiting.begin()->second;
    Unslot(q, g);
    Place(q, g);
    MarkChanged(q);
  }
}

void Indexes::SetExpiry(JobId id, int64_t expires_ms) {
  JobMeta& m = jobs_.at(id);
  if (m.expires_ms != 0) expiring_.erase({m.expires_ms, id});
  m.expires_ms = expires_ms;
  if (expires_ms != 0) expiring_.insert({expires_ms, id});
}

namespace {

// The earliest entry's job if its time is at or before `now_ms`.
std::optional<JobId> FirstDue(const absl::btree_set<TimedKey>& by_time, int64_t now_ms) {
  if (by_time.empty() || by_time.begin()->at_ms > now_ms) return std::nullopt;
  return by_time.begin()->id;
}

std::optional<int64_t> Earliest(const absl::btree_set<TimedKey>& by_time) {
  if (by_time.empty()) return std::nullopt;
  return by_time.begin()->at_ms;
}

}  // namespace

std::optional<JobId> Indexes::FirstExpiring(int64_t now_ms) const {
  return FirstDue(expiring_, now_ms);
}

std::optional<int64_t> Indexes::NextExpiry() const { return Earliest(expiring_); }

std::optional<JobId> Indexes::FirstExpired(int64_t now_ms) const {
  return FirstDue(leases_, now_ms);
}

std::optional<int64_t> Indexes::NextDeadline() const { return Earliest(leases_); }

void Indexes::MarkChanged(QueueState* q) {
  if (q->changed) return;
  q->changed = true;
  changed_.push_back(q);
}

std::vector<QueueState*> Indexes::TakeChanged() {
  std::vector<QueueState*> out;
  out.swap(changed_);
  for (QueueState* q : out) q->changed = false;
  return out;
}

}  // namespace ratchet::internal
