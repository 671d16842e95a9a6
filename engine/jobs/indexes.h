// In-memory indexes over the live (non-terminal) jobs, rebuilt from RocksDB
// at open. One owner: only the sequencer thread touches them, so they hold no
// lock. Terminal jobs are not indexed here; they live only in RocksDB.
//
// Memory per live job: one JobMeta slot in a flat hash map (~40 bytes at the
// map's load factor) plus one B-tree entry of 16-24 bytes.
#ifndef RATCHET_ENGINE_JOBS_INDEXES_H_
#define RATCHET_ENGINE_JOBS_INDEXES_H_

#include <compare>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/btree_map.h"
#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/string_view.h"
#include "ratchet/engine/types.h"
#include "start_logs.h"
#include "sweep_cursor.h"

namespace ratchet::internal {

// Lease order: priority, then run_at, then id (FIFO within a priority).
struct ReadyKey {
  int32_t priority;
  int64_t run_at_ms;
  JobId id;
  auto operator<=>(const ReadyKey&) const = default;
};

// Time order with id as tie-breaker: scheduled by run_at, leases by deadline.
struct TimedKey {
  int64_t at_ms;
  JobId id;
  auto operator<=>(const TimedKey&) const = default;
};

// Retention classes: which setting bounds a finished job's stay.
enum class RetentionClass : uint8_t {
  kFinished = 0,  // completed and cancelled jobs: QueueSettings::completed_retention
  kDead = 1,      // dead-lettered jobs: QueueSettings::dead_retention
};
inline constexpr int kRetentionClasses = 2;
inline RetentionClass RetentionClassOf(JobState finished) {
  return finished == JobState::kDead ? RetentionClass::kDead : RetentionClass::kFinished;
}

// When a queue's finished jobs of one class next need the sweeper: the
// oldest one's finish time plus the retention (or sooner, after a settings
// change or at open). Ordered by time, then queue name.
struct RetentionDue {
  int64_t due_ms;
  std::string queue;
  RetentionClass retention_class;
  auto operator<=>(const RetentionDue&) const = default;
};

// The live jobs of one concurrency key of a queue ("" groups the jobs
// without a key). Lease takes jobs from groups, never from the queue's
// `ready` set directly (docs/consistency.md, "Flow control").
struct KeyGroup {
  std::string key;
  absl::btree_set<ReadyKey> ready;    // its available jobs, in lease order
  absl::btree_set<TimedKey> running;  // its running jobs, by lease deadline
  int64_t live = 0;                   // scheduled + available + running
  // Where the group is, if anywhere: in the queue's ring (it can lease),
  // or in its rate wait (its rate limit opens at `rate_at`). A group with
  // no ready jobs is in neither, nor is one at its concurrency limit.
  std::optional<std::pair<int32_t, uint64_t>> ring_slot;  // (priority, seq)
  std::optional<std::pair<int64_t, uint64_t>> rate_slot;  // (opens at, seq)
  // Set while it has ready jobs but cannot lease (at its concurrency limit,
  // or in its rate wait): its entry in QueueState::blocked.
  std::optional<uint64_t> blocked_seq;
};

struct QueueState {
  std::string name;
  QueueSettings settings;
  absl::btree_set<ReadyKey> ready;      // available: run_at <= now (all keys)
  absl::btree_set<TimedKey> scheduled;  // run_at, not yet moved to ready
  absl::btree_set<TimedKey> running;    // lease deadline
  // Finished jobs on disk, by state; rebuilt at open from the index keys.
  int64_t completed = 0, cancelled = 0, dead = 0;
  bool changed = false;  // listed in Indexes::TakeChanged's next answer
  int64_t& FinishedCount(JobState state) {
    return state == JobState::kCompleted ? completed : state == JobState::kDead ? dead : cancelled;
  }
  Millis Retention(RetentionClass c) const {
    return c == RetentionClass::kDead ? settings.dead_retention : settings.completed_retention;
  }
  // This queue's entry in Indexes' retention schedule, per class, if any.
  std::optional<int64_t> retention_due[kRetentionClasses];
  // How far retention has swept this queue's finished index of `state`
  // (completed, cancelled or dead): the next pass seeks past the
  // tombstones of what it deleted.
  SweepCursor& FinishedSweep(JobState state) {
    return finished_sweep[state == JobState::kCompleted ? 0 : state == JobState::kDead ? 2 : 1];
  }
  SweepCursor finished_sweep[3];

