// Storage and backlog statistics of an engine (Engine::GetStats; `ratchet
// admin stats`; docs/operations.md#stats): the bytes of every RocksDB column
// family, live and retained job counts, and per queue the age of the oldest
// available job, a page of queues at a time. Plain values.
#ifndef RATCHET_ENGINE_STATS_H_
#define RATCHET_ENGINE_STATS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ratchet/base/clock.h"

namespace ratchet {

// Most queues in one GetStats page.
inline constexpr int kMaxStatsQueues = 1000;

// The work bound of one page. A queue's oldest available job costs one
// B-tree probe per priority level with available jobs (the ready index is
// ordered by priority first), so at most 1,001 probes per queue (priorities
// 0..1000). A page ends after the queue whose probes take the page's total
// past this many, so a page may hold fewer than `limit` queues and still
// carry a next_cursor (as ListRequest's kMaxListScan). About 1-3 ms on the
// sequencer at worst.
inline constexpr int kMaxStatsProbes = 10000;

struct StatsRequest {
  int limit = 100;     // queues per page, 1..kMaxStatsQueues
  std::string cursor;  // "" for the first page, else a previous next_cursor
};

// One RocksDB column family, from RocksDB's own bookkeeping (no I/O). Bytes.
struct ColumnFamilyStats {
  std::string name;  // RocksDB's name: "default" (meta), "jobs", "finished_jobs", ...
  // Every SST file of the column family, including files of older versions
  // that iterators or snapshots still hold ("rocksdb.total-sst-files-size").
  uint64_t sst_bytes = 0;
  // The SST files of its current version ("rocksdb.live-sst-files-size").
  uint64_t live_sst_bytes = 0;
  // Active and not yet flushed memtables ("rocksdb.cur-size-all-mem-tables").
  uint64_t memtable_bytes = 0;
  // Bytes compaction would rewrite to bring the levels within their targets
  // ("rocksdb.estimate-pending-compaction-bytes").
  uint64_t pending_compaction_bytes = 0;
  // RocksDB's estimate of its keys ("rocksdb.estimate-num-keys"); deletes
  // and overwrites not yet compacted make it high.
  uint64_t estimated_keys = 0;
};

// One queue. Counts as QueueInfo's, as of the sequencer step that read them.
struct QueueStats {
  std::string name;
  int64_t live = 0;     // scheduled, available and running jobs
  int64_t running = 0;  // of those, running
  // Finished jobs still within retention (dead: in the dead-letter queue).
  int64_t completed = 0;
  int64_t cancelled = 0;
  int64_t dead = 0;
  // When the job that has been available longest became available (its
  // run_at: enqueue, or the end of its delay or backoff), whatever its
  // priority, concurrency key or the queue's pause; nullopt if no job is
  // available. The metric ratchet_queue_oldest_available_age_seconds is the
  // same age, but 0 while the queue is paused.
  std::optional<TimePoint> oldest_available;
  // The engine's now less oldest_available (0 if none is available).
  Millis oldest_available_age{0};
};

struct StatsResult {
  TimePoint at;  // the engine's clock when the counts were read
  // Every column family, in the store's order; the same on every page.
  std::vector<ColumnFamilyStats> column_families;
  // Over every queue; the same on every page (as of that page's read).
  int64_t queue_count = 0;
  int64_t live_jobs = 0;  // scheduled, available and running
  int64_t completed = 0;  // retained finished jobs, by state
  int64_t cancelled = 0;
  int64_t dead = 0;
  // A page of queues, by name, after the cursor's queue.
  std::vector<QueueStats> queues;
  std::string next_cursor;  // "" when there are no more queues
};

}  // namespace ratchet

#endif  // RATCHET_ENGINE_STATS_H_
