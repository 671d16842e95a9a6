#include "admin_service.h"

#include <spdlog/spdlog.h>

#include "ratchet/api/time_codec.h"

namespace ratchet::server {
namespace {

void ToProto(const ColumnFamilyStats& cf, v1::ColumnFamilyStats* out) {
  out->set_name(cf.name);
  out->set_sst_bytes(cf.sst_bytes);
  out->set_live_sst_bytes(cf.live_sst_bytes);
  out->set_memtable_bytes(cf.memtable_bytes);
  out->set_pending_compaction_bytes(cf.pending_compaction_bytes);
  out->set_estimated_keys(cf.estimated_keys);
}

void ToProto(const QueueStats& q, v1::QueueStats* out) {
  out->set_name(q.name);
  out->set_live(q.live);
  out->set_running(q.running);
  out->set_completed(q.completed);
  out->set_cancelled(q.cancelled);
  out->set_dead(q.dead);
  if (q.oldest_available) *out->mutable_oldest_available() = ToProtoTime(*q.oldest_available);
  *out->mutable_oldest_available_age() = ToProtoDuration(q.oldest_available_age);
}

void ToProto(const StatsResult& r, v1::GetStatsResponse* out) {
  *out->mutable_at() = ToProtoTime(r.at);
  for (const ColumnFamilyStats& cf : r.column_families) ToProto(cf, out->add_column_families());
  out->set_queue_count(r.queue_count);
  out->set_live_jobs(r.live_jobs);
  out->set_completed(r.completed);
  out->set_cancelled(r.cancelled);
  out->set_dead(r.dead);
  for (const QueueStats& q : r.queues) ToProto(q, out->add_queues());
  out->set_next_cursor(r.next_cursor);
}

}  // namespace

AdminService::AdminService(ServiceContext* ctx)
    : ParseGuarded(&ctx->gate(), &ctx->methods()), ctx_(ctx) {
  GuardParse("Backup", &AdminService::Backup);
  GuardParse("GetStats", &AdminService::GetStats);
}

grpc::ServerUnaryReactor* AdminService::Backup(const CallInfo& call_info,
                                               const v1::BackupRequest* req,
                                               v1::BackupResponse* resp) {
  UnaryCall* call = ctx_->StartCall(call_info, kBackupExtraDeadline);
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

grpc::ServerUnaryReactor* AdminService::GetStats(const CallInfo& call_info,
                                                 const v1::GetStatsRequest* req,
                                                 v1::GetStatsResponse* resp) {
  StatsRequest stats{.limit = req->limit() == 0 ? 100 : req->limit(), .cursor = req->cursor()};
  return ctx_->Blocking(
      call_info, [this, stats] { return ctx_->engine().GetStats(stats); },
      [resp](const StatsResult& r) { ToProto(r, resp); });
}

}  // namespace ratchet::server
