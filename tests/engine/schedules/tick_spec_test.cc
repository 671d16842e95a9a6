// TickSpec: cron parsing and next-tick computation in IANA zones, across
// both DST transitions in New York and Berlin, month ends and leap days; and
// Last and Count (catch-up after downtime), which agree with Next without
// enumerating ticks.
#include "tick_spec.h"

#include <gtest/gtest.h>

#include <chrono>
#include <limits>
#include <optional>
#include <random>

#include "absl/strings/str_cat.h"
#include "date/date.h"
#include "date/tz.h"

namespace ratchet::internal {
namespace {

using namespace date;
using std::chrono::hours;
using std::chrono::minutes;

int64_t Utc(year_month_day day, hours h, minutes m = minutes(0)) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             (sys_days(day) + h + m).time_since_epoch())
      .count();
}

TickSpec Parse(const std::string& spec, const std::string& zone = "UTC") {
  auto t = TickSpec::Parse(spec, zone);
  EXPECT_TRUE(t.ok()) << spec << ": " << t.status();
  return t.ok() ? *t : TickSpec();
}

// The ticks after `from`, `n` of them.
std::vector<int64_t> Ticks(const TickSpec& t, int64_t from, int n) {
  std::vector<int64_t> out;
  for (int i = 0; i < n; ++i) {
    auto next = t.Next(from, 0);
    if (!next) break;
    out.push_back(from = *next);
  }
  return out;
}

TEST(TickSpecTest, NewYorkSpringForwardGapFiresOnceAtTheFirstValidInstant) {
  // 2026-03-08 02:00 EST -> 03:00 EDT. 02:30 does not exist that day.
  TickSpec t = Parse("30 2 * * *", "America/New_York");
  auto ticks = Ticks(t, Utc(2026_y / March / 7, hours(0)), 3);
  ASSERT_EQ(ticks.size(), 3u);
  EXPECT_EQ(ticks[0], Utc(2026_y / March / 7, hours(7), minutes(30)));  // 02:30 EST
  EXPECT_EQ(ticks[1], Utc(2026_y / March / 8, hours(7)));               // 03:00 EDT
  EXPECT_EQ(ticks[2], Utc(2026_y / March / 9, hours(6), minutes(30)));  // 02:30 EDT
}

TEST(TickSpecTest, SeveralTicksInsideTheGapCollapseIntoOne) {
  TickSpec t = Parse("*/20 2 * * *", "America/New_York");
  auto ticks = Ticks(t, Utc(2026_y / March / 8, hours(0)), 2);
  ASSERT_EQ(ticks.size(), 2u);
  EXPECT_EQ(ticks[0], Utc(2026_y / March / 8, hours(7)));  // 02:00, 02:20, 02:40 -> 03:00 EDT
  EXPECT_EQ(ticks[1], Utc(2026_y / March / 9, hours(6)));  // next day 02:00 EDT
}

TEST(TickSpecTest, NewYorkFallBackAmbiguousTimeFiresOnce) {
  // 2026-11-01 02:00 EDT -> 01:00 EST: 01:30 happens twice.
  TickSpec t = Parse("30 1 * * *", "America/New_York");
  auto ticks = Ticks(t, Utc(2026_y / October / 31, hours(12)), 2);
  ASSERT_EQ(ticks.size(), 2u);
  EXPECT_EQ(ticks[0], Utc(2026_y / November / 1, hours(5), minutes(30)));  // 01:30 EDT only
  EXPECT_EQ(ticks[1], Utc(2026_y / November / 2, hours(6), minutes(30)));  // 01:30 EST
}

TEST(TickSpecTest, FrequentTicksDoNotRepeatTheFallBackHour) {
  TickSpec t = Parse("*/30 * * * *", "America/New_York");
  auto ticks = Ticks(t, Utc(2026_y / November / 1, hours(4)), 4);
  ASSERT_EQ(ticks.size(), 4u);
  EXPECT_EQ(ticks[0], Utc(2026_y / November / 1, hours(4), minutes(30)));  // 00:30 EDT
  EXPECT_EQ(ticks[1], Utc(2026_y / November / 1, hours(5)));               // 01:00 EDT
  EXPECT_EQ(ticks[2], Utc(2026_y / November / 1, hours(5), minutes(30)));  // 01:30 EDT
  EXPECT_EQ(ticks[3], Utc(2026_y / November / 1, hours(7)));               // 02:00 EST
}

