#include "tick_spec.h"

#include <algorithm>
#include <atomic>
#include <bit>
#include <cctype>
#include <chrono>
#include <limits>
#include <optional>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "date/tz.h"
#include "ratchet/base/status.h"

namespace ratchet::internal {

namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;

constexpr int64_t kMinIntervalMs = 1000;
constexpr int64_t kMaxIntervalMs = 366LL * 24 * 3600 * 1000;
constexpr int kSearchYears = 10;
constexpr int64_t kMinuteMs = 60000;
constexpr int kDayMinutes = 1440;
// DST shifts are at most this long (in practice 30 min to 2 h).
constexpr std::chrono::hours kMaxShift{3};

// Cron specs tick between 0001-01-01 and 9999-12-31 UTC (protobuf's
// Timestamp range); times outside it (a damaged stored cursor) are clamped
// to it, so the calendar arithmetic never leaves date's year range.
constexpr int64_t kCronMinMs = -62135596800000LL;
constexpr int64_t kCronMaxMs = 253402300799999LL;

std::atomic<uint64_t> g_tick_calls{0};

// Whole intervals from `anchor` to `t` (t >= anchor), exactly: the
// difference of two int64s always fits in uint64.
uint64_t IntervalsSince(int64_t t, int64_t anchor, int64_t interval) {
  return (static_cast<uint64_t>(t) - static_cast<uint64_t>(anchor)) /
         static_cast<uint64_t>(interval);
}

// anchor + k * interval, or nullopt if it is past INT64_MAX.
std::optional<int64_t> TickAt(int64_t anchor, uint64_t k, int64_t interval) {
  uint64_t offset = 0;
  int64_t at = 0;
  if (__builtin_mul_overflow(k, static_cast<uint64_t>(interval), &offset) ||
      __builtin_add_overflow(anchor, offset, &at)) {
    return std::nullopt;
  }
  return at;
}

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

template <class Duration>
int64_t Ms(Duration d) {
  return std::chrono::duration_cast<milliseconds>(d).count();
}

// The bits of `bits` below position `n`.
uint64_t Below(uint64_t bits, int n) { return n >= 64 ? bits : bits & ((uint64_t{1} << n) - 1); }

const char* const kMonthNames[] = {"JAN", "FEB", "MAR", "APR", "MAY", "JUN",
                                   "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"};
const char* const kDayNames[] = {"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"};

struct Field {
  const char* name;
  int min, max;
  const char* const* names;  // names for min.. (months from 1, days from 0)
  int name_count;
};

absl::Status Bad(absl::string_view problem) { return InvalidArgument("spec", problem); }

absl::StatusOr<int> Value(const Field& f, absl::string_view text) {
  int v = 0;
  if (absl::SimpleAtoi(text, &v)) {
    if (v < f.min || v > f.max) {
      return Bad(absl::StrCat(f.name, " field: ", v, " is outside ", f.min, "-", f.max));
    }
    return v;
  }
  std::string upper = absl::AsciiStrToUpper(text);
  for (int i = 0; i < f.name_count; ++i) {
    if (upper == f.names[i]) return f.min == 1 ? i + 1 : i;
  }
  return Bad(
      absl::StrCat(f.name, " field: '", text, "' is not a number", f.names ? " or a name" : ""));
}

// Parses one comma-separated cron field into bits [min, max].
template <size_t N>
absl::Status ParseField(const Field& f, absl::string_view text, std::bitset<N>* bits, bool* star) {
  *star = !text.empty() && text[0] == '*';
  for (absl::string_view part : absl::StrSplit(text, ',')) {
    if (part.empty())
      return Bad(absl::StrCat(f.name, " field: empty list element in '", text, "'"));
    int step = 1;
    if (size_t slash = part.find('/'); slash != absl::string_view::npos) {
      if (!absl::SimpleAtoi(part.substr(slash + 1), &step) || step < 1 || step > f.max) {
        return Bad(absl::StrCat(f.name, " field: bad step in '", part, "'"));
      }
      part = part.substr(0, slash);
    }
    int lo, hi;
    if (part == "*") {
      lo = f.min;
      hi = f.max;
    } else if (size_t dash = part.find('-'); dash != absl::string_view::npos) {
      RATCHET_ASSIGN_OR_RETURN(lo, Value(f, part.substr(0, dash)));
      RATCHET_ASSIGN_OR_RETURN(hi, Value(f, part.substr(dash + 1)));
      if (hi < lo) return Bad(absl::StrCat(f.name, " field: range '", part, "' is backwards"));
    } else {
      RATCHET_ASSIGN_OR_RETURN(lo, Value(f, part));
      hi = step > 1 ? f.max : lo;  // "5/10" means 5-max/10
    }
    for (int v = lo; v <= hi; v += step) bits->set(static_cast<size_t>(v == 7 && N == 7 ? 0 : v));
  }
  return absl::OkStatus();
}

absl::StatusOr<int64_t> ParseDuration(absl::string_view text) {
  if (text.empty()) return Bad("@every needs a duration such as 90s, 15m or 1h30m");
  int64_t total = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t digits = i;
    while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
    size_t unit_end = digits;
    while (unit_end < text.size() && std::isalpha(static_cast<unsigned char>(text[unit_end]))) {
      ++unit_end;
    }
    int64_t n = 0;
    if (digits == i || !absl::SimpleAtoi(text.substr(i, digits - i), &n) || n > kMaxIntervalMs) {
      return Bad(absl::StrCat("@every: '", text, "' is not a duration such as 90s or 1h30m"));
    }
    absl::string_view unit = text.substr(digits, unit_end - digits);
    int64_t scale = unit == "ms"  ? 1
                    : unit == "s" ? 1000
                    : unit == "m" ? 60000
                    : unit == "h" ? 3600000
                    : unit == "d" ? 86400000
                                  : 0;
    if (scale == 0) {
      return Bad(absl::StrCat("@every: unit '", unit, "' in '", text, "'; use ms, s, m, h or d"));
    }
    total += n * scale;
    if (total > kMaxIntervalMs) break;
    i = unit_end;
  }
  if (total < kMinIntervalMs || total > kMaxIntervalMs) {
    return Bad(absl::StrCat("@every: ", total, " ms is outside [", kMinIntervalMs, ", ",
                            kMaxIntervalMs, "] ms"));
  }
  return total;
}

