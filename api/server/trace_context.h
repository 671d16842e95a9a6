// The W3C trace context a call carries in its `traceparent` metadata
// (docs/api.md, "Trace context"). Enqueue stores it on jobs that do not
// name their own; log lines about a call carry its trace_id.
#ifndef RATCHET_API_SERVER_TRACE_CONTEXT_H_
#define RATCHET_API_SERVER_TRACE_CONTEXT_H_

#include <string>

#include "grpcpp/server_context.h"

namespace ratchet::server {

// The call's traceparent, or "" if it sent none, sent an invalid one, or
// sent more than one (all ignored, as W3C Trace Context asks).
std::string TraceparentOf(const grpc::CallbackServerContext& context);

}  // namespace ratchet::server

#endif  // RATCHET_API_SERVER_TRACE_CONTEXT_H_
