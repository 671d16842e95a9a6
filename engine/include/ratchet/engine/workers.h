// WorkerInfo: a worker the engine has seen recently (Engine::ListWorkers).
#ifndef RATCHET_ENGINE_WORKERS_H_
#define RATCHET_ENGINE_WORKERS_H_

#include <cstdint>
#include <string>
#include <vector>

#include "ratchet/base/clock.h"

namespace ratchet {

// Most workers ListWorkers remembers (the least recently seen go first),
// and how long one is remembered after it was last seen.
inline constexpr size_t kMaxTrackedWorkers = 10000;
inline constexpr Millis kWorkerForgetAfter{3600 * 1000};
// Job ids listed per worker (jobs_held counts them all).
inline constexpr size_t kMaxListedWorkerJobs = 100;

struct WorkerInfo {
  std::string worker_id;            // LeaseRequest::worker_id
  std::vector<std::string> queues;  // the queues it leased from (at most 16)
  bool more_queues = false;         // it leased from more than those
  // The jobs it holds now: leased by it, not finished, lease not yet over
  // (the first kMaxListedWorkerJobs ids, by id).
  std::vector<uint64_t> job_ids;
  int64_t jobs_held = 0;
  TimePoint last_seen;  // its last Lease or Heartbeat
};

}  // namespace ratchet

#endif  // RATCHET_ENGINE_WORKERS_H_
