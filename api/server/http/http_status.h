// The HTTP status of a gRPC status code, for the HTTP/JSON API. The table is
// grpc-gateway's (runtime/errors.go, HTTPStatusFromCode), which follows
// google/rpc/code.proto's "HTTP Mapping" notes; docs/api.md repeats it.
#ifndef RATCHET_API_SERVER_HTTP_HTTP_STATUS_H_
#define RATCHET_API_SERVER_HTTP_HTTP_STATUS_H_

#include "absl/status/status.h"

namespace ratchet::server::http {

inline int HttpStatusOf(absl::StatusCode code) {
  switch (code) {
    case absl::StatusCode::kOk:
      return 200;
    case absl::StatusCode::kCancelled:
      return 499;
    case absl::StatusCode::kInvalidArgument:
    case absl::StatusCode::kFailedPrecondition:
    case absl::StatusCode::kOutOfRange:
      return 400;
    case absl::StatusCode::kDeadlineExceeded:
      return 504;
    case absl::StatusCode::kNotFound:
      return 404;
    case absl::StatusCode::kAlreadyExists:
    case absl::StatusCode::kAborted:
      return 409;
    case absl::StatusCode::kPermissionDenied:
      return 403;
    case absl::StatusCode::kUnauthenticated:
      return 401;
    case absl::StatusCode::kResourceExhausted:
      return 429;
    case absl::StatusCode::kUnimplemented:
      return 501;
    case absl::StatusCode::kUnavailable:
      return 503;
    default:  // UNKNOWN, INTERNAL, DATA_LOSS
      return 500;
  }
}

}  // namespace ratchet::server::http

#endif  // RATCHET_API_SERVER_HTTP_HTTP_STATUS_H_
