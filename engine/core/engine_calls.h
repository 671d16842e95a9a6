// The one way a public Engine call becomes a sequencer operation: `fn`
// (Machines&, Batch&, TimePoint now) runs on the sequencer thread, and its
// result is delivered after the group's commit. Every Engine method, async
// or blocking, goes through Start / Call, so each is one atomic write.
#ifndef RATCHET_ENGINE_CORE_ENGINE_CALLS_H_
#define RATCHET_ENGINE_CORE_ENGINE_CALLS_H_

#include <memory>
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

// Starts a call that runs as a series of operations (slices), each one
// atomic write: `slice` (Machines&, Batch&, TimePoint now) -> StatusOr<bool
// done> runs as one operation; once that slice is durable and not done,
// the next is queued behind whatever was submitted meanwhile, so other
// operations run in between. After the last slice, `cb` gets `finish()`.
// A slice that fails (rolled back, as any operation) or a commit that
// fails ends the call with that error; earlier slices stay written.
// `slice` runs on the sequencer, `finish` on the callback thread, one
// after the other, so they may share state without a lock.
template <typename T, typename Slice, typename Finish>
void StartSliced(Engine::Impl& impl, Reads reads, Slice slice, Finish finish, Callback<T> cb) {
  struct Call {
    Slice slice;
    Finish finish;
    Callback<T> cb;
  };
  auto call = std::make_shared<Call>(Call{std::move(slice), std::move(finish), std::move(cb)});
  // Queues one slice; its callback queues the next.
  struct Next {
    static void Run(Engine::Impl& impl, Reads reads, std::shared_ptr<Call> call) {
      Start<bool>(
          impl, reads,
          [call](Machines& m, storage::Batch& b, TimePoint now) { return call->slice(m, b, now); },
          Callback<bool>([&impl, reads, call](absl::StatusOr<bool> done) {
            if (!done.ok()) {
              call->cb(done.status());
            } else if (*done) {
              call->cb(call->finish());
            } else {
              Run(impl, reads, call);
            }
          }));
    }
  };
  Next::Run(impl, reads, std::move(call));
}

// StartSliced for a call whose progress is a `Run` (default-constructed,
// shared by its slices): `slice` (Machines&, Batch&, TimePoint now, Run&)
// -> StatusOr<bool done>; after the last slice `cb` gets `finish(run)`.
// Bulk redrive, purge and cancel run this way.
template <typename T, typename Run, typename Slice, typename Finish>
void StartSlicedRun(Engine::Impl& impl, Reads reads, Slice slice, Finish finish, Callback<T> cb) {
  auto run = std::make_shared<Run>();
  StartSliced<T>(
      impl, reads,
      [slice = std::move(slice), run](Machines& m, storage::Batch& b, TimePoint now) {
        return slice(m, b, now, *run);
      },
      [finish = std::move(finish), run] { return finish(*run); }, std::move(cb));
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
