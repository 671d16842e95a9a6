// JobEvents: what the job machine tells the engine's metrics about the jobs
// it changes (docs/operations.md, "Metrics"). Unlike a JobObserver it writes
// nothing and cannot fail an operation.
//
// Calls come on the sequencer thread, inside the operation that made the
// change. The change may still be rolled back (the operation fails after
// writing): an implementation buffers what it is told and applies it only
// when the sequencer says the operation stood (EngineMetrics::EndOperation).
#ifndef RATCHET_ENGINE_JOBS_JOB_EVENTS_H_
#define RATCHET_ENGINE_JOBS_JOB_EVENTS_H_

#include <string>

#include "ratchet/base/clock.h"

namespace ratchet::internal {

enum class JobEvent {
  kEnqueued,      // a new job was stored (a duplicate enqueue is not one)
  kLeased,        // an attempt started
  kCompleted,     // the job ended COMPLETED
  kFailed,        // an attempt ended in failure (Fail, lease expiry, timeout)
  kRetried,       // ... and the job was scheduled for another attempt
  kDeadLettered,  // the job ended DEAD (in the dead-letter queue)
  kExpired,       // the job ended CANCELLED with cancel_reason "expired"
  kCancelled,     // the job ended CANCELLED for any other reason
};
inline constexpr int kJobEventCount = 8;

class JobEvents {
 public:
  virtual ~JobEvents() = default;
  virtual void Count(const std::string& queue, JobEvent event) = 0;
  // An attempt started `waited` after its job became available (its run_at:
  // the enqueue, or the end of its delay or backoff).
  virtual void Started(Millis waited) = 0;
  // An attempt that ran for `ran` ended (completed or failed).
  virtual void AttemptEnded(Millis ran) = 0;
  // A schedule tick due at `due` fired `lag` after it.
  virtual void ScheduleFired(Millis lag) = 0;
};

// Ignores everything: the job store's events when no metrics are wanted.
class NoJobEvents final : public JobEvents {
 public:
  void Count(const std::string&, JobEvent) override {}
  void Started(Millis) override {}
  void AttemptEnded(Millis) override {}
  void ScheduleFired(Millis) override {}
  static NoJobEvents* Instance() {
    static NoJobEvents none;
    return &none;
  }
};

}  // namespace ratchet::internal

#endif  // RATCHET_ENGINE_JOBS_JOB_EVENTS_H_
