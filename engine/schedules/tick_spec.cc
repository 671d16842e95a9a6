#include "tick_spec.h"

#include <algorithm>
#include <cctype>
#include <chrono>
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

std::optional<int64_t> TickSpec::Next(int64_t after_ms, int64_t anchor_ms) const {
  if (interval_ms_ > 0) {
    if (after_ms < anchor_ms) return anchor_ms;
    return anchor_ms + ((after_ms - anchor_ms) / interval_ms_ + 1) * interval_ms_;
  }
  return NextCron(after_ms);
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
      const local_seconds wall{m.time_since_epoch()};
      const local_info info = zone_->get_info(wall);
      sys_seconds instant;
      if (info.result == local_info::nonexistent) {
        instant = info.second.begin;  // the end of the gap
      } else {                        // unique, or ambiguous: the first occurrence
        instant = sys_seconds{wall.time_since_epoch()} - info.first.offset;
      }
      const int64_t ms =
          std::chrono::duration_cast<milliseconds>(instant.time_since_epoch()).count();
      if (ms > after_ms) return ms;
    }
    m += minutes(1);
  }
}

}  // namespace ratchet::internal
