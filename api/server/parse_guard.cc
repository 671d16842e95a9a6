#include "parse_guard.h"

#include <atomic>
#include <chrono>

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

namespace {
std::atomic<bool> ungated_allowed{false};
}  // namespace

const auth::CallAccess& UngatedAccess() {
  static const auth::CallAccess* const kNone = new auth::CallAccess();
  static const auth::MethodRule kEverything{"", "", auth::Permission::kAdmin,
                                            auth::Resource::kServer};
  static const auth::CallAccess* const kAll = [] {
    auth::Principal p{.name = "ungated-test-caller",
                      .grants = {auth::Grant{auth::Role::kAdmin, "*"}},
                      .requests_per_second = 0};
    return new auth::CallAccess(
        std::make_shared<const auth::Caller>(std::move(p), std::chrono::steady_clock::now()),
        &kEverything);
  }();
  return ungated_allowed.load() ? *kAll : *kNone;
}
}  // namespace internal

void AllowUngatedCallsForTesting() { internal::ungated_allowed.store(true); }

}  // namespace ratchet::server
