// Value types of schedules: a spec (cron, shorthand or interval) in an IANA
// time zone that enqueues a job per tick, exactly once per tick. Plain values,
// safe to move between threads. Times are TimePoints (ms since the Unix
// epoch), durations std::chrono::milliseconds. docs/schedules.md explains
// the tick, missed-run, overlap and DST rules.
#ifndef RATCHET_ENGINE_SCHEDULE_TYPES_H_
#define RATCHET_ENGINE_SCHEDULE_TYPES_H_

#include <cstdint>
#include <optional>
#include <string>

#include "ratchet/engine/types.h"

namespace ratchet {

// Ticks that fell while the engine was down or the schedule paused (or, for
// a backlog past max_fires_per_pass, whose pass came late): due ticks more
// than EngineOptions::schedule_misfire_grace old when evaluated.
enum class MissedRunPolicy : uint8_t {
  kSkip = 0,     // missed ticks are counted (skipped_missed) and not fired
  kRunOnce = 1,  // all missed ticks fire once, as the latest missed tick
  kRunAll = 2,   // every missed tick within catchup_window fires, oldest first
};
const char* MissedRunPolicyName(MissedRunPolicy p);

// A tick that falls while the previous fire's job is not terminal.
enum class OverlapPolicy : uint8_t {
  kAllow = 0,      // fire anyway
  kSkip = 1,       // do not fire (counted as skipped_overlap)
  kBufferOne = 2,  // remember the latest such tick; fire it when the job ends
};
const char* OverlapPolicyName(OverlapPolicy p);

struct ScheduleSpec {
  // 1..128 bytes of [A-Za-z0-9_.:-]; chosen by the caller.
  std::string id;
  // "M H DoM Mon DoW" (5-field cron: numbers, names JAN-DEC and SUN-SAT,
  // '*', lists, ranges and /steps; day-of-month and day-of-week OR-ed when
  // both are restricted, as in Vixie cron), "@hourly", "@daily" (or
  // "@midnight"), "@weekly", "@monthly", "@yearly" (or "@annually"), or
  // "@every <n><unit>" with unit ms, s, m, h or d (at least 1 s).
  std::string spec;
  std::string time_zone = "UTC";      // IANA name, e.g. "America/New_York"
  std::optional<TimePoint> start_at;  // no tick before it
  std::optional<TimePoint> end_at;    // no tick after it
  // Each fired job becomes available at tick + a uniform random delay in
  // [0, jitter). At most 1 h. The idempotency key still names the tick.
  Millis jitter{0};
  MissedRunPolicy missed = MissedRunPolicy::kRunOnce;
  Millis catchup_window{24 * 3600000};  // how far back missed ticks count; 1 s..366 d
  OverlapPolicy overlap = OverlapPolicy::kAllow;
  bool paused = false;
  // The job each tick enqueues. Its idempotency key is
  // "schedule:<id>:<tick as Unix ms>"; queue and job type as EnqueueRequest.
  std::string queue;
  std::string job_type;
  std::string payload;
  int priority = 100;
  std::optional<int> max_attempts;
  std::optional<Millis> visibility_timeout;
};

struct ScheduleInfo {
  ScheduleSpec spec;
  TimePoint created_at;
  TimePoint updated_at;
  std::optional<TimePoint> next_tick;  // nullopt: paused, ended or never again
  std::optional<TimePoint> last_tick;  // the last tick that fired
  JobId last_job_id = 0;
  std::optional<TimePoint> buffered_tick;  // buffer_one: waiting to fire
  int64_t fired = 0;                       // ticks fired (not counting TriggerSchedule)
  int64_t skipped_missed = 0;              // ticks dropped by the missed-run policy
  int64_t skipped_overlap = 0;             // ticks dropped by the overlap policy
};

// A page of ListSchedules. Schedules are listed by id.
struct ScheduleListRequest {
  int limit = 100;     // schedules per page, 1..1000
  std::string cursor;  // "" for the first page, else a previous next_cursor
  // Bound on the page's bytes (payloads and other strings, plus a fixed
  // overhead per schedule), so the answer fits the caller's message limit;
  // 0 means EngineOptions::max_lease_bytes. The page ends before the
  // schedule that would pass it, and holds at least one if any remain.
  size_t max_bytes = 0;
};

struct ScheduleListResult {
  std::vector<ScheduleInfo> schedules;  // by id, after the cursor's schedule
  std::string next_cursor;              // "" when there are no more schedules
};

struct TriggerResult {
  JobId job_id = 0;
};

}  // namespace ratchet

#endif  // RATCHET_ENGINE_SCHEDULE_TYPES_H_
