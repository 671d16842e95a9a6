// AdminService (ratchet.v1): operations on the whole server — backup, stats. Runs on
// the context's blocking pool, never on a gRPC thread.
#ifndef RATCHET_API_SERVER_ADMIN_SERVICE_H_
#define RATCHET_API_SERVER_ADMIN_SERVICE_H_

#include "parse_guard.h"
#include "ratchet/v1/admin_service.grpc.pb.h"
#include "service_context.h"

namespace ratchet::server {

// A backup may take far longer than an ordinary call: its server-side
// deadline is the call timeout plus this.
inline constexpr Millis kBackupExtraDeadline{3600000};

// Its methods take CallInfo (call_info.h), not gRPC's context, and so hide
// the generated service's virtuals of the same names on purpose: those are
// never called (ParseGuarded installs the handlers that call these).
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Woverloaded-virtual"
#endif
class AdminService final : public ParseGuarded<ratchet::v1::AdminService> {
 public:
  // `ctx` is not owned and must outlive the service.
  explicit AdminService(ServiceContext* ctx);

  grpc::ServerUnaryReactor* Backup(const CallInfo&, const v1::BackupRequest* req,
                                   v1::BackupResponse* resp);
  grpc::ServerUnaryReactor* GetStats(const CallInfo&, const v1::GetStatsRequest* req,
                                     v1::GetStatsResponse* resp);

 private:
  ServiceContext* const ctx_;
};
#if defined(__clang__)
#pragma clang diagnostic pop
#endif

}  // namespace ratchet::server

#endif  // RATCHET_API_SERVER_ADMIN_SERVICE_H_
