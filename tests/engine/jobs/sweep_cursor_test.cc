// SweepCursor: where a retention scan resumes (sweep_cursor.h).
#include "sweep_cursor.h"

#include <gtest/gtest.h>

#include "ratchet/storage/keys.h"

namespace ratchet::internal {
namespace {

std::string At(int64_t ms) { return storage::KeyBuilder().Raw("p").I64(ms).Build(); }

TEST(SweepCursorTest, AScanResumesWhereTheLastOneSweptThrough) {
  SweepCursor c;
  EXPECT_EQ(c.BeginScan("p", 0), "p");  // the front
  c.EndScan(std::nullopt);
  EXPECT_EQ(c.BeginScan("p", 0), "p");
  c.EndScan(100);
  EXPECT_EQ(c.BeginScan("p", 0), At(100));  // that time itself: ties may remain
  c.EndScan(250);
  EXPECT_EQ(c.swept_before(), 250);
}

// An entry added before the cursor moves it back at once, and the cursor
// stays at or before it until a scan that began after the entry's group was
// committed has ended (earlier scans read committed data without it).
TEST(SweepCursorTest, AnAddedEntryHoldsTheCursorUntilAScanSawItsGroupCommitted) {
  SweepCursor c;
  c.BeginScan("p", 0);
  c.EndScan(100);
  c.Added(50, /*group=*/3);
  EXPECT_EQ(c.swept_before(), 50);
  for (uint64_t durable : {0, 1, 2}) {  // however many scans: group 3 is not committed
    EXPECT_EQ(c.BeginScan("p", durable), At(50)) << durable;
    c.EndScan(200);  // the scan did not see the entry at 50
    EXPECT_EQ(c.swept_before(), 50) << durable;
  }
  EXPECT_EQ(c.BeginScan("p", 3), At(50));  // this one saw it
  c.EndScan(200);
  EXPECT_EQ(c.swept_before(), 200);
}

TEST(SweepCursorTest, AnEntryAddedAheadOfTheCursorLeavesItAlone) {
  SweepCursor c;
  c.BeginScan("p", 0);
  c.EndScan(100);
  c.Added(5000, 1);  // a job that just finished: far ahead of what is due
  c.BeginScan("p", 0);
  c.EndScan(300);
  EXPECT_EQ(c.swept_before(), 300);
}

}  // namespace
}  // namespace ratchet::internal
