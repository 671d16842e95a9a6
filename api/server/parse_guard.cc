#include "parse_guard.h"

#include "absl/strings/str_cat.h"
#include "ratchet/api/status_codec.h"
#include "ratchet/base/status.h"

namespace ratchet::server {

absl::Status RequestDidNotParse(const std::string& message_type) {
  return InvalidArgument("request",
                         absl::StrCat("the body did not parse as a ", message_type,
                                      " (malformed protobuf, or a string field that is not "
                                      "valid UTF-8)"));
}

namespace internal {
grpc::Status RequestDidNotParseGrpc(const std::string& message_type) {
  return ToGrpcStatus(RequestDidNotParse(message_type));
}

grpc::Status ToGrpcStatusForGate(const absl::Status& status) { return ToGrpcStatus(status); }
}  // namespace internal

}  // namespace ratchet::server