TEST(TickSpecTest, BerlinCrossesBothTransitions) {
  // 2026-03-29 02:00 CET -> 03:00 CEST; 2026-10-25 03:00 CEST -> 02:00 CET.
  TickSpec spring = Parse("0 2 * * *", "Europe/Berlin");
  auto s = Ticks(spring, Utc(2026_y / March / 28, hours(12)), 2);
  EXPECT_EQ(s[0], Utc(2026_y / March / 29, hours(1)));  // the gap ends at 03:00 CEST
  EXPECT_EQ(s[1], Utc(2026_y / March / 30, hours(0)));  // 02:00 CEST
  TickSpec fall = Parse("30 2 * * *", "Europe/Berlin");
  auto f = Ticks(fall, Utc(2026_y / October / 24, hours(12)), 2);
  EXPECT_EQ(f[0], Utc(2026_y / October / 25, hours(0), minutes(30)));  // 02:30 CEST only
  EXPECT_EQ(f[1], Utc(2026_y / October / 26, hours(1), minutes(30)));  // 02:30 CET
}

TEST(TickSpecTest, MonthEndsAndLeapDays) {
  TickSpec last = Parse("0 0 31 * *");
  auto t = Ticks(last, Utc(2026_y / January / 31, hours(0)), 2);
  EXPECT_EQ(t[0], Utc(2026_y / March / 31, hours(0)));  // no Feb 31, no Apr 31
  EXPECT_EQ(t[1], Utc(2026_y / May / 31, hours(0)));
  TickSpec leap = Parse("0 12 29 2 *");
  auto l = Ticks(leap, Utc(2026_y / January / 1, hours(0)), 2);
  EXPECT_EQ(l[0], Utc(2028_y / February / 29, hours(12)));
  EXPECT_EQ(l[1], Utc(2032_y / February / 29, hours(12)));
}

TEST(TickSpecTest, DayOfMonthAndDayOfWeekAreOredWhenBothRestricted) {
  TickSpec t = Parse("0 0 13 * FRI");
  // 2026-02-06 and 2026-02-13 are Fridays; the 13th matches either way.
  auto ticks = Ticks(t, Utc(2026_y / February / 1, hours(0)), 3);
  EXPECT_EQ(ticks[0], Utc(2026_y / February / 6, hours(0)));
  EXPECT_EQ(ticks[1], Utc(2026_y / February / 13, hours(0)));
  EXPECT_EQ(ticks[2], Utc(2026_y / February / 20, hours(0)));
  TickSpec and_star = Parse("0 0 * * 7");  // 7 is Sunday too
  EXPECT_EQ(and_star.Next(Utc(2026_y / February / 1, hours(0)), 0),
            Utc(2026_y / February / 8, hours(0)));
}

TEST(TickSpecTest, ShorthandsListsRangesAndSteps) {
  EXPECT_EQ(Parse("@hourly").Next(Utc(2026_y / May / 1, hours(3), minutes(10)), 0),
            Utc(2026_y / May / 1, hours(4)));
  EXPECT_EQ(Parse("@weekly").Next(Utc(2026_y / May / 1, hours(0)), 0),
            Utc(2026_y / May / 3, hours(0)));  // Sunday
  auto ticks =
      Ticks(Parse("5,10-12/2 9 * jan-mar mon-fri"), Utc(2026_y / January / 5, hours(0)), 3);
  EXPECT_EQ(ticks[0], Utc(2026_y / January / 5, hours(9), minutes(5)));
  EXPECT_EQ(ticks[1], Utc(2026_y / January / 5, hours(9), minutes(10)));
  EXPECT_EQ(ticks[2], Utc(2026_y / January / 5, hours(9), minutes(12)));
}

TEST(TickSpecTest, IntervalsTickFromTheirAnchor) {
  TickSpec t = Parse("@every 1m30s");
  EXPECT_TRUE(t.is_interval());
  EXPECT_EQ(t.Next(1000, 1000), 91000);
  EXPECT_EQ(t.Next(90999, 1000), 91000);
  EXPECT_EQ(t.Next(91000, 1000), 181000);
  EXPECT_EQ(t.Next(0, 1000), 1000);
}

// The reference: ticks in (after, until] enumerated with Next.
std::vector<int64_t> Between(const TickSpec& t, int64_t after, int64_t until, int64_t anchor = 0) {
  std::vector<int64_t> out;
  for (auto next = t.Next(after, anchor); next && *next <= until; next = t.Next(*next, anchor)) {
    out.push_back(*next);
  }
  return out;
}

