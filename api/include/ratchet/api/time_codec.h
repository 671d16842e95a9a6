// Conversions between Ratchet's millisecond time types (ratchet/base/clock.h)
// and google.protobuf.Timestamp / Duration. Sub-millisecond parts are
// truncated toward zero. Seconds outside protobuf's valid ranges (Timestamp:
// years 0001..9999; Duration: +-10000 years) saturate to the range's ends.
// Pure functions, safe from any thread.
#ifndef RATCHET_API_TIME_CODEC_H_
#define RATCHET_API_TIME_CODEC_H_

#include "google/protobuf/duration.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "ratchet/base/clock.h"

namespace ratchet {

google::protobuf::Timestamp ToProtoTime(TimePoint t);
TimePoint FromProtoTime(const google::protobuf::Timestamp& t);
google::protobuf::Duration ToProtoDuration(Millis d);
Millis FromProtoDuration(const google::protobuf::Duration& d);

}  // namespace ratchet

#endif  // RATCHET_API_TIME_CODEC_H_