std::string Expand(absl::string_view spec) {
  if (spec == "@hourly") return "0 * * * *";
  if (spec == "@daily" || spec == "@midnight") return "0 0 * * *";
  if (spec == "@weekly") return "0 0 * * 0";
  if (spec == "@monthly") return "0 0 1 * *";
  if (spec == "@yearly" || spec == "@annually") return "0 0 1 1 *";
  return std::string(spec);
}

}  // namespace

absl::StatusOr<TickSpec> TickSpec::Parse(const std::string& spec, const std::string& time_zone) {
  TickSpec t;
  if (time_zone.empty()) return InvalidArgument("time_zone", "must not be empty (e.g. UTC)");
  try {
    t.zone_ = date::locate_zone(time_zone);
  } catch (const std::exception&) {
    return InvalidArgument("time_zone", absl::StrCat("unknown IANA time zone '", time_zone, "'"));
  }
  absl::string_view s = absl::StripAsciiWhitespace(spec);
  if (absl::StartsWith(s, "@every")) {
    RATCHET_ASSIGN_OR_RETURN(t.interval_ms_,
                             ParseDuration(absl::StripAsciiWhitespace(s.substr(6))));
    return t;
  }
  std::string expanded = Expand(s);
  if (!expanded.empty() && expanded[0] == '@') {
    return Bad(absl::StrCat("unknown shorthand '", expanded,
                            "'; use @hourly, @daily, @weekly, @monthly, @yearly or @every"));
  }
  std::vector<absl::string_view> fields = absl::StrSplit(expanded, ' ', absl::SkipWhitespace());
  if (fields.size() != 5) {
    return Bad(absl::StrCat("'", spec, "' has ", fields.size(),
                            " fields; cron needs 5: minute hour day-of-month month day-of-week"));
  }
  bool star;
  RATCHET_RETURN_IF_ERROR(
      ParseField(Field{"minute", 0, 59, nullptr, 0}, fields[0], &t.minute_, &star));
  RATCHET_RETURN_IF_ERROR(ParseField(Field{"hour", 0, 23, nullptr, 0}, fields[1], &t.hour_, &star));
  RATCHET_RETURN_IF_ERROR(
      ParseField(Field{"day-of-month", 1, 31, nullptr, 0}, fields[2], &t.dom_, &t.dom_star_));
  RATCHET_RETURN_IF_ERROR(
      ParseField(Field{"month", 1, 12, kMonthNames, 12}, fields[3], &t.month_, &star));
  RATCHET_RETURN_IF_ERROR(
      ParseField(Field{"day-of-week", 0, 7, kDayNames, 7}, fields[4], &t.dow_, &t.dow_star_));
  if (!t.Next(0, 0) && !t.Next(4102444800000LL, 0)) {
    return Bad(absl::StrCat("'", spec, "' never fires"));
  }
  return t;
}

