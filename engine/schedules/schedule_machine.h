// ScheduleMachine: cron and interval schedules on the sequencer. It keeps
// every schedule's parsed tick spec and a due index (next tick, id) of the
// active ones; FireDueSchedules enqueues one job per due tick, with the
// idempotency key "schedule:<id>:<tick ms>", in the same write as the
// schedule's cursor moving past the tick, so a tick fires at most once
// across crashes, restarts and clock jumps (docs/schedules.md). It follows
// the jobs it fires as a JobObserver, for the buffer_one overlap policy.
//
// Thread safety: sequencer thread only.
#ifndef RATCHET_ENGINE_SCHEDULES_SCHEDULE_MACHINE_H_
#define RATCHET_ENGINE_SCHEDULES_SCHEDULE_MACHINE_H_

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "job_machine.h"
#include "job_observer.h"
#include "job_store.h"
#include "ratchet/base/random.h"
#include "ratchet/engine/schedule_types.h"
#include "tick_spec.h"

namespace ratchet::internal {

// A schedule's definition, and the job each of its ticks enqueues (without
// the idempotency key and run_at, which the fire sets). schedules.cc.
ScheduleSpec SpecOf(const ScheduleRecord& r);
EnqueueRequest JobOf(ScheduleSpec s);

class ScheduleMachine final : public JobObserver {
 public:
  // Whether a write defines a new schedule or changes an existing one.
  enum class Write { kCreate, kUpdate };

  // `store`, `jobs` and `random` are borrowed and must outlive this object.
  ScheduleMachine(JobStore* store, JobMachine* jobs, Random* random)
      : store_(*store), jobs_(*jobs), random_(*random) {}

  // Parses every stored schedule and builds the due index. Call once, at open.
  absl::Status Recover();

  // Errors: INVALID_ARGUMENT naming the field; ALREADY_EXISTS (kCreate of an
  // id with another definition); NOT_FOUND (kUpdate of an unknown id).
  absl::Status Define(storage::Batch& batch, TimePoint now, const ScheduleSpec& spec, Write write);
  absl::Status DeleteSchedule(storage::Batch& batch, const std::string& id);
  absl::Status SetPaused(storage::Batch& batch, TimePoint now, const std::string& id, bool paused);
  absl::StatusOr<ScheduleInfo> GetSchedule(storage::Batch& batch, const std::string& id);
  // A page by id (Engine::ListSchedules); req.max_bytes is resolved (not 0).
  // Errors: INVALID_ARGUMENT (limit, cursor); DATA_LOSS.
  absl::StatusOr<ScheduleListResult> ListSchedules(storage::Batch& batch,
                                                   const ScheduleListRequest& req);
  absl::StatusOr<TriggerResult> TriggerSchedule(storage::Batch& batch, TimePoint now,
                                                const std::string& id);
  // Fires the ticks due at `now` of at most `max_schedules` schedules, and
  // takes no further schedule once it has fired kMaxTicksPerCall ticks (a
  // schedule fires at most max_fires_per_pass ticks per pass, oldest first:
  // under run_all the window's, under skip and run_once the run_once
  // catch-up and the on-time ticks within schedule_misfire_grace; the rest
  // are due at once, for the next pass). The work per schedule does not
  // grow with the downtime or the catch-up window: missed ticks are counted
  // (TickSpec::Count), never enumerated.
  absl::Status FireDueSchedules(storage::Batch& batch, TimePoint now, int max_schedules);
  // About 200 enqueues keep a group to a few ms; with 1,000, groups of a
  // 10,000-schedule catch-up took tens of ms (bench/schedule_catchup_bench).
  static constexpr int kMaxTicksPerCall = 200;
  // When the earliest active schedule is next due, if any.
  std::optional<int64_t> NextDue() const;

  // JobObserver: a buffered tick fires when the job before it finishes.
  absl::Status OnJobFinished(storage::Batch& batch, TimePoint now, const JobRecord& r) override;

 private:
  // How a tick is fired: by its schedule (overlap policy applies) or by
  // TriggerSchedule (outside the ticks and the overlap policy).
  enum class Fire { kTick, kManual };

  absl::StatusOr<ScheduleRecord> LoadSchedule(storage::Batch& batch, const std::string& id);
  void SaveSchedule(storage::Batch& batch, const ScheduleRecord& rec);
  // Re-files the schedule in the due index from its cursor and settings.
  void IndexSchedule(const ScheduleRecord& rec);
  // The schedule's ticks within its start_at and end_at: the first after
  // its cursor (NextTick) or after `after_ms`; the last at or before
  // `until_ms` and after its cursor; how many lie in (after_ms, until_ms].
  std::optional<int64_t> NextTick(const ScheduleRecord& rec) const;
  std::optional<int64_t> NextTickAfter(const ScheduleRecord& rec, int64_t after_ms) const;
  std::optional<int64_t> LastTick(const ScheduleRecord& rec, int64_t until_ms) const;
  int64_t CountTicks(const ScheduleRecord& rec, int64_t after_ms, int64_t until_ms) const;
  // Evaluates the due ticks of one schedule at `now` (policies applied);
  // returns how many ticks it fired.
  absl::StatusOr<int> EvaluateSchedule(storage::Batch& batch, TimePoint now, ScheduleRecord& rec);
  // Fires `ticks` of `rec` (the overlap policy applies to kTick), updating
  // `rec`. Plans every enqueue before writing: on error, nothing is written
  // and `rec` is unchanged. Errors: as Enqueue (INVALID_ARGUMENT, ...);
  // UNAVAILABLE on a read error.
  absl::Status FireTicks(storage::Batch& batch, TimePoint now, ScheduleRecord& rec,
                         const std::vector<int64_t>& ticks, Fire fire);
  // Re-files a schedule whose fire failed for a retry with backoff.
  void PostponeFailed(const std::string& id, int64_t now_ms, const absl::Status& error);

  JobStore& store_;
  JobMachine& jobs_;
  Random& random_;
  // Active (unpaused, not ended) schedules by next due time (ms, id).
  absl::btree_set<std::pair<int64_t, std::string>> due_;
  absl::flat_hash_map<std::string, int64_t> next_;  // id -> due ms
  // Every stored schedule's id, in order: one whose spec no longer parses
  // (a time zone removed from the system) included, so it is listed.
  absl::btree_set<std::string> ids_;
  // Every schedule's parsed spec, paused ones included.
  absl::flat_hash_map<std::string, TickSpec> tick_specs_;
  // Consecutive failed fires per schedule (in memory: a restart retries
  // at once).
  absl::flat_hash_map<std::string, int> failures_;
};

}  // namespace ratchet::internal

#endif  // RATCHET_ENGINE_SCHEDULES_SCHEDULE_MACHINE_H_
