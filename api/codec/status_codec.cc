#include "ratchet/api/status_codec.h"

#include <string>

#include "google/rpc/error_details.pb.h"
#include "ratchet/base/status.h"

namespace ratchet {

google::rpc::Status ToRpcStatus(const absl::Status& status) {
  google::rpc::Status out;
  out.set_code(static_cast<int>(status.code()));
  out.set_message(std::string(status.message()));
  std::string reason = ReasonOf(status);
  if (!reason.empty()) {
    google::rpc::ErrorInfo info;
    info.set_reason(reason);
    info.set_domain(kErrorDomain);
    out.add_details()->PackFrom(info);
  }
  if (auto delay = RetryDelayOf(status)) {
    google::rpc::RetryInfo retry;
    retry.mutable_retry_delay()->set_seconds(delay->count() / 1000);
    retry.mutable_retry_delay()->set_nanos(static_cast<int32_t>(delay->count() % 1000) * 1000000);
    out.add_details()->PackFrom(retry);
  }
  return out;
}

absl::Status FromRpcStatus(const google::rpc::Status& status) {
  absl::Status out(static_cast<absl::StatusCode>(status.code()), status.message());
  for (const auto& detail : status.details()) {
    google::rpc::ErrorInfo info;
    google::rpc::RetryInfo retry;
    if (detail.Is<google::rpc::ErrorInfo>() && detail.UnpackTo(&info) &&
        info.domain() == kErrorDomain) {
      out = WithReason(std::move(out), info.reason());
    } else if (detail.Is<google::rpc::RetryInfo>() && detail.UnpackTo(&retry) &&
               retry.retry_delay().seconds() >= 0 && retry.retry_delay().seconds() < 86400 &&
               retry.retry_delay().nanos() >= 0 && retry.retry_delay().nanos() < 1000000000) {
      out = WithRetryDelay(std::move(out),
                           std::chrono::milliseconds(retry.retry_delay().seconds() * 1000 +
                                                     retry.retry_delay().nanos() / 1000000));
    }
  }
  return out;
}

grpc::Status ToGrpcStatus(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()),
                      ToRpcStatus(status).SerializeAsString());
}

absl::Status FromGrpcStatus(const grpc::Status& status) {
  if (status.ok()) return absl::OkStatus();
  absl::Status out(static_cast<absl::StatusCode>(status.error_code()), status.error_message());
  // The reason rides in the details; code and message are the call's own.
  google::rpc::Status details;
  if (status.error_details().empty() || !details.ParseFromString(status.error_details())) {
    return out;
  }
  absl::Status decoded = FromRpcStatus(details);
  std::string reason = ReasonOf(decoded);
  if (!reason.empty()) out = WithReason(std::move(out), reason);
  if (auto delay = RetryDelayOf(decoded)) out = WithRetryDelay(std::move(out), *delay);
  return out;
}

}  // namespace ratchet