uint64_t TickSpec::calls() { return g_tick_calls.load(std::memory_order_relaxed); }

std::optional<int64_t> TickSpec::Next(int64_t after_ms, int64_t anchor_ms) const {
  g_tick_calls.fetch_add(1, std::memory_order_relaxed);
  if (interval_ms_ > 0) {
    if (after_ms < anchor_ms) return anchor_ms;
    uint64_t k = 0;
    if (__builtin_add_overflow(IntervalsSince(after_ms, anchor_ms, interval_ms_), 1, &k)) {
      return std::nullopt;
    }
    return TickAt(anchor_ms, k, interval_ms_);
  }
  if (after_ms >= kCronMaxMs) return std::nullopt;
  std::optional<int64_t> next = NextCron(std::max(after_ms, kCronMinMs - 1));
  if (next && *next > kCronMaxMs) return std::nullopt;
  return next;
}

bool TickSpec::DayMatches(unsigned dom, unsigned dow) const {
  if (dom_star_ || dow_star_) return dom_[dom] && dow_[dow];
  return dom_[dom] || dow_[dow];
}

std::optional<int64_t> TickSpec::NextCron(int64_t after_ms) const {
  using namespace date;
  const sys_time<milliseconds> after{milliseconds(after_ms)};
  // Start a few hours back in wall time: with the gap and overlap rules the
  // wall-time -> instant map is non-decreasing, so the first matching wall
  // minute whose instant is after `after` is the answer.
  local_time<minutes> m = floor<minutes>(zone_->to_local(after)) - std::chrono::hours(3);
  const year limit = year_month_day{floor<days>(m)}.year() + years(kSearchYears);
  while (true) {
    const local_days day = floor<days>(m);
    const year_month_day ymd{day};
    if (ymd.year() > limit) return std::nullopt;
    if (!month_[static_cast<unsigned>(ymd.month())]) {
      m = local_days{(year_month{ymd.year(), ymd.month()} + months(1)) / 1};
      continue;
    }
    if (!DayMatches(static_cast<unsigned>(ymd.day()), weekday{day}.c_encoding())) {
      m = day + days(1);
      continue;
    }
    const auto hour = std::chrono::duration_cast<std::chrono::hours>(m - day).count();
    if (!hour_[hour]) {
      m = day + std::chrono::hours(hour + 1);
      continue;
    }
    const auto minute = (m - day - std::chrono::hours(hour)).count();
    if (minute_[minute]) {
      const int64_t ms = InstantOf(Ms(m.time_since_epoch()));
      if (ms > after_ms) return ms;
    }
    m += minutes(1);
  }
}

