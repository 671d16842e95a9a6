// W3C Trace Context: the `traceparent` header a job carries from the code
// that enqueued it to the worker that runs it (docs/api.md, "Trace context").
//
// Format, from W3C Trace Context Level 1, section 3.2
// (https://www.w3.org/TR/trace-context/#traceparent-header):
//   version "-" trace-id "-" parent-id "-" trace-flags
// in lowercase hex: 2, 32, 16 and 2 digits, 55 bytes in all. Version "ff"
// is invalid, and so are an all-zero trace-id or parent-id. A later
// version may append fields after a '-' at byte 55; its first 55 bytes are
// read as version 00's.
//
// Ratchet stores and forwards the header; it does not start spans (Debian
// has no OpenTelemetry C++ SDK). Pure functions, thread-safe.
#ifndef RATCHET_BASE_TRACEPARENT_H_
#define RATCHET_BASE_TRACEPARENT_H_

#include <cstddef>
#include <string>
#include <string_view>

namespace ratchet {

// Bytes of a traceparent as Ratchet stores it.
inline constexpr size_t kTraceparentBytes = 55;

// True if `s` is exactly a 55-byte traceparent as above.
bool IsTraceparent(std::string_view s);

// A received header (gRPC metadata, an environment variable): the 55-byte
// traceparent it carries, or "" if it carries none. Surrounding spaces and
// tabs are dropped. As the W3C text asks of a receiver, an invalid header
// is ignored (""), not an error; a version-00 header must be exactly 55
// bytes, a later version's may go on after a '-'.
std::string TraceparentFromHeader(std::string_view header);

// The 32-hex-digit trace-id of a traceparent (logs carry it as trace_id),
// or "" if `traceparent` is not one.
std::string_view TraceIdOf(std::string_view traceparent);

}  // namespace ratchet

#endif  // RATCHET_BASE_TRACEPARENT_H_
