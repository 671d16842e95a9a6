// The reference model of the engine's consistency rules: plain C++, no
// RocksDB, no threads. Each method mirrors one engine operation and returns
// what the engine must answer. The property test (engine_property_test.cc)
// runs the real engine side by side and compares.
//
// The model draws retry delays from its own copy of the engine's seeded
// generator (same seed, same draw order), so it predicts the exact delay; it
// checks each delay against bounds it computes itself (DelayBounds).
//
// The clock may step backward (Advance with ms < 0). What that means:
// - leases do not expire early: every live lease has a deadline past the
//   old now, so past the new one too; an attempt already ended by expiry
//   stays ended (nothing fires twice: attempts and errors do not move);
// - no acknowledged job is lost or changes state;
// - a waiting job is leasable once the engine has found it due: a Lease (or
//   List / GetQueue) of its queue at a clock reading >= its run_at marks it
//   `due`, and a later backward step does not take that back. A job not yet
//   found due waits until the clock reaches its run_at again. Get reports
//   scheduled/available by run_at against the current clock.
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
  std::string job_type = "t";
  int64_t finished_at = 0;         // when it became terminal (orders the dead letters)
  bool due = false;                // waiting and found due by a Lease/List of its queue
  int errors = 0;                  // failed attempts recorded (Fail or expiry)
  std::optional<double> progress;  // the attempt's last reported; a Lease clears it
};

// Selects live jobs for CancelJobs, as CancelJobsRequest does.
struct CancelFilter {
  std::string queue;
  std::optional<JobState> state;  // kScheduled, kAvailable or kRunning
  std::string job_type;           // "" : any
};

struct MQueue {
  int limit = 0;
  bool paused = false;
};

// What an engine call must return.
enum class Expect {
  kOk,
  kDuplicate,
  kConflict,
  kLeaseLost,
  kInvalidState,
  kNotFound,
  kInvalidArgument
};

struct EnqueueSpec {
  std::string queue, key, payload, job_type = "t";
  int64_t delay = 0;
  int priority = 0;
  int max_attempts = 1;
  JitterMode jitter = JitterMode::kNone;
};

// An idempotency key's owner: the job and the content it was enqueued with
// (the key outlives a purge of its job).
struct MKey {
  JobId id = 0;
  std::string job_type, payload;
};

// Selects dead letters, as DeadLetterFilter does.
struct Filter {
  std::string queue;
  std::optional<JobId> job_id;
  std::string job_type;
  int limit = 1000;
};

// The retry policy every model job uses (with its own jitter mode).
RetryPolicy PolicyFor(JitterMode jitter);

class Model {
 public:
  explicit Model(int64_t start_ms, uint64_t seed) : now(start_ms), rng(seed) {}

  // Enqueues all or none. Returns (expectation, ids) per spec.
  Expect EnqueueBatch(const std::vector<EnqueueSpec>& specs, std::vector<JobId>* ids);
  // The outbox: the app writes land iff the enqueues are accepted.
  Expect CommitOutbox(const std::vector<AppWrite>& writes, const std::vector<EnqueueSpec>& specs,
                      std::vector<JobId>* ids);
  std::vector<JobId> Lease(const std::string& queue, int max_jobs, int64_t vt);
  // An invalid `progress` (outside [0, 1]) is kInvalidArgument, first.
  Expect Heartbeat(JobId id, FencingToken token, int64_t ext,
                   std::optional<double> progress = std::nullopt);
  // Effects land iff this call completes the job (not on a rejection, not
  // on an idempotent repeat).
  Expect Complete(JobId id, FencingToken token, const std::vector<AppWrite>& effects = {});
  // Validates the lease part (kInvalidArgument: nothing happens), then
  // completes (*completion, as Complete) and leases (*leased, as Lease).
  Expect CompleteAndLease(JobId id, FencingToken token, const std::vector<AppWrite>& effects,
                          const std::string& queue, int max_jobs, int64_t vt, Expect* completion,
                          std::vector<JobId>* leased);
  // On kOk for a live attempt, *delay is the retry delay (or -1 if none).
  Expect Fail(JobId id, FencingToken token, bool retryable, int64_t* delay);
  Expect Cancel(JobId id);
  // Cancels every live job that matches, as Cancel each: *cancelled counts
  // the waiting ones, *requested the running ones newly asked to stop.
  // Available means found due (the call promotes the queue first).
  Expect CancelJobs(const CancelFilter& filter, int64_t* cancelled, int64_t* requested);
  // Dead letters matching the filter, oldest death first; *more when more
  // match beyond the limit. With filter.job_id: kNotFound (unknown, purged
  // or in another queue) or kInvalidState (not dead).
  Expect Redrive(const Filter& filter, bool reset, int* count, bool* more);
  Expect Purge(const Filter& filter, int* count, bool* more);
  // Moves the clock by ms (either way) and ends the leases past deadline.
  void Advance(int64_t ms);
  // A Lease, List or GetQueue of the queue looked at the clock: every
  // waiting job whose run_at has come is due from now on.
  void Promote(const std::string& queue);
  // Reopen rebuilds the engine's indexes: due is judged afresh (and every
  // queue is then looked at by the reopen check).
  void Reopen();

  // The state callers see (kScheduled vs kAvailable by run_at).
  JobState Visible(const MJob& j) const;
  int Running(const std::string& queue) const;

  int64_t now;
  int max_lease_jobs = 1000;  // EngineOptions::max_lease_jobs
  JobId next_id = 1;
  FencingToken next_token = 1;
  std::map<JobId, MJob> jobs;
  std::map<std::pair<std::string, std::string>, MKey> keys;
  std::map<std::string, MQueue> queues;
  std::map<std::string, std::string> app;  // the application keyspace
  std::vector<JobId> purged;
  std::mt19937_64 rng;
  // Every retry delay drawn, with its bounds, for the bounds invariant.
  struct Delay {
    int64_t value, lo, hi;
  };
  std::vector<Delay> delays;

 private:
  void EndAttempt(MJob& j, bool retryable, int64_t* delay);
  void Finish(MJob& j, St st);
  Expect MatchDead(const Filter& filter, std::vector<JobId>* ids, bool* more) const;
  void ApplyWrites(const std::vector<AppWrite>& writes);
};

// Delay bounds from "Exponential Backoff And Jitter" (AWS Architecture Blog),
// written independently of engine/backoff.cc.
void DelayBounds(const RetryPolicy& p, int attempt, int64_t previous, int64_t* lo, int64_t* hi);

}  // namespace ratchet::model

#endif  // RATCHET_PROPERTY_TESTS_MODEL_H_