int64_t TickSpec::InstantOf(int64_t wall_ms) const {
  using namespace date;
  const local_seconds wall{std::chrono::duration_cast<std::chrono::seconds>(milliseconds(wall_ms))};
  const local_info info = zone_->get_info(wall);
  sys_seconds instant;
  if (info.result == local_info::nonexistent) {
    instant = info.second.begin;  // the end of the gap
  } else {                        // unique, or ambiguous: the first occurrence
    instant = sys_seconds{wall.time_since_epoch()} - info.first.offset;
  }
  return Ms(instant.time_since_epoch());
}

std::optional<int64_t> TickSpec::Last(int64_t until_ms, int64_t anchor_ms) const {
  g_tick_calls.fetch_add(1, std::memory_order_relaxed);
  if (interval_ms_ > 0) {
    if (until_ms < anchor_ms) return std::nullopt;
    return TickAt(anchor_ms, IntervalsSince(until_ms, anchor_ms, interval_ms_), interval_ms_);
  }
  if (until_ms < kCronMinMs) return std::nullopt;
  std::optional<int64_t> last = LastCron(std::min(until_ms, kCronMaxMs));
  if (last && *last < kCronMinMs) return std::nullopt;
  return last;
}

std::optional<int64_t> TickSpec::LastCron(int64_t until_ms) const {
  using namespace date;
  const sys_time<milliseconds> until{milliseconds(until_ms)};
  // NextCron mirrored: start a few hours ahead in wall time (a wall minute
  // in a fall-back overlap fires at its first occurrence, before instants
  // whose wall time is earlier) and walk back to the first matching minute
  // that fires at or before `until`.
  local_time<minutes> m = floor<minutes>(zone_->to_local(until)) + kMaxShift;
  const year limit = year_month_day{floor<days>(m)}.year() - years(kSearchYears);
  while (true) {
    const local_days day = floor<days>(m);
    const year_month_day ymd{day};
    if (ymd.year() < limit) return std::nullopt;
    if (!month_[static_cast<unsigned>(ymd.month())]) {
      m = local_days{ymd.year() / ymd.month() / 1} - minutes(1);
      continue;
    }
    if (!DayMatches(static_cast<unsigned>(ymd.day()), weekday{day}.c_encoding())) {
      m = day - minutes(1);
      continue;
    }
    const auto hour = std::chrono::duration_cast<std::chrono::hours>(m - day).count();
    if (!hour_[hour]) {
      m = day + std::chrono::hours(hour) - minutes(1);
      continue;
    }
    const auto minute = (m - day - std::chrono::hours(hour)).count();
    if (minute_[minute]) {
      const int64_t ms = InstantOf(Ms(m.time_since_epoch()));
      if (ms <= until_ms) return ms;
    }
    m -= minutes(1);
  }
}

int64_t TickSpec::Count(int64_t after_ms, int64_t until_ms, int64_t anchor_ms) const {
  g_tick_calls.fetch_add(1, std::memory_order_relaxed);
  if (until_ms <= after_ms) return 0;
  if (interval_ms_ > 0) {
    // Ticks at or before t: anchor + k * interval <= t, k >= 0. In uint64
    // the counts are exact for any anchor; with intervals of at least 1 s
    // they stay far below INT64_MAX (the clamp is a guard).
    auto upto = [&](int64_t t) -> uint64_t {
      return t < anchor_ms ? 0 : IntervalsSince(t, anchor_ms, interval_ms_) + 1;
    };
    const uint64_t n = upto(until_ms) - upto(after_ms);
    return static_cast<int64_t>(std::min<uint64_t>(n, std::numeric_limits<int64_t>::max()));
  }
  const int64_t after = std::max(after_ms, kCronMinMs - 1), until = std::min(until_ms, kCronMaxMs);
  return until <= after ? 0 : CountCron(after, until);
}

