#include "ratchet/engine/backoff.h"

#include <gtest/gtest.h>

#include <limits>

namespace ratchet {
namespace {

RetryPolicy Policy(JitterMode mode) {
  RetryPolicy p;
  p.initial_backoff = Millis(100);
  p.max_backoff = Millis(10000);
  p.multiplier = 2.0;
  p.jitter = mode;
  return p;
}

TEST(BackoffTest, NoJitterGrowsExponentiallyUpToTheCap) {
  SeededRandom random(1);
  auto p = Policy(JitterMode::kNone);
  EXPECT_EQ(RetryDelay(p, 1, Millis(0), random), Millis(100));
  EXPECT_EQ(RetryDelay(p, 2, Millis(0), random), Millis(200));
  EXPECT_EQ(RetryDelay(p, 4, Millis(0), random), Millis(800));
  EXPECT_EQ(RetryDelay(p, 30, Millis(0), random), Millis(10000));
  EXPECT_EQ(RetryDelay(p, 5000, Millis(0), random), Millis(10000));  // no overflow
}

TEST(BackoffTest, FullJitterStaysWithinZeroAndTheExponential) {
  SeededRandom random(2);
  auto p = Policy(JitterMode::kFull);
  bool saw_below_half = false;
  for (int i = 0; i < 1000; ++i) {
    Millis d = RetryDelay(p, 3, Millis(0), random);
    EXPECT_GE(d, Millis(0));
    EXPECT_LE(d, Millis(400));
    saw_below_half |= d < Millis(200);
  }
  EXPECT_TRUE(saw_below_half);
}

TEST(BackoffTest, EqualJitterKeepsAtLeastHalf) {
  SeededRandom random(3);
  auto p = Policy(JitterMode::kEqual);
  for (int i = 0; i < 1000; ++i) {
    Millis d = RetryDelay(p, 3, Millis(0), random);
    EXPECT_GE(d, Millis(200));
    EXPECT_LE(d, Millis(400));
  }
}

TEST(BackoffTest, DecorrelatedJitterGrowsFromThePreviousDelay) {
  SeededRandom random(4);
  auto p = Policy(JitterMode::kDecorrelated);
  Millis prev(0);
  for (int attempt = 1; attempt < 50; ++attempt) {
    Millis d = RetryDelay(p, attempt, prev, random);
    Millis expected_hi =
        std::max(Millis(100), std::min(Millis(10000), (prev.count() ? prev : Millis(100)) * 3));
    EXPECT_GE(d, Millis(100));
    EXPECT_LE(d, expected_hi);
    prev = d;
  }
}

// The previous delay and the policy are read back from a job record, which
// may be damaged: 3 × a huge previous delay saturates at the cap instead of
// wrapping below the initial backoff.
TEST(BackoffTest, AHugePreviousDelayStaysAtTheCap) {
  auto p = Policy(JitterMode::kDecorrelated);
  p.max_backoff = Millis(INT64_MAX);
  BackoffBounds b = RetryDelayBounds(p, 3, Millis(INT64_MAX / 2));
  EXPECT_EQ(b.lo, Millis(100));
  EXPECT_EQ(b.hi, Millis(INT64_MAX));
}

// A multiplier that is not a number (a damaged record) gives the cap.
TEST(BackoffTest, ANanMultiplierGivesTheCap) {
  auto p = Policy(JitterMode::kNone);
  p.multiplier = std::numeric_limits<double>::quiet_NaN();
  EXPECT_EQ(RetryDelayBounds(p, 3, Millis(0)).hi, Millis(10000));
}

// Negative stored bounds (a damaged record) give delays in [0, cap], never a
// jitter range whose low end is above its high end.
TEST(BackoffTest, NegativeStoredBoundsGiveNonNegativeRanges) {
  for (JitterMode mode :
       {JitterMode::kNone, JitterMode::kFull, JitterMode::kEqual, JitterMode::kDecorrelated}) {
    auto p = Policy(mode);
    p.initial_backoff = Millis(-100);
    p.max_backoff = Millis(-5);
    BackoffBounds b = RetryDelayBounds(p, 40, Millis(0));
    EXPECT_EQ(b.lo, Millis(0)) << static_cast<int>(mode);
    EXPECT_EQ(b.hi, Millis(0)) << static_cast<int>(mode);
  }
}

}  // namespace
}  // namespace ratchet
