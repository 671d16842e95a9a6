// ScheduleMachine: firing schedules. Each tick enqueues one job whose
// idempotency key is "schedule:<id>:<tick ms>", in the same write as the
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
    if (!loaded.ok()) {
      // A record that does not parse must not stop every other schedule:
      // drop it from the due index (until an update or a restart) and say so.
      spdlog::error("schedule_unreadable schedule_id={} error=\"{}\"", id,
                    std::string(loaded.status().message()));
      due_.erase(due_.begin());
      next_.erase(id);
      if (absl::IsUnavailable(loaded.status())) return loaded.status();
      continue;
    }
    ScheduleRecord& rec = *loaded;
    RATCHET_RETURN_IF_ERROR(EvaluateSchedule(batch, now, rec));
    SaveSchedule(batch, rec);
    IndexSchedule(rec);
  }
  return absl::OkStatus();
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
  for (int64_t tick : fire) RATCHET_RETURN_IF_ERROR(FireTick(batch, now, rec, tick, Fire::kTick));
  rec.set_cursor_ms(std::max(rec.cursor_ms(), due.back()));
  return absl::OkStatus();
}

absl::Status ScheduleMachine::FireTick(storage::Batch& batch, TimePoint now, ScheduleRecord& rec,
                                       int64_t tick_ms, Fire fire) {
  const bool manual = fire == Fire::kManual;
  const auto overlap = OverlapOf(rec);
  const bool busy = rec.last_job_id() != 0 && jobs_.IsLive(rec.last_job_id());
  if (!manual && busy && overlap != OverlapPolicy::kAllow) {
    if (overlap == OverlapPolicy::kBufferOne && rec.buffered_tick_ms() == 0) {
      rec.set_buffered_tick_ms(tick_ms);
      return absl::OkStatus();
    }
    if (overlap == OverlapPolicy::kBufferOne) {
      rec.set_buffered_tick_ms(std::max(rec.buffered_tick_ms(), tick_ms));  // keep the latest
    }
    rec.set_skipped_overlap(rec.skipped_overlap() + 1);
    return absl::OkStatus();
  }
  EnqueueRequest req = JobOf(SpecOf(rec));
  req.idempotency_key = manual ? absl::StrCat("schedule:", rec.id(), ":manual:", tick_ms)
                               : absl::StrCat("schedule:", rec.id(), ":", tick_ms);
  if (rec.jitter_ms() > 0) {
    req.run_at = now + Millis(random_.UniformInt(0, rec.jitter_ms() - 1));
  }
  RATCHET_ASSIGN_OR_RETURN(auto plans, jobs_.PlanEnqueue(batch, now, {req}, FieldNames::kPlain));
  JobId id = plans[0].existing;
  if (id == 0) {
    JobOrigin origin;
    origin.schedule_id = rec.id();
    origin.schedule_tick_ms = tick_ms;
    id = jobs_.Insert(batch, now, req, plans[0].fingerprint, &origin);
  }
  rec.set_last_job_id(id);
  if (!manual) {
    rec.set_last_tick_ms(tick_ms);
    rec.set_fired(rec.fired() + 1);
  }
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
  RATCHET_RETURN_IF_ERROR(FireTick(batch, now, rec, tick, Fire::kTick));
  SaveSchedule(batch, rec);
  return absl::OkStatus();
}

absl::StatusOr<TriggerResult> ScheduleMachine::TriggerSchedule(storage::Batch& batch, TimePoint now,
                                                               const std::string& id) {
  RATCHET_ASSIGN_OR_RETURN(ScheduleRecord rec, LoadSchedule(batch, id));
  RATCHET_RETURN_IF_ERROR(FireTick(batch, now, rec, ToUnixMs(now), Fire::kManual));
  SaveSchedule(batch, rec);
  return TriggerResult{rec.last_job_id()};
}

}  // namespace ratchet::internal