int64_t TickSpec::CountCron(int64_t after_ms, int64_t until_ms) const {
  using namespace date;
  // The wall-time -> instant map is non-decreasing, so the ticks in
  // (after, until] are the matching wall minutes between two wall bounds,
  // except that all of a DST gap's matching minutes (and the one right
  // after it) fire once, at the transition.
  int64_t n = CountWallMinutes(WallBound(after_ms), WallBound(until_ms));
  sys_info info =
      zone_->get_info(floor<std::chrono::seconds>(sys_time<milliseconds>(milliseconds(after_ms))));
  while (Ms(info.end.time_since_epoch()) <= until_ms) {  // each transition in (after, until]
    const sys_info next = zone_->get_info(info.end);
    if (next.offset > info.offset) {
      const int64_t at = Ms(info.end.time_since_epoch());
      const int64_t collapsed = CountWallMinutes(at + Ms(info.offset) - 1, at + Ms(next.offset));
      if (collapsed > 1) n -= collapsed - 1;
    }
    info = next;
  }
  return n;
}

int64_t TickSpec::WallBound(int64_t instant_ms) const {
  using namespace date;
  const sys_info info = zone_->get_info(
      floor<std::chrono::seconds>(sys_time<milliseconds>(milliseconds(instant_ms))));
  int64_t wall = instant_ms + Ms(info.offset);
  const int64_t begin_ms = Ms(info.begin.time_since_epoch());
  if (instant_ms - begin_ms < Ms(kMaxShift)) {
    // In the second pass through a fall-back overlap, every repeated wall
    // minute has fired already (at its first occurrence).
    const sys_info before = zone_->get_info(info.begin - std::chrono::seconds(1));
    if (before.offset > info.offset) wall = std::max(wall, begin_ms + Ms(before.offset) - 1);
  }
  return wall;
}

int64_t TickSpec::CountWallMinutes(int64_t lo_ms, int64_t hi_ms) const {
  const int64_t first = FloorDiv(lo_ms, kMinuteMs) + 1;  // minutes since the local epoch
  const int64_t last = FloorDiv(hi_ms, kMinuteMs);
  if (last < first) return 0;
  const int64_t first_day = FloorDiv(first, kDayMinutes), last_day = FloorDiv(last, kDayMinutes);
  const int from = static_cast<int>(first - first_day * kDayMinutes);
  const int to = static_cast<int>(last - last_day * kDayMinutes) + 1;
  if (first_day == last_day) return MatchingDays(first_day, first_day) * MinutesOfDay(from, to);
  return MatchingDays(first_day, first_day) * MinutesOfDay(from, kDayMinutes) +
         MatchingDays(first_day + 1, last_day - 1) * MinutesOfDay(0, kDayMinutes) +
         MatchingDays(last_day, last_day) * MinutesOfDay(0, to);
}

int64_t TickSpec::MinutesOfDay(int from, int to) const {
  const uint64_t hours = hour_.to_ullong(), mins = minute_.to_ullong();
  auto before = [&](int n) -> int64_t {  // matching minutes of the day before minute n
    const int h = n / 60, m = n % 60;
    int64_t count = std::popcount(Below(hours, h)) * std::popcount(mins);
    if (h < 24 && hour_[h]) count += std::popcount(Below(mins, m));
    return count;
  };
  return to <= from ? 0 : before(to) - before(from);
}

int64_t TickSpec::MatchingDays(int64_t first, int64_t last) const {
  using namespace date;
  bool every_day = dow_.all();
  for (unsigned d = 1; d <= 31 && every_day; ++d) every_day = dom_[d];
  int64_t n = 0;
  for (int64_t d = first; d <= last;) {  // a month at a time
    const local_days day{days(d)};
    const year_month_day ymd{day};
    const int64_t month_end =
        local_days{ymd.year() / ymd.month() / date::last}.time_since_epoch().count();
    const int64_t end = std::min(last, month_end);
    if (month_[static_cast<unsigned>(ymd.month())]) {
      if (every_day) {
        n += end - d + 1;
      } else {
        unsigned dom = static_cast<unsigned>(ymd.day()), dow = weekday{day}.c_encoding();
        for (int64_t x = d; x <= end; ++x, ++dom, dow = (dow + 1) % 7) n += DayMatches(dom, dow);
      }
    }
    d = end + 1;
  }
  return n;
}

}  // namespace ratchet::internal
