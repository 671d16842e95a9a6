// StartLogs: the sliding-window log behind rate limits (start_logs.h).
#include "start_logs.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <limits>
#include <optional>

namespace ratchet::internal {
namespace {

TEST(StartLogsTest, OpensAtIsTheLimitThNewestStartPlusThePeriod) {
  StartLogs logs;
  const RateLimit rate{2, Millis(1000)};
  int64_t expires = 0;
  EXPECT_EQ(logs.Find("q", true, ""), nullptr);
  logs.Record("q", true, "", 100, rate.period, 1, &expires);
  EXPECT_EQ(expires, 1100);
  EXPECT_EQ(logs.Find("q", true, "")->OpensAt(rate), kOpenNow);
  logs.Record("q", true, "", 300, rate.period, 2, &expires);
  EXPECT_EQ(logs.Find("q", true, "")->OpensAt(rate), 1100);
  logs.Record("q", true, "", 1200, rate.period, 3, &expires);
  EXPECT_EQ(logs.Find("q", true, "")->OpensAt(rate), 1300);
  // Allowance counts the starts in (now - period, now].
  EXPECT_EQ(logs.Find("q", true, "")->Allowance(rate, 1200), 0);
  EXPECT_EQ(logs.Find("q", true, "")->Allowance(rate, 1300), 1);
  EXPECT_EQ(logs.Find("q", true, "")->Allowance(rate, 2200), 2);
}

// A fixed period for TakeExpired's lookup.
StartLogs::PeriodOf Period(int64_t ms) {
  return [ms](const StartLog&) { return std::optional<Millis>(Millis(ms)); };
}

// The period in force applies to every logged start, and a start is
// deleted only once it is older than that period, so deleting never changes
// an answer. A lengthened period keeps starts logged under the shorter one
// (looked at again when they leave the longer window); a shortened one lets
// them go at once; a removed limit lets every start go.
TEST(StartLogsTest, DeletionFollowsThePeriodInForce) {
  StartLogs logs;
  int64_t expires = 0;
  logs.Record("q", true, "", 0, Millis(100), 1, &expires);  // stored expiry 100
  logs.Record("q", true, "", 50, Millis(100), 2, &expires);
  const RateLimit longer{1, Millis(1000)};
  EXPECT_EQ(logs.Find("q", true, "")->OpensAt(longer), 1050);
  EXPECT_EQ(logs.Find("q", true, "")->Allowance(longer, 200), 0);
  // Looked at at 100 (the stored expiry) under a 1,000 ms period: kept.
  EXPECT_TRUE(logs.TakeExpired(100, 10, Period(1000)).empty());
  EXPECT_EQ(logs.starts(), 2u);
  EXPECT_EQ(logs.Find("q", true, "")->OpensAt(longer), 1050) << "deleting changed the answer";
  EXPECT_TRUE(logs.TakeExpired(999, 10, Period(1000)).empty()) << "not due again before 1000";
  EXPECT_EQ(logs.TakeExpired(1000, 10, Period(1000)).size(), 1u);
  EXPECT_EQ(logs.Find("q", true, "")->OpensAt(longer), 1050);
  // Shortened to 10 ms: the 50 ms start leaves at the log's next look.
  EXPECT_EQ(logs.TakeExpired(1050, 10, Period(10)).size(), 1u);
  EXPECT_EQ(logs.Find("q", true, ""), nullptr);
  // Shortened from a day to 10 ms while starts are logged: the log is
  // looked at when its oldest start leaves the 10 ms window, not a day
  // later, so starts do not pile up.
  logs.Record("q", true, "", 1100, Millis(24LL * 3600 * 1000), 4, &expires);
  logs.Record("q", true, "", 1101, Millis(10), 5, &expires);
  EXPECT_EQ(logs.TakeExpired(1111, 10, Period(10)).size(), 2u);
  EXPECT_EQ(logs.Find("q", true, ""), nullptr);
  // No limit any more: every start goes once its log is due.
  logs.Record("q", false, "k", 2000, Millis(100), 3, &expires);
  EXPECT_EQ(
      logs.TakeExpired(2100, 10, [](const StartLog&) { return std::optional<Millis>(); }).size(),
      1u);
  EXPECT_EQ(logs.starts(), 0u);
}

// A damaged stored expiry cannot keep a start (and every later one of its
// scope) forever: it is kept within the longest period a limit can have.
TEST(StartLogsTest, ARestoredExpiryIsKeptWithinTheLongestPeriod) {
  StartLogs logs;
  logs.Restore("q", true, "", 100, std::numeric_limits<int64_t>::max(), 1);
  const int64_t day = 24LL * 3600 * 1000;
  EXPECT_EQ(logs.Find("q", true, "")->starts.front().expires_ms, 100 + day);
  EXPECT_EQ(logs.TakeExpired(100 + day, 10, Period(1000)).size(), 1u);
}

TEST(StartLogsTest, AnEarlierTimeIsRaisedToTheNewestStart) {
  StartLogs logs;
  int64_t expires = 0;
  logs.Record("q", false, "k", 500, Millis(100), 1, &expires);
  logs.Record("q", false, "k", 400, Millis(100), 2, &expires);  // clock stepped back
  EXPECT_EQ(expires, 600);
  EXPECT_EQ(logs.Find("q", false, "k")->starts.back().at_ms, 500);
}

TEST(StartLogsTest, TakeExpiredIsBoundedAndReturnsTheStoredKeys) {
  StartLogs logs;
  int64_t expires = 0;
  std::vector<std::string> stored;
  for (int i = 0; i < 5; ++i) {
    stored.push_back(logs.Record("q", false, "k" + std::to_string(i % 2), 100 + i, Millis(10),
                                 static_cast<JobId>(i + 1), &expires));
  }
  EXPECT_TRUE(logs.TakeExpired(109, 10, Period(10)).empty());  // none expired yet (first at 110)
  std::vector<std::string> first = logs.TakeExpired(1000, 3, Period(10));
  EXPECT_EQ(first.size(), 3u);
  std::vector<std::string> rest = logs.TakeExpired(1000, 10, Period(10));
  EXPECT_EQ(rest.size(), 2u);
  EXPECT_EQ(logs.starts(), 0u);
  EXPECT_EQ(logs.Find("q", false, "k0"), nullptr);  // freed with its last start
  first.insert(first.end(), rest.begin(), rest.end());
  std::sort(first.begin(), first.end());
  std::sort(stored.begin(), stored.end());
  EXPECT_EQ(first, stored);
}

TEST(StartLogsTest, StoredKeysRoundTrip) {
  StartLogs logs;
  int64_t expires = 0;
  std::string key = logs.Record("my.queue", false, "tenant-é", 1234, Millis(10), 99, &expires);
  std::string queue, scope_key;
  bool queue_wide = true;
  int64_t at = 0;
  JobId id = 0;
  ASSERT_TRUE(StartLogs::ParseKey(key, &queue, &queue_wide, &scope_key, &at, &id));
  EXPECT_EQ(queue, "my.queue");
  EXPECT_FALSE(queue_wide);
  EXPECT_EQ(scope_key, "tenant-é");
  EXPECT_EQ(at, 1234);
  EXPECT_EQ(id, 99u);
  EXPECT_EQ(key.rfind(StartLogs::Prefix(), 0), 0u);
  EXPECT_FALSE(StartLogs::ParseKey(key.substr(0, key.size() - 1), &queue, &queue_wide, &scope_key,
                                   &at, &id));
}

}  // namespace
}  // namespace ratchet::internal
