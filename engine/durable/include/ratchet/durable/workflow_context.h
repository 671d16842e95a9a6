// WorkflowContext: the programming model of code-first (durable) workflows,
// as in Temporal, Restate or DBOS. A workflow is an ordinary C++ function
// run by the main job of a workflow; every time the job is leased the
// function runs again from the top and replays its journal:
// - ctx.Step("name", fn) runs fn once. Its result is journalled (under the
//   job's lease, fenced) before Step returns; on any later run Step returns
//   the journalled result without calling fn. fn may run more than once if
//   the worker dies between fn and the journal write, so external calls
//   should pass IdempotencyToken("name") to the service they call.
// - ctx.Sleep(d) / ctx.SleepUntil(t) are durable timers: the first run
//   journals the wake-up time and suspends the job (no worker is held); the
//   job is leased again at that time, also across restarts.
// - ctx.WaitForEvent(name, timeout) returns the event's payload once
//   SendEvent delivered it, or nullopt after `timeout`; waiting suspends the
//   job like a timer. The outcome (event or timeout) is fixed by the first
//   run that observes it, so replays take the same path.
// Determinism: the function must call Step, Sleep and WaitForEvent in the
// same order on every run (branch only on their results and the payload).
// Journal names: steps use their own name (no '#'); the n-th timer is
// "sleep#n", the n-th wait "wait#n:<event>" and its timeout "wait#n:timeout".
//
// Suspension is an exception (WorkflowSuspended) thrown through the
// function; do not catch it (catch specific exception types only).
//
// Thread safety: a WorkflowContext belongs to one run on one thread.
#ifndef RATCHET_BASE_WORKFLOW_CONTEXT_H_
#define RATCHET_BASE_WORKFLOW_CONTEXT_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "ratchet/base/clock.h"

namespace ratchet {

// What a run needs from the leased main job.
struct DurableJob {
  uint64_t workflow_id = 0;
  uint64_t job_id = 0;
  std::string payload;
  std::vector<std::pair<std::string, std::string>> journal;  // (name, result), in order
  std::vector<std::pair<std::string, std::string>> events;   // (name, payload)
};

// Where a run journals a step: the embedded engine or the gRPC client.
class WorkflowJournal {
 public:
  virtual ~WorkflowJournal() = default;
  // Journals (name, result) under the job's lease. Errors: as the engine's
  // RecordStep (LEASE_LOST when the lease moved on).
  virtual absl::Status Record(const std::string& name, const std::string& result) = 0;
};

// Why a run stopped without finishing: wait until `until` (or the event).
struct Suspension {
  TimePoint until;
  std::string awaiting_event;                               // "" for a timer
  std::vector<std::pair<std::string, std::string>> record;  // to journal with it
};

// Thrown by Sleep/WaitForEvent to end a run that must wait.
struct WorkflowSuspended {
  Suspension suspension;
};

class WorkflowContext {
 public:
  // `journal` and `clock` are borrowed for the run.
  WorkflowContext(const DurableJob& job, WorkflowJournal* journal, Clock* clock);

  uint64_t workflow_id() const { return job_.workflow_id; }
  const std::string& payload() const { return job_.payload; }

  // Runs fn once per workflow (see above). An error from fn is returned and
  // not journalled, so a later run tries fn again. Errors: fn's error;
  // INVALID_ARGUMENT for a name that is empty or contains '#'; the journal's
  // error (LEASE_LOST: stop, another worker holds the workflow).
  absl::StatusOr<std::string> Step(const std::string& name,
                                   const std::function<absl::StatusOr<std::string>()>& fn);
  // Durable timers (ms resolution). Throw WorkflowSuspended until due.
  void Sleep(Millis duration);
  void SleepUntil(TimePoint wake);
  // The event's payload, or nullopt once `timeout` passed without it.
  // Throws WorkflowSuspended while waiting. The event must be one the
  // workflow declared at start (else the suspension fails INVALID_ARGUMENT).
  absl::StatusOr<std::optional<std::string>> WaitForEvent(const std::string& name, Millis timeout);

  // A stable token for a step's external side effects:
  // "ratchet:wf:<workflow id>:<step name>".
  std::string IdempotencyToken(const std::string& step) const;

 private:
  const std::string* Find(const std::string& name) const;

  const DurableJob& job_;
  WorkflowJournal* journal_;
  Clock* clock_;
  std::vector<std::pair<std::string, std::string>> added_;  // journalled by this run
  int sleeps_ = 0, waits_ = 0;
};

using WorkflowFunction = std::function<absl::StatusOr<std::string>(WorkflowContext&)>;

// How one run ended.
struct WorkflowOutcome {
  enum class Kind { kCompleted, kFailed, kSuspended } kind = Kind::kCompleted;
  std::string result;     // kCompleted
  absl::Status error;     // kFailed; retryable unless INVALID_ARGUMENT or FAILED_PRECONDITION
  Suspension suspension;  // kSuspended
};

// Runs `fn` once over `job`. An exception other than WorkflowSuspended is a
// (retryable) failure with its what() as the message.
WorkflowOutcome RunWorkflow(const DurableJob& job, WorkflowJournal* journal, Clock* clock,
                            const WorkflowFunction& fn);

}  // namespace ratchet

#endif  // RATCHET_BASE_WORKFLOW_CONTEXT_H_
