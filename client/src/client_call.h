// Client::Call, the one typed RPC every Client method makes. Private to the
// client's sources: client.h declares it, and only they instantiate it.
#ifndef RATCHET_CLIENT_SRC_CLIENT_CALL_H_
#define RATCHET_CLIENT_SRC_CLIENT_CALL_H_

#include <algorithm>

#include "grpcpp/grpcpp.h"
#include "ratchet/client/client.h"

namespace ratchet {

template <typename Stub, typename Req, typename Resp>
absl::StatusOr<Resp> Client::Call(
    Stub& stub, grpc::Status (Stub::*method)(grpc::ClientContext*, const Req&, Resp*),
    const Req& req, Retry retry, const CallOptions& call, Millis long_poll) {
  Resp resp;
  absl::Status status =
      Run(retry, call, Deadline(call) + std::clamp(long_poll, Millis(0), kMaxCallDeadline),
          [&](grpc::ClientContext* context) {
            resp.Clear();  // an attempt that failed may have filled it in part
            return (stub.*method)(context, req, &resp);
          });
  if (!status.ok()) return status;
  return resp;
}

}  // namespace ratchet

#endif  // RATCHET_CLIENT_SRC_CLIENT_CALL_H_
