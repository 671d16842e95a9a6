#include "ratchet/api/time_codec.h"

namespace ratchet {
namespace {
constexpr int64_t kNanosPerMs = 1000000;
}

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
  return FromUnixMs(t.seconds() * 1000 + t.nanos() / kNanosPerMs);
}

google::protobuf::Duration ToProtoDuration(Millis d) {
  google::protobuf::Duration out;
  out.set_seconds(d.count() / 1000);  // both parts carry the sign
  out.set_nanos(static_cast<int32_t>((d.count() % 1000) * kNanosPerMs));
  return out;
}

Millis FromProtoDuration(const google::protobuf::Duration& d) {
  return Millis(d.seconds() * 1000 + d.nanos() / kNanosPerMs);
}

}  // namespace ratchet
