// Client: the WorkflowService and ScheduleService calls.
#include "client_call.h"
#include "grpcpp/grpcpp.h"
#include "ratchet/client/client.h"

namespace ratchet {

absl::StatusOr<v1::SubmitWorkflowResponse> Client::SubmitWorkflow(v1::SubmitWorkflowRequest req,
                                                                  CallOptions call) {
  if (req.idempotency_key().empty()) req.set_idempotency_key(NewIdempotencyKey());
  RATCHET_CALL(v1::SubmitWorkflowResponse, workflows_, SubmitWorkflow, req, true, Deadline(call));
  return resp;
}

absl::StatusOr<v1::SubmitWorkflowResponse> Client::StartWorkflow(v1::StartWorkflowRequest req,
                                                                 CallOptions call) {
  if (req.idempotency_key().empty()) req.set_idempotency_key(NewIdempotencyKey());
  RATCHET_CALL(v1::SubmitWorkflowResponse, workflows_, StartWorkflow, req, true, Deadline(call));
  return resp;
}

absl::StatusOr<v1::Workflow> Client::GetWorkflow(uint64_t workflow_id, CallOptions call) {
  v1::GetWorkflowRequest req;
  req.set_workflow_id(workflow_id);
  RATCHET_CALL(v1::Workflow, workflows_, GetWorkflow, req, true, Deadline(call));
  return resp;
}

absl::StatusOr<v1::ListWorkflowsResponse> Client::ListWorkflows(const v1::ListWorkflowsRequest& req,
                                                                CallOptions call) {
  RATCHET_CALL(v1::ListWorkflowsResponse, workflows_, ListWorkflows, req, true, Deadline(call));
  return resp;
}

absl::StatusOr<v1::WorkflowState> Client::CancelWorkflow(uint64_t workflow_id, CallOptions call) {
  v1::CancelWorkflowRequest req;
  req.set_workflow_id(workflow_id);
  RATCHET_CALL(v1::CancelWorkflowResponse, workflows_, CancelWorkflow, req, true, Deadline(call));
  return resp.state();
}

absl::Status Client::SendEvent(const v1::SendEventRequest& req, CallOptions call) {
  RATCHET_CALL(v1::SendEventResponse, workflows_, SendEvent, req, true, Deadline(call));
  return absl::OkStatus();
}

absl::Status Client::RecordStep(const v1::RecordStepRequest& req, CallOptions call) {
  RATCHET_CALL(v1::RecordStepResponse, workflows_, RecordStep, req, true, Deadline(call));
  return absl::OkStatus();
}

absl::Status Client::SuspendWorkflow(const v1::SuspendWorkflowRequest& req, CallOptions call) {
  RATCHET_CALL(v1::SuspendWorkflowResponse, workflows_, SuspendWorkflow, req, false,
               Deadline(call));
  return absl::OkStatus();
}

absl::StatusOr<v1::ScheduleInfo> Client::CreateSchedule(const v1::ScheduleSpec& spec,
                                                        CallOptions call) {
  v1::CreateScheduleRequest req;
  *req.mutable_schedule() = spec;
  RATCHET_CALL(v1::ScheduleInfo, schedules_, CreateSchedule, req, true, Deadline(call));
  return resp;
}

absl::StatusOr<v1::ScheduleInfo> Client::UpdateSchedule(const v1::ScheduleSpec& spec,
                                                        CallOptions call) {
  v1::UpdateScheduleRequest req;
  *req.mutable_schedule() = spec;
  RATCHET_CALL(v1::ScheduleInfo, schedules_, UpdateSchedule, req, true, Deadline(call));
  return resp;
}

absl::Status Client::DeleteSchedule(const std::string& id, CallOptions call) {
  v1::DeleteScheduleRequest req;
  req.set_id(id);
  RATCHET_CALL(v1::DeleteScheduleResponse, schedules_, DeleteSchedule, req, false, Deadline(call));
  return absl::OkStatus();
}

absl::StatusOr<v1::ScheduleInfo> Client::GetSchedule(const std::string& id, CallOptions call) {
  v1::GetScheduleRequest req;
  req.set_id(id);
  RATCHET_CALL(v1::ScheduleInfo, schedules_, GetSchedule, req, true, Deadline(call));
  return resp;
}

absl::StatusOr<std::vector<v1::ScheduleInfo>> Client::ListSchedules(CallOptions call) {
  v1::ListSchedulesRequest req;
  RATCHET_CALL(v1::ListSchedulesResponse, schedules_, ListSchedules, req, true, Deadline(call));
  return std::vector<v1::ScheduleInfo>(resp.schedules().begin(), resp.schedules().end());
}

absl::StatusOr<v1::ScheduleInfo> Client::PauseSchedule(const std::string& id, CallOptions call) {
  v1::PauseScheduleRequest req;
  req.set_id(id);
  RATCHET_CALL(v1::ScheduleInfo, schedules_, PauseSchedule, req, true, Deadline(call));
  return resp;
}

absl::StatusOr<v1::ScheduleInfo> Client::ResumeSchedule(const std::string& id, CallOptions call) {
  v1::ResumeScheduleRequest req;
  req.set_id(id);
  RATCHET_CALL(v1::ScheduleInfo, schedules_, ResumeSchedule, req, true, Deadline(call));
  return resp;
}

absl::StatusOr<uint64_t> Client::TriggerSchedule(const std::string& id, CallOptions call) {
  v1::TriggerScheduleRequest req;
  req.set_id(id);
  RATCHET_CALL(v1::TriggerScheduleResponse, schedules_, TriggerSchedule, req, false,
               Deadline(call));
  return resp.job_id();
}

}  // namespace ratchet
