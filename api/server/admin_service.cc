#include "admin_service.h"

#include <spdlog/spdlog.h>

#include "ratchet/api/time_codec.h"

namespace ratchet::server {

AdminService::AdminService(ServiceContext* ctx) : ctx_(ctx) {
  GuardParse("Backup", &AdminService::Backup);
}

grpc::ServerUnaryReactor* AdminService::Backup(grpc::CallbackServerContext*,
                                               const v1::BackupRequest* req,
                                               v1::BackupResponse* resp) {
  UnaryCall* call = ctx_->StartCall(kBackupExtraDeadline);
  ctx_->RunBlocking([this, call, resp, destination = req->destination()] {
    spdlog::info("event=backup_started destination={:?}", destination);
    absl::StatusOr<BackupInfo> info = ctx_->engine().Backup(destination);
    if (info.ok()) {
      spdlog::info("event=backup_finished destination={:?} files={} bytes={} ms={}", destination,
                   info->files, info->bytes, info->duration.count());
    } else {
      spdlog::warn("event=backup_failed destination={:?} status={}", destination,
                   info.status().ToString());
    }
    call->Reply(info.status(), [&] {
      resp->set_path(info->path);
      resp->set_files(info->files);
      resp->set_bytes(info->bytes);
      *resp->mutable_duration() = ToProtoDuration(info->duration);
      *resp->mutable_started_at() = ToProtoTime(info->started_at);
    });
  });
  return call;
}

}  // namespace ratchet::server
