// Value types of workflows: DAG workflows (named steps with dependencies)
// and code-first workflows (a job running ordinary C++ code with durable
// steps, timers and events; see workflow_context.h). Plain values, owned by
// whoever holds them, safe to move between threads. Times are TimePoints (ms
// since the Unix epoch), durations std::chrono::milliseconds, sizes bytes.
// docs/workflows.md explains the model and its guarantees.
#ifndef RATCHET_ENGINE_WORKFLOW_TYPES_H_
#define RATCHET_ENGINE_WORKFLOW_TYPES_H_

#include <optional>
#include <string>
#include <vector>

#include "ratchet/engine/types.h"

namespace ratchet {

enum class WorkflowState : uint8_t {
  kRunning = 0,    // steps are pending or running
  kCompleted = 1,  // terminal: every step completed (or failed with continue_on_failure)
  kFailed = 2,     // a step was dead-lettered; redriving it can resume the workflow
  kCancelled = 3,  // terminal: cancelled
};
const char* WorkflowStateName(WorkflowState state);

enum class WorkflowKind : uint8_t { kDag = 0, kCode = 1 };

// Job options of one step; unset fields come from the step's queue.
struct StepOptions {
  std::string queue;   // "" means the workflow's queue
  int priority = 100;  // 0..1000; lower is leased first
  std::optional<int> max_attempts;
  std::optional<RetryPolicy> retry_policy;
  std::optional<Millis> visibility_timeout;
};

struct StepSpec {
  std::string name;      // unique in the workflow: 1..128 bytes of [A-Za-z0-9_.:-]
  std::string job_type;  // as EnqueueRequest::job_type
  std::string payload;   // at most EngineOptions::max_payload_bytes
  StepOptions options;
  std::vector<std::string> depends_on;  // names of other steps; no cycles
  // When its job is dead-lettered, the step counts as resolved: the steps
  // that depend on it are released (their inputs show it as kFailed) and the
  // workflow does not fail because of it.
  bool continue_on_failure = false;
};

// A DAG workflow. Steps with no dependencies are released at submission.
struct WorkflowSpec {
  std::string name;   // a label for operators: 1..128 bytes of [A-Za-z0-9_.:-]
  std::string queue;  // default queue of its steps; its retention applies
  // Optional, 1..256 printable ASCII bytes, engine-wide. Resubmitting with
  // the same key and the same spec returns the existing workflow; with a
  // different spec, ALREADY_EXISTS/IDEMPOTENCY_CONFLICT. Kept as long as
  // the workflow is.
  std::string idempotency_key;
  std::vector<StepSpec> steps;  // 1..EngineOptions::max_workflow_steps
  // Optional W3C traceparent (as EnqueueRequest::traceparent), stored with
  // the workflow and given to every step's job when it is released.
  std::string traceparent;
};

// A code-first workflow: one main job of `job_type` runs the workflow code,
// which records steps, sleeps and waits for events through a
// WorkflowContext.
struct StartWorkflowRequest {
  std::string name;  // the workflow's label; as WorkflowSpec::name
  std::string queue;
  std::string job_type;
  std::string payload;
  std::string idempotency_key;  // as WorkflowSpec::idempotency_key
  // The event names SendEvent accepts for this workflow (at most 100).
  std::vector<std::string> events;
  StepOptions options;  // job options of the main job (queue is ignored)
  // Optional W3C traceparent of the main job (EnqueueRequest::traceparent).
  std::string traceparent;
};

struct WorkflowSubmitResult {
  WorkflowId id = 0;
  bool duplicate = false;  // the idempotency key matched an existing workflow
};

// One step as Get shows it. For a code-first workflow, journal entries are
// shown as completed steps.
struct StepInfo {
  std::string name;
  std::string job_type;
  std::string queue;  // the queue its job runs in (a code-first step: the workflow's)
  StepState state = StepState::kPending;
  // The step's job, its live state and attempts (0 / kScheduled before
  // release, or once retention has removed the job).
  JobId job_id = 0;
  std::optional<JobState> job_state;
  int attempts = 0;
  std::string result;
  // The result was left out because it did not fit the answer's bytes
  // (GetWorkflow's max_bytes); a DAG step's result is also its job's: read
  // it with Get(job_id).
  bool result_omitted = false;
  std::vector<std::string> depends_on;
  bool continue_on_failure = false;
};

struct Workflow {
  WorkflowId id = 0;
  std::string name;
  WorkflowKind kind = WorkflowKind::kDag;
  WorkflowState state = WorkflowState::kRunning;
  std::string queue;
  std::string idempotency_key;
  TimePoint created_at;
  TimePoint finished_at;            // meaningful when not running
  std::string error;                // why it failed
  JobId main_job_id = 0;            // code-first
  std::string result;               // code-first: the main job's result
  std::vector<std::string> events;  // code-first: declared event names
  std::vector<StepInfo> steps;
};

struct WorkflowListRequest {
  std::optional<WorkflowState> state;  // nullopt: every state
  int limit = 100;                     // 1..1000
  std::string cursor;                  // "" or a previous next_cursor
  // Bound on the page's bytes (results, errors and other strings, plus a
  // fixed overhead per workflow); 0 means EngineOptions::max_lease_bytes.
  // The page ends before the workflow that would pass it, and holds at
  // least one if any remain.
  size_t max_bytes = 0;
};

// Workflows by id, ascending; steps are not filled in (use GetWorkflow).
struct WorkflowListResult {
  std::vector<Workflow> workflows;
  std::string next_cursor;
};

struct SendEventRequest {
  WorkflowId workflow_id = 0;
  std::string name;     // one of the workflow's declared events
  std::string payload;  // at most EngineOptions::max_payload_bytes
};

// Records one code-first step's result; fenced by the main job's lease.
struct RecordStepRequest {
  JobId job_id = 0;
  FencingToken token = 0;
  JournalEntry entry;  // `at` is set by the engine
};

// Ends a code-first workflow's attempt without failure: the main job waits,
// holding no worker, until `until` or (with awaiting_event) until that event
// arrives, whichever is first. The attempt does not count toward
// max_attempts. `record` entries are journalled in the same write.
struct SuspendRequest {
  JobId job_id = 0;
  FencingToken token = 0;
  TimePoint until;
  std::string awaiting_event;  // "" for a timer
  std::vector<JournalEntry> record;
};

}  // namespace ratchet

#endif  // RATCHET_ENGINE_WORKFLOW_TYPES_H_
