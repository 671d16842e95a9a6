// Client: the AdminService calls.
#include "client_call.h"

namespace ratchet {

absl::StatusOr<v1::BackupResponse> Client::Backup(const std::string& destination,
                                                  CallOptions call) {
  v1::BackupRequest req;
  req.set_destination(destination);
  return Call(*admin_, &v1::AdminService::Stub::Backup, req, Retry::kNever, call);
}

}  // namespace ratchet
