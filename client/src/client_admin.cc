// Client: the AdminService calls.
#include "client_call.h"

namespace ratchet {

absl::StatusOr<v1::BackupResponse> Client::Backup(const std::string& destination,
                                                  CallOptions call) {
  v1::BackupRequest req;
  req.set_destination(destination);
  return Call(*admin_, &v1::AdminService::Stub::Backup, req, Retry::kNever, call);
}

absl::StatusOr<grpc::health::v1::HealthCheckResponse::ServingStatus> Client::CheckHealth(
    const std::string& service, CallOptions call) {
  grpc::health::v1::HealthCheckRequest req;
  req.set_service(service);
  auto r = Call(*health_, &grpc::health::v1::Health::Stub::Check, req, Retry::kNever, call);
  if (!r.ok()) return r.status();
  return r->status();
}

absl::StatusOr<v1::ListWorkersResponse> Client::ListWorkers(int limit, CallOptions call) {
  v1::ListWorkersRequest req;
  req.set_limit(limit);
  return Call(*workers_, &v1::WorkerService::Stub::ListWorkers, req, Retry::kSafe, call);
}

absl::StatusOr<v1::GetStatsResponse> Client::GetStats(int limit, const std::string& cursor,
                                                      CallOptions call) {
  v1::GetStatsRequest req;
  req.set_limit(limit);
  req.set_cursor(cursor);
  return Call(*admin_, &v1::AdminService::Stub::GetStats, req, Retry::kSafe, call);
}

}  // namespace ratchet
