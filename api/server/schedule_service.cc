#include "schedule_service.h"

#include <spdlog/spdlog.h>

#include "ratchet/base/status.h"
#include "workflow_convert.h"

namespace ratchet::server {

ScheduleService::ScheduleService(ServiceContext* ctx)
    : ParseGuarded(&ctx->gate(), &ctx->methods()), ctx_(ctx) {
  GuardParse("CreateSchedule", &ScheduleService::CreateSchedule);
  GuardParse("UpdateSchedule", &ScheduleService::UpdateSchedule);
  GuardParse("DeleteSchedule", &ScheduleService::DeleteSchedule);
  GuardParse("GetSchedule", &ScheduleService::GetSchedule);
  GuardParse("ListSchedules", &ScheduleService::ListSchedules);
  GuardParse("PauseSchedule", &ScheduleService::PauseSchedule);
  GuardParse("ResumeSchedule", &ScheduleService::ResumeSchedule);
  GuardParse("TriggerSchedule", &ScheduleService::TriggerSchedule);
}

absl::Status ScheduleService::CheckSchedule(const auth::CallAccess& access, const std::string& id) {
  return CheckLookedUpQueue(access, [&] { return QueueOfSchedule(ctx_->engine(), id); });
}

template <typename Change>
grpc::ServerUnaryReactor* ScheduleService::ChangeThenGet(const CallInfo& call_info, std::string id,
                                                         std::optional<auth::CallAccess> access,
                                                         Change change, v1::ScheduleInfo* resp) {
  return ctx_->Blocking(
      call_info,
      [this, id = std::move(id), access = std::move(access),
       change = std::move(change)]() mutable -> absl::StatusOr<ScheduleInfo> {
        if (access) RATCHET_RETURN_IF_ERROR(CheckSchedule(*access, id));
        absl::Status s = change();
        if (!s.ok()) return s;
        return ctx_->engine().GetSchedule(id);
      },
      [resp](const ScheduleInfo& info) { ToProto(info, resp); });
}

grpc::ServerUnaryReactor* ScheduleService::Define(const CallInfo& call_info,
                                                  const v1::ScheduleSpec& proto, bool update,
                                                  const auth::CallAccess& access,
                                                  v1::ScheduleInfo* resp) {
  auto spec = FromProto(proto);
  if (!spec.ok()) return ctx_->StartCall(call_info)->Reject(spec.status());
  std::string id = spec->id;
  // The gate checked the queue the spec names; an update also needs the
  // schedule's present queue (ChangeThenGet). A create has none yet.
  return ChangeThenGet(
      call_info, id, update ? std::optional(access) : std::nullopt,
      [this, spec = *std::move(spec), update, principal = access.principal(),
       guard = access.Guard()]() mutable -> absl::Status {
        std::string id = spec.id;
        absl::Status done = update ? ctx_->engine().UpdateSchedule(std::move(spec), guard)
                                   : ctx_->engine().CreateSchedule(std::move(spec));
        if (done.ok()) {
          spdlog::info("event={} schedule_id={:?} principal={:?}",
                       update ? "schedule_updated" : "schedule_created", id, principal);
        }
        return done;
      },
      resp);
}

grpc::ServerUnaryReactor* ScheduleService::CreateSchedule(const CallInfo& call_info,
                                                          const v1::CreateScheduleRequest* req,
                                                          v1::ScheduleInfo* resp) {
  return Define(call_info, req->schedule(), false, call_info.access, resp);
}

grpc::ServerUnaryReactor* ScheduleService::UpdateSchedule(const CallInfo& call_info,
                                                          const v1::UpdateScheduleRequest* req,
                                                          v1::ScheduleInfo* resp) {
  return Define(call_info, req->schedule(), true, call_info.access, resp);
}

grpc::ServerUnaryReactor* ScheduleService::DeleteSchedule(const CallInfo& call_info,
                                                          const v1::DeleteScheduleRequest* req,
                                                          v1::DeleteScheduleResponse* resp) {
  return ctx_->Blocking(
      call_info,
      [this, id = req->id(), access = call_info.access]() -> absl::StatusOr<bool> {
        RATCHET_RETURN_IF_ERROR(CheckSchedule(access, id));
        absl::Status s = ctx_->engine().DeleteSchedule(id, access.Guard());
        if (!s.ok()) return s;
        return true;
      },
      [](bool) {});
}

grpc::ServerUnaryReactor* ScheduleService::GetSchedule(const CallInfo& call_info,
                                                       const v1::GetScheduleRequest* req,
                                                       v1::ScheduleInfo* resp) {
  return ChangeThenGet(
      call_info, req->id(), call_info.access, [] { return absl::OkStatus(); }, resp);
}

grpc::ServerUnaryReactor* ScheduleService::ListSchedules(const CallInfo& call_info,
                                                         const v1::ListSchedulesRequest* req,
                                                         v1::ListSchedulesResponse* resp) {
  // A caller who may not read every queue gets sealed cursors: the engine's
  // name the page's last schedule, which the filter may hide (page_cursor.h).
  const bool sealed = !call_info.access.unrestricted() && !call_info.access.Covers("*");
  absl::StatusOr<std::string> cursor = sealed ? ctx_->cursors().Open(req->cursor()) : req->cursor();
  if (!cursor.ok()) return ctx_->StartCall(call_info)->Reject(cursor.status());
  ScheduleListRequest list{.limit = req->limit() == 0 ? 100 : req->limit(),
                           .cursor = *std::move(cursor),
                           .max_bytes = ctx_->limits().max_lease_bytes};
  return ctx_->Blocking(
      call_info, [this, list = std::move(list)] { return ctx_->engine().ListSchedules(list); },
      [this, resp, sealed, access = call_info.access](const ScheduleListResult& page) {
        // Filtered after the page: a page may hold fewer schedules than
        // the limit, even none, and still carry a next_cursor.
        for (const ScheduleInfo& s : page.schedules) {
          if (access.Covers(s.spec.queue)) ToProto(s, resp->add_schedules());
        }
        resp->set_next_cursor(sealed ? ctx_->cursors().Seal(page.next_cursor) : page.next_cursor);
      });
}

grpc::ServerUnaryReactor* ScheduleService::PauseSchedule(const CallInfo& call_info,
                                                         const v1::PauseScheduleRequest* req,
                                                         v1::ScheduleInfo* resp) {
  return ChangeThenGet(
      call_info, req->id(), call_info.access,
      [this, id = req->id(), guard = call_info.access.Guard()] {
        return ctx_->engine().PauseSchedule(id, guard);
      },
      resp);
}

grpc::ServerUnaryReactor* ScheduleService::ResumeSchedule(const CallInfo& call_info,
                                                          const v1::ResumeScheduleRequest* req,
                                                          v1::ScheduleInfo* resp) {
  return ChangeThenGet(
      call_info, req->id(), call_info.access,
      [this, id = req->id(), guard = call_info.access.Guard()] {
        return ctx_->engine().ResumeSchedule(id, guard);
      },
      resp);
}

grpc::ServerUnaryReactor* ScheduleService::TriggerSchedule(const CallInfo& call_info,
                                                           const v1::TriggerScheduleRequest* req,
                                                           v1::TriggerScheduleResponse* resp) {
  return ctx_->Blocking(
      call_info,
      [this, id = req->id(), access = call_info.access]() -> absl::StatusOr<TriggerResult> {
        RATCHET_RETURN_IF_ERROR(CheckSchedule(access, id));
        return ctx_->engine().TriggerSchedule(id, access.Guard());
      },
      [resp](const TriggerResult& r) { resp->set_job_id(r.job_id); });
}

}  // namespace ratchet::server
