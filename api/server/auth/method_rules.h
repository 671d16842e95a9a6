// The authorization rule of every RPC: the permission it needs and the
// queue it is checked against (docs/operations.md, "Authorization", shows
// this table; tests/api/server/auth/authorization_matrix_test.cc checks
// every RPC against it, and that the docs show it unchanged).
//
// An RPC without a rule is refused to everyone (deny by default).
//
// Thread safety: immutable.
#ifndef RATCHET_API_SERVER_AUTH_METHOD_RULES_H_
#define RATCHET_API_SERVER_AUTH_METHOD_RULES_H_

#include <string>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "permissions.h"

namespace ratchet::server::auth {

// Which queue a call's permission is checked against.
enum class Resource : uint8_t {
  // Every queue: only a grant on "*" allows the call.
  kServer,
  // Every queue the request names (fields called `queue`, at any depth, that
  // are not empty). A request that names none needs a grant on "*".
  kQueues,
  // The queue of the job `job_id` names, looked up before the call acts.
  kJob,
  // The queue of each job the call completes, fails or heartbeats, checked
  // by the engine inside the operation (QueueGuard); plus any queue the
  // request names. A fencing token alone proves nothing: tokens are
  // sequential.
  kLeasedJob,
  // The queue of the workflow `workflow_id` names, looked up first.
  kWorkflow,
  // The queue of the schedule `id` names, looked up first; plus any queue
  // the request names (a schedule moved to another queue needs both).
  kSchedule,
  // The answer lists only what the principal may read; the call needs the
  // permission on some queue.
  kListing,
};

struct MethodRule {
  absl::string_view service;  // e.g. "ratchet.v1.JobService"
  absl::string_view method;   // e.g. "Enqueue"
  Permission permission;
  Resource resource;
};

absl::Span<const MethodRule> MethodRules();
// The rule of `method` of `service` (full names, as above), or null.
const MethodRule* FindRule(absl::string_view service, absl::string_view method);
absl::string_view ResourceName(Resource r);

// The rules and the roles as the Markdown docs/operations.md shows.
std::string RulesMarkdown();

}  // namespace ratchet::server::auth

#endif  // RATCHET_API_SERVER_AUTH_METHOD_RULES_H_
