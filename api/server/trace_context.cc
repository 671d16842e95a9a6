#include "trace_context.h"

#include <string_view>

#include "ratchet/base/traceparent.h"

namespace ratchet::server {

std::string TraceparentOf(const grpc::CallbackServerContext& context) {
  const auto& metadata = context.client_metadata();
  auto [first, last] = metadata.equal_range("traceparent");
  if (first == last || std::next(first) != last) return "";
  return TraceparentFromHeader(std::string_view(first->second.data(), first->second.size()));
}

}  // namespace ratchet::server
