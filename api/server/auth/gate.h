// Gate: admits or refuses each RPC before its handler runs: who is calling
// (Authenticator), whether their rate limit allows the call, and whether
// their grants give the method's permission (method_rules.h) on the queues
// the request names. What needs a lookup (a job's, workflow's or
// schedule's queue) the handler checks with the CallAccess the gate
// returns; jobs named by a fencing token are checked by the engine
// (QueueGuard).
//
// Logs (docs/operations.md, "Audit log"): every admitted call that needs
// `manage` or `admin` ("event=audit", with the principal), every refusal
// for lack of permission ("event=access_denied"). Credentials never appear.
//
// Thread safety: safe from any thread.
#ifndef RATCHET_API_SERVER_AUTH_GATE_H_
#define RATCHET_API_SERVER_AUTH_GATE_H_

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "authenticator.h"
#include "google/protobuf/message.h"
#include "grpcpp/support/server_callback.h"
#include "method_rules.h"
#include "ratchet/engine/types.h"

namespace ratchet::server::auth {

// What one admitted call may do: its principal and its method's permission.
// Copyable; cheap.
class CallAccess {
 public:
  CallAccess() = default;  // refuses everything (a call the gate did not admit)
  CallAccess(std::shared_ptr<const Caller> caller, const MethodRule* rule)
      : caller_(std::move(caller)), rule_(rule) {}

  const std::string& principal() const;
  // Holds the permission on every queue: no lookup needed.
  bool unrestricted() const;
  // OK, or PERMISSION_DENIED naming the principal, permission and queue
  // (logged as event=access_denied).
  absl::Status Check(absl::string_view queue) const;
  // Check for a queue found by a lookup (a job's, workflow's or schedule's):
  // the refusal does not name the queue, which the caller may not know
  // (only the log does, when `log`).
  absl::Status CheckLookedUp(absl::string_view queue, bool log = true) const;
  // Whether the permission covers `queue` (for filtering lists; not logged).
  bool Covers(absl::string_view queue) const;
  // For the engine: null when unrestricted, else a guard calling Check.
  std::shared_ptr<const QueueGuard> Guard() const;

 private:
  std::shared_ptr<const Caller> caller_;
  const MethodRule* rule_ = nullptr;
};

// Who a call says it is, whatever carried it.
struct CallCredentials {
  // The `authorization` header ("Bearer <token>"), if the call sent one.
  std::optional<std::string> authorization;
  // A verified client certificate's CN and SANs (mTLS), else empty.
  std::vector<std::string> certificate_names;
  std::string peer;         // for logs: "ipv4:127.0.0.1:5555"
  std::string traceparent;  // for logs: the call's W3C traceparent or ""
};

class Gate {
 public:
  // `authenticator` is shared with whoever reloads it.
  explicit Gate(std::shared_ptr<Authenticator> authenticator)
      : authenticator_(std::move(authenticator)) {}

  // Admits a call of the RPC `rule` describes (null: an RPC without a rule,
  // refused). Errors: UNAUTHENTICATED; RESOURCE_EXHAUSTED/RATE_LIMITED with
  // a retry delay; PERMISSION_DENIED naming the missing permission and,
  // when the request names one, the queue.
  absl::StatusOr<CallAccess> Admit(const grpc::CallbackServerContext& context,
                                   const MethodRule* rule,
                                   const google::protobuf::Message& request) const;
  // The same for a call that did not come over gRPC (the HTTP/JSON API).
  absl::StatusOr<CallAccess> Admit(const CallCredentials& credentials, const MethodRule* rule,
                                   const google::protobuf::Message& request) const;
  // The same for a caller already authenticated (Authenticate), so that the
  // HTTP API authenticates once although it must before parsing the body.
  absl::StatusOr<CallAccess> Admit(std::shared_ptr<const Caller> caller,
                                   const CallCredentials& credentials, const MethodRule* rule,
                                   const google::protobuf::Message& request) const;
  // Who `credentials` name, without a rate-limit or permission check (the
  // dashboard's sign-in). Errors: UNAUTHENTICATED.
  absl::StatusOr<std::shared_ptr<const Caller>> Authenticate(
      const CallCredentials& credentials) const;

 private:
  std::shared_ptr<Authenticator> authenticator_;
};

}  // namespace ratchet::server::auth

#endif  // RATCHET_API_SERVER_AUTH_GATE_H_
