// SweepCursor: where a sweep of a time-ordered index in RocksDB resumes.
//
// The retention sweeper deletes from the front of indexes ordered by time
// (finished jobs by finish time, idempotency keys and unique entries by
// expiry). A deleted key stays behind as a tombstone until compaction drops
// it, and an iterator that seeks to the start of the index steps over every
// one of them: at 20,000 finished jobs/s that is millions of tombstones per
// pass, and the pass slows down as they pile up. The cursor remembers how far
// the index has been swept, so the next pass seeks past what it deleted.
// This is the fix RocksDB's wiki gives for queues ("Implement Queue Service
// Using RocksDB": remember the first sequence id of each queue and never
// iterate over the deleted range).
//
// Invariant: every entry of the index with a time before swept_before() is
// deleted, in the store or in the pending batch. Entries are written at any
// time, not only at the back (a clock stepped back, a unique job's period
// that started long ago), so every writer of the index calls Added(), which
// moves the cursor back when needed. In memory only: after an open or a
// rebuild the cursor is unset and the first pass starts at the front.
//
// Thread safety: none; sequencer thread only (as the indexes that own it).
#ifndef RATCHET_ENGINE_JOBS_SWEEP_CURSOR_H_
#define RATCHET_ENGINE_JOBS_SWEEP_CURSOR_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "ratchet/storage/keys.h"

namespace ratchet::internal {

class SweepCursor {
 public:
  // Where a sweep of the index whose keys are `prefix` + be64(time) + ...
  // starts: at the first entry of the cursor's time, or at the front.
  std::string Start(std::string_view prefix) const {
    if (!swept_before_) return std::string(prefix);
    return storage::KeyBuilder().Raw(prefix).I64(*swept_before_).Build();
  }
  // The sweep deleted (or found pending deletion) every entry up to and
  // including one at `time_ms`; entries at that same time with a later tie
  // breaker may remain, so the next sweep starts at `time_ms` itself.
  void SweptThrough(int64_t time_ms) {
    if (!swept_before_ || time_ms > *swept_before_) swept_before_ = time_ms;
  }
  // An entry at `time_ms` was written: the next sweep must reach it.
  void Added(int64_t time_ms) {
    if (swept_before_ && time_ms < *swept_before_) swept_before_ = time_ms;
  }
  std::optional<int64_t> swept_before() const { return swept_before_; }

 private:
  std::optional<int64_t> swept_before_;
};

}  // namespace ratchet::internal

#endif  // RATCHET_ENGINE_JOBS_SWEEP_CURSOR_H_
