// "Why isn't my job running?": Engine::ExplainJob's answer, read from the
// engine's own indexes in one sequencer step, so it agrees with what a Lease
// of the job's queue would do at that moment (docs/consistency.md, "Flow
// control"; docs/api.md, ExplainJob). Plain values, safe to move between
// threads.
#ifndef RATCHET_ENGINE_EXPLAIN_H_
#define RATCHET_ENGINE_EXPLAIN_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "ratchet/base/clock.h"
#include "ratchet/engine/types.h"

namespace ratchet {

enum class WaitReason : uint8_t {
  kRunnable = 0,          // available and leasable now: the next Lease of its queue may take it
  kScheduled = 1,         // first run at `until`
  kBackoff = 2,           // retrying after failed attempt `attempt`, at `until`
  kQueuePaused = 3,       // its queue is paused
  kQueueConcurrency = 4,  // the queue runs `limit` jobs (`holders`)
  kKeyConcurrency = 5,    // its key runs `limit` jobs (`holders`)
  kQueueRateLimited = 6,  // the queue's rate limit opens at `until`
  kKeyRateLimited = 7,    // its key's rate limit opens at `until`
  kAwaitingEvent = 8,     // a code-first workflow waiting for event `detail` (or its timeout)
  kNoRecentLease = 9,     // nothing has called Lease on its queue for `idle` (or ever)
  kRunning = 10,          // leased to `detail` (worker id) until `until`
  kCompleted = 11,        // finished
  kDead = 12,             // in the dead-letter queue: `detail` is the last error
  kCancelled = 13,        // `detail` says why
  // Its expires_at (`until`) passed before it started: cancelled with
  // cancel_reason "expired", or about to be (the next Lease or the expiry
  // pass cancels it; no Lease starts it).
  kExpired = 14,
};

// "runnable", "scheduled", "backoff", ... as the CLI and docs name them.
const char* WaitReasonName(WaitReason reason);

struct WaitCause {
  WaitReason reason = WaitReason::kRunnable;
  std::string message;             // one line for people, naming the limit and the time
  std::optional<TimePoint> until;  // when this cause ends, if known
  int attempt = 0;                 // kBackoff: the failed attempt
  int64_t limit = 0;               // the limit in force (concurrency or rate)
  // The running jobs that hold the limit (kQueueConcurrency,
  // kKeyConcurrency): at most 10, earliest lease deadline first.
  std::vector<JobId> holders;
  std::string detail;          // event name, worker id, error text, reason
  std::optional<Millis> idle;  // kNoRecentLease: since the last Lease (none: never since open)
};

struct JobExplanation {
  JobId id = 0;
  std::string queue;
  std::string concurrency_key;
  JobState state = JobState::kScheduled;
  // Every cause that keeps the job from starting now, in the order Lease
  // checks them; a job that can start has one kRunnable cause (possibly
  // followed by kNoRecentLease). Finished and running jobs have one cause.
  std::vector<WaitCause> causes;
  // Available jobs of its key (its group) that a Lease takes before it.
  int64_t ahead_in_key = 0;
  // A waiting job's pending expiry (EnqueueRequest::expires_at), if any:
  // not started by then, it is cancelled ("expired").
  std::optional<TimePoint> expires_at;
};

}  // namespace ratchet

#endif  // RATCHET_ENGINE_EXPLAIN_H_