  // ---- Flow control ----
  absl::flat_hash_map<std::string, std::unique_ptr<KeyGroup>> groups;  // with live jobs
  // Groups that can lease now: by their best ready job's priority, then
  // least recently served (round robin among equal priorities).
  absl::btree_map<std::pair<int32_t, uint64_t>, KeyGroup*> ring;
  // Groups with ready jobs held by their key's rate limit, by reopening.
  absl::btree_map<std::pair<int64_t, uint64_t>, KeyGroup*> rate_waiting;
  // Groups with ready jobs that cannot lease (limit or rate), by the seq of
  // their placement. A change of the key settings makes every entry below
  // `replace_below` stale: PromoteDue places them anew, kReplaceSlice per
  // call, so a raised limit or a removed rate reaches every group without
  // one long sequencer step (docs/consistency.md, "Flow control").
  absl::btree_map<uint64_t, KeyGroup*> blocked;
  uint64_t replace_below = 0;
  uint64_t next_seq = 0;
  std::optional<int64_t> last_lease_ms;  // the last Lease call on it since open
  // The running-job limit of `key` (0: unlimited); "" has none.
  int KeyLimit(const std::string& key) const;
};

struct JobMeta {
  QueueState* queue = nullptr;
  KeyGroup* group = nullptr;
  int64_t time_ms = 0;  // run_at while waiting, lease deadline while running
  FencingToken token = 0;
  int32_t priority = 0;
  bool running = false;
  bool cancel_requested = false;
  // expires_at of a waiting job that has never started (0: none); such a
  // job is in Indexes' expiry index.
  int64_t expires_ms = 0;
};

class Indexes {
 public:
  // Queues are owned by the indexes and never removed while the engine is open.
  QueueState* FindQueue(absl::string_view name) const;
  QueueState* AddQueue(std::string name, QueueSettings settings);
  // Every queue, by name.
  std::vector<QueueState*> Queues();
  // Up to `max` queues with names after `after` ("" for the first), by name:
  // O(log queues + max).
  std::vector<QueueState*> QueuesAfter(const std::string& after, size_t max) const;
  size_t queue_count() const { return queues_.size(); }

  JobMeta* Find(JobId id);
  const JobMeta* Find(JobId id) const;
  size_t live_jobs() const { return jobs_.size(); }

  // Finished jobs on disk over every queue: the sums of the queues' counts.
  struct FinishedTotals {
    int64_t completed = 0, cancelled = 0, dead = 0;
  };
  const FinishedTotals& finished_totals() const { return finished_totals_; }
  // Adds `n` (negative to remove) to q's count of finished jobs in `state`
  // and to the totals: the one way those counts change.
  void CountFinished(QueueState* q, JobState state, int64_t n);

  // The smallest run_at of q's available jobs, counting scheduled ones due
  // at `now_ms` that PromoteDue has not moved yet; nullopt if none. Changes
  // nothing. Costs one B-tree probe per priority level with available jobs
  // (the ready index is ordered by priority first), added to *probes.
  std::optional<int64_t> OldestAvailable(const QueueState* q, int64_t now_ms, int* probes) const;

  // Adds a waiting (scheduled or available) job with its concurrency key.
  void AddWaiting(JobId id, QueueState* q, int32_t priority, int64_t run_at_ms,
                  const std::string& key = "");
  // Adds a running job with its lease.
  void AddRunning(JobId id, QueueState* q, int32_t priority, int64_t deadline_ms,
                  FencingToken token, bool cancel_requested, const std::string& key = "");
  // Moves a live job back to waiting until `run_at_ms`, keeping its key.
  void MoveToWaiting(JobId id, int64_t run_at_ms);
  // Moves an available job to running; its group goes to the back of the
  // ring (round robin) if it can still lease.
  void StartLease(JobId id, int64_t deadline_ms, FencingToken token);
  void ExtendLease(JobId id, int64_t deadline_ms);
  // Forgets the job in whatever live state it is.
  void Remove(JobId id);

  // Expiry ("discard if not started by"): puts a waiting job that has never
  // started in the expiry index by `expires_ms`. It leaves the index when
  // it is leased (StartLease) or removed.
  void SetExpiry(JobId id, int64_t expires_ms);
  // The job with the earliest expiry at or before `now_ms`, if any.
  std::optional<JobId> FirstExpiring(int64_t now_ms) const;
  // The earliest expiry in the index, if any.
  std::optional<int64_t> NextExpiry() const;
  size_t expiring_jobs() const { return expiring_.size(); }

