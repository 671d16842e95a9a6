#include "ratchet/api/time_codec.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "ratchet/base/status.h"

namespace ratchet {
namespace {

constexpr int64_t kNanosPerMs = 1000000;
constexpr int32_t kNanosPerSecond = 1000000000;

// Both in range: at most ~3.2e17 ms, far from int64's 9.2e18.
int64_t ToMs(int64_t seconds, int32_t nanos) { return seconds * 1000 + nanos / kNanosPerMs; }

}  // namespace

google::protobuf::Timestamp ToProtoTime(TimePoint t) {
  constexpr int64_t kMinMs = kMinTimestampSeconds * 1000;
  constexpr int64_t kMaxMs = kMaxTimestampSeconds * 1000 + 999;
  const int64_t ms = std::clamp(ToUnixMs(t), kMinMs, kMaxMs);
  int64_t seconds = ms / 1000;
  int64_t rem = ms % 1000;
  if (rem < 0) {  // Timestamp nanos are always non-negative
    rem += 1000;
    seconds -= 1;
  }
  google::protobuf::Timestamp out;
  out.set_seconds(seconds);
  out.set_nanos(static_cast<int32_t>(rem * kNanosPerMs));
  return out;
}

google::protobuf::Duration ToProtoDuration(Millis d) {
  constexpr int64_t kMaxMs = kMaxDurationSeconds * 1000;
  const int64_t ms = std::clamp<int64_t>(d.count(), -kMaxMs, kMaxMs);
  google::protobuf::Duration out;
  out.set_seconds(ms / 1000);  // both parts carry the sign
  out.set_nanos(static_cast<int32_t>((ms % 1000) * kNanosPerMs));
  return out;
}

absl::StatusOr<TimePoint> FromProtoTime(const google::protobuf::Timestamp& t,
                                        absl::string_view field) {
  if (t.seconds() < kMinTimestampSeconds || t.seconds() > kMaxTimestampSeconds) {
    return InvalidArgument(
        field, absl::StrCat("seconds ", t.seconds(), " is outside [", kMinTimestampSeconds, ", ",
                            kMaxTimestampSeconds, "] (0001-01-01 .. 9999-12-31)"));
  }
  if (t.nanos() < 0 || t.nanos() >= kNanosPerSecond) {
    return InvalidArgument(field, absl::StrCat("nanos ", t.nanos(), " is outside [0, 1e9)"));
  }
  return FromUnixMs(ToMs(t.seconds(), t.nanos()));
}

absl::StatusOr<Millis> FromProtoDuration(const google::protobuf::Duration& d,
                                         absl::string_view field) {
  if (d.seconds() < -kMaxDurationSeconds || d.seconds() > kMaxDurationSeconds) {
    return InvalidArgument(
        field, absl::StrCat("seconds ", d.seconds(), " is outside [-", kMaxDurationSeconds, ", ",
                            kMaxDurationSeconds, "]"));
  }
  if (d.nanos() <= -kNanosPerSecond || d.nanos() >= kNanosPerSecond) {
    return InvalidArgument(field, absl::StrCat("nanos ", d.nanos(), " is outside (-1e9, 1e9)"));
  }
  if ((d.seconds() > 0 && d.nanos() < 0) || (d.seconds() < 0 && d.nanos() > 0)) {
    return InvalidArgument(field, "seconds and nanos must have the same sign");
  }
  return Millis(ToMs(d.seconds(), d.nanos()));
}

TimePoint FromProtoTime(const google::protobuf::Timestamp& t) {
  int64_t seconds = std::clamp(t.seconds(), kMinTimestampSeconds, kMaxTimestampSeconds);
  return FromUnixMs(ToMs(seconds, std::clamp(t.nanos(), 0, kNanosPerSecond - 1)));
}

Millis FromProtoDuration(const google::protobuf::Duration& d) {
  int64_t seconds = std::clamp(d.seconds(), -kMaxDurationSeconds, kMaxDurationSeconds);
  return Millis(ToMs(seconds, std::clamp(d.nanos(), -(kNanosPerSecond - 1), kNanosPerSecond - 1)));
}

}  // namespace ratchet
