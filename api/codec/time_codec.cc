#include "ratchet/api/time_codec.h"

#include <algorithm>

namespace ratchet {
namespace {
constexpr int64_t kNanosPerMs = 1000000;
// The ranges google/protobuf/timestamp.proto and duration.proto define as
// valid. A client may send any int64; clamping first keeps seconds * 1000
// from overflowing, and the engine's own limits then reject what is too far.
constexpr int64_t kMinTimestampSeconds = -62135596800;  // 0001-01-01T00:00:00Z
constexpr int64_t kMaxTimestampSeconds = 253402300799;  // 9999-12-31T23:59:59Z
constexpr int64_t kMaxDurationSeconds = 315576000000;   // 10000 years
}  // namespace

google::protobuf::Timestamp ToProtoTime(TimePoint t) {
  int64_t ms = ToUnixMs(t);
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

TimePoint FromProtoTime(const google::protobuf::Timestamp& t) {
  const int64_t seconds = std::clamp(t.seconds(), kMinTimestampSeconds, kMaxTimestampSeconds);
  return FromUnixMs(seconds * 1000 + t.nanos() / kNanosPerMs);
}

google::protobuf::Duration ToProtoDuration(Millis d) {
  google::protobuf::Duration out;
  out.set_seconds(d.count() / 1000);  // both parts carry the sign
  out.set_nanos(static_cast<int32_t>((d.count() % 1000) * kNanosPerMs));
  return out;
}

Millis FromProtoDuration(const google::protobuf::Duration& d) {
  const int64_t seconds = std::clamp(d.seconds(), -kMaxDurationSeconds, kMaxDurationSeconds);
  return Millis(seconds * 1000 + d.nanos() / kNanosPerMs);
}

}  // namespace ratchet
