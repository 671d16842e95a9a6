#include "ratchet/engine/types.h"

namespace ratchet {

const char* JobStateName(JobState state) {
  switch (state) {
    case JobState::kScheduled: return "scheduled";
    case JobState::kAvailable: return "available";
    case JobState::kRunning: return "running";
    case JobState::kCompleted: return "completed";
    case JobState::kDead: return "dead";
    case JobState::kCancelled: return "cancelled";
  }
  return "unknown";
}

bool IsTerminal(JobState state) {
  return state == JobState::kCompleted || state == JobState::kDead ||
         state == JobState::kCancelled;
}

}  // namespace ratchet
