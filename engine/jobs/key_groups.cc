// Indexes: the concurrency-key groups of a queue, their ring (round robin
// among the keys that can lease) and their rate wait. docs/consistency.md,
// "Flow control", states the order and the limit rules.
#include "indexes.h"

namespace ratchet::internal {

int QueueState::KeyLimit(const std::string& key) const {
  if (key.empty()) return 0;
  auto it = settings.key_limits.find(key);
  return it != settings.key_limits.end() ? it->second : settings.key_concurrency_limit;
}

KeyGroup* Indexes::GroupFor(QueueState* q, const std::string& key) {
  std::unique_ptr<KeyGroup>& g = q->groups[key];
  if (!g) {
    g = std::make_unique<KeyGroup>();
    g->key = key;
  }
  return g.get();
}

void Indexes::Unslot(QueueState* q, KeyGroup* g) {
  if (g->ring_slot) q->ring.erase(*g->ring_slot);
  if (g->rate_slot) q->rate_waiting.erase(*g->rate_slot);
  if (g->blocked_seq) q->blocked.erase(*g->blocked_seq);
  g->ring_slot.reset();
  g->rate_slot.reset();
  g->blocked_seq.reset();
}

void Indexes::Block(QueueState* q, KeyGroup* g) {
  g->blocked_seq = ++q->next_seq;
  q->blocked.emplace(*g->blocked_seq, g);
}

void Indexes::ReplaceStale(QueueState* q) {
  // Each group placed here leaves the stale range: it is freed, left out
  // (no ready jobs), put in the ring, or blocked again with a new seq.
  for (int n = 0;
       n < kReplaceSlice && !q->blocked.empty() && q->blocked.begin()->first < q->replace_below;
       ++n) {
    KeyGroup* g = q->blocked.begin()->second;
    Unslot(q, g);
    Place(q, g);
  }
  MarkChanged(q);  // long polls lease again (and the next slice runs then)
}

void Indexes::Place(QueueState* q, KeyGroup* g) {
  if (g->live == 0) {
    Unslot(q, g);
    q->groups.erase(g->key);  // frees `g`
    return;
  }
  const int limit = q->KeyLimit(g->key);
  if (g->ready.empty()) {
    Unslot(q, g);  // back when a job becomes ready
    return;
  }
  if (limit > 0 && static_cast<int64_t>(g->running.size()) >= limit) {
    if (g->blocked_seq && !g->rate_slot) return;  // already blocked by its limit
    Unslot(q, g);  // back when a running one ends, or the limit is raised
    Block(q, g);
    return;
  }
  if (!g->key.empty() && q->settings.key_rate_limit) {
    const StartLog* log = start_logs_.Find(q->name, /*queue_wide=*/false, g->key);
    const int64_t opens = log ? log->OpensAt(*q->settings.key_rate_limit) : kOpenNow;
    if (opens > rate_now_ms_) {
      if (g->rate_slot && g->rate_slot->first == opens) return;
      Unslot(q, g);
      g->rate_slot = {opens, ++q->next_seq};
      q->rate_waiting.emplace(*g->rate_slot, g);
      Block(q, g);
      return;
    }
  }
  const int32_t priority = g->ready.begin()->priority;
  if (g->ring_slot && g->ring_slot->first == priority) return;  // keeps its turn
  Unslot(q, g);
  g->ring_slot = {priority, ++q->next_seq};
  q->ring.emplace(*g->ring_slot, g);
}

KeyGroup* Indexes::NextGroup(QueueState* q) {
  while (!q->ring.empty()) {
    KeyGroup* g = q->ring.begin()->second;
    const auto slot = g->ring_slot;
    Place(q, g);
    if (g->ring_slot == slot) return g;
  }
  return nullptr;
}

std::optional<int64_t> Indexes::NextRateOpening(const QueueState* q) const {
  if (q->rate_waiting.empty()) return std::nullopt;
  return q->rate_waiting.begin()->first.first;
}

}  // namespace ratchet::internal