// Count and Last agree with Next on every range tried: around both DST
// transitions (and zones with 30-minute shifts and transitions at
// midnight), month ends and leap days, from random starts. Seeded.
TEST(TickSpecTest, CountAndLastAgreeWithNext) {
  const uint64_t seed = 11;
  std::mt19937_64 random(seed);
  const std::vector<std::string> zones = {
      "UTC",           "America/New_York",    "Europe/Berlin",
      "Asia/Kolkata",  "Australia/Lord_Howe", "America/Santiago",
      "America/Havana"};
  // Dense specs are checked over days, sparse ones also over months (the
  // reference enumeration is slow for dense specs).
  const std::vector<std::pair<std::string, bool>> specs = {
      {"* * * * *", false},
      {"*/20 2 * * *", true},
      {"30 1 * * *", true},
      {"0 * * * *", false},
      {"*/7 0-3 * * *", false},
      {"0 0 13 * FRI", true},
      {"15 */2 * JAN,MAR-MAY,OCT,NOV SUN", true},
      {"0 0 31 * *", true},
      {"45 23 * * 1-5", true},
      {"0,30 0,1,2,3 * * *", false}};
  const int64_t from = Utc(2026_y / January / 1, hours(0));
  const int64_t year_ms = 365LL * 24 * 3600 * 1000;
  const int64_t day_ms = 86400000;
  for (const std::string& zone : zones) {
    // Starts: within a day before each of the zone's first two transitions
    // of 2026 (if any), and anywhere in the year.
    std::vector<int64_t> near;
    date::sys_seconds at{std::chrono::seconds(from / 1000)};
    for (int i = 0; i < 2; ++i) {
      at = date::locate_zone(zone)->get_info(at).end;
      if (at.time_since_epoch().count() * 1000 < from + year_ms) {
        near.push_back(at.time_since_epoch().count() * 1000);
      }
    }
    for (const auto& [spec, sparse] : specs) {
      TickSpec t = Parse(spec, zone);
      for (int i = 0; i < 8; ++i) {
        int64_t after = from + static_cast<int64_t>(random() % year_ms);
        if (i < 4 && !near.empty()) {
          after = near[i % near.size()] - static_cast<int64_t>(random() % day_ms);
        }
        // A day or two, or for sparse specs sometimes months.
        const int64_t span =
            static_cast<int64_t>(random() % (sparse && i % 3 == 0 ? 90 : 2)) * day_ms +
            static_cast<int64_t>(random() % day_ms);
        const std::vector<int64_t> ref = Between(t, after, after + span);
        SCOPED_TRACE(spec + " in " + zone + " after " + std::to_string(after) + " span " +
                     std::to_string(span) + " seed " + std::to_string(seed));
        EXPECT_EQ(t.Count(after, after + span, 0), static_cast<int64_t>(ref.size()));
        if (!ref.empty()) {
          EXPECT_EQ(t.Last(after + span, 0), ref.back());
          EXPECT_EQ(t.Last(ref.front(), 0), ref.front());
        }
      }
    }
  }
}

TEST(TickSpecTest, CountSeesEachDstTransitionOnce) {
  // 2026 in New York: the spring gap fires its minutes once at 03:00, and
  // the repeated fall-back hour does not fire again.
  TickSpec t = Parse("* * * * *", "America/New_York");
  const int64_t start = Utc(2026_y / January / 1, hours(0));
  const int64_t end = Utc(2027_y / January / 1, hours(0));
  EXPECT_EQ(t.Count(start, end, 0), 365 * 1440 - 60);
  EXPECT_EQ(t.Count(end, start, 0), 0);
  EXPECT_EQ(Parse("* * * * *").Count(start, end, 0), 365 * 1440);
  // The gap: 02:00-03:00 wall minutes are one tick, at the transition.
  const int64_t gap = Utc(2026_y / March / 8, hours(7));
  EXPECT_EQ(t.Count(gap - 1, gap, 0), 1);
  EXPECT_EQ(t.Last(gap, 0), gap);
  EXPECT_EQ(t.Last(gap - 1, 0), gap - 60000);
  // Within the repeated hour's second pass, no tick: the last one was 01:59 EDT.
  const int64_t repeat = Utc(2026_y / November / 1, hours(6), minutes(30));  // 01:30 EST
  EXPECT_EQ(t.Last(repeat, 0), Utc(2026_y / November / 1, hours(5), minutes(59)));
  EXPECT_EQ(t.Count(Utc(2026_y / November / 1, hours(5), minutes(59)), repeat, 0), 0);
}

// Catch-up counts ticks in one call each, whatever the range: the test
// counts TickSpec calls, not time.
TEST(TickSpecTest, CountAndLastDoNotEnumerateTicks) {
  TickSpec every = Parse("@every 1s");
  const int64_t anchor = 1000;
  const int64_t sixty_days = 60LL * 86400 * 1000;
  uint64_t before = TickSpec::calls();
  EXPECT_EQ(every.Count(anchor, anchor + sixty_days, anchor), 60 * 86400);
  EXPECT_EQ(every.Count(0, anchor, anchor), 1);  // the anchor is a tick
  EXPECT_EQ(every.Last(anchor + sixty_days + 999, anchor), anchor + sixty_days);
  EXPECT_EQ(every.Last(anchor - 1, anchor), std::nullopt);
  EXPECT_EQ(TickSpec::calls() - before, 4u);
  TickSpec minutely = Parse("* * * * *", "Europe/Berlin");
  const int64_t start = Utc(2026_y / January / 1, hours(0));
  EXPECT_EQ(minutely.Count(start, start + sixty_days, 0), 60 * 1440);  // no DST before March 29
}

