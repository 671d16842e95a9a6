// Engine::Impl: the sequencer. One thread owns the StateMachine and its
// indexes. Callers push operations into an inbox; the sequencer takes up to
// max_group_ops of them, applies each in order to one WriteBatch, commits it
// with one fsync (group commit), and only then runs their callbacks. An
// operation is never split across batches. No lock is held during the
// commit: callers keep filling the inbox while the fsync runs, which is what
// makes the next group large under load.
#ifndef RATCHET_ENGINE_ENGINE_IMPL_H_
#define RATCHET_ENGINE_ENGINE_IMPL_H_

#include <atomic>
#include <deque>
#include <functional>
#include <memory>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "ratchet/engine/engine.h"
#include "ratchet/storage/store.h"
#include "state_machine.h"

namespace ratchet {

class Engine::Impl {
 public:
  // Delivers an operation's outcome once its batch's commit status is known.
  using Completion = std::function<void(const absl::Status& commit)>;
  // Applies an operation. `batch` is null when the engine has failed: the
  // operation must not run and its Completion reports the failure.
  using Apply = std::function<Completion(storage::Batch* batch, TimePoint now)>;

  static absl::StatusOr<std::unique_ptr<Impl>> Open(const EngineOptions& options);
  ~Impl();

  // Queues `fn(batch, now) -> StatusOr<T>` to run on the sequencer; `cb`
  // gets its result after the commit. With fresh_batch, the batch built so
  // far is committed first, so `fn` sees only committed data in the store.
  template <typename T, typename Fn>
  void Submit(bool fresh_batch, Fn fn, Callback<T> cb) {
    Push({[fn = std::move(fn), cb = std::move(cb)](storage::Batch* batch,
                                                   TimePoint now) mutable -> Completion {
            if (batch == nullptr) return [cb](const absl::Status& s) { cb(s); };
            absl::StatusOr<T> result = fn(*batch, now);
            return [cb, result = std::move(result)](const absl::Status& commit) mutable {
              if (commit.ok()) {
                cb(std::move(result));
              } else {
                cb(commit);
              }
            };
          },
          fresh_batch});
  }

  // Sequencer-only accessors (use inside Submit'ed functions).
  internal::StateMachine& state_machine() { return *sm_; }
  // Safe from any thread.
  const storage::Store& store() const { return *store_; }
  Clock* clock() const { return clock_; }
  const EngineOptions& options() const { return options_; }

  EngineStats Stats() const;

  // Sequencer-only: lease expiry and a sweeper pass, as in the timer.
  absl::Status RunMaintenance(storage::Batch& batch, TimePoint now);

 private:
  struct Op {
    Apply apply;
    bool fresh_batch = false;
  };

  Impl(const EngineOptions& options, std::unique_ptr<storage::Store> store);
  void Push(Op op);
  void Loop();
  void RunGroup(std::deque<Op>& ops);
  void Flush();
  absl::Duration TimeToNextMaintenance();

  // Constant after construction.
  const EngineOptions options_;
  Clock* const clock_;
  std::shared_ptr<Random> random_;
  std::unique_ptr<storage::Store> store_;
  std::unique_ptr<internal::StateMachine> sm_;

  absl::Mutex mu_;
  std::deque<Op> inbox_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;

  // Sequencer thread only.
  std::unique_ptr<storage::Batch> batch_;
  std::vector<Completion> completions_;
  absl::Status failed_;  // non-OK once a commit failed
  TimePoint next_sweep_;

  std::atomic<uint64_t> commits_{0}, operations_{0}, bytes_{0}, live_jobs_{0}, commit_micros_{0};

  std::thread thread_;  // last: started after everything above exists
};

}  // namespace ratchet

#endif  // RATCHET_ENGINE_ENGINE_IMPL_H_
