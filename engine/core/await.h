// The blocking forms of the Engine API are built on the asynchronous ones:
// Await starts an operation with a callback and waits for that callback.
#ifndef RATCHET_ENGINE_CORE_AWAIT_H_
#define RATCHET_ENGINE_CORE_AWAIT_H_

#include <future>
#include <utility>

#include "absl/status/statusor.h"

namespace ratchet::internal {

// The result type of operations that answer only a status.
struct Done {};

// Calls start(cb) and waits until cb has been called; returns its result.
template <typename T, typename Start>
absl::StatusOr<T> Await(Start start) {
  std::promise<absl::StatusOr<T>> promise;
  auto future = promise.get_future();
  start([&promise](absl::StatusOr<T> r) { promise.set_value(std::move(r)); });
  return future.get();
}

template <typename T, typename Start>
absl::Status AwaitStatus(Start start) {
  return Await<T>(start).status();
}

}  // namespace ratchet::internal

#endif  // RATCHET_ENGINE_CORE_AWAIT_H_
