// TickSpec: cron parsing and next-tick computation in IANA zones, across
// both DST transitions in New York and Berlin, month ends and leap days.
#include "tick_spec.h"

#include <gtest/gtest.h>

#include <chrono>

#include "date/date.h"

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
