#include "schedule_service.h"

#include <spdlog/spdlog.h>

#include "ratchet/base/status.h"
#include "workflow_convert.h"

namespace ratchet::server {

ScheduleService::ScheduleService(ServiceContext* ctx) : ParseGuarded(&ctx->gate()), ctx_(ctx) {
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
grpc::ServerUnaryReactor* ScheduleService::ChangeThenGet(std::string id,
                                                         std::optional<auth::CallAccess> access,
                                                         Change change, v1::ScheduleInfo* resp) {
  return ctx_->Blocking(
      [this, id = std::move(id), access = std::move(access),
       change = std::move(change)]() mutable -> absl::StatusOr<ScheduleInfo> {
        if (access) RATCHET_RETURN_IF_ERROR(CheckSchedule(*access, id));
        absl::Status s = change();
        if (!s.ok()) return s;
        return ctx_->engine().GetSchedule(id);
      },
      [resp](const ScheduleInfo& info) { ToProto(info, resp); });
}

grpc::ServerUnaryReactor* ScheduleService::Define(const v1::ScheduleSpec& proto, bool update,
                                                  const auth::CallAccess& access,
                                                  v1::ScheduleInfo* resp) {
  auto spec = FromProto(proto);
  if (!spec.ok()) return ctx_->StartCall()->Reject(spec.status());
  std::string id = spec->id;
  // The gate checked the queue the spec names; an update also needs the
  // schedule's present queue (ChangeThenGet). A create has none yet.
  return ChangeThenGet(
      id, update ? std::optional(access) : std::nullopt,
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

grpc::ServerUnaryReactor* ScheduleService::CreateSchedule(grpc::CallbackServerContext* context,
                                                          const v1::CreateScheduleRequest* req,
                                                          v1::ScheduleInfo* resp) {
  return Define(req->schedule(), false, AccessOf(context, req, resp), resp);
}

grpc::ServerUnaryReactor* ScheduleService::UpdateSchedule(grpc::CallbackServerContext* context,
                                                          const v1::UpdateScheduleRequest* req,
                                                          v1::ScheduleInfo* resp) {
  return Define(req->schedule(), true, AccessOf(context, req, resp), resp);
}

grpc::ServerUnaryReactor* ScheduleService::DeleteSchedule(grpc::CallbackServerContext* context,
                                                          const v1::DeleteScheduleRequest* req,
                                                          v1::DeleteScheduleResponse* resp) {
  return ctx_->Blocking(
      [this, id = req->id(), access = AccessOf(context, req, resp)]() -> absl::StatusOr<bool> {
        RATCHET_RETURN_IF_ERROR(CheckSchedule(access, id));
        absl::Status s = ctx_->engine().DeleteSchedule(id, access.Guard());
        if (!s.ok()) return s;
        return true;
      },
      [](bool) {});
}

grpc::ServerUnaryReactor* ScheduleService::GetSchedule(grpc::CallbackServerContext* context,
                                                       const v1::GetScheduleRequest* req,
                                                       v1::ScheduleInfo* resp) {
  return ChangeThenGet(
      req->id(), AccessOf(context, req, resp), [] { return absl::OkStatus(); }, resp);
}

grpc::ServerUnaryReactor* ScheduleService::ListSchedules(grpc::CallbackServerContext* context,
                                                         const v1::ListSchedulesRequest* req,
                                                         v1::ListSchedulesResponse* resp) {
  return ctx_->Blocking(
      [this] { return ctx_->engine().ListSchedules(); },
      [resp, access = AccessOf(context, req, resp)](const std::vector<ScheduleInfo>& all) {
        for (const ScheduleInfo& s : all) {
          if (access.Covers(s.spec.queue)) ToProto(s, resp->add_schedules());
        }
      });
}

grpc::ServerUnaryReactor* ScheduleService::PauseSchedule(grpc::CallbackServerContext* context,
                                                         const v1::PauseScheduleRequest* req,
                                                         v1::ScheduleInfo* resp) {
  return ChangeThenGet(
      req->id(), AccessOf(context, req, resp),
      [this, id = req->id(), guard = AccessOf(context, req, resp).Guard()] {
        return ctx_->engine().PauseSchedule(id, guard);
      },
      resp);
}

grpc::ServerUnaryReactor* ScheduleService::ResumeSchedule(grpc::CallbackServerContext* context,
                                                          const v1::ResumeScheduleRequest* req,
                                                          v1::ScheduleInfo* resp) {
  return ChangeThenGet(
      req->id(), AccessOf(context, req, resp),
      [this, id = req->id(), guard = AccessOf(context, req, resp).Guard()] {
        return ctx_->engine().ResumeSchedule(id, guard);
      },
      resp);
}

grpc::ServerUnaryReactor* ScheduleService::TriggerSchedule(grpc::CallbackServerContext* context,
                                                           const v1::TriggerScheduleRequest* req,
                                                           v1::TriggerScheduleResponse* resp) {
  return ctx_->Blocking(
      [this, id = req->id(),
       access = AccessOf(context, req, resp)]() -> absl::StatusOr<TriggerResult> {
        RATCHET_RETURN_IF_ERROR(CheckSchedule(access, id));
        return ctx_->engine().TriggerSchedule(id, access.Guard());
      },
      [resp](const TriggerResult& r) { resp->set_job_id(r.job_id); });
}

}  // namespace ratchet::server
