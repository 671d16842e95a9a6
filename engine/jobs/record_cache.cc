#include "record_cache.h"

namespace ratchet::internal {

namespace {
size_t BytesOf(const RecordCache::Entry& e) { return e.state.size() + e.payload.size(); }
}  // namespace

void RecordCache::Put(JobId id, std::string state, std::string payload) {
  if (capacity_bytes_ == 0) return;
  Erase(id);
  uint64_t seq = next_seq_++;
  Entry& e = entries_[id] = Entry{std::move(state), std::move(payload), seq};
  bytes_ += BytesOf(e);
  fifo_.emplace_back(id, seq);
  Evict();
}

bool RecordCache::PutState(JobId id, std::string state) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return false;
  std::string payload = std::move(it->second.payload);
  bytes_ -= payload.size();  // Put's Erase subtracts the state's bytes only
  Put(id, std::move(state), std::move(payload));
  return true;
}

const RecordCache::Entry* RecordCache::Get(JobId id) const {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : &it->second;
}

void RecordCache::Erase(JobId id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  bytes_ -= BytesOf(it->second);
  entries_.erase(it);
}

void RecordCache::Evict() {
  // Pops stale slots (erased or rewritten ids) as they surface, evicts live
  // ones while over capacity, and rotates a long-lived front entry to the
  // back when stale slots pile up behind it, so the FIFO stays within about
  // twice the number of entries.
  while (!fifo_.empty()) {
    auto [id, seq] = fifo_.front();
    auto it = entries_.find(id);
    const bool live = it != entries_.end() && it->second.seq == seq;
    if (!live) {
      fifo_.pop_front();
    } else if (bytes_ > capacity_bytes_) {
      fifo_.pop_front();
      bytes_ -= BytesOf(it->second);
      entries_.erase(it);
    } else if (fifo_.size() > 2 * entries_.size() + 64) {
      fifo_.pop_front();
      fifo_.emplace_back(id, seq);
    } else {
      break;
    }
  }
}

}  // namespace ratchet::internal
