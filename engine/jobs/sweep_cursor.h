// SweepCursor: where a sweep of a time-ordered index in RocksDB resumes.
//
// The retention sweeper deletes from the front of indexes ordered by time
// (finished jobs by finish time, idempotency keys and unique entries by
// expiry). A deleted key stays behind as a tombstone until compaction drops
// it, and an iterator that seeks to the start of the index steps over every
// one of them: at 20,000 finished jobs/s that is millions of tombstones per
// pass, and the pass slows down as they pile up. The cursor remembers how far
// the index has been swept, so the next scan seeks past what it deleted.
// This is the fix RocksDB's wiki gives for queues ("Implement Queue Service
// Using RocksDB": remember the first sequence id of each queue and never
// iterate over the deleted range).
//
// Invariant: every entry of the index with a time before the cursor is
// deleted, in the store or in a pending group. Entries are written at any
// time, not only at the back (a clock stepped back, a unique job's period
// that started long ago), so every writer of the index calls Added(), which
// moves the cursor back to the entry. A scan reads committed data only,
// and groups are pipelined (group N + 1 is built while group N is written),
// so an entry written in group g is invisible to scans that begin before g
// is committed. Added() takes the number of the group the entry goes out
// with, and the entry holds the cursor at or before it until a scan that
// began after that group was committed has ended: that scan began at or
// before the entry, saw it, and either deleted it or stopped before it. The
// sequencer numbers the groups it hands to the writer and says when all of
// them are committed (Indexes::building_group, durable_group).
//
// In memory only: after an open or a rebuild (a rolled-back operation) the
// cursor is unset and the first scan starts at the front.
//
// Thread safety: none; sequencer thread only (as the indexes that own it).
#ifndef RATCHET_ENGINE_JOBS_SWEEP_CURSOR_H_
#define RATCHET_ENGINE_JOBS_SWEEP_CURSOR_H_

#include <algorithm>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/container/btree_map.h"
#include "ratchet/storage/keys.h"

namespace ratchet::internal {

class SweepCursor {
 public:
  // Begins a scan of the index whose keys are `prefix` + be64(time) + ...:
  // returns the key it starts at (the cursor's time, or the front). Every
  // group up to `durable_group` is committed.
  std::string BeginScan(std::string_view prefix, uint64_t durable_group) {
    scan_durable_group_ = durable_group;
    if (!swept_before_) return std::string(prefix);
    return storage::KeyBuilder().Raw(prefix).I64(*swept_before_).Build();
  }
  // Ends the scan begun last. It deleted (or found pending deletion) every
  // entry it met up to and including one at `swept_through`, if any; entries
  // at that same time with a later tie breaker may remain, so the next scan
  // starts at that time itself. Not called for a scan that failed.
  void EndScan(std::optional<int64_t> swept_through) {
    // Floors of groups committed before this scan began: it saw them.
    for (auto it = floors_.begin(); it != floors_.end() && it->first <= scan_durable_group_;) {
      it = floors_.erase(it);
    }
    if (!swept_through) return;
    int64_t next = std::max(swept_before_.value_or(*swept_through), *swept_through);
    for (const auto& [group, time_ms] : floors_) next = std::min(next, time_ms);
    swept_before_ = next;
  }
  // An entry at `time_ms` was written into group `group` (not committed
  // yet): the cursor moves back to it and stays at or before it until a
  // scan that began after the group was committed has ended.
  void Added(int64_t time_ms, uint64_t group) {
    if (swept_before_ && time_ms < *swept_before_) swept_before_ = time_ms;
    auto [it, inserted] = floors_.try_emplace(group, time_ms);
    if (!inserted) it->second = std::min(it->second, time_ms);
  }
  std::optional<int64_t> swept_before() const { return swept_before_; }

 private:
  std::optional<int64_t> swept_before_;
  uint64_t scan_durable_group_ = 0;
  // Group -> the earliest entry it added; only groups not yet seen committed
  // by a scan (a few).
  absl::btree_map<uint64_t, int64_t> floors_;
};

}  // namespace ratchet::internal

#endif  // RATCHET_ENGINE_JOBS_SWEEP_CURSOR_H_
