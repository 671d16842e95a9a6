#include "ratchet/base/traceparent.h"

#include <algorithm>

namespace ratchet {

namespace {

bool LowerHex(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

bool AllZeros(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c == '0'; });
}

}  // namespace

bool IsTraceparent(std::string_view s) {
  if (s.size() != kTraceparentBytes || s[2] != '-' || s[35] != '-' || s[52] != '-') return false;
  const std::string_view version = s.substr(0, 2);
  const std::string_view trace_id = s.substr(3, 32);
  const std::string_view parent_id = s.substr(36, 16);
  const std::string_view flags = s.substr(53, 2);
  return LowerHex(version) && version != "ff" && LowerHex(trace_id) && !AllZeros(trace_id) &&
         LowerHex(parent_id) && !AllZeros(parent_id) && LowerHex(flags);
}

std::string TraceparentFromHeader(std::string_view header) {
  const size_t first = header.find_first_not_of(" \t");
  if (first == std::string_view::npos) return "";
  header = header.substr(first, header.find_last_not_of(" \t") - first + 1);
  if (header.size() < kTraceparentBytes) return "";
  const std::string_view head = header.substr(0, kTraceparentBytes);
  if (!IsTraceparent(head)) return "";
  if (header.size() > kTraceparentBytes &&
      (head.substr(0, 2) == "00" || header[kTraceparentBytes] != '-')) {
    return "";
  }
  return std::string(head);
}

std::string_view TraceIdOf(std::string_view traceparent) {
  return IsTraceparent(traceparent) ? traceparent.substr(3, 32) : std::string_view();
}

}  // namespace ratchet
