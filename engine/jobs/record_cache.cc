#include "record_cache.h"

namespace ratchet::internal {

void RecordCache::Put(JobId id, std::string record) {
  if (capacity_bytes_ == 0) return;
  Erase(id);
  bytes_ += record.size();
  uint64_t seq = next_seq_++;
  entries_[id] = Entry{std::move(record), seq};
  fifo_.emplace_back(id, seq);
  Evict();
}

const std::string* RecordCache::Get(JobId id) const {
  auto it = entries_.find(id);
  return it == entries_.end() ? nullptr : &it->second.record;
}

void RecordCache::Erase(JobId id) {
  auto it = entries_.find(id);
  if (it == entries_.end()) return;
  bytes_ -= it->second.record.size();
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
      bytes_ -= it->second.record.size();
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
