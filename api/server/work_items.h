// The outcome and heartbeat items of HeartbeatBatch and of a WorkStream
// message: converted at the edge (an item that does not convert is
// answered on its own with INVALID_ARGUMENT naming its field), applied in
// engine batches, and answered one result per item, in request order.
//
// Thread safety: an object is used by one thread at a time; ApplyWorkItems
// is safe from any thread.
#ifndef RATCHET_API_SERVER_WORK_ITEMS_H_
#define RATCHET_API_SERVER_WORK_ITEMS_H_

#include <functional>
#include <memory>
#include <vector>

#include "absl/status/statusor.h"
#include "auth/gate.h"
#include "ratchet/engine/engine.h"
#include "ratchet/v1/worker_service.pb.h"

namespace ratchet::server {

template <typename T>
using Repeated = google::protobuf::RepeatedPtrField<T>;

class HeartbeatItems {
 public:
  // `guard` (null: unrestricted) goes on every valid item.
  HeartbeatItems(const Repeated<v1::HeartbeatRequest>& items,
                 const std::shared_ptr<const QueueGuard>& guard);

  size_t valid_count() const { return valid_.size(); }
  // The valid items, for the engine (once).
  std::vector<HeartbeatRequest> TakeValid() { return std::move(valid_); }
  // One item per request item: the engine's result for a valid one (from
  // `results`, the answers to TakeValid's items in order) or its edge error.
  void Answer(const std::vector<absl::StatusOr<HeartbeatResult>>& results,
              Repeated<v1::HeartbeatBatchItem>* out) const;

 private:
  std::vector<absl::Status> edge_;  // per request item; OK: sent to the engine
  std::vector<HeartbeatRequest> valid_;
};

// Applies a WorkStream message's completions, failures and heartbeats
// (each at most `max_items`, already checked) with `access`'s guard: one
// engine batch for each kind that has items, submitted in that order. Calls
// `done` once, on an engine thread, with the acknowledgement (seq and one
// result per item), or with the error of an engine batch that failed whole
// (UNAVAILABLE: storage failed or the engine closed; the outcomes are
// unknown). Logs as the unary calls do.
void ApplyWorkItems(Engine& engine, const auth::CallAccess& access,
                    const v1::WorkStreamRequest& msg,
                    std::function<void(absl::StatusOr<v1::WorkStreamAck>)> done);

}  // namespace ratchet::server

#endif  // RATCHET_API_SERVER_WORK_ITEMS_H_
