// ScheduleMachine: firing schedules. Each tick enqueues one job whose
// idempotency key is "schedule:<id>:<tick ms>" (a prefix callers may not
// use), in the same write as the
// schedule's cursor moving past the tick: a tick fires at most once across
// crashes, restarts and clock jumps (docs/schedules.md).
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "ratchet/base/status.h"
#include "record_io.h"
#include "schedule_machine.h"
#include "spdlog/spdlog.h"

namespace ratchet::internal {

namespace {
// Ticks before the catch-up window are counted one by one up to this many;
// beyond it the cursor jumps to the window (the count is then a lower bound).
constexpr int kMaxCountedTicks = 1000;
// A schedule whose fire failed is retried after 1 s, doubling up to 5 min.
constexpr int64_t kFailedFireFirstRetryMs = 1000;
constexpr int64_t kFailedFireMaxRetryMs = 5 * 60 * 1000;
}  // namespace

std::optional<int64_t> ScheduleMachine::NextDue() const {
  if (due_.empty()) return std::nullopt;
  return due_.begin()->first;
}

absl::Status ScheduleMachine::FireDueSchedules(storage::Batch& batch, TimePoint now,
                                               int max_schedules) {
  const int64_t now_ms = ToUnixMs(now);
  for (int i = 0; i < max_schedules && !due_.empty() && due_.begin()->first <= now_ms; ++i) {
    std::string id = due_.begin()->second;
    absl::StatusOr<ScheduleRecord> loaded = LoadSchedule(batch, id);
    if (absl::IsUnavailable(loaded.status())) {
      PostponeFailed(id, now_ms, loaded.status());  // a read error: retried
      continue;
    }
    if (!loaded.ok()) {
      // A record that does not parse must not stop every other schedule:
      // drop it from the due index (until an update or a restart) and say so.
      spdlog::error("schedule_unreadable schedule_id={} error=\"{}\"", id,
                    std::string(loaded.status().message()));
      due_.erase(due_.begin());
      next_.erase(id);
      continue;
    }
    ScheduleRecord& rec = *loaded;
    // A fire that fails (bad job, read error) writes nothing: EvaluateSchedule
    // plans every enqueue before it writes. It never holds up the schedules
    // due after it, and is retried later, with backoff.
    absl::Status fired = EvaluateSchedule(batch, now, rec);
    if (!fired.ok()) {
      PostponeFailed(id, now_ms, fired);
      continue;
    }
    failures_.erase(id);
    SaveSchedule(batch, rec);
    IndexSchedule(rec);
  }
  return absl::OkStatus();
}

void ScheduleMachine::PostponeFailed(const std::string& id, int64_t now_ms,
                                     const absl::Status& error) {
  int& failures = failures_[id];
  failures = std::min(failures + 1, 30);
  const int64_t delay =
      std::min<int64_t>(kFailedFireMaxRetryMs, kFailedFireFirstRetryMs << (failures - 1));
  spdlog::error("schedule_fire_failed schedule_id={} failures={} retry_in_ms={} error=\"{}\"", id,
                failures, delay, error.ToString());
  if (auto it = next_.find(id); it != next_.end()) due_.erase({it->second, id});
  next_[id] = now_ms + delay;
  due_.insert({now_ms + delay, id});
}

absl::Status ScheduleMachine::EvaluateSchedule(storage::Batch& batch, TimePoint now,
                                               ScheduleRecord& rec) {
  const int64_t now_ms = ToUnixMs(now);
  const int64_t grace = store_.options().schedule_misfire_grace.count();
  const int64_t window_start = now_ms - rec.catchup_window_ms();
  const auto missed = MissedOf(rec);
  // Ticks older than the catch-up window never fire.
  int counted = 0;
  std::optional<int64_t> t = NextTick(rec);
  while (t && *t < window_start && *t <= now_ms) {
    rec.set_skipped_missed(rec.skipped_missed() + 1);
    rec.set_cursor_ms(*t);
    if (++counted >= kMaxCountedTicks) {
      rec.set_cursor_ms(std::max(rec.cursor_ms(), window_start - 1));
      spdlog::warn("schedule_skipped_uncounted schedule_id={} counted={}", rec.id(), counted);
    }
    t = NextTick(rec);
  }
  // Due ticks within the window, oldest first.
  std::vector<int64_t> due;
  while (t && *t <= now_ms) {
    due.push_back(*t);
    if (missed == MissedRunPolicy::kRunAll &&
        static_cast<int>(due.size()) >= store_.options().max_fires_per_pass) {
      break;  // the rest fire in the next pass
    }
    const int64_t after = *t;
    rec.set_cursor_ms(after);
    t = NextTick(rec);
  }
  if (due.empty()) {
    rec.set_cursor_ms(std::max(rec.cursor_ms(), std::min(now_ms, t.value_or(now_ms))));
    return absl::OkStatus();
  }
  std::vector<int64_t> fire;
  if (missed == MissedRunPolicy::kRunAll) {
    fire = due;
  } else {
    std::vector<int64_t> late;
    for (int64_t tick : due) (now_ms - tick <= grace ? fire : late).push_back(tick);
    if (missed == MissedRunPolicy::kRunOnce && !late.empty()) {
      fire.insert(fire.begin(), late.back());  // one catch-up, as the latest missed tick
      late.pop_back();
    }
    rec.set_skipped_missed(rec.skipped_missed() + static_cast<int64_t>(late.size()));
    if (!late.empty()) {
      spdlog::info("schedule_missed schedule_id={} skipped={} policy={}", rec.id(), late.size(),
                   MissedRunPolicyName(missed));
    }
  }
  RATCHET_RETURN_IF_ERROR(FireTicks(batch, now, rec, fire, Fire::kTick));
  rec.set_cursor_ms(std::max(rec.cursor_ms(), due.back()));
  return absl::OkStatus();
}

absl::Status ScheduleMachine::FireTicks(storage::Batch& batch, TimePoint now, ScheduleRecord& rec,
                                        const std::vector<int64_t>& ticks, Fire fire) {
  const bool manual = fire == Fire::kManual;
  const auto overlap = OverlapOf(rec);
  // Decided on a copy, applied only once every enqueue has been planned
  // (validated, idempotency checked): a failure writes nothing.
  ScheduleRecord next = rec;
  bool busy = next.last_job_id() != 0 && jobs_.IsLive(next.last_job_id());
  std::vector<EnqueueRequest> reqs;
  std::vector<int64_t> fired;
  for (int64_t tick_ms : ticks) {
    if (!manual && busy && overlap != OverlapPolicy::kAllow) {
      if (overlap == OverlapPolicy::kBufferOne && next.buffered_tick_ms() == 0) {
        next.set_buffered_tick_ms(tick_ms);
        continue;
      }
      if (overlap == OverlapPolicy::kBufferOne) {
        next.set_buffered_tick_ms(std::max(next.buffered_tick_ms(), tick_ms));  // keep the latest
      }
      next.set_skipped_overlap(next.skipped_overlap() + 1);
      continue;
    }
    EnqueueRequest req = JobOf(SpecOf(next));
    // "schedule:<id>:<tick>" ends in digits and "schedule:<id>:<ms>:manual"
    // does not, and the last ':' ends the id: no two ids or kinds share a key.
    req.idempotency_key = manual
                              ? absl::StrCat(kScheduleKeyPrefix, next.id(), ":", tick_ms, ":manual")
                              : absl::StrCat(kScheduleKeyPrefix, next.id(), ":", tick_ms);
    if (next.jitter_ms() > 0) {
      req.run_at = now + Millis(random_.UniformInt(0, next.jitter_ms() - 1));
    }
    reqs.push_back(std::move(req));
    fired.push_back(tick_ms);
    busy = true;  // the job this tick enqueues is live
  }
  RATCHET_ASSIGN_OR_RETURN(auto plans, jobs_.PlanEnqueue(batch, now, reqs, FieldNames::kPlain));
  // Everything is checked; from here on nothing fails.
  for (size_t i = 0; i < reqs.size(); ++i) {
    JobId id = plans[i].existing;
    if (id == 0) {
      JobOrigin origin;
      origin.schedule_id = next.id();
      origin.schedule_tick_ms = fired[i];
      id = jobs_.Insert(batch, now, reqs[i], plans[i].fingerprint, &origin);
    }
    next.set_last_job_id(id);
    if (!manual) {
      next.set_last_tick_ms(fired[i]);
      next.set_fired(next.fired() + 1);
    }
  }
  rec = std::move(next);
  return absl::OkStatus();
}

absl::Status ScheduleMachine::OnJobFinished(storage::Batch& batch, TimePoint now,
                                            const JobRecord& r) {
  if (r.schedule_id().empty()) return absl::OkStatus();
  auto found = FindRecord<ScheduleRecord>(batch, storage::Cf::kSchedules, r.schedule_id(),
                                          absl::StrCat("schedule '", r.schedule_id(), "'"));
  if (absl::IsDataLoss(found.status())) return absl::OkStatus();  // logged when it fires
  RATCHET_RETURN_IF_ERROR(found.status());
  if (!*found) return absl::OkStatus();  // deleted
  ScheduleRecord& rec = **found;
  if (rec.last_job_id() != r.id() || rec.buffered_tick_ms() == 0) return absl::OkStatus();
  int64_t tick = rec.buffered_tick_ms();
  rec.set_buffered_tick_ms(0);
  absl::Status fired = FireTicks(batch, now, rec, {tick}, Fire::kTick);
  if (absl::IsUnavailable(fired)) return fired;  // fails the job's operation
  if (!fired.ok()) {
    // The job that finished must still finish: the buffered tick is dropped
    // (counted as skipped for overlap) and the failure logged.
    spdlog::error("schedule_fire_failed schedule_id={} buffered_tick_ms={} error=\"{}\"", rec.id(),
                  tick, fired.ToString());
    rec.set_skipped_overlap(rec.skipped_overlap() + 1);
  }
  SaveSchedule(batch, rec);
  return absl::OkStatus();
}

absl::StatusOr<TriggerResult> ScheduleMachine::TriggerSchedule(storage::Batch& batch, TimePoint now,
                                                               const std::string& id) {
  RATCHET_ASSIGN_OR_RETURN(ScheduleRecord rec, LoadSchedule(batch, id));
  RATCHET_RETURN_IF_ERROR(FireTicks(batch, now, rec, {ToUnixMs(now)}, Fire::kManual));
  SaveSchedule(batch, rec);
  return TriggerResult{rec.last_job_id()};
}

}  // namespace ratchet::internal
