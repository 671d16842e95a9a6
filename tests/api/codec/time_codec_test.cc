// time_codec: protobuf's documented ranges are enforced on what callers
// send, and no conversion overflows.
#include "ratchet/api/time_codec.h"

#include <gtest/gtest.h>

#include <cstdint>

namespace ratchet {
namespace {

google::protobuf::Timestamp Ts(int64_t seconds, int32_t nanos) {
  google::protobuf::Timestamp t;
  t.set_seconds(seconds);
  t.set_nanos(nanos);
  return t;
}

google::protobuf::Duration Dur(int64_t seconds, int32_t nanos) {
  google::protobuf::Duration d;
  d.set_seconds(seconds);
  d.set_nanos(nanos);
  return d;
}

TEST(TimeCodecTest, TimestampRangeIsProtobufs) {
  EXPECT_TRUE(FromProtoTime(Ts(kMinTimestampSeconds, 0), "t").ok());
  EXPECT_TRUE(FromProtoTime(Ts(kMaxTimestampSeconds, 999999999), "t").ok());
  EXPECT_FALSE(FromProtoTime(Ts(kMinTimestampSeconds - 1, 0), "t").ok());
  EXPECT_FALSE(FromProtoTime(Ts(kMaxTimestampSeconds + 1, 0), "t").ok());
  EXPECT_FALSE(FromProtoTime(Ts(0, -1), "t").ok());
  auto bad = FromProtoTime(Ts(0, 1000000000), "job.run_at");
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_EQ(bad.status().message().rfind("job.run_at: ", 0), 0u) << bad.status();
  EXPECT_EQ(ToUnixMs(*FromProtoTime(Ts(1, 999999999), "t")), 1999);
  EXPECT_EQ(ToUnixMs(*FromProtoTime(Ts(-1, 500000000), "t")), -500);
}

TEST(TimeCodecTest, DurationNanosMustMatchTheSecondsSign) {
  EXPECT_EQ(FromProtoDuration(Dur(-1, -500000000), "d")->count(), -1500);
  EXPECT_EQ(FromProtoDuration(Dur(0, -500000000), "d")->count(), -500);
  EXPECT_FALSE(FromProtoDuration(Dur(1, -1), "d").ok());
  EXPECT_FALSE(FromProtoDuration(Dur(-1, 1), "d").ok());
  EXPECT_FALSE(FromProtoDuration(Dur(0, 1000000000), "d").ok());
  EXPECT_FALSE(FromProtoDuration(Dur(0, -1000000000), "d").ok());
  EXPECT_TRUE(FromProtoDuration(Dur(kMaxDurationSeconds, 0), "d").ok());
  EXPECT_TRUE(FromProtoDuration(Dur(-kMaxDurationSeconds, 0), "d").ok());
  EXPECT_FALSE(FromProtoDuration(Dur(kMaxDurationSeconds + 1, 0), "d").ok());
  EXPECT_FALSE(FromProtoDuration(Dur(INT64_MIN, 0), "d").ok());
}

// The unchecked forms (for answers) clamp instead of overflowing: the result
// is the range's end, not a wrapped value (UBSan would flag the overflow).
TEST(TimeCodecTest, UncheckedConversionsSaturate) {
  EXPECT_EQ(FromProtoDuration(Dur(INT64_MAX, 0)).count(), kMaxDurationSeconds * 1000);
  EXPECT_EQ(FromProtoDuration(Dur(INT64_MIN, 0)).count(), -kMaxDurationSeconds * 1000);
  EXPECT_EQ(ToUnixMs(FromProtoTime(Ts(INT64_MAX, 0))), kMaxTimestampSeconds * 1000);
  EXPECT_EQ(ToUnixMs(FromProtoTime(Ts(INT64_MIN, -1))), kMinTimestampSeconds * 1000);
}

TEST(TimeCodecTest, RoundTripsMilliseconds) {
  for (int64_t ms : {int64_t{0}, int64_t{1}, int64_t{-1}, int64_t{1700000000123}}) {
    EXPECT_EQ(ToUnixMs(*FromProtoTime(ToProtoTime(FromUnixMs(ms)), "t")), ms);
    EXPECT_EQ(FromProtoDuration(ToProtoDuration(Millis(ms)), "d")->count(), ms);
  }
}

// An answer's time or duration past protobuf's range (a saturated deadline,
// a damaged stored value) is clamped to the range's end (review finding: the
// JSON API refused to print such an answer after the lease was taken).
TEST(TimeCodecTest, AnswersAreClampedIntoProtobufsRange) {
  auto latest = ToProtoTime(FromUnixMs(INT64_MAX));
  EXPECT_EQ(latest.seconds(), kMaxTimestampSeconds);
  EXPECT_EQ(latest.nanos(), 999000000);
  auto earliest = ToProtoTime(FromUnixMs(INT64_MIN));
  EXPECT_EQ(earliest.seconds(), kMinTimestampSeconds);
  EXPECT_EQ(earliest.nanos(), 0);
  EXPECT_EQ(ToProtoDuration(Millis(INT64_MAX)).seconds(), kMaxDurationSeconds);
  EXPECT_EQ(ToProtoDuration(Millis(INT64_MAX)).nanos(), 0);
  EXPECT_EQ(ToProtoDuration(Millis(INT64_MIN)).seconds(), -kMaxDurationSeconds);
  EXPECT_TRUE(FromProtoTime(latest, "t").ok());
  EXPECT_TRUE(FromProtoDuration(ToProtoDuration(Millis(INT64_MIN)), "d").ok());
}

}  // namespace
}  // namespace ratchet
