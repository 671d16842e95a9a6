#include "ratchet/engine/types.h"

#include <iterator>

#include "ratchet/engine/explain.h"
#include "ratchet/engine/schedule_types.h"
#include "ratchet/engine/workflow_types.h"

namespace ratchet {

const char* JobStateName(JobState state) {
  switch (state) {
    case JobState::kScheduled:
      return "scheduled";
    case JobState::kAvailable:
      return "available";
    case JobState::kRunning:
      return "running";
    case JobState::kCompleted:
      return "completed";
    case JobState::kDead:
      return "dead";
    case JobState::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

const char* WaitReasonName(WaitReason reason) {
  static constexpr const char* kNames[] = {"runnable",
                                           "scheduled",
                                           "backoff",
                                           "queue_paused",
                                           "queue_concurrency",
                                           "key_concurrency",
                                           "queue_rate_limited",
                                           "key_rate_limited",
                                           "awaiting_event",
                                           "no_recent_lease",
                                           "running",
                                           "completed",
                                           "dead",
                                           "cancelled",
                                           "expired"};
  const auto i = static_cast<size_t>(reason);
  return i < std::size(kNames) ? kNames[i] : "unknown";
}

bool IsTerminal(JobState state) {
  return state == JobState::kCompleted || state == JobState::kDead || state == JobState::kCancelled;
}

const char* StepStateName(StepState state) {
  switch (state) {
    case StepState::kPending:
      return "pending";
    case StepState::kReleased:
      return "released";
    case StepState::kCompleted:
      return "completed";
    case StepState::kFailed:
      return "failed";
    case StepState::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

const char* WorkflowStateName(WorkflowState state) {
  switch (state) {
    case WorkflowState::kRunning:
      return "running";
    case WorkflowState::kCompleted:
      return "completed";
    case WorkflowState::kFailed:
      return "failed";
    case WorkflowState::kCancelled:
      return "cancelled";
  }
  return "unknown";
}

const char* MissedRunPolicyName(MissedRunPolicy p) {
  switch (p) {
    case MissedRunPolicy::kSkip:
      return "skip";
    case MissedRunPolicy::kRunOnce:
      return "run_once";
    case MissedRunPolicy::kRunAll:
      return "run_all";
  }
  return "unknown";
}

const char* OverlapPolicyName(OverlapPolicy p) {
  switch (p) {
    case OverlapPolicy::kAllow:
      return "allow";
    case OverlapPolicy::kSkip:
      return "skip";
    case OverlapPolicy::kBufferOne:
      return "buffer_one";
  }
  return "unknown";
}

}  // namespace ratchet
