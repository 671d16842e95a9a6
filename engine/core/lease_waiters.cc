#include "lease_waiters.h"

#include <algorithm>

#include "ratchet/base/invariant.h"

namespace ratchet::internal {

void LeaseWaiters::Park(Waiter w) {
  const uint64_t seq = next_seq_++;
  queues_[w.req.queue].arrivals.insert(seq);
  deadlines_.insert({w.deadline, seq});
  by_arrival_.emplace(seq, std::move(w));
}

const LeaseWaiters::Waiter* LeaseWaiters::Front(const std::string& queue) {
  auto it = queues_.find(queue);
  if (it == queues_.end()) return nullptr;
  ++checks_;
  return &by_arrival_.at(*it->second.arrivals.begin());
}

LeaseWaiters::Waiter LeaseWaiters::PopFront(const std::string& queue) {
  auto it = queues_.find(queue);
  RATCHET_INVARIANT(it != queues_.end(), "PopFront of a queue with no waiters");
  return Remove(*it->second.arrivals.begin());
}

std::vector<LeaseWaiters::Waiter> LeaseWaiters::TakeExpired(TimePoint now) {
  std::vector<Waiter> out;
  while (!deadlines_.empty() && deadlines_.begin()->first <= now) {
    out.push_back(Remove(deadlines_.begin()->second));
  }
  return out;
}

std::vector<LeaseWaiters::Waiter> LeaseWaiters::TakeAbandoned(int max_checks) {
  std::vector<uint64_t> gone;
  const size_t n = std::min(static_cast<size_t>(std::max(max_checks, 0)), by_arrival_.size());
  auto it = by_arrival_.upper_bound(sweep_after_);
  for (size_t i = 0; i < n; ++i, ++it) {
    if (it == by_arrival_.end()) it = by_arrival_.begin();  // wrap around
    ++checks_;
    if (it->second.Gone()) gone.push_back(it->first);
    sweep_after_ = it->first;
  }
  std::vector<Waiter> out;
  for (uint64_t seq : gone) out.push_back(Remove(seq));
  return out;
}

std::vector<LeaseWaiters::Waiter> LeaseWaiters::TakeAll() {
  std::vector<Waiter> out;
  for (auto& [seq, w] : by_arrival_) out.push_back(std::move(w));
  checks_ += out.size();
  by_arrival_.clear();
  queues_.clear();
  deadlines_.clear();
  due_.clear();
  return out;
}

std::optional<TimePoint> LeaseWaiters::NextDeadline() const {
  if (deadlines_.empty()) return std::nullopt;
  return deadlines_.begin()->first;
}

std::vector<std::string> LeaseWaiters::Queues() const {
  std::vector<std::string> out;
  for (const auto& [queue, waiting] : queues_) out.push_back(queue);
  return out;
}

void LeaseWaiters::SetDueAt(const std::string& queue, std::optional<int64_t> run_at_ms) {
  auto it = queues_.find(queue);
  if (it == queues_.end()) return;
  std::optional<int64_t>& due = it->second.due_ms;
  if (due == run_at_ms) return;
  if (due) due_.erase({*due, queue});
  due = run_at_ms;
  if (due) due_.insert({*due, queue});
}

std::vector<std::string> LeaseWaiters::TakeDue(int64_t now_ms) {
  std::vector<std::string> out;
  while (!due_.empty() && due_.begin()->first <= now_ms) {
    std::string queue = due_.begin()->second;
    due_.erase(due_.begin());
    queues_.at(queue).due_ms.reset();
    out.push_back(std::move(queue));
  }
  return out;
}

std::optional<int64_t> LeaseWaiters::NextDue() const {
  if (due_.empty()) return std::nullopt;
  return due_.begin()->first;
}

LeaseWaiters::Waiter LeaseWaiters::Remove(uint64_t seq) {
  auto found = by_arrival_.find(seq);
  RATCHET_INVARIANT(found != by_arrival_.end(), "a waiter is removed once");
  Waiter w = std::move(found->second);
  by_arrival_.erase(found);
  ++checks_;
  deadlines_.erase({w.deadline, seq});
  auto q = queues_.find(w.req.queue);
  q->second.arrivals.erase(seq);
  if (q->second.arrivals.empty()) {
    if (q->second.due_ms) due_.erase({*q->second.due_ms, w.req.queue});
    queues_.erase(q);
  }
  return w;
}

}  // namespace ratchet::internal
