// SweepCursor: where a retention scan resumes (sweep_cursor.h).
#include "sweep_cursor.h"

#include <gtest/gtest.h>

#include "ratchet/storage/keys.h"

namespace ratchet::internal {
namespace {

std::string At(int64_t ms) { return storage::KeyBuilder().Raw("p").I64(ms).Build(); }

TEST(SweepCursorTest, AScanResumesWhereTheLastOneSweptThrough) {
  SweepCursor c;
  EXPECT_EQ(c.BeginScan("p"), "p");  // the front
  c.EndScan(std::nullopt);
  EXPECT_EQ(c.BeginScan("p"), "p");
  c.EndScan(100);
  EXPECT_EQ(c.BeginScan("p"), At(100));  // that time itself: ties may remain
  c.EndScan(250);
  EXPECT_EQ(c.swept_before(), 250);
}

// An entry added before the cursor moves it back at once, and the cursor
// stays at or before it for the next three scans, which may not see it
// (its group, and the one being written, are not committed yet).
TEST(SweepCursorTest, AnAddedEntryHoldsTheCursorUntilAScanIsSureToSeeIt) {
  SweepCursor c;
  c.BeginScan("p");
  c.EndScan(100);
  c.Added(50);  // after scan 1
  EXPECT_EQ(c.swept_before(), 50);
  for (int scan = 2; scan <= 3; ++scan) {
    EXPECT_EQ(c.BeginScan("p"), At(50)) << scan;
    c.EndScan(200);  // the scan did not see the entry at 50
    EXPECT_EQ(c.swept_before(), 50) << scan;
  }
  EXPECT_EQ(c.BeginScan("p"), At(50));  // scan 4 saw it committed
  c.EndScan(200);
  EXPECT_EQ(c.swept_before(), 200);
}

TEST(SweepCursorTest, AnEntryAddedAheadOfTheCursorLeavesItAlone) {
  SweepCursor c;
  c.BeginScan("p");
  c.EndScan(100);
  c.Added(5000);  // a job that just finished: far ahead of what is due
  c.BeginScan("p");
  c.EndScan(300);
  EXPECT_EQ(c.swept_before(), 300);
}

}  // namespace
}  // namespace ratchet::internal
