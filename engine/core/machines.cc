#include "machines.h"

#include <algorithm>

#include "ratchet/base/status.h"

namespace ratchet::internal {

Machines::Machines(storage::Store* store_in, const EngineOptions& options, Random* random,
                   JobEvents* events)
    : store(store_in, options),
      jobs(&store, random),
      queues(&store),
      dead_letters(&store),
      retention(&store),
      workflows(&store, &jobs),
      code_workflows(&store, &jobs),
      schedules(&store, &jobs, random) {
  if (events) store.SetEvents(events);
  store.AddObserver(&workflows);
  store.AddObserver(&code_workflows);
  store.AddObserver(&schedules);
}

absl::Status Machines::Recover() {
  RATCHET_RETURN_IF_ERROR(store.Recover());
  RATCHET_RETURN_IF_ERROR(workflows.Recover());
  return schedules.Recover();
}

void Machines::FinishBatch(storage::Batch& batch) {
  store.FinishBatch(batch);
  workflows.FinishBatch(batch);
}

std::optional<int64_t> Machines::NextTimer() const {
  std::optional<int64_t> deadline = store.indexes().NextDeadline();
  if (auto expiry = store.indexes().NextExpiry()) {
    deadline = deadline ? std::min(*deadline, *expiry) : *expiry;  // expiry maintenance
  }
  std::optional<int64_t> due = schedules.NextDue();
  if (deadline && due) return std::min(*deadline, *due);
  return deadline ? deadline : due;
}

}  // namespace ratchet::internal
