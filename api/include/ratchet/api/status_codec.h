// The one seam between absl::Status (engine, client) and gRPC statuses.
//
// Codes map one to one (absl's codes are gRPC's). The Ratchet reason (see
// ratchet/base/status.h) travels as a google.rpc.ErrorInfo{reason, domain =
// "ratchet.dev"} inside a google.rpc.Status in the call's binary error
// details (trailer grpc-status-details-bin), which is where standard gRPC
// tooling looks for it. A retry delay (RetryDelayOf) travels as a
// google.rpc.RetryInfo beside it.
//
// Thread safety: pure functions, safe from any thread.
#ifndef RATCHET_API_STATUS_CODEC_H_
#define RATCHET_API_STATUS_CODEC_H_

#include "absl/status/status.h"
#include "google/rpc/status.pb.h"
#include "grpcpp/support/status.h"

namespace ratchet {

inline constexpr char kErrorDomain[] = "ratchet.dev";

// absl::Status -> google.rpc.Status (code, message, ErrorInfo if a reason).
google::rpc::Status ToRpcStatus(const absl::Status& status);
// google.rpc.Status -> absl::Status, restoring the reason from ErrorInfo.
absl::Status FromRpcStatus(const google::rpc::Status& status);

// absl::Status -> grpc::Status with the google.rpc.Status as error details.
grpc::Status ToGrpcStatus(const absl::Status& status);
// grpc::Status -> absl::Status; the reason is read from the error details
// when present. Transport errors (UNAVAILABLE, DEADLINE_EXCEEDED from the
// channel) have no reason.
absl::Status FromGrpcStatus(const grpc::Status& status);

}  // namespace ratchet

#endif  // RATCHET_API_STATUS_CODEC_H_
