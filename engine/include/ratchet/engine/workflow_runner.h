// Runs code-first workflows on the embedded engine: the bridge between a
// leased main job and WorkflowContext (ratchet/durable/workflow_context.h).
//
// Thread safety: RunWorkflowJob may be called from many threads at once,
// each with its own leased job.
#ifndef RATCHET_ENGINE_WORKFLOW_RUNNER_H_
#define RATCHET_ENGINE_WORKFLOW_RUNNER_H_

#include "absl/status/status.h"
#include "ratchet/durable/workflow_context.h"
#include "ratchet/engine/engine.h"

namespace ratchet {

// The DurableJob view of a leased main job (journal and events included).
DurableJob ToDurableJob(const LeasedJob& job);

// Runs `fn` over the leased main job `job` and ends the attempt: Complete
// with fn's result, Fail (retryable unless fn returned INVALID_ARGUMENT or
// FAILED_PRECONDITION), or Suspend for a timer or event wait. Steps are
// journalled through Engine::RecordStep under the job's token. `clock`
// (null: the system clock) must be the engine's clock.
// Errors: the engine's answer to the final call (LEASE_LOST if the lease
// moved on: the work is another worker's now).
absl::Status RunWorkflowJob(Engine& engine, const LeasedJob& job, const WorkflowFunction& fn,
                            Clock* clock = nullptr);

}  // namespace ratchet

#endif  // RATCHET_ENGINE_WORKFLOW_RUNNER_H_
