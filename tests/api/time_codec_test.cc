#include "ratchet/api/time_codec.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <limits>

namespace ratchet {
namespace {

constexpr int64_t kMaxTimestampMs = 253402300799999;  // 9999-12-31T23:59:59.999Z
constexpr int64_t kMinTimestampMs = -62135596800000;  // 0001-01-01T00:00:00Z
constexpr int64_t kMaxDurationMs = 315576000000999;   // Duration's 10000 years

TEST(TimeCodecTest, TimestampRoundTripsMilliseconds) {
  for (int64_t ms : {int64_t{0}, int64_t{1767225600123}, int64_t{-1}, kMinTimestampMs}) {
    EXPECT_EQ(ToUnixMs(FromProtoTime(ToProtoTime(FromUnixMs(ms)))), ms);
  }
}

// Regression (found by tests/fuzz server target): seconds * 1000 overflowed
// int64 for a client's out-of-range Timestamp (UBSan: signed overflow).
TEST(TimeCodecTest, OutOfRangeTimestampSaturatesToTheValidRange) {
  google::protobuf::Timestamp t;
  t.set_seconds(std::numeric_limits<int64_t>::max());
  t.set_nanos(999999999);
  EXPECT_EQ(ToUnixMs(FromProtoTime(t)), kMaxTimestampMs);
  t.set_seconds(std::numeric_limits<int64_t>::min());
  t.set_nanos(0);
  EXPECT_EQ(ToUnixMs(FromProtoTime(t)), kMinTimestampMs);
}

TEST(TimeCodecTest, DurationRoundTripsMilliseconds) {
  for (int64_t ms : {int64_t{0}, int64_t{1500}, int64_t{-1500}, int64_t{86400000}}) {
    EXPECT_EQ(FromProtoDuration(ToProtoDuration(Millis(ms))).count(), ms);
  }
}

TEST(TimeCodecTest, OutOfRangeDurationSaturatesToTheValidRange) {
  google::protobuf::Duration d;
  d.set_seconds(std::numeric_limits<int64_t>::max());
  d.set_nanos(999999999);
  EXPECT_EQ(FromProtoDuration(d).count(), kMaxDurationMs);
  d.set_seconds(std::numeric_limits<int64_t>::min());
  d.set_nanos(-999999999);
  EXPECT_EQ(FromProtoDuration(d).count(), -kMaxDurationMs);
}

}  // namespace
}  // namespace ratchet
