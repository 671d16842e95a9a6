#include "permissions.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "ratchet/base/status.h"

namespace ratchet::server::auth {

absl::string_view PermissionName(Permission p) {
  switch (p) {
    case Permission::kEnqueue:
      return "enqueue";
    case Permission::kRead:
      return "read";
    case Permission::kWork:
      return "work";
    case Permission::kManage:
      return "manage";
    case Permission::kAdmin:
      return "admin";
  }
  return "?";
}

absl::string_view RoleName(Role r) {
  switch (r) {
    case Role::kProducer:
      return "producer";
    case Role::kWorker:
      return "worker";
    case Role::kOperator:
      return "operator";
    case Role::kViewer:
      return "viewer";
    case Role::kAdmin:
      return "admin";
  }
  return "?";
}

std::optional<Role> RoleFromName(absl::string_view name) {
  for (Role r : kAllRoles) {
    if (RoleName(r) == name) return r;
  }
  return std::nullopt;
}

bool RoleHas(Role r, Permission p) {
  switch (r) {
    case Role::kProducer:
      return p == Permission::kEnqueue || p == Permission::kRead;
    case Role::kWorker:
      return p == Permission::kWork;
    case Role::kOperator:
      return p == Permission::kRead || p == Permission::kManage;
    case Role::kViewer:
      return p == Permission::kRead;
    case Role::kAdmin:
      return true;
  }
  return false;
}

bool PatternMatches(absl::string_view pattern, absl::string_view queue) {
  if (!pattern.empty() && pattern.back() == '*') {
    pattern.remove_suffix(1);
    return queue.substr(0, pattern.size()) == pattern;
  }
  return pattern == queue;
}

absl::Status ValidatePattern(absl::string_view field, absl::string_view pattern) {
  constexpr size_t kMaxPatternBytes = 256;
  if (pattern.empty() || pattern.size() > kMaxPatternBytes) {
    return InvalidArgument(std::string(field),
                           absl::StrCat("must be 1..", kMaxPatternBytes, " bytes"));
  }
  // UTF-8: the auth file is TOML, which toml++ only accepts as UTF-8.
  size_t star = pattern.find('*');
  if (star != absl::string_view::npos && star != pattern.size() - 1) {
    return InvalidArgument(std::string(field), "'*' may only end a pattern (\"*\", \"billing.*\")");
  }
  return absl::OkStatus();
}

bool Principal::Allows(Permission p, absl::string_view queue) const {
  return std::any_of(grants.begin(), grants.end(), [&](const Grant& g) {
    return RoleHas(g.role, p) && PatternMatches(g.queues, queue);
  });
}

bool Principal::AllowsEverywhere(Permission p) const {
  return std::any_of(grants.begin(), grants.end(),
                     [&](const Grant& g) { return RoleHas(g.role, p) && g.queues == "*"; });
}

bool Principal::AllowsAnywhere(Permission p) const {
  return std::any_of(grants.begin(), grants.end(),
                     [&](const Grant& g) { return RoleHas(g.role, p); });
}

}  // namespace ratchet::server::auth