// A damaged stored anchor or cursor can hold any int64: interval arithmetic
// must not wrap (a wrapped Next lands before `after`, so the schedule fires
// again and again), and cron times are clamped to years 1..9999.
TEST(TickSpecTest, ExtremeAnchorsAndCursorsDoNotOverflow) {
  constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
  constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
  TickSpec every = Parse("@every 1s");
  for (int64_t anchor : {kMin, kMin + 1, int64_t{-1}, int64_t{0}, kMax - 5000, kMax}) {
    for (int64_t t : {kMin, int64_t{0}, int64_t{1767225600000}, kMax - 999, kMax}) {
      SCOPED_TRACE(absl::StrCat("anchor ", anchor, " t ", t));
      std::optional<int64_t> next = every.Next(t, anchor);
      if (next) {
        EXPECT_GT(*next, t);
        EXPECT_GE(*next, anchor);
      } else {
        EXPECT_GT(t, kMax - 1000);  // only when no tick fits in int64
      }
      std::optional<int64_t> last = every.Last(t, anchor);
      if (t >= anchor) {
        ASSERT_TRUE(last.has_value());
        EXPECT_LE(*last, t);
        EXPECT_GE(*last, anchor);
        EXPECT_TRUE(t < kMin + 1000 || *last > t - 1000);
      } else {
        EXPECT_EQ(last, std::nullopt);
      }
      EXPECT_GE(every.Count(kMin, t, anchor), 0);
    }
  }
  EXPECT_EQ(every.Count(kMin, kMax, kMin), static_cast<int64_t>(~uint64_t{0} / 1000));
  EXPECT_EQ(every.Next(kMax - 1000, kMin), 9223372036854775192LL);  // kMin + 18446744073709551 s
  EXPECT_EQ(every.Next(kMax - 1, kMin), std::nullopt);  // the next tick is past INT64_MAX

  TickSpec daily = Parse("0 3 * * *", "Europe/Berlin");
  EXPECT_EQ(daily.Next(kMax, 0), std::nullopt);
  EXPECT_EQ(daily.Last(kMin, 0), std::nullopt);
  constexpr int64_t kYear1 = -62135596800000LL, kYear9999End = 253402300799999LL;
  std::optional<int64_t> first = daily.Next(kMin, 0);
  ASSERT_TRUE(first.has_value());
  EXPECT_GE(*first, kYear1);
  EXPECT_LT(*first, kYear1 + 86400000LL);  // 0001-01-01
  // The range's first instant is a tick of a UTC midnight spec, as Count
  // and Last see it; nothing past 9999-12-31 is, in any zone.
  TickSpec midnight = Parse("0 0 * * *");
  EXPECT_EQ(midnight.Next(kMin, 0), kYear1);
  EXPECT_EQ(midnight.Last(kYear1, 0), kYear1);
  EXPECT_EQ(midnight.Count(kMin, kYear1, 0), 1);
  EXPECT_EQ(midnight.Next(kYear9999End - 1, 0), std::nullopt);
  TickSpec tokyo = Parse("0 0 * * *", "Asia/Tokyo");  // UTC+9: midnight is 15:00 UTC before
  EXPECT_EQ(tokyo.Last(kYear1 + 3600000LL, 0), std::nullopt);
  std::optional<int64_t> latest = daily.Last(kMax, 0);
  ASSERT_TRUE(latest.has_value());
  EXPECT_GT(*latest, 253402300799999LL - 86400000LL);  // 9999-12-31
  EXPECT_GT(daily.Count(kMin, kMax, 0), 3652000);
}

TEST(TickSpecTest, BadSpecsNameTheProblem) {
  auto expect = [](const std::string& spec, const std::string& zone, const std::string& text) {
    auto t = TickSpec::Parse(spec, zone);
    ASSERT_FALSE(t.ok()) << spec;
    EXPECT_EQ(t.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(t.status().message().find(text), std::string::npos) << t.status();
  };
  expect("61 * * * *", "UTC", "minute field: 61 is outside 0-59");
  expect("* * *", "UTC", "has 3 fields");
  expect("@fortnightly", "UTC", "unknown shorthand");
  expect("0 0 30 2 *", "UTC", "never fires");
  expect("0 0 * * *", "Mars/Olympus_Mons", "time_zone: unknown IANA time zone 'Mars/Olympus_Mons'");
  expect("@every 500ms", "UTC", "outside [1000");
  expect("@every 5 parsecs", "UTC", "unit");
  expect("5-1 * * * *", "UTC", "backwards");
  expect("*/0 * * * *", "UTC", "bad step");
}

}  // namespace
}  // namespace ratchet::internal
