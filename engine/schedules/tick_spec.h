// TickSpec: when a schedule ticks. Parses a schedule spec (5-field cron, an
// @ shorthand, or "@every <duration>") in an IANA time zone and computes the
// next tick after a given instant.
//
// Cron semantics follow Vixie cron (crontab(5)): fields minute (0-59), hour
// (0-23), day of month (1-31), month (1-12 or JAN-DEC), day of week (0-7 or
// SUN-SAT, 0 and 7 both Sunday); '*', lists, ranges and /steps. When both
// day fields are restricted (neither starts with '*') a day matches if
// either does. Times are wall-clock times in the schedule's zone, resolved
// through Howard Hinnant's date/tz library on the system tz database:
// - a wall time inside a spring-forward gap fires once, at the first valid
//   instant after the gap (the transition itself);
// - an ambiguous wall time in a fall-back overlap fires once, at its first
//   (earlier) occurrence.
// Both rules keep the wall-time -> instant map non-decreasing, so ticks
// are strictly increasing instants and no tick repeats.
//
// Catch-up after downtime uses Last and Count, which never enumerate ticks:
// interval specs are pure arithmetic; cron specs count matching days month
// by month and correct for the DST gaps in the range (docs/schedules.md).
//
// Thread safety: an immutable value after Parse; safe to share.
#ifndef RATCHET_ENGINE_SCHEDULES_TICK_SPEC_H_
#define RATCHET_ENGINE_SCHEDULES_TICK_SPEC_H_

#include <bitset>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"

namespace date {
class time_zone;
}

namespace ratchet::internal {

class TickSpec {
 public:
  // Errors: INVALID_ARGUMENT naming the field ("spec" or "time_zone") and
  // the problem (an out-of-range value, an unknown zone, ...).
  static absl::StatusOr<TickSpec> Parse(const std::string& spec, const std::string& time_zone);

  // The first tick strictly after `after_ms` (Unix ms). Interval specs tick
  // at anchor_ms + k * interval for k >= 0. nullopt if there is none in the
  // next 10 years (e.g. "0 0 30 2 *"), or none in int64's range.
  //
  // Any int64 arguments are accepted (a stored cursor or anchor may be
  // damaged): interval arithmetic cannot overflow, and cron specs tick only
  // between 0001-01-01 and 9999-12-31 UTC, protobuf's Timestamp range, with
  // arguments outside it clamped to it.
  std::optional<int64_t> Next(int64_t after_ms, int64_t anchor_ms) const;

  // The last tick at or before `until_ms`. nullopt if there is none (an
  // interval spec before its anchor; a cron spec with none in the 10 years
  // before). Cost: O(1) for intervals; a cron spec searches backwards by
  // month, day, hour and minute, as Next does forwards.
  std::optional<int64_t> Last(int64_t until_ms, int64_t anchor_ms) const;

  // The number of ticks t with after_ms < t <= until_ms (0 if until_ms <=
  // after_ms), exactly, without enumerating them. Cost: O(1) for intervals;
  // for cron, O(months in the range + DST transitions in the range), about a
  // microsecond per year of range.
  int64_t Count(int64_t after_ms, int64_t until_ms, int64_t anchor_ms) const;

  bool is_interval() const { return interval_ms_ > 0; }

  // How many Next, Last and Count calls every TickSpec in this process has
  // made (each does bounded work): tests and benchmarks count work with it.
  static uint64_t calls();

 private:
  std::optional<int64_t> NextCron(int64_t after_ms) const;
  std::optional<int64_t> LastCron(int64_t until_ms) const;
  int64_t CountCron(int64_t after_ms, int64_t until_ms) const;
  bool DayMatches(unsigned dom, unsigned dow) const;
  // The instant a matching wall minute (local ms) fires at (gap and
  // overlap rules above).
  int64_t InstantOf(int64_t wall_ms) const;
  // The latest local wall time (ms) w such that every wall minute <= w
  // fires at or before `instant_ms`.
  int64_t WallBound(int64_t instant_ms) const;
  // Matching wall minutes w (local ms) with lo_ms < w <= hi_ms.
  int64_t CountWallMinutes(int64_t lo_ms, int64_t hi_ms) const;
  // Matching minutes of one day with minute-of-day in [from, to).
  int64_t MinutesOfDay(int from, int to) const;
  // Matching days in [first, last] (days since the local epoch).
  int64_t MatchingDays(int64_t first, int64_t last) const;

  int64_t interval_ms_ = 0;
  std::bitset<60> minute_;
  std::bitset<24> hour_;
  std::bitset<32> dom_;
  std::bitset<13> month_;
  std::bitset<7> dow_;
  bool dom_star_ = true, dow_star_ = true;
  const date::time_zone* zone_ = nullptr;
};

}  // namespace ratchet::internal

#endif  // RATCHET_ENGINE_SCHEDULES_TICK_SPEC_H_
