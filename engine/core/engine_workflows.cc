// The public Engine API for workflows and schedules: each call is one
// sequencer operation (engine_calls.h), answered after it is durable.
#include "engine_calls.h"
#include "ratchet/engine/engine.h"

namespace ratchet {

using internal::Call;
using internal::CallStatus;
using internal::Machines;
using internal::ScheduleMachine;
using storage::Batch;

absl::StatusOr<WorkflowSubmitResult> Engine::SubmitWorkflow(WorkflowSpec spec) {
  return Call<WorkflowSubmitResult>(*impl_, Reads::kThroughGroup,
                                    [spec = std::move(spec)](Machines& m, Batch& b, TimePoint now) {
                                      return m.workflows.SubmitWorkflow(b, now, spec);
                                    });
}

absl::StatusOr<WorkflowSubmitResult> Engine::StartWorkflow(StartWorkflowRequest req) {
  return Call<WorkflowSubmitResult>(*impl_, Reads::kThroughGroup,
                                    [req = std::move(req)](Machines& m, Batch& b, TimePoint now) {
                                      return m.workflows.StartWorkflow(b, now, req);
                                    });
}

absl::StatusOr<Workflow> Engine::GetWorkflow(WorkflowId id, size_t max_bytes) {
  if (max_bytes == 0) max_bytes = impl_->options().max_lease_bytes;
  return Call<Workflow>(*impl_, Reads::kThroughGroup,
                        [id, max_bytes](Machines& m, Batch& b, TimePoint now) {
                          return m.workflows.GetWorkflow(b, now, id, max_bytes);
                        });
}

absl::StatusOr<WorkflowListResult> Engine::ListWorkflows(WorkflowListRequest req) {
  if (req.max_bytes == 0) req.max_bytes = impl_->options().max_lease_bytes;
  return Call<WorkflowListResult>(*impl_, Reads::kThroughGroup,
                                  [req = std::move(req)](Machines& m, Batch& b, TimePoint) {
                                    return m.workflows.ListWorkflows(b, req);
                                  });
}

absl::StatusOr<WorkflowState> Engine::CancelWorkflow(WorkflowId id) {
  return Call<WorkflowState>(*impl_, Reads::kThroughGroup,
                             [id](Machines& m, Batch& b, TimePoint now) {
                               return m.workflows.CancelWorkflow(b, now, id);
                             });
}

absl::Status Engine::SendEvent(SendEventRequest req) {
  return CallStatus(*impl_, Reads::kThroughGroup,
                    [req = std::move(req)](Machines& m, Batch& b, TimePoint now) {
                      return m.code_workflows.SendEvent(b, now, req);
                    });
}

absl::Status Engine::RecordStep(RecordStepRequest req) {
  return CallStatus(*impl_, Reads::kThroughGroup,
                    [req = std::move(req)](Machines& m, Batch& b, TimePoint now) {
                      return m.code_workflows.RecordStep(b, now, req);
                    });
}

absl::Status Engine::Suspend(SuspendRequest req) {
  return CallStatus(*impl_, Reads::kThroughGroup,
                    [req = std::move(req)](Machines& m, Batch& b, TimePoint now) {
                      return m.code_workflows.Suspend(b, now, req);
                    });
}

absl::Status Engine::CreateSchedule(ScheduleSpec spec) {
  return CallStatus(*impl_, Reads::kThroughGroup,
                    [spec = std::move(spec)](Machines& m, Batch& b, TimePoint now) {
                      return m.schedules.Define(b, now, spec, ScheduleMachine::Write::kCreate);
                    });
}

namespace {

// Inside the operation: the schedule's present queue passes `guard`. An
// unknown id passes (the operation answers NOT_FOUND itself).
absl::Status CheckGuard(Machines& m, Batch& b, const std::string& id, const QueueGuard* guard) {
  if (guard == nullptr) return absl::OkStatus();
  absl::StatusOr<ScheduleInfo> info = m.schedules.GetSchedule(b, id);
  if (!info.ok()) {
    return info.status().code() == absl::StatusCode::kNotFound ? absl::OkStatus() : info.status();
  }
  return guard->Check(info->spec.queue);
}

}  // namespace

absl::Status Engine::UpdateSchedule(ScheduleSpec spec, std::shared_ptr<const QueueGuard> guard) {
  return CallStatus(
      *impl_, Reads::kThroughGroup,
      [spec = std::move(spec), guard = std::move(guard)](Machines& m, Batch& b, TimePoint now) {
        RATCHET_RETURN_IF_ERROR(CheckGuard(m, b, spec.id, guard.get()));
        return m.schedules.Define(b, now, spec, ScheduleMachine::Write::kUpdate);
      });
}

absl::Status Engine::DeleteSchedule(std::string id, std::shared_ptr<const QueueGuard> guard) {
  return CallStatus(
      *impl_, Reads::kThroughGroup,
      [id = std::move(id), guard = std::move(guard)](Machines& m, Batch& b, TimePoint) {
        RATCHET_RETURN_IF_ERROR(CheckGuard(m, b, id, guard.get()));
        return m.schedules.DeleteSchedule(b, id);
      });
}

absl::Status Engine::PauseSchedule(std::string id, std::shared_ptr<const QueueGuard> guard) {
  return CallStatus(
      *impl_, Reads::kThroughGroup,
      [id = std::move(id), guard = std::move(guard)](Machines& m, Batch& b, TimePoint now) {
        RATCHET_RETURN_IF_ERROR(CheckGuard(m, b, id, guard.get()));
        return m.schedules.SetPaused(b, now, id, true);
      });
}

absl::Status Engine::ResumeSchedule(std::string id, std::shared_ptr<const QueueGuard> guard) {
  return CallStatus(
      *impl_, Reads::kThroughGroup,
      [id = std::move(id), guard = std::move(guard)](Machines& m, Batch& b, TimePoint now) {
        RATCHET_RETURN_IF_ERROR(CheckGuard(m, b, id, guard.get()));
        return m.schedules.SetPaused(b, now, id, false);
      });
}

absl::StatusOr<ScheduleInfo> Engine::GetSchedule(std::string id) {
  return Call<ScheduleInfo>(*impl_, Reads::kThroughGroup,
                            [id = std::move(id)](Machines& m, Batch& b, TimePoint) {
                              return m.schedules.GetSchedule(b, id);
                            });
}

absl::StatusOr<ScheduleListResult> Engine::ListSchedules(ScheduleListRequest req) {
  if (req.max_bytes == 0) req.max_bytes = impl_->options().max_lease_bytes;
  return Call<ScheduleListResult>(*impl_, Reads::kThroughGroup,
                                  [req = std::move(req)](Machines& m, Batch& b, TimePoint) {
                                    return m.schedules.ListSchedules(b, req);
                                  });
}

absl::StatusOr<TriggerResult> Engine::TriggerSchedule(std::string id,
                                                      std::shared_ptr<const QueueGuard> guard) {
  return Call<TriggerResult>(
      *impl_, Reads::kThroughGroup,
      [id = std::move(id), guard = std::move(guard)](
          Machines& m, Batch& b, TimePoint now) -> absl::StatusOr<TriggerResult> {
        RATCHET_RETURN_IF_ERROR(CheckGuard(m, b, id, guard.get()));
        return m.schedules.TriggerSchedule(b, now, id);
      });
}

}  // namespace ratchet
