// RecordCache: the serialized records of recently written live jobs, so a
// Lease soon after an Enqueue (the common case) does not pay a RocksDB
// memtable lookup per job. Bounded by bytes; evicts the oldest write first.
//
// Coherence: JobStore is the only writer of the jobs column family,
// and it puts every record it saves here and erases every record it finishes
// or deletes, so a cached record is always the newest version (possibly not
// yet committed; if that commit fails the engine is discarded with it).
// Sequencer thread only.
#ifndef RATCHET_ENGINE_JOBS_RECORD_CACHE_H_
#define RATCHET_ENGINE_JOBS_RECORD_CACHE_H_

#include <cstdint>
#include <deque>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "ratchet/engine/types.h"

namespace ratchet::internal {

class RecordCache {
 public:
  explicit RecordCache(size_t capacity_bytes) : capacity_bytes_(capacity_bytes) {}

  void Put(JobId id, std::string record);
  // The cached record, or null. Valid until the next Put or Erase.
  const std::string* Get(JobId id) const;
  void Erase(JobId id);
  size_t bytes() const { return bytes_; }
  size_t size() const { return entries_.size(); }
  size_t slots() const { return fifo_.size(); }  // FIFO bookkeeping, for tests

 private:
  struct Entry {
    std::string record;
    uint64_t seq;  // which write this is; older FIFO slots for the id are stale
  };
  void Evict();

  const size_t capacity_bytes_;
  size_t bytes_ = 0;
  uint64_t next_seq_ = 0;
  absl::flat_hash_map<JobId, Entry> entries_;
  std::deque<std::pair<JobId, uint64_t>> fifo_;  // write order
};

}  // namespace ratchet::internal

#endif  // RATCHET_ENGINE_JOBS_RECORD_CACHE_H_
