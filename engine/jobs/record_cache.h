// RecordCache: the serialized records of recently written live jobs, so a
// Lease soon after an Enqueue (the common case) does not pay a RocksDB
// memtable lookup per job. Each entry holds the job's state record and its
// payload record (schema 3, "" if the job has none), which never changes
// after enqueue. Bounded by the bytes of both; evicts the oldest write first.
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

  struct Entry {
    std::string state;    // serialized JobRecord
    std::string payload;  // serialized JobPayloadRecord, or ""
    uint64_t seq;         // which write this is; older FIFO slots for the id are stale
  };

  void Put(JobId id, std::string state, std::string payload = "");
  // Replaces the state of a cached job and keeps its payload; the newest
  // write, as Put. Returns false, and caches nothing, if `id` is not cached
  // (its payload is not at hand).
  bool PutState(JobId id, std::string state);
  // The cached entry, or null. Valid until the next Put, PutState or Erase.
  const Entry* Get(JobId id) const;
  void Erase(JobId id);
  size_t bytes() const { return bytes_; }
  size_t size() const { return entries_.size(); }
  size_t slots() const { return fifo_.size(); }  // FIFO bookkeeping, for tests

 private:
  void Evict();

  const size_t capacity_bytes_;
  size_t bytes_ = 0;
  uint64_t next_seq_ = 0;
  absl::flat_hash_map<JobId, Entry> entries_;
  std::deque<std::pair<JobId, uint64_t>> fifo_;  // write order
};

}  // namespace ratchet::internal

#endif  // RATCHET_ENGINE_JOBS_RECORD_CACHE_H_
