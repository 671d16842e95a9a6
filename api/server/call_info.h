// CallInfo: what a unary method of the ratchet.v1 services knows about its
// call, whichever transport carried it: gRPC (parse_guard.h builds it from
// the call's context) or the HTTP/JSON API (http/json_api.h builds it from
// the HTTP request). The methods read nothing else of the transport, so
// both transports run the same code with the same checks and errors.
//
// Thread safety: a value type; copy it freely.
#ifndef RATCHET_API_SERVER_CALL_INFO_H_
#define RATCHET_API_SERVER_CALL_INFO_H_

#include <chrono>
#include <functional>
#include <string>

#include "auth/gate.h"
#include "grpcpp/support/status.h"

namespace ratchet::server {

struct CallInfo {
  // What the gate admitted the call to do.
  auth::CallAccess access;
  // The call's W3C traceparent, or "" (trace_context.h).
  std::string traceparent;
  // The client's deadline (max(): none).
  std::chrono::system_clock::time_point deadline = std::chrono::system_clock::time_point::max();
  // Set by a transport other than gRPC: the method's UnaryCall calls it,
  // exactly once, with the outcome instead of finishing a gRPC call. The
  // response has been written before it runs (on success) and is not
  // touched after. Runs on an engine or pool thread: it must not block.
  std::function<void(const grpc::Status&)> finish;
};

}  // namespace ratchet::server

#endif  // RATCHET_API_SERVER_CALL_INFO_H_
