// StartLogs: the sliding-window log behind rate limits (start_logs.h).
#include "start_logs.h"

#include <gtest/gtest.h>

#include <algorithm>

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

// Starts logged under different periods each count until their own
// expiry: OpensAt and Allowance take the order of the expiries, not of the
// start times, while they differ (and go back to the fast path after).
TEST(StartLogsTest, StartsLoggedUnderDifferentPeriodsCountUntilTheirOwnExpiry) {
  StartLogs logs;
  int64_t expires = 0;
  logs.Record("q", true, "", 0, Millis(1000), 1, &expires);    // counts until 1000
  logs.Record("q", true, "", 100, Millis(100), 2, &expires);   // until 200
  logs.Record("q", true, "", 150, Millis(1000), 3, &expires);  // until 1150
  const StartLog* log = logs.Find("q", true, "");
  EXPECT_EQ(log->descents, 1);
  const RateLimit one{1, Millis(100)}, two{2, Millis(100)}, three{3, Millis(100)};
  // The period of `rate` plays no part: each start carries its own.
  EXPECT_EQ(log->OpensAt(three), 200);  // only two still count from 200
  EXPECT_EQ(log->OpensAt(two), 1000);
  EXPECT_EQ(log->OpensAt(one), 1150);
  EXPECT_EQ(log->Allowance(three, 199), 0);
  EXPECT_EQ(log->Allowance(three, 200), 1);
  EXPECT_EQ(log->Allowance(three, 1000), 2);
  EXPECT_EQ(log->Allowance(three, 1150), 3);
  // The 0 ms start leaves (at 1000) together with the 100 ms one behind it.
  EXPECT_EQ(logs.TakeExpired(999, 10).size(), 0u);
  EXPECT_EQ(logs.TakeExpired(1000, 10).size(), 2u);
  EXPECT_EQ(log->descents, 0);
  EXPECT_EQ(log->OpensAt(one), 1150);
  EXPECT_EQ(log->Allowance(one, 1149), 0);
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
  EXPECT_TRUE(logs.TakeExpired(109, 10).empty());  // none expired yet (first at 110)
  std::vector<std::string> first = logs.TakeExpired(1000, 3);
  EXPECT_EQ(first.size(), 3u);
  std::vector<std::string> rest = logs.TakeExpired(1000, 10);
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
