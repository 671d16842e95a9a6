// ScheduleService (ratchet.v1): schedule definitions, pause/resume and
// trigger-now. Every call runs on the context's blocking pool.
#ifndef RATCHET_API_SERVER_SCHEDULE_SERVICE_H_
#define RATCHET_API_SERVER_SCHEDULE_SERVICE_H_

#include <optional>

#include "parse_guard.h"
#include "ratchet/v1/schedule_service.grpc.pb.h"
#include "service_context.h"

namespace ratchet::server {

// Its methods take CallInfo (call_info.h), not gRPC's context, and so hide
// the generated service's virtuals of the same names on purpose: those are
// never called (ParseGuarded installs the handlers that call these).
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Woverloaded-virtual"
#endif
class ScheduleService final : public ParseGuarded<ratchet::v1::ScheduleService> {
 public:
  // `ctx` is not owned and must outlive the service.
  explicit ScheduleService(ServiceContext* ctx);

  grpc::ServerUnaryReactor* CreateSchedule(const CallInfo&, const v1::CreateScheduleRequest* req,
                                           v1::ScheduleInfo* resp);
  grpc::ServerUnaryReactor* UpdateSchedule(const CallInfo&, const v1::UpdateScheduleRequest* req,
                                           v1::ScheduleInfo* resp);
  grpc::ServerUnaryReactor* DeleteSchedule(const CallInfo&, const v1::DeleteScheduleRequest* req,
                                           v1::DeleteScheduleResponse* resp);
  grpc::ServerUnaryReactor* GetSchedule(const CallInfo&, const v1::GetScheduleRequest* req,
                                        v1::ScheduleInfo* resp);
  grpc::ServerUnaryReactor* ListSchedules(const CallInfo&, const v1::ListSchedulesRequest* req,
                                          v1::ListSchedulesResponse* resp);
  grpc::ServerUnaryReactor* PauseSchedule(const CallInfo&, const v1::PauseScheduleRequest* req,
                                          v1::ScheduleInfo* resp);
  grpc::ServerUnaryReactor* ResumeSchedule(const CallInfo&, const v1::ResumeScheduleRequest* req,
                                           v1::ScheduleInfo* resp);
  grpc::ServerUnaryReactor* TriggerSchedule(const CallInfo&, const v1::TriggerScheduleRequest* req,
                                            v1::TriggerScheduleResponse* resp);

 private:
  // Runs `change` (a Status-returning engine call), then answers with the
  // schedule's info.
  // Create or update from `spec`, then answer with the schedule's info.
  grpc::ServerUnaryReactor* Define(const CallInfo& call_info, const v1::ScheduleSpec& spec,
                                   bool update, const auth::CallAccess& access,
                                   v1::ScheduleInfo* resp);
  template <typename Change>
  // With `access`, first checks that it covers the schedule's queue.
  grpc::ServerUnaryReactor* ChangeThenGet(const CallInfo& call_info, std::string id,
                                          std::optional<auth::CallAccess> access, Change change,
                                          v1::ScheduleInfo* resp);
  // OK if `access` covers the queue of schedule `id` (unrestricted access:
  // no lookup). Errors: NOT_FOUND, PERMISSION_DENIED.
  absl::Status CheckSchedule(const auth::CallAccess& access, const std::string& id);

  ServiceContext* const ctx_;
};
#if defined(__clang__)
#pragma clang diagnostic pop
#endif

}  // namespace ratchet::server

#endif  // RATCHET_API_SERVER_SCHEDULE_SERVICE_H_
