// Conversions between Ratchet's millisecond time types (ratchet/base/clock.h)
// and google.protobuf.Timestamp / Duration. Sub-millisecond parts are
// truncated toward zero. Pure functions, safe from any thread.
//
// Ranges are protobuf's documented ones (google/protobuf/timestamp.proto,
// duration.proto):
//   Timestamp: seconds in [0001-01-01T00:00:00Z, 9999-12-31T23:59:59Z]
//              (-62,135,596,800 .. 253,402,300,799), nanos in [0, 1e9).
//   Duration:  seconds in [-315,576,000,000, 315,576,000,000], |nanos| < 1e9,
//              and nanos has the sign of seconds (or either when seconds is 0).
// Every value in range converts to milliseconds without overflow.
#ifndef RATCHET_API_TIME_CODEC_H_
#define RATCHET_API_TIME_CODEC_H_

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "google/protobuf/duration.pb.h"
#include "google/protobuf/timestamp.pb.h"
#include "ratchet/base/clock.h"

namespace ratchet {

inline constexpr int64_t kMinTimestampSeconds = -62135596800;  // 0001-01-01T00:00:00Z
inline constexpr int64_t kMaxTimestampSeconds = 253402300799;  // 9999-12-31T23:59:59Z
inline constexpr int64_t kMaxDurationSeconds = 315576000000;   // 10,000 years

// For answers: a time or duration outside the ranges above (a saturated
// deadline, a damaged stored value) is clamped to the nearest end, so every
// answer is a valid message (protobuf's JSON printer refuses others).
google::protobuf::Timestamp ToProtoTime(TimePoint t);
google::protobuf::Duration ToProtoDuration(Millis d);

// For values a caller supplies (requests): INVALID_ARGUMENT naming `field`
// (e.g. "job.run_at") when the value is outside the ranges above.
absl::StatusOr<TimePoint> FromProtoTime(const google::protobuf::Timestamp& t,
                                        absl::string_view field);
absl::StatusOr<Millis> FromProtoDuration(const google::protobuf::Duration& d,
                                         absl::string_view field);

// For values Ratchet itself produced (answers): out-of-range parts are
// clamped into the ranges above, so the result never overflows.
TimePoint FromProtoTime(const google::protobuf::Timestamp& t);
Millis FromProtoDuration(const google::protobuf::Duration& d);

}  // namespace ratchet

#endif  // RATCHET_API_TIME_CODEC_H_
