#include "schedule_service.h"

#include <spdlog/spdlog.h>

#include "workflow_convert.h"

namespace ratchet::server {

ScheduleService::ScheduleService(ServiceContext* ctx) : ctx_(ctx) {
  GuardParse("CreateSchedule", &ScheduleService::CreateSchedule);
  GuardParse("UpdateSchedule", &ScheduleService::UpdateSchedule);
  GuardParse("DeleteSchedule", &ScheduleService::DeleteSchedule);
  GuardParse("GetSchedule", &ScheduleService::GetSchedule);
  GuardParse("ListSchedules", &ScheduleService::ListSchedules);
  GuardParse("PauseSchedule", &ScheduleService::PauseSchedule);
  GuardParse("ResumeSchedule", &ScheduleService::ResumeSchedule);
  GuardParse("TriggerSchedule", &ScheduleService::TriggerSchedule);
}

template <typename Change>
grpc::ServerUnaryReactor* ScheduleService::ChangeThenGet(std::string id, Change change,
                                                         v1::ScheduleInfo* resp) {
  return ctx_->Blocking(
      [this, id = std::move(id),
       change = std::move(change)]() mutable -> absl::StatusOr<ScheduleInfo> {
        absl::Status s = change();
        if (!s.ok()) return s;
        return ctx_->engine().GetSchedule(id);
      },
      [resp](const ScheduleInfo& info) { ToProto(info, resp); });
}

grpc::ServerUnaryReactor* ScheduleService::Define(const v1::ScheduleSpec& proto, bool update,
                                                  v1::ScheduleInfo* resp) {
  auto spec = FromProto(proto);
  if (!spec.ok()) return ctx_->StartCall()->Reject(spec.status());
  std::string id = spec->id;
  return ChangeThenGet(
      id,
      [this, spec = *std::move(spec), update]() mutable -> absl::Status {
        std::string id = spec.id;
        absl::Status done = update ? ctx_->engine().UpdateSchedule(std::move(spec))
                                   : ctx_->engine().CreateSchedule(std::move(spec));
        if (done.ok()) {
          spdlog::info("event={} schedule_id={}", update ? "schedule_updated" : "schedule_created",
                       id);
        }
        return done;
      },
      resp);
}

grpc::ServerUnaryReactor* ScheduleService::CreateSchedule(grpc::CallbackServerContext*,
                                                          const v1::CreateScheduleRequest* req,
                                                          v1::ScheduleInfo* resp) {
  return Define(req->schedule(), false, resp);
}

grpc::ServerUnaryReactor* ScheduleService::UpdateSchedule(grpc::CallbackServerContext*,
                                                          const v1::UpdateScheduleRequest* req,
                                                          v1::ScheduleInfo* resp) {
  return Define(req->schedule(), true, resp);
}

grpc::ServerUnaryReactor* ScheduleService::DeleteSchedule(grpc::CallbackServerContext*,
                                                          const v1::DeleteScheduleRequest* req,
                                                          v1::DeleteScheduleResponse*) {
  return ctx_->Blocking(
      [this, id = req->id()]() -> absl::StatusOr<bool> {
        absl::Status s = ctx_->engine().DeleteSchedule(id);
        if (!s.ok()) return s;
        return true;
      },
      [](bool) {});
}

grpc::ServerUnaryReactor* ScheduleService::GetSchedule(grpc::CallbackServerContext*,
                                                       const v1::GetScheduleRequest* req,
                                                       v1::ScheduleInfo* resp) {
  return ChangeThenGet(
      req->id(), [] { return absl::OkStatus(); }, resp);
}

grpc::ServerUnaryReactor* ScheduleService::ListSchedules(grpc::CallbackServerContext*,
                                                         const v1::ListSchedulesRequest*,
                                                         v1::ListSchedulesResponse* resp) {
  return ctx_->Blocking([this] { return ctx_->engine().ListSchedules(); },
                        [resp](const std::vector<ScheduleInfo>& all) {
                          for (const ScheduleInfo& s : all) ToProto(s, resp->add_schedules());
                        });
}

grpc::ServerUnaryReactor* ScheduleService::PauseSchedule(grpc::CallbackServerContext*,
                                                         const v1::PauseScheduleRequest* req,
                                                         v1::ScheduleInfo* resp) {
  return ChangeThenGet(
      req->id(), [this, id = req->id()] { return ctx_->engine().PauseSchedule(id); }, resp);
}

grpc::ServerUnaryReactor* ScheduleService::ResumeSchedule(grpc::CallbackServerContext*,
                                                          const v1::ResumeScheduleRequest* req,
                                                          v1::ScheduleInfo* resp) {
  return ChangeThenGet(
      req->id(), [this, id = req->id()] { return ctx_->engine().ResumeSchedule(id); }, resp);
}

grpc::ServerUnaryReactor* ScheduleService::TriggerSchedule(grpc::CallbackServerContext*,
                                                           const v1::TriggerScheduleRequest* req,
                                                           v1::TriggerScheduleResponse* resp) {
  return ctx_->Blocking([this, id = req->id()] { return ctx_->engine().TriggerSchedule(id); },
                        [resp](const TriggerResult& r) { resp->set_job_id(r.job_id); });
}

}  // namespace ratchet::server
