// ScheduleMachine: firing schedules. Each tick enqueues one job whose
// idempotency key is "schedule:<id>:<tick ms>" (a prefix callers may not
// use), in the same write as the
// schedule's cursor moving past the tick: a tick fires at most once across
// crashes, restarts and clock jumps (docs/schedules.md).
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "ratchet/base/saturating.h"
#include "ratchet/base/status.h"
#include "record_io.h"
#include "schedule_machine.h"
#include "spdlog/spdlog.h"

namespace ratchet::internal {

namespace {
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
  int ticks = 0;  // fired by this call
  for (int i = 0; i < max_schedules && ticks < kMaxTicksPerCall && !due_.empty() &&
                  due_.begin()->first <= now_ms;
       ++i) {
    std::string id = due_.begin()->second;
    absl::StatusOr<ScheduleRecord> loaded = LoadSchedule(batch, id);
    if (absl::IsUnavailable(loaded.status())) {
      PostponeFailed(id, now_ms, loaded.status());  // a read error: retried
      continue;
    }
    if (!loaded.ok()) {
      // A record that does not parse must not stop every other schedule:
      // drop it from the due index (until an update or a restart) and say so.
      spdlog::error("event=schedule_unreadable schedule_id={} error={:?}", id,
                    std::string(loaded.status().message()));
      due_.erase(due_.begin());
      next_.erase(id);
      continue;
    }
    ScheduleRecord& rec = *loaded;
    // A fire that fails (bad job, read error) writes nothing: EvaluateSchedule
    // plans every enqueue before it writes. It never holds up the schedules
    // due after it, and is retried later, with backoff.
    absl::StatusOr<int> fired = EvaluateSchedule(batch, now, rec);
    if (!fired.ok()) {
      PostponeFailed(id, now_ms, fired.status());
      continue;
    }
    ticks += *fired;
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
  spdlog::error("event=schedule_fire_failed schedule_id={} failures={} retry_in_ms={} error={:?}",
                id, failures, delay, error.ToString());
  if (auto it = next_.find(id); it != next_.end()) due_.erase({it->second, id});
  next_[id] = now_ms + delay;
  due_.insert({now_ms + delay, id});
}

// The work is bounded whatever the downtime and the window: ticks that are
// not fired are counted (TickSpec::Count: arithmetic for intervals, month by
// month for cron), the run_once catch-up tick is found with TickSpec::Last,
// and only fired ticks are enumerated, at most max_fires_per_pass (the
// rest fire in the next pass): under run_all the oldest in the window;
// under skip and run_once, the oldest within the grace.
absl::StatusOr<int> ScheduleMachine::EvaluateSchedule(storage::Batch& batch, TimePoint now,
                                                      ScheduleRecord& rec) {
  const int64_t now_ms = ToUnixMs(now);
  const int64_t grace = store_.options().schedule_misfire_grace.count();
  const auto missed = MissedOf(rec);
  // Ticks older than the catch-up window never fire.
  const int64_t before_window =
      std::min(SubtractSaturating(now_ms, AddSaturating(rec.catchup_window_ms(), 1)), now_ms);
  if (before_window > rec.cursor_ms()) {
    rec.set_skipped_missed(
        AddSaturating(rec.skipped_missed(), CountTicks(rec, rec.cursor_ms(), before_window)));
    rec.set_cursor_ms(before_window);
  }
  // Due ticks within the window to fire, oldest first.
  std::vector<int64_t> fire;
  bool capped = false;  // the rest fire in the next pass
  const size_t max_fires = static_cast<size_t>(std::max(1, store_.options().max_fires_per_pass));
  if (missed == MissedRunPolicy::kRunAll) {
    for (auto t = NextTick(rec); t && *t <= now_ms && !capped; t = NextTick(rec)) {
      fire.push_back(*t);
      rec.set_cursor_ms(*t);
      capped = fire.size() >= max_fires;
    }
  } else {
    // Late ticks (older than the grace) are counted; run_once fires the
    // latest of them. The on-time ones fire, up to the cap.
    const int64_t last_late =
        std::min(SubtractSaturating(now_ms, AddSaturating(std::max<int64_t>(grace, 0), 1)), now_ms);
    int64_t late = CountTicks(rec, rec.cursor_ms(), last_late);
    if (late > 0 && missed == MissedRunPolicy::kRunOnce) {
      if (std::optional<int64_t> latest = LastTick(rec, last_late)) {
        fire.push_back(*latest);  // one catch-up, as the latest missed tick
        --late;
        capped = fire.size() >= max_fires;
      }
    }
    // The on-time ones fire, oldest first, up to the cap (a grace of days
    // holds millions of @every 1s ticks): the cursor stops at the last one
    // fired, so the rest are on time, or late and counted, in the next pass.
    for (auto t = NextTickAfter(rec, std::max(rec.cursor_ms(), last_late));
         t && *t <= now_ms && !capped; t = NextTickAfter(rec, *t)) {
      fire.push_back(*t);
      capped = fire.size() >= max_fires;
    }
    rec.set_skipped_missed(AddSaturating(rec.skipped_missed(), late));
    if (late > 0) {
      spdlog::info("event=schedule_missed schedule_id={} skipped={} policy={}", rec.id(), late,
                   MissedRunPolicyName(missed));
    }
  }
  if (!fire.empty()) RATCHET_RETURN_IF_ERROR(FireTicks(batch, now, rec, fire, Fire::kTick));
  // Every tick up to now is fired or counted (unless capped).
  rec.set_cursor_ms(std::max(rec.cursor_ms(), capped ? fire.back() : now_ms));
  return static_cast<int>(fire.size());
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
      next.set_skipped_overlap(IncrementSaturating(next.skipped_overlap()));
      continue;
    }
    EnqueueRequest req = JobOf(SpecOf(next));
    // "schedule:<id>:<tick>" ends in digits and "schedule:<id>:<ms>:manual"
    // does not, and the last ':' ends the id: no two ids or kinds share a key.
    req.idempotency_key = manual
                              ? absl::StrCat(kScheduleKeyPrefix, next.id(), ":", tick_ms, ":manual")
                              : absl::StrCat(kScheduleKeyPrefix, next.id(), ":", tick_ms);
    if (next.jitter_ms() > 0) {
      req.run_at =
          FromUnixMs(AddSaturating(ToUnixMs(now), random_.UniformInt(0, next.jitter_ms() - 1)));
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
      store_.events().ScheduleFired(
          std::max(Millis(0), Millis(SubtractSaturating(ToUnixMs(now), fired[i]))));
      next.set_last_tick_ms(fired[i]);
      next.set_fired(IncrementSaturating(next.fired()));
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
  if (rec.paused()) {
    // A paused schedule fires nothing: the tick is skipped, and counted.
    spdlog::info(
        "event=schedule_buffered_tick_skipped schedule_id={} buffered_tick_ms={} "
        "reason=paused",
        rec.id(), tick);
    rec.set_skipped_overlap(IncrementSaturating(rec.skipped_overlap()));
    SaveSchedule(batch, rec);
    return absl::OkStatus();
  }
  absl::Status fired = FireTicks(batch, now, rec, {tick}, Fire::kTick);
  if (absl::IsUnavailable(fired)) return fired;  // fails the job's operation
  if (!fired.ok()) {
    // The job that finished must still finish: the buffered tick is dropped
    // (counted as skipped for overlap) and the failure logged.
    spdlog::error("event=schedule_fire_failed schedule_id={} buffered_tick_ms={} error={:?}",
                  rec.id(), tick, fired.ToString());
    rec.set_skipped_overlap(IncrementSaturating(rec.skipped_overlap()));
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
