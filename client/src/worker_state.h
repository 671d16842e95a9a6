// The Worker's shared state (internal to the client library): jobs leased
// but not started, jobs running, outcomes waiting to be sent (the stream
// protocol), and the counters.
#ifndef RATCHET_CLIENT_SRC_WORKER_STATE_H_
#define RATCHET_CLIENT_SRC_WORKER_STATE_H_

#include <algorithm>
#include <chrono>
#include <deque>
#include <map>
#include <memory>
#include <optional>

#include "absl/strings/escaping.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/stubs/common.h"
#include "ratchet/api/time_codec.h"
#include "ratchet/base/saturating.h"
#include "ratchet/client/client.h"
#include "ratchet/client/worker.h"

namespace ratchet {

using SteadyClock = std::chrono::steady_clock;

// One leased job. Its lease is tracked on the worker's steady clock from
// when the lease arrived (or its last heartbeat was sent), never comparing
// the worker's wall clock with the server's lease_deadline: the two
// machines' clocks may disagree by more than the lease is long.
struct Worker::Running {
  Running(v1::LeasedJob job, Millis duration, SteadyClock::time_point received)
      : ctx(std::move(job)),
        lease_duration(SteadySpan(duration)),
        heartbeat_interval(std::max(Millis(10), lease_duration / 3)),
        next_heartbeat(received + heartbeat_interval),
        lease_ends(received + lease_duration) {
    // An attempt timeout longer than SteadySpan's cap is left to the
    // server: capping it would end the attempt here before the server does.
    const Millis timeout = FromProtoDuration(ctx.job().attempt_timeout());
    if (timeout.count() > 0 && timeout <= kMaxSteadySpan) {
      attempt_ends = received + timeout;
      lease_ends = std::min(lease_ends, *attempt_ends);
    }
  }
  uint64_t id() const { return ctx.job().job_id(); }

  JobContext ctx;
  // As granted, capped by SteadySpan (a hostile server's year-long lease
  // cannot overflow the steady clock); each heartbeat extends by it.
  const Millis lease_duration;
  const Millis heartbeat_interval;  // a third of the lease
  // Guarded by State::mu.
  SteadyClock::time_point next_heartbeat;
  // The lease's end on this clock: from a lease, at most a one-way trip
  // after the server's deadline; from a heartbeat, no later than it.
  SteadyClock::time_point lease_ends;
  // When the attempt timeout ends the attempt, on this clock (no earlier
  // than the server's attempt deadline: the lease arrived after it began).
  std::optional<SteadyClock::time_point> attempt_ends;
};

// A handler's outcome waiting to be sent over the stream.
struct Worker::Outcome {
  std::shared_ptr<Running> running;
  HandlerResult result;
};

class Worker::State {
 public:
  absl::Mutex mu;
  std::deque<std::shared_ptr<Running>> pending ABSL_GUARDED_BY(mu);
  std::map<uint64_t, std::shared_ptr<Running>> running ABSL_GUARDED_BY(mu);
  // Outcomes not yet sent (stream protocol); unacknowledged ones come back
  // here when a stream breaks.
  std::deque<Outcome> outbox ABSL_GUARDED_BY(mu);
  bool leasing_done ABSL_GUARDED_BY(mu) = false;
  uint64_t finished ABSL_GUARDED_BY(mu) = 0;  // handler runs that ended
  WorkerStats stats ABSL_GUARDED_BY(mu);
  CallCanceller lease_canceller;

  size_t held() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) { return pending.size() + running.size(); }
  // Counts an outcome's answer in the stats.
  void Count(HandlerResult::Kind kind, const absl::Status& status)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu);
};

// Worth sending again: the server was unreachable, the answer was lost, or
// a server shutting down cancelled the call (the worker cancels none of the
// calls it repeats), or it refused for its rate limit (it did nothing).
bool TransientForWorker(const absl::Status& s);

// `text` if it is UTF-8, else escaped (C-style, ASCII): a proto3 string
// that is not UTF-8 makes the server reject the whole message (a handler's
// error text may carry any bytes, e.g. from an exception).
inline std::string ValidUtf8(const std::string& text) {
  if (google::protobuf::internal::IsStructurallyValidUTF8(text)) return text;
  return "(not UTF-8, escaped) " + absl::CHexEscape(text);
}

}  // namespace ratchet

#endif  // RATCHET_CLIENT_SRC_WORKER_STATE_H_
