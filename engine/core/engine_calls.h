// The one way a public Engine call becomes a sequencer operation: `fn`
// (Machines&, Batch&, TimePoint now) runs on the sequencer thread, and its
// result is delivered after the group's commit. Every Engine method, async
// or blocking, goes through Start / Call, so each is one atomic write.
#ifndef RATCHET_ENGINE_CORE_ENGINE_CALLS_H_
#define RATCHET_ENGINE_CORE_ENGINE_CALLS_H_

#include <utility>

#include "await.h"
#include "sequencer.h"

namespace ratchet::internal {

// Starts `fn` -> absl::StatusOr<T>; `cb` gets the result once durable.
template <typename T, typename Fn>
void Start(Engine::Impl& impl, Reads reads, Fn fn, Callback<T> cb) {
  impl.Submit<T>(
      reads,
      // impl.machines() is read when the operation runs: a rebuild after a
      // failed operation replaces the Machines.
      [impl = &impl, fn = std::move(fn)](storage::Batch& b, TimePoint now) mutable {
        return fn(impl->machines(), b, now);
      },
      std::move(cb));
}

// Starts `fn` -> absl::Status; `cb` gets the status once durable.
template <typename Fn>
void StartStatus(Engine::Impl& impl, Reads reads, Fn fn, StatusCallback cb) {
  Start<Done>(
      impl, reads,
      [fn = std::move(fn)](Machines& m, storage::Batch& b,
                           TimePoint now) mutable -> absl::StatusOr<Done> {
        RATCHET_RETURN_IF_ERROR(fn(m, b, now));
        return Done{};
      },
      Callback<Done>([cb = std::move(cb)](absl::StatusOr<Done> r) { cb(r.status()); }));
}

// The blocking forms: start, then wait for the durable result.
template <typename T, typename Fn>
absl::StatusOr<T> Call(Engine::Impl& impl, Reads reads, Fn fn) {
  return Await<T>([&](Callback<T> cb) { Start<T>(impl, reads, std::move(fn), std::move(cb)); });
}

template <typename Fn>
absl::Status CallStatus(Engine::Impl& impl, Reads reads, Fn fn) {
  return Await<Done>([&](Callback<Done> cb) {
           StartStatus(impl, reads, std::move(fn), [cb](absl::Status s) {
             if (s.ok()) {
               cb(Done{});
             } else {
               cb(s);
             }
           });
         })
      .status();
}

}  // namespace ratchet::internal

#endif  // RATCHET_ENGINE_CORE_ENGINE_CALLS_H_
