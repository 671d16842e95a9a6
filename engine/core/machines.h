// Machines: the engine's domains wired together, the one place that knows
// all of them. The job machine (engine/jobs) knows nothing of workflows or
// schedules; the workflow and schedule machines follow their jobs as
// JobObservers registered here. All of them run on the sequencer thread and
// write into the same group Batch, so every operation stays one atomic write.
//
// Thread safety: sequencer thread only (construction and Recover excepted,
// which run before the sequencer starts).
#ifndef RATCHET_ENGINE_CORE_MACHINES_H_
#define RATCHET_ENGINE_CORE_MACHINES_H_

#include <optional>

#include "absl/status/statusor.h"
#include "code_workflows.h"
#include "dead_letters.h"
#include "job_machine.h"
#include "job_store.h"
#include "queue_admin.h"
#include "ratchet/base/random.h"
#include "ratchet/engine/engine_options.h"
#include "retention.h"
#include "schedule_machine.h"
#include "workflow_machine.h"

namespace ratchet::internal {

struct Machines {
  // `store`, `options`, `random` and `events` (null: none) are borrowed and
  // must outlive this object.
  Machines(storage::Store* store, const EngineOptions& options, Random* random,
           JobEvents* events = nullptr);
  Machines(const Machines&) = delete;
  Machines& operator=(const Machines&) = delete;

  // Rebuilds every domain's in-memory state from the store. Call once, first.
  absl::Status Recover();
  // Writes the id and token high-water marks that moved; once per group.
  void FinishBatch(storage::Batch& batch);
  // The earliest lease deadline or schedule tick, if any (ms since epoch).
  std::optional<int64_t> NextTimer() const;

  JobStore store;
  JobMachine jobs;
  QueueAdmin queues;
  DeadLetters dead_letters;
  JobRetention retention;
  WorkflowMachine workflows;
  CodeWorkflows code_workflows;
  ScheduleMachine schedules;
};

}  // namespace ratchet::internal

#endif  // RATCHET_ENGINE_CORE_MACHINES_H_
