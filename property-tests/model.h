// The reference model of the engine's consistency rules: plain C++, no
// RocksDB, no threads. Each method mirrors one engine operation and returns
// what the engine must answer. The property test (engine_property_test.cc)
// runs the real engine side by side and compares.
//
// The model draws retry delays from its own copy of the engine's seeded
// generator (same seed, same draw order), so it predicts the exact delay; it
// checks each delay against bounds it computes itself (DelayBounds).
#ifndef RATCHET_PROPERTY_TESTS_MODEL_H_
#define RATCHET_PROPERTY_TESTS_MODEL_H_

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include "ratchet/engine/types.h"

namespace ratchet::model {

enum class St { kWaiting, kRunning, kCompleted, kDead, kCancelled };

struct MJob {
  std::string queue, key, payload;
  int priority = 0;
  int64_t run_at = 0;
  St st = St::kWaiting;
  int attempts = 0, max_attempts = 1;
  FencingToken token = 0, failed_token = 0;
  int64_t deadline = 0;
  bool cancel_requested = false;
  int64_t last_backoff = 0;
  JitterMode jitter = JitterMode::kNone;
};

struct MQueue {
  int limit = 0;
  bool paused = false;
};

// What an engine call must return.
enum class Expect { kOk, kDuplicate, kConflict, kLeaseLost, kInvalidState };

struct EnqueueSpec {
  std::string queue, key, payload;
  int64_t delay = 0;
  int priority = 0;
  int max_attempts = 1;
  JitterMode jitter = JitterMode::kNone;
};

// The retry policy every model job uses (with its own jitter mode).
RetryPolicy PolicyFor(JitterMode jitter);

class Model {
 public:
  explicit Model(int64_t start_ms, uint64_t seed) : now(start_ms), rng(seed) {}

  // Enqueues all or none. Returns (expectation, ids) per spec.
  Expect EnqueueBatch(const std::vector<EnqueueSpec>& specs, std::vector<JobId>* ids);
  std::vector<JobId> Lease(const std::string& queue, int max_jobs, int64_t vt);
  Expect Heartbeat(JobId id, FencingToken token, int64_t ext);
  Expect Complete(JobId id, FencingToken token);
  // On kOk for a live attempt, *delay is the retry delay (or -1 if none).
  Expect Fail(JobId id, FencingToken token, bool retryable, int64_t* delay);
  Expect Cancel(JobId id);
  Expect Redrive(JobId id, bool reset);
  void Advance(int64_t ms);

  // The state callers see (kScheduled vs kAvailable by run_at).
  JobState Visible(const MJob& j) const;
  int Running(const std::string& queue) const;

  int64_t now;
  JobId next_id = 1;
  FencingToken next_token = 1;
  std::map<JobId, MJob> jobs;
  std::map<std::pair<std::string, std::string>, JobId> keys;
  std::map<std::string, MQueue> queues;
  std::mt19937_64 rng;
  // Every retry delay drawn, with its bounds, for the bounds invariant.
  struct Delay {
    int64_t value, lo, hi;
  };
  std::vector<Delay> delays;

 private:
  void EndAttempt(MJob& j, bool retryable, int64_t* delay);
};

// Delay bounds from "Exponential Backoff And Jitter" (AWS Architecture Blog),
// written independently of engine/backoff.cc.
void DelayBounds(const RetryPolicy& p, int attempt, int64_t previous, int64_t* lo, int64_t* hi);

}  // namespace ratchet::model

#endif  // RATCHET_PROPERTY_TESTS_MODEL_H_
