// Client: the WorkflowService and ScheduleService calls.
#include "client_call.h"
#include "ratchet/base/status.h"

namespace ratchet {
namespace {

using WorkflowStub = v1::WorkflowService::Stub;
using ScheduleStub = v1::ScheduleService::Stub;

}  // namespace

absl::StatusOr<v1::SubmitWorkflowResponse> Client::SubmitWorkflow(v1::SubmitWorkflowRequest req,
                                                                  CallOptions call) {
  if (req.idempotency_key().empty()) req.set_idempotency_key(NewIdempotencyKey());
  return Call(*workflows_, &WorkflowStub::SubmitWorkflow, req, Retry::kSafe, call);
}

absl::StatusOr<v1::SubmitWorkflowResponse> Client::StartWorkflow(v1::StartWorkflowRequest req,
                                                                 CallOptions call) {
  if (req.idempotency_key().empty()) req.set_idempotency_key(NewIdempotencyKey());
  return Call(*workflows_, &WorkflowStub::StartWorkflow, req, Retry::kSafe, call);
}

absl::StatusOr<v1::Workflow> Client::GetWorkflow(uint64_t workflow_id, CallOptions call) {
  v1::GetWorkflowRequest req;
  req.set_workflow_id(workflow_id);
  return Call(*workflows_, &WorkflowStub::GetWorkflow, req, Retry::kSafe, call);
}

absl::StatusOr<v1::ListWorkflowsResponse> Client::ListWorkflows(const v1::ListWorkflowsRequest& req,
                                                                CallOptions call) {
  return Call(*workflows_, &WorkflowStub::ListWorkflows, req, Retry::kSafe, call);
}

absl::StatusOr<v1::WorkflowState> Client::CancelWorkflow(uint64_t workflow_id, CallOptions call) {
  v1::CancelWorkflowRequest req;
  req.set_workflow_id(workflow_id);
  RATCHET_ASSIGN_OR_RETURN(
      v1::CancelWorkflowResponse resp,
      Call(*workflows_, &WorkflowStub::CancelWorkflow, req, Retry::kSafe, call));
  return resp.state();
}

absl::Status Client::SendEvent(const v1::SendEventRequest& req, CallOptions call) {
  return Call(*workflows_, &WorkflowStub::SendEvent, req, Retry::kSafe, call).status();
}

absl::Status Client::RecordStep(const v1::RecordStepRequest& req, CallOptions call) {
  return Call(*workflows_, &WorkflowStub::RecordStep, req, Retry::kSafe, call).status();
}

absl::Status Client::SuspendWorkflow(const v1::SuspendWorkflowRequest& req, CallOptions call) {
  return Call(*workflows_, &WorkflowStub::SuspendWorkflow, req, Retry::kNever, call).status();
}

absl::StatusOr<v1::ScheduleInfo> Client::CreateSchedule(const v1::ScheduleSpec& spec,
                                                        CallOptions call) {
  v1::CreateScheduleRequest req;
  *req.mutable_schedule() = spec;
  return Call(*schedules_, &ScheduleStub::CreateSchedule, req, Retry::kSafe, call);
}

absl::StatusOr<v1::ScheduleInfo> Client::UpdateSchedule(const v1::ScheduleSpec& spec,
                                                        CallOptions call) {
  v1::UpdateScheduleRequest req;
  *req.mutable_schedule() = spec;
  return Call(*schedules_, &ScheduleStub::UpdateSchedule, req, Retry::kSafe, call);
}

absl::Status Client::DeleteSchedule(const std::string& id, CallOptions call) {
  v1::DeleteScheduleRequest req;
  req.set_id(id);
  return Call(*schedules_, &ScheduleStub::DeleteSchedule, req, Retry::kNever, call).status();
}

absl::StatusOr<v1::ScheduleInfo> Client::GetSchedule(const std::string& id, CallOptions call) {
  v1::GetScheduleRequest req;
  req.set_id(id);
  return Call(*schedules_, &ScheduleStub::GetSchedule, req, Retry::kSafe, call);
}

absl::StatusOr<v1::ListSchedulesResponse> Client::ListSchedules(const v1::ListSchedulesRequest& req,
                                                                CallOptions call) {
  return Call(*schedules_, &ScheduleStub::ListSchedules, req, Retry::kSafe, call);
}

absl::StatusOr<v1::ScheduleInfo> Client::PauseSchedule(const std::string& id, CallOptions call) {
  v1::PauseScheduleRequest req;
  req.set_id(id);
  return Call(*schedules_, &ScheduleStub::PauseSchedule, req, Retry::kSafe, call);
}

absl::StatusOr<v1::ScheduleInfo> Client::ResumeSchedule(const std::string& id, CallOptions call) {
  v1::ResumeScheduleRequest req;
  req.set_id(id);
  return Call(*schedules_, &ScheduleStub::ResumeSchedule, req, Retry::kSafe, call);
}

absl::StatusOr<uint64_t> Client::TriggerSchedule(const std::string& id, CallOptions call) {
  v1::TriggerScheduleRequest req;
  req.set_id(id);
  RATCHET_ASSIGN_OR_RETURN(
      v1::TriggerScheduleResponse resp,
      Call(*schedules_, &ScheduleStub::TriggerSchedule, req, Retry::kNever, call));
  return resp.job_id();
}

}  // namespace ratchet
