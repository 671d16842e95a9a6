// Permissions, roles and grants: what a principal may do, and on which
// queues (docs/operations.md, "Authorization").
//
// A principal holds grants; a grant gives one role on the queues that match
// one pattern. A role is a fixed set of permissions. A principal may use a
// permission on a queue when one of its grants gives a role holding that
// permission on a pattern matching the queue; it holds nothing else (deny by
// default).
//
// Thread safety: everything here is immutable once built; safe to share.
#ifndef RATCHET_API_SERVER_AUTH_PERMISSIONS_H_
#define RATCHET_API_SERVER_AUTH_PERMISSIONS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace ratchet::server::auth {

enum class Permission : uint8_t {
  kEnqueue,  // enqueue jobs, submit workflows, send workflow events
  kRead,     // read jobs, queues, dead letters, workflows, schedules
  kWork,     // lease, heartbeat, complete and fail jobs; record workflow steps
  kManage,   // change queues, cancel, redrive and purge, manage schedules and workflows
  kAdmin,    // backup and server-wide statistics
};
inline constexpr Permission kAllPermissions[] = {Permission::kEnqueue, Permission::kRead,
                                                 Permission::kWork, Permission::kManage,
                                                 Permission::kAdmin};

enum class Role : uint8_t {
  kProducer,  // enqueue, read
  kWorker,    // work
  kOperator,  // read, manage
  kAdmin,     // every permission
  kViewer,    // read only (the dashboard's read-only role)
};
inline constexpr Role kAllRoles[] = {Role::kProducer, Role::kWorker, Role::kOperator, Role::kAdmin,
                                     Role::kViewer};

absl::string_view PermissionName(Permission p);
absl::string_view RoleName(Role r);
std::optional<Role> RoleFromName(absl::string_view name);
bool RoleHas(Role r, Permission p);

// A queue pattern: "*" matches every queue, "prefix*" every queue whose
// name starts with prefix, anything else exactly one queue.
bool PatternMatches(absl::string_view pattern, absl::string_view queue);
// INVALID_ARGUMENT naming `field` unless `pattern` is 1..256 bytes with '*' at most once, as its
// last character.
absl::Status ValidatePattern(absl::string_view field, absl::string_view pattern);

struct Grant {
  Role role = Role::kProducer;
  std::string queues;  // a pattern
};

struct Principal {
  std::string name;
  std::vector<Grant> grants;
  // Token bucket over this principal's calls (all its credentials and
  // connections together): `requests_per_second` refill, `burst` capacity.
  // 0 requests per second: unlimited.
  double requests_per_second = 1000;
  double burst = 2000;

  // Whether some grant gives `p` on `queue`.
  bool Allows(Permission p, absl::string_view queue) const;
  // Whether a grant gives `p` on every queue (pattern "*").
  bool AllowsEverywhere(Permission p) const;
  // Whether a grant gives `p` on any queue at all.
  bool AllowsAnywhere(Permission p) const;
};

}  // namespace ratchet::server::auth

#endif  // RATCHET_API_SERVER_AUTH_PERMISSIONS_H_
