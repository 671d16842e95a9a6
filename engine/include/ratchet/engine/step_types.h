// The workflow context a leased job carries (its workflow, its inputs, a
// code-first workflow's journal and events), kept apart from the job types
// so types.h holds jobs only. Plain values, safe to move between threads.
// workflow_types.h has the workflow API itself.
#ifndef RATCHET_ENGINE_STEP_TYPES_H_
#define RATCHET_ENGINE_STEP_TYPES_H_

#include <cstdint>
#include <optional>
#include <string>

#include "ratchet/base/clock.h"
#include "ratchet/durable/journal_kind.h"

namespace ratchet {

// Workflow ids are assigned by the engine like job ids: from 1, increasing,
// never reused.
using WorkflowId = uint64_t;

// The state of one step of a workflow (see workflow_types.h).
enum class StepState : uint8_t {
  kPending = 0,    // waiting for the steps it depends on
  kReleased = 1,   // its job exists; the job's own state says where it is
  kCompleted = 2,  // its job completed; the result is stored with the step
  kFailed = 3,     // its job was dead-lettered
  kCancelled = 4,  // cancelled with its workflow, or before it started
};
const char* StepStateName(StepState state);

// The outcome of a step that a leased step depends on.
struct StepOutput {
  std::string step;                         // the step's name
  StepState state = StepState::kCompleted;  // kCompleted, or kFailed for a
                                            // continue_on_failure step
  std::string result;
};

// One recorded entry of a code-first workflow's journal: a step's result, a
// timer or a wait (see workflow_context.h for the names it uses).
struct JournalEntry {
  std::string name;
  std::string result;
  TimePoint at;  // when it was recorded (set by the engine)
  // kUnknown: an entry written before kinds existed (as recorded: an old
  // worker; it turns its workflow's replay into the unchecked, by-name one).
  JournalKind kind = JournalKind::kUnknown;
  // Leased entries: a timer (kSleep, kWait) whose time, in `result`, had
  // passed on the engine's clock when the job was leased.
  bool due = false;
  // Recorded timers only: the engine journals its now + delay (ms since the
  // Unix epoch, decimal) as `result`, replacing what was sent; 0 to
  // EngineOptions::max_schedule_ahead.
  std::optional<Millis> delay;
};

struct WorkflowEvent {
  std::string name;
  std::string payload;
};

}  // namespace ratchet

#endif  // RATCHET_ENGINE_STEP_TYPES_H_