  // The retention schedule: which queues' finished jobs the sweeper must
  // visit, by due time. Only queues with finished jobs have entries, so an
  // idle queue costs the sweeper nothing. `due_ms` nullopt removes q's entry.
  void SetRetentionDue(QueueState* q, RetentionClass c, std::optional<int64_t> due_ms);
  // Sets q's entry to `due_ms` unless it has an earlier one.
  void AdvanceRetentionDue(QueueState* q, RetentionClass c, int64_t due_ms);
  // Up to `max` entries due at or before `now_ms`, earliest first (copies:
  // the caller sets each one's next due time).
  std::vector<std::pair<QueueState*, RetentionClass>> DueForRetention(int64_t now_ms,
                                                                      size_t max) const;
  std::optional<int64_t> NextRetentionDue() const;
  // How far retention has swept the idempotency keys' expiry index and the
  // unique entries' cleanup index (sweep_cursor.h).
  SweepCursor& idempotency_sweep() { return idempotency_sweep_; }
  SweepCursor& unique_sweep() { return unique_sweep_; }
  // Group numbers, for the sweep cursors: writes made now go out with group
  // building_group(); every group up to durable_group() is committed. The
  // sequencer calls GroupHandedOff when it hands a batch to the writer and
  // AllCommitted when it has seen the writer idle (every group committed).
  uint64_t building_group() const { return handed_off_ + 1; }
  uint64_t durable_group() const { return durable_group_; }
  void GroupHandedOff() { ++handed_off_; }
  void AllCommitted() { durable_group_ = handed_off_; }

  // Moves `q`'s scheduled jobs with run_at <= now into ready, and its
  // groups whose rate limit has reopened into the ring. Also advances the
  // rate-limit clock (the high-water mark of the times seen).
  void PromoteDue(QueueState* q, int64_t now_ms);
  // Puts `g` where it belongs (ring, rate wait, or neither) under the
  // current settings and logs; a group that stays in the ring at the same
  // priority keeps its place. Frees a group with no live jobs.
  void Place(QueueState* q, KeyGroup* g);
  // The best group that can lease now (O(log n)); groups the ring holds
  // but that can no longer lease (a limit was lowered) are placed anew.
  KeyGroup* NextGroup(QueueState* q);
  // The key settings of `q` changed: its blocked groups are placed anew
  // under them, in slices (PromoteDue).
  void KeySettingsChanged(QueueState* q) { q->replace_below = q->next_seq + 1; }
  // Groups placed anew per PromoteDue after a key settings change.
  static constexpr int kReplaceSlice = 1000;
  // When a group of `q` held by its rate limit next reopens, if any.
  std::optional<int64_t> NextRateOpening(const QueueState* q) const;
  // The rate-limit clock: the largest engine time seen (ms).
  int64_t rate_now_ms() const { return rate_now_ms_; }
  void AdvanceRateClock(int64_t now_ms) { rate_now_ms_ = std::max(rate_now_ms_, now_ms); }
  StartLogs& start_logs() { return start_logs_; }
  const StartLogs& start_logs() const { return start_logs_; }
  // The running job with the earliest deadline at or before now, if any.
  std::optional<JobId> FirstExpired(int64_t now_ms) const;
  // Earliest lease deadline, if any lease is held.
  std::optional<int64_t> NextDeadline() const;

  // Queues that may have become leasable: a job was added or promoted, a
  // running job left (a concurrency slot), or MarkChanged (settings). The
  // sequencer serves the long polls parked on these, and only these.
  void MarkChanged(QueueState* q);
  // The queues marked since the last call, each once, in marking order.
  std::vector<QueueState*> TakeChanged();

 private:
  void Unlink(JobId id, const JobMeta& m);
  KeyGroup* GroupFor(QueueState* q, const std::string& key);
  void Unslot(QueueState* q, KeyGroup* g);
  void Block(QueueState* q, KeyGroup* g);
  // Places anew up to kReplaceSlice stale blocked groups of `q`.
  void ReplaceStale(QueueState* q);

  absl::flat_hash_map<std::string, std::unique_ptr<QueueState>> queues_;
  absl::btree_map<std::string, QueueState*> queues_by_name_;  // the same queues, ordered
  FinishedTotals finished_totals_;
  SweepCursor idempotency_sweep_, unique_sweep_;
  uint64_t handed_off_ = 0, durable_group_ = 0;
  absl::flat_hash_map<JobId, JobMeta> jobs_;
  absl::btree_set<TimedKey> leases_;    // all queues, by deadline
  absl::btree_set<TimedKey> expiring_;  // never-started waiting jobs, by expires_at
  absl::btree_set<RetentionDue> retention_due_;
  std::vector<QueueState*> changed_;
  StartLogs start_logs_;
  int64_t rate_now_ms_ = 0;
};

}  // namespace ratchet::internal

#endif  // RATCHET_ENGINE_JOBS_INDEXES_H_
