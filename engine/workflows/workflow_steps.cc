// WorkflowMachine: how a workflow follows its jobs. Every change of a step's
// job (completion, dead-lettering, cancellation, redrive) updates the step,
// releases the steps that now have all their dependencies, and moves the
// workflow's state, in the same batch as the job's own change.
#include "absl/strings/str_cat.h"
#include "ratchet/base/invariant.h"
#include "ratchet/base/saturating.h"
#include "ratchet/base/status.h"
#include "spdlog/spdlog.h"
#include "workflow_machine.h"
#include "workflow_store.h"

namespace ratchet::internal {

using storage::Cf;

void WorkflowMachine::IndexWorkflow(WorkflowId id, std::optional<WorkflowState> from,
                                    WorkflowState to) {
  if (from) by_state_[static_cast<int>(*from)].erase(id);
  by_state_[static_cast<int>(to)].insert(id);
}

absl::Status WorkflowMachine::ReleaseStep(storage::Batch& batch, TimePoint now,
                                          const WorkflowRecord& wf, int index, StepRecord& step) {
  JobOrigin origin;
  origin.workflow_id = wf.id();
  origin.step_index = index;
  origin.step_name = step.name();
  for (int d : step.depends_on()) {
    RATCHET_ASSIGN_OR_RETURN(StepRecord dep, LoadStep(batch, wf.id(), d));
    StepOutputRecord in;
    in.set_step(dep.name());
    in.set_state(dep.state());
    in.set_result(dep.result());
    origin.inputs.push_back(std::move(in));
  }
  EnqueueRequest req;
  req.queue = step.queue();
  req.job_type = step.job_type();
  req.payload = step.payload();
  req.priority = step.priority();
  req.traceparent = wf.traceparent();
  if (step.max_attempts() > 0) req.max_attempts = step.max_attempts();
  if (step.has_retry()) req.retry_policy = FromRecord(step.retry());
  if (step.visibility_timeout_ms() > 0)
    req.visibility_timeout = Millis(step.visibility_timeout_ms());
  step.set_job_id(jobs_.Insert(batch, now, req, "", &origin));
  SetState(step, StepState::kReleased);
  return absl::OkStatus();
}

absl::Status WorkflowMachine::ResolveDependents(storage::Batch& batch, TimePoint now,
                                                const WorkflowRecord& wf, const StepRecord& step) {
  for (int d : step.dependents()) {
    RATCHET_ASSIGN_OR_RETURN(StepRecord child, LoadStep(batch, wf.id(), d));
    child.set_remaining(child.remaining() > 0 ? child.remaining() - 1 : 0);
    if (child.remaining() == 0 && StateOf(child) == StepState::kPending &&
        StateOf(wf) == WorkflowState::kRunning) {
      RATCHET_RETURN_IF_ERROR(ReleaseStep(batch, now, wf, d, child));
    }
    SaveStep(batch, wf.id(), d, child);
  }
  return absl::OkStatus();
}

void WorkflowMachine::EndWorkflow(storage::Batch& batch, TimePoint now, WorkflowRecord& wf,
                                  WorkflowState state) {
  auto from = StateOf(wf);
  SetState(wf, state);
  wf.set_finished_at_ms(ToUnixMs(now));
  const QueueSettings settings = store_.SettingsOf(wf.queue());
  Millis keep =
      state == WorkflowState::kFailed ? settings.dead_retention : settings.completed_retention;
  if (wf.expires_at_ms() != 0) {
    batch.Delete(Cf::kWorkflows, WorkflowExpiryKey(wf.expires_at_ms(), wf.id()));
  }
  // The queue's retention is read back from disk: the sum saturates.
  wf.set_expires_at_ms(AddSaturating(ToUnixMs(now), keep.count()));
  batch.Put(Cf::kWorkflows, WorkflowExpiryKey(wf.expires_at_ms(), wf.id()), "");
  IndexWorkflow(wf.id(), from, state);
  spdlog::info("event=workflow_finished workflow_id={} name={} state={}", wf.id(), wf.name(),
               WorkflowStateName(state));
}

absl::Status WorkflowMachine::FailWorkflow(storage::Batch& batch, TimePoint now, WorkflowRecord& wf,
                                           const std::string& error) {
  wf.set_error(error);
  EndWorkflow(batch, now, wf, WorkflowState::kFailed);
  // Steps not yet started are cancelled; running ones finish on their own
  // (no cancel request: if the workflow resumes, their work counts).
  for (int i = 0; i < wf.step_count(); ++i) {
    RATCHET_ASSIGN_OR_RETURN(StepRecord step, LoadStep(batch, wf.id(), i));
    auto state = StateOf(step);
    bool cancel = state == StepState::kPending;
    if (state == StepState::kReleased) {
      RATCHET_ASSIGN_OR_RETURN(
          cancel, jobs_.CancelForOwner(batch, now, step.job_id(), JobMachine::IfRunning::kLeave));
    }
    if (!cancel) continue;
    SetState(step, StepState::kCancelled);
    step.set_cancelled_by_failure(true);
    step.set_finished_at_ms(ToUnixMs(now));
    SaveStep(batch, wf.id(), i, step);
  }
  return absl::OkStatus();
}

absl::Status WorkflowMachine::ResumeWorkflow(storage::Batch& batch, TimePoint now,
                                             WorkflowRecord& wf) {
  batch.Delete(Cf::kWorkflows, WorkflowExpiryKey(wf.expires_at_ms(), wf.id()));
  wf.set_expires_at_ms(0);
  wf.set_finished_at_ms(0);
  wf.set_error("");
  IndexWorkflow(wf.id(), StateOf(wf), WorkflowState::kRunning);
  SetState(wf, WorkflowState::kRunning);
  spdlog::info("event=workflow_resumed workflow_id={} name={}", wf.id(), wf.name());
  if (KindOf(wf) != WorkflowKind::kDag) return absl::OkStatus();
  for (int i = 0; i < wf.step_count(); ++i) {
    RATCHET_ASSIGN_OR_RETURN(StepRecord step, LoadStep(batch, wf.id(), i));
    auto state = StateOf(step);
    if (state == StepState::kCancelled && step.cancelled_by_failure()) {
      step.set_cancelled_by_failure(false);
      step.set_finished_at_ms(0);
      SetState(step, StepState::kPending);
      state = StepState::kPending;
    } else if (state != StepState::kPending) {
      continue;
    }
    if (step.remaining() == 0) RATCHET_RETURN_IF_ERROR(ReleaseStep(batch, now, wf, i, step));
    SaveStep(batch, wf.id(), i, step);
  }
  return absl::OkStatus();
}

absl::Status WorkflowMachine::OnStepFinished(storage::Batch& batch, TimePoint now,
                                             const JobRecord& r) {
  RATCHET_ASSIGN_OR_RETURN(auto found, FindWorkflow(batch, r.workflow_id()));
  if (!found) return absl::OkStatus();  // removed by retention
  WorkflowRecord& wf = *found;
  const int index = r.step_index();
  RATCHET_ASSIGN_OR_RETURN(StepRecord step, LoadStep(batch, wf.id(), index));
  if (step.job_id() != r.id()) return absl::OkStatus();  // a job the step no longer follows
  auto job_state = StateOf(r);
  auto wf_state = StateOf(wf);
  step.set_finished_at_ms(ToUnixMs(now));
  bool resolved = false;
  if (job_state == JobState::kCompleted) {
    SetState(step, StepState::kCompleted);
    step.set_result(r.result());
    resolved = true;
  } else if (job_state == JobState::kDead) {
    SetState(step, StepState::kFailed);
    resolved = step.continue_on_failure();
    if (!resolved)
      wf.set_blocking_failures(IncrementSaturating(std::max(0, wf.blocking_failures())));
  } else {  // cancelled
    SetState(step, StepState::kCancelled);
    if (wf_state == WorkflowState::kRunning || wf_state == WorkflowState::kFailed) {
      // Cancelled on its own (not with its workflow): the workflow cannot
      // complete, and a cancelled job cannot be redriven. A step left
      // running when its workflow failed counts too, or a redrive of the
      // failed step would resume the workflow without this one for good.
      wf.set_blocking_failures(IncrementSaturating(std::max(0, wf.blocking_failures())));
    }
  }
  bool newly_resolved = resolved && !step.counted();
  if (newly_resolved) {
    step.set_counted(true);
    wf.set_resolved(IncrementSaturating(std::max(0, wf.resolved())));
    RATCHET_INVARIANT(wf.resolved() <= wf.step_count(), "each step resolves a workflow once");
  }
  SaveStep(batch, wf.id(), index, step);
  if (newly_resolved) RATCHET_RETURN_IF_ERROR(ResolveDependents(batch, now, wf, step));
  if (wf_state == WorkflowState::kRunning && !resolved) {
    RATCHET_RETURN_IF_ERROR(FailWorkflow(
        batch, now, wf,
        absl::StrCat("step '", step.name(), "' (job ", r.id(), ") ",
                     job_state == JobState::kDead ? "was dead-lettered" : "was cancelled")));
  } else if (wf_state == WorkflowState::kFailed && job_state == JobState::kCompleted &&
             wf.blocking_failures() == 0) {
    // A redriven step completed and nothing else blocks: carry on.
    RATCHET_RETURN_IF_ERROR(ResumeWorkflow(batch, now, wf));
  }
  if (StateOf(wf) == WorkflowState::kRunning && wf.resolved() == wf.step_count()) {
    EndWorkflow(batch, now, wf, WorkflowState::kCompleted);
  }
  SaveWorkflow(batch, wf);
  return absl::OkStatus();
}

absl::Status WorkflowMachine::OnMainJobFinished(storage::Batch& batch, TimePoint now,
                                                const JobRecord& r) {
  RATCHET_ASSIGN_OR_RETURN(auto found, FindWorkflow(batch, r.workflow_id()));
  if (!found || found->main_job_id() != r.id()) return absl::OkStatus();
  WorkflowRecord& wf = *found;
  if (StateOf(wf) != WorkflowState::kRunning) return absl::OkStatus();
  switch (StateOf(r)) {
    case JobState::kCompleted:
      wf.set_result(r.result());
      EndWorkflow(batch, now, wf, WorkflowState::kCompleted);
      break;
    case JobState::kDead:
      wf.set_error(r.errors_size() > 0 ? r.errors(r.errors_size() - 1).message()
                                       : "the workflow job was dead-lettered");
      EndWorkflow(batch, now, wf, WorkflowState::kFailed);
      break;
    default:
      EndWorkflow(batch, now, wf, WorkflowState::kCancelled);
      break;
  }
  SaveWorkflow(batch, wf);
  return absl::OkStatus();
}

absl::Status WorkflowMachine::OnJobFinished(storage::Batch& batch, TimePoint now,
                                            const JobRecord& r) {
  if (r.workflow_id() == 0) return absl::OkStatus();
  return r.step_index() < 0 ? OnMainJobFinished(batch, now, r) : OnStepFinished(batch, now, r);
}

absl::Status WorkflowMachine::OnJobRedriven(storage::Batch& batch, TimePoint now,
                                            const JobRecord& r) {
  if (r.workflow_id() == 0) return absl::OkStatus();
  RATCHET_ASSIGN_OR_RETURN(auto found, FindWorkflow(batch, r.workflow_id()));
  if (!found) return absl::OkStatus();
  WorkflowRecord& wf = *found;
  if (r.step_index() < 0) {
    // The main job runs the whole workflow: redriving it resumes it.
    if (wf.main_job_id() == r.id() && StateOf(wf) == WorkflowState::kFailed) {
      RATCHET_RETURN_IF_ERROR(ResumeWorkflow(batch, now, wf));
      wf.clear_suspends();  // a redriven job may restart at attempt 1: count afresh
      SaveWorkflow(batch, wf);
    }
    return absl::OkStatus();
  }
  RATCHET_ASSIGN_OR_RETURN(StepRecord step, LoadStep(batch, wf.id(), r.step_index()));
  if (step.job_id() != r.id() || StateOf(step) != StepState::kFailed) {
    return absl::OkStatus();
  }
  SetState(step, StepState::kReleased);
  step.set_finished_at_ms(0);
  SaveStep(batch, wf.id(), r.step_index(), step);
  if (!step.continue_on_failure()) {
    RATCHET_INVARIANT(wf.blocking_failures() > 0, "a failed blocking step was counted");
    wf.set_blocking_failures(wf.blocking_failures() > 0 ? wf.blocking_failures() - 1 : 0);
    SaveWorkflow(batch, wf);
  }
  return absl::OkStatus();
}

absl::Status WorkflowMachine::CheckCancel(storage::Batch& batch, const JobRecord& r,
                                          const QueueGuard& guard) {
  if (r.workflow_id() == 0) return absl::OkStatus();
  RATCHET_ASSIGN_OR_RETURN(auto wf, FindWorkflow(batch, r.workflow_id()));
  if (!wf) return absl::OkStatus();
  RATCHET_RETURN_IF_ERROR(guard.Check(wf->queue()));
  if (KindOf(*wf) != WorkflowKind::kDag) return absl::OkStatus();
  for (int i = 0; i < wf->step_count(); ++i) {
    RATCHET_ASSIGN_OR_RETURN(StepRecord step, LoadStep(batch, wf->id(), i));
    RATCHET_RETURN_IF_ERROR(guard.Check(step.queue()));
  }
  return absl::OkStatus();
}

absl::StatusOr<WorkflowState> WorkflowMachine::CancelWorkflow(storage::Batch& batch, TimePoint now,
                                                              WorkflowId id) {
  RATCHET_ASSIGN_OR_RETURN(WorkflowRecord wf, LoadWorkflow(batch, id));
  auto state = StateOf(wf);
  if (state == WorkflowState::kCancelled) return state;
  if (state == WorkflowState::kCompleted) {
    return InvalidState(absl::StrCat("cancel: workflow ", id,
                                     " is completed; only running or failed workflows can be "
                                     "cancelled"));
  }
  // Read everything first, so a read error leaves nothing half-written.
  std::vector<StepRecord> steps;
  if (KindOf(wf) == WorkflowKind::kDag) {
    for (int i = 0; i < wf.step_count(); ++i) {
      RATCHET_ASSIGN_OR_RETURN(StepRecord step, LoadStep(batch, id, i));
      steps.push_back(std::move(step));
    }
  }
  // The jobs CancelForOwner will change are loaded once here so that a read
  // error comes before any write. CancelForOwner reads them again: one
  // extra read per live step, accepted on this rare path.
  if (jobs_.IsLive(wf.main_job_id())) {
    RATCHET_RETURN_IF_ERROR(store_.Load(batch, wf.main_job_id()).status());
  }
  for (const StepRecord& step : steps) {
    if (StateOf(step) == StepState::kReleased && jobs_.IsLive(step.job_id())) {
      RATCHET_RETURN_IF_ERROR(store_.Load(batch, step.job_id()).status());
    }
  }
  EndWorkflow(batch, now, wf, WorkflowState::kCancelled);
  if (wf.main_job_id() != 0) {
    RATCHET_RETURN_IF_ERROR(
        jobs_.CancelForOwner(batch, now, wf.main_job_id(), JobMachine::IfRunning::kRequestCancel)
            .status());
  }
  for (int i = 0; i < static_cast<int>(steps.size()); ++i) {
    StepRecord& step = steps[i];
    auto s = StateOf(step);
    bool cancel =
        s == StepState::kPending || (s == StepState::kCancelled && step.cancelled_by_failure());
    if (s == StepState::kReleased) {
      RATCHET_ASSIGN_OR_RETURN(cancel, jobs_.CancelForOwner(batch, now, step.job_id(),
                                                            JobMachine::IfRunning::kRequestCancel));
    }
    if (!cancel) continue;
    SetState(step, StepState::kCancelled);
    step.set_cancelled_by_failure(false);
    step.set_finished_at_ms(ToUnixMs(now));
    SaveStep(batch, id, i, step);
  }
  SaveWorkflow(batch, wf);
  return WorkflowState::kCancelled;
}

}  // namespace ratchet::internal
