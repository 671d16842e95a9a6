// The public Engine API for workflows and schedules: each call is one
// sequencer operation (one atomic write), answered after it is durable.
#include "await.h"
#include "engine_impl.h"
#include "ratchet/engine/engine.h"

namespace ratchet {

using storage::Batch;

using internal::Done;

namespace {

// Runs `fn(state_machine, batch, now)` on the sequencer and waits for it.
template <typename T, typename Fn>
absl::StatusOr<T> Run(Engine::Impl* impl, Fn fn) {
  return internal::Await<T>([&](Callback<T> cb) {
    impl->Submit<T>(
        false,
        [sm = &impl->state_machine(), fn = std::move(fn)](Batch& b, TimePoint now) mutable {
          return fn(*sm, b, now);
        },
        std::move(cb));
  });
}

template <typename Fn>
absl::Status RunStatus(Engine::Impl* impl, Fn fn) {
  return Run<Done>(impl,
                   [fn = std::move(fn)](internal::StateMachine& sm, Batch& b,
                                        TimePoint now) mutable -> absl::StatusOr<Done> {
                     RATCHET_RETURN_IF_ERROR(fn(sm, b, now));
                     return Done{};
                   })
      .status();
}

}  // namespace

absl::StatusOr<WorkflowSubmitResult> Engine::SubmitWorkflow(WorkflowSpec spec) {
  return Run<WorkflowSubmitResult>(impl_.get(),
                                   [spec = std::move(spec)](auto& sm, Batch& b, TimePoint now) {
                                     return sm.SubmitWorkflow(b, now, spec);
                                   });
}

absl::StatusOr<WorkflowSubmitResult> Engine::StartWorkflow(StartWorkflowRequest req) {
  return Run<WorkflowSubmitResult>(impl_.get(),
                                   [req = std::move(req)](auto& sm, Batch& b, TimePoint now) {
                                     return sm.StartWorkflow(b, now, req);
                                   });
}

absl::StatusOr<Workflow> Engine::GetWorkflow(WorkflowId id) {
  return Run<Workflow>(
      impl_.get(), [id](auto& sm, Batch& b, TimePoint now) { return sm.GetWorkflow(b, now, id); });
}

absl::StatusOr<WorkflowListResult> Engine::ListWorkflows(WorkflowListRequest req) {
  return Run<WorkflowListResult>(
      impl_.get(),
      [req = std::move(req)](auto& sm, Batch& b, TimePoint) { return sm.ListWorkflows(b, req); });
}

absl::StatusOr<WorkflowState> Engine::CancelWorkflow(WorkflowId id) {
  return Run<WorkflowState>(impl_.get(), [id](auto& sm, Batch& b, TimePoint now) {
    return sm.CancelWorkflow(b, now, id);
  });
}

absl::Status Engine::SendEvent(SendEventRequest req) {
  return RunStatus(impl_.get(), [req = std::move(req)](auto& sm, Batch& b, TimePoint now) {
    return sm.SendEvent(b, now, req);
  });
}

absl::Status Engine::RecordStep(RecordStepRequest req) {
  return RunStatus(impl_.get(), [req = std::move(req)](auto& sm, Batch& b, TimePoint now) {
    return sm.RecordStep(b, now, req);
  });
}

absl::Status Engine::Suspend(SuspendRequest req) {
  return RunStatus(impl_.get(), [req = std::move(req)](auto& sm, Batch& b, TimePoint now) {
    return sm.Suspend(b, now, req);
  });
}

absl::Status Engine::CreateSchedule(ScheduleSpec spec) {
  return RunStatus(impl_.get(), [spec = std::move(spec)](auto& sm, Batch& b, TimePoint now) {
    return sm.CreateSchedule(b, now, spec, /*update=*/false);
  });
}

absl::Status Engine::UpdateSchedule(ScheduleSpec spec) {
  return RunStatus(impl_.get(), [spec = std::move(spec)](auto& sm, Batch& b, TimePoint now) {
    return sm.CreateSchedule(b, now, spec, /*update=*/true);
  });
}

absl::Status Engine::DeleteSchedule(std::string id) {
  return RunStatus(impl_.get(), [id = std::move(id)](auto& sm, Batch& b, TimePoint) {
    return sm.DeleteSchedule(b, id);
  });
}

absl::Status Engine::PauseSchedule(std::string id) {
  return RunStatus(impl_.get(), [id = std::move(id)](auto& sm, Batch& b, TimePoint now) {
    return sm.SetSchedulePaused(b, now, id, true);
  });
}

absl::Status Engine::ResumeSchedule(std::string id) {
  return RunStatus(impl_.get(), [id = std::move(id)](auto& sm, Batch& b, TimePoint now) {
    return sm.SetSchedulePaused(b, now, id, false);
  });
}

absl::StatusOr<ScheduleInfo> Engine::GetSchedule(std::string id) {
  return Run<ScheduleInfo>(impl_.get(), [id = std::move(id)](auto& sm, Batch& b, TimePoint) {
    return sm.GetSchedule(b, id);
  });
}

absl::StatusOr<std::vector<ScheduleInfo>> Engine::ListSchedules() {
  return Run<std::vector<ScheduleInfo>>(
      impl_.get(), [](auto& sm, Batch& b, TimePoint) { return sm.ListSchedules(b); });
}

absl::StatusOr<TriggerResult> Engine::TriggerSchedule(std::string id) {
  return Run<TriggerResult>(impl_.get(), [id = std::move(id)](auto& sm, Batch& b, TimePoint now) {
    return sm.TriggerSchedule(b, now, id);
  });
}

}  // namespace ratchet
