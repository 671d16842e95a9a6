// EngineOptions: how an Engine is opened. Every field has its default in
// the initialiser; units are in the type (std::chrono) or the name (_bytes).
// Options are read once at Engine::Open and cannot change while it is open.
#ifndef RATCHET_ENGINE_ENGINE_OPTIONS_H_
#define RATCHET_ENGINE_ENGINE_OPTIONS_H_

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "ratchet/base/clock.h"
#include "ratchet/base/random.h"
#include "ratchet/engine/types.h"

namespace rocksdb {
class FileSystem;
}
namespace prometheus {
class Registry;
}

namespace ratchet {

struct EngineOptions {
  // RocksDB data directory; created if missing. The embedded default.
  std::string data_dir = "./ratchet-data";
  // Time source for every time-based decision. Not owned; must outlive the
  // engine. Null means SystemClock::Default().
  Clock* clock = nullptr;
  // Randomness for backoff jitter. Null means a randomly seeded source.
  std::shared_ptr<Random> random;
  // File system to run RocksDB on (fault injection); null is POSIX.
  std::shared_ptr<rocksdb::FileSystem> file_system;
  // Fault injection for tests: called before every point read of committed
  // data with the column family's name and the key; a non-OK status fails
  // that read (storage::StoreOptions::read_fault). Null injects nothing.
  std::function<absl::Status(std::string_view column_family, std::string_view key)> read_fault;

  size_t max_payload_bytes = 1 << 20;               // payload and result limit (1 MiB)
  Millis idempotency_window{24 * 3600000};          // how long keys are remembered
  Millis max_schedule_ahead{366LL * 24 * 3600000};  // furthest run_at from now
  Millis max_visibility_timeout{12 * 3600000};      // longest lease or extension
  Millis max_lease_wait{60000};                     // longest long-poll Lease wait
  int max_lease_jobs = 1000;                        // max_jobs limit per Lease
  // Bound on the bytes of one answer: a Lease's jobs (LeaseRequest::max_bytes)
  // and a List page (ListRequest::max_bytes).
  size_t max_lease_bytes = 8 << 20;
  int max_batch_jobs = 10000;  // jobs per EnqueueBatch
  // Total payload, result and application-value bytes of one request
  // (EnqueueBatch, CommitOutbox, CompleteBatch), which is one atomic write.
  size_t max_request_bytes = 64 << 20;
  int max_errors_kept = 10;       // attempt errors kept per job
  int max_workflow_steps = 1000;  // steps of a DAG workflow, journal entries of a code-first one
  // Suspensions (Suspend) of a code-first workflow's main job in one
  // attempt. The one past the bound fails the attempt instead, as a
  // retryable Fail whose error names this option; a redrive or the next
  // attempt starts counting afresh. A well-behaved workflow suspends about
  // once per timer or wait, and has at most max_workflow_steps of those.
  int max_suspends_per_attempt = 1000;
  // A due schedule tick older than this counts as missed (MissedRunPolicy).
  // >= 0 (INVALID_ARGUMENT otherwise).
  Millis schedule_misfire_grace{60000};
  // Ticks one schedule fires per engine pass (a run_all catch-up, or the
  // on-time ticks of a long grace, continue in the next pass, milliseconds
  // later).
  int max_fires_per_pass = 1000;
  QueueSettings default_queue_settings;  // for queues created implicitly

  // Group commit: most operations and bytes merged into one synced batch.
  int max_group_ops = 4096;
  size_t max_group_bytes = 32 << 20;

  // The retention sweeper deletes about sweep_batch_keys keys per pass, so
  // a pass never holds the sequencer for long. Job retention runs a pass
  // whenever one is due (back to back while a backlog lasts); workflow
  // retention and idempotency keys get a pass at least every sweep_interval
  // (docs/consistency.md, "Background work").
  Millis sweep_interval{1000};
  int sweep_batch_keys = 1000;

  // Redrive and purge by filter run in slices: each examines at most this
  // many dead-letter keys (and redrives or purges at most as many jobs) in
  // one atomic write, then lets the operations queued meanwhile run before
  // the next slice. Bounds how long one of them holds the sequencer.
  int dead_letter_slice_keys = 100;
  // CancelJobs runs in slices the same way: each examines at most this many
  // live jobs of the queue (and cancels at most as many) in one write.
  int cancel_slice_jobs = 100;

  // Metrics (docs/operations.md, "Metrics"): the engine registers its
  // ratchet_* families in this registry at Open and keeps them current; the
  // caller serves it (ratchetd: /metrics). Shared with the caller; null
  // means no metrics. One registry per engine: a second engine on the same
  // registry would share its series.
  std::shared_ptr<prometheus::Registry> metrics_registry;
  // Queues with their own per-queue series (bounded label cardinality);
  // later queues count under queue="~other" and get no per-queue gauges.
  int metrics_max_queues = 500;

  size_t block_cache_bytes = 64 << 20;  // RocksDB block cache bound
  // Recently written records of live jobs kept in memory so a Lease soon
  // after an Enqueue skips a RocksDB lookup. 0 disables it.
  size_t record_cache_bytes = 16 << 20;
};

}  // namespace ratchet

#endif  // RATCHET_ENGINE_ENGINE_OPTIONS_H_
