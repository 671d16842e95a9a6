// Value types of the embedded engine API: requests, results and job views.
// All are plain values, owned by whoever holds them and safe to move between
// threads. Times are wall-clock TimePoints (ms since the Unix epoch);
// durations are std::chrono::milliseconds; sizes are in bytes.
#ifndef RATCHET_ENGINE_TYPES_H_
#define RATCHET_ENGINE_TYPES_H_

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "ratchet/base/clock.h"
#include "ratchet/engine/step_types.h"

namespace ratchet {

// Job ids are assigned by the engine, start at 1, increase monotonically and
// are never reused, also across restarts.
using JobId = uint64_t;

// A fencing token identifies one lease of one job. Tokens come from one
// engine-wide counter: every lease gets a token larger than any token issued
// before it, also across restarts (the counter is persisted in the same
// atomic write as the lease). A call carrying any other token than the job's
// current one is rejected with LEASE_LOST.
using FencingToken = uint64_t;

enum class JobState : uint8_t {
  kScheduled = 0,  // waiting for run_at (first run, or a retry's backoff)
  kAvailable = 1,  // run_at has passed; may be leased
  kRunning = 2,    // leased to a worker until the lease deadline
  kCompleted = 3,  // terminal: Complete succeeded
  kDead = 4,       // terminal until redriven: in the queue's dead-letter queue
  kCancelled = 5,  // terminal: cancelled before or while running
};

// "scheduled", "available", ... as used in logs, CLI and docs.
const char* JobStateName(JobState state);
bool IsTerminal(JobState state);

// Jitter modes from Marc Brooker, "Exponential Backoff And Jitter", AWS
// Architecture Blog (2015). See backoff.h for the formulas.
enum class JitterMode : uint8_t { kNone = 0, kFull = 1, kEqual = 2, kDecorrelated = 3 };

// How long to wait before retrying a failed attempt.
struct RetryPolicy {
  Millis initial_backoff{1000};  // base delay; > 0
  Millis max_backoff{3600000};   // cap on any one delay (1 h); >= initial_backoff
  double multiplier = 2.0;       // growth per attempt, in [1, 10]
  JitterMode jitter = JitterMode::kFull;
};

// A rate limit: at most `limit` job starts (leases) in any window of
// length `period`, counted with a sliding-window log (docs/consistency.md,
// "Flow control"). limit in [1, 100000]; period in [1 ms, 24 h].
struct RateLimit {
  int limit = 0;
  Millis period{0};
  bool operator==(const RateLimit&) const = default;
};

// Per-queue settings, persisted. A queue is created with the engine's
// default settings on its first enqueue.
struct QueueSettings {
  int concurrency_limit = 0;                 // max running jobs; 0 means unlimited
  RetryPolicy retry_policy;                  // default for jobs that bring none
  int max_attempts = 25;                     // default for jobs that bring none; >= 1
  Millis visibility_timeout{30000};          // default lease length
  Millis completed_retention{24 * 3600000};  // completed and cancelled jobs
  Millis dead_retention{7 * 24 * 3600000};   // dead-lettered jobs
  bool paused = false;                       // a paused queue leases nothing
  // ---- Flow control (docs/consistency.md, "Flow control") ----
  // Max running jobs per concurrency key (jobs without a key are not
  // limited by it); 0 means unlimited. In [0, 1000000].
  int key_concurrency_limit = 0;
  // Named keys' own limits, replacing key_concurrency_limit for that key.
  // At most kMaxKeyLimits (1000) entries; each limit in [1, 1000000].
  std::map<std::string, int> key_limits;
  std::optional<RateLimit> rate_limit;      // starts of the whole queue
  std::optional<RateLimit> key_rate_limit;  // starts per concurrency key
};

// A partial change of a queue's settings (Engine::UpdateQueue): the fields
// that are set replace the queue's current values, the others are kept. A
// retry policy is replaced whole. Pausing is PauseQueue / ResumeQueue's.
struct QueueSettingsUpdate {
  std::optional<int> concurrency_limit;
  std::optional<RetryPolicy> retry_policy;
  std::optional<int> max_attempts;
  std::optional<Millis> visibility_timeout;
  std::optional<Millis> completed_retention;
  std::optional<Millis> dead_retention;
  // ---- Flow control ----
  std::optional<int> key_concurrency_limit;
  std::optional<std::map<std::string, int>> key_limits;  // replaced whole
  // A set RateLimit with limit 0 removes the limit.
  std::optional<RateLimit> rate_limit;
  std::optional<RateLimit> key_rate_limit;
};

// ---- Unique jobs (issue 12) ----
// What makes two enqueues "the same job" for uniqueness.
enum class UniqueBy : uint8_t {
  kArgs = 0,  // job_type and payload (SHA-256 of both)
  kKey = 1,   // UniqueOptions::key
};

// "At most one job with these args (or this key) in these states within
// this period", per queue (docs/consistency.md, "Unique jobs"). An enqueue
// that matches such a job inserts nothing and answers that job's id
// (EnqueueResult::unique_match).
//
// States are judged as uniqueness sees them: a live job that has started
// (attempts > 0: running, or waiting for a retry) counts as kRunning, so
// kScheduled and kAvailable mean "never started". A waiting job counts as
// kAvailable once its run_at has passed or a Lease or List found it due.
struct UniqueOptions {
  UniqueBy by = UniqueBy::kArgs;
  // kKey only (and required then): 1..256 bytes of UTF-8.
  std::string key;
  // The covered states: not empty, and closed under "can come before": a
  // job that has left them must never come back into them, so kAvailable
  // needs kScheduled; kRunning needs both; a terminal state needs all three
  // live states. Default: the live states.
  std::vector<JobState> states = {JobState::kScheduled, JobState::kAvailable, JobState::kRunning};
  // Only a job created less than this long ago matches; > 0. nullopt: any
  // age (as long as the job is stored: retention ends it).
  std::optional<Millis> period;
};

struct EnqueueRequest {
  std::string queue;     // 1..128 bytes of [A-Za-z0-9_.:-]
  std::string job_type;  // 1..128 bytes of [A-Za-z0-9_.:-]
  std::string payload;   // opaque bytes, at most EngineOptions::max_payload_bytes
  // Optional; unique per queue for EngineOptions::idempotency_window. 1..256
  // printable ASCII bytes. A repeat with the same job type and payload returns
  // the first job's id; with other content it fails ALREADY_EXISTS.
  // Keys starting with "schedule:" are reserved for schedule ticks
  // (INVALID_ARGUMENT).
  std::string idempotency_key;
  std::optional<TimePoint> run_at;           // absolute start time; exclusive with delay
  std::optional<Millis> delay;               // relative start time; >= 0
  int priority = 100;                        // 0..1000; lower is leased first
  std::optional<int> max_attempts;           // >= 1; default from the queue
  std::optional<RetryPolicy> retry_policy;   // default from the queue
  std::optional<Millis> visibility_timeout;  // default from the queue
  // ---- Flow control ----
  // Optional concurrency key (a tenant, an account): the queue's per-key
  // limits and per-key rate limit apply to jobs with the same key, and
  // Lease serves ready keys round-robin. 0..256 bytes of UTF-8 without
  // NUL; "" means no key.
  std::string concurrency_key;
  // Optional W3C trace context (ratchet/base/traceparent.h): "" or exactly
  // a 55-byte traceparent, stored with the job and handed to every attempt
  // (LeasedJob::traceparent) so the worker's logs and spans join the
  // enqueuer's trace. Anything else: INVALID_ARGUMENT naming traceparent.
  std::string traceparent;

  // ---- Unique jobs (issue 12) ----
  // Optional. Checked after the idempotency key (an idempotency duplicate
  // wins). Workflow steps and schedule ticks carry none.
  std::optional<UniqueOptions> unique;

  // ---- Timeouts and expiry (issue 12) ----
  // Optional, 1 ms..kMaxAttemptTimeout (7 days): the server ends each
  // attempt at most this long after its lease, even while the worker keeps
  // heartbeating (Heartbeat cannot extend the lease past the attempt
  // deadline). A timed-out attempt counts as a failed attempt with the
  // error "attempt timed out" and follows the retry / dead-letter path.
  // Unset: attempts are bounded by their leases only.
  std::optional<Millis> attempt_timeout;
  // Optional, "discard if not started by": a job not yet leased at this
  // time (engine clock) is never leased; it ends cancelled with
  // Job::cancel_reason "expired". Once a job has started, its retries are
  // not subject to it. Must be after now and after the job's run_at
  // (INVALID_ARGUMENT naming `expires_at`).
  std::optional<TimePoint> expires_at;
};

// The longest EnqueueRequest::attempt_timeout accepted.
inline constexpr Millis kMaxAttemptTimeout{7LL * 24 * 3600 * 1000};
// Job::cancel_reason of a job that expired before it started.
inline constexpr char kCancelReasonExpired[] = "expired";

struct EnqueueResult {
  JobId id = 0;
  // True when the idempotency key matched an existing job: `id` is that job's
  // id ("duplicate of <id>") and nothing was written.
  bool duplicate = false;

  // ---- Unique jobs (issue 12) ----
  // True when UniqueOptions matched an existing job (or an earlier job of the
  // same batch): `id` is that job's id, and nothing was written (not even
  // the idempotency key). Never true together with `duplicate`.
  bool unique_match = false;
  // The matched job's state as uniqueness saw it (see UniqueOptions).
  JobState unique_match_state = JobState::kScheduled;
};

struct LeaseRequest {
  std::string queue;
  int max_jobs = 1;  // 1..EngineOptions::max_lease_jobs
  // Lease length; default: the job's own, else the queue's.
  std::optional<Millis> visibility_timeout;
  std::string worker_id;  // 0..128 bytes, recorded on the job for operators
  // Long poll: when nothing can be leased now, wait up to this long for a
  // job to become available instead of returning empty. 0 returns at once;
  // at most EngineOptions::max_lease_wait. The wait holds no thread and
  // costs no CPU: the engine answers when an enqueue, a due retry, a redrive,
  // a resume or an expired lease makes a job available.
  Millis wait{0};
  // Optional. When set and true while the lease is parked, the caller has
  // gone (e.g. its RPC was cancelled): no job is leased to it, and the wait
  // ends empty when its queue next can lease, when it is over, or when the
  // engine's sweep (64 parked leases per sequencer pass, round robin; a pass
  // at least every second) reaches it. Shared so the caller can flip it
  // from any thread.
  std::shared_ptr<const std::atomic<bool>> abandoned;
  // Bound on the bytes of the leased jobs (payloads, inputs, journals and
  // events, names, plus a fixed overhead per job), so the answer fits the
  // caller's message limit; 0 means EngineOptions::max_lease_bytes. A Lease
  // takes jobs while they fit, and always at least one: a job is never
  // marked running in an answer that cannot be sent.
  size_t max_bytes = 0;
  // The most one job's answer can be and still be delivered (a server's
  // message limit); 0: no such limit (an in-process caller). A job over it
  // (a step's inputs or a main job's journal can be) could never be
  // delivered: the Lease dead-letters it, without counting an attempt, with
  // an error naming both sizes, instead of marking it running.
  size_t max_job_bytes = 0;
};

struct LeasedJob {
  JobId id = 0;
  std::string queue;
  std::string job_type;
  std::string payload;
  std::string idempotency_key;
  int attempt = 0;  // 1 for the first attempt
  int max_attempts = 0;
  TimePoint lease_deadline;
  // The lease's length as granted (its visibility timeout): a worker times
  // its heartbeats from this on its own clock, not from lease_deadline,
  // which is on the engine's clock.
  Millis lease_duration{0};
  FencingToken token = 0;
  // Workflow context, empty for plain jobs.
  WorkflowId workflow_id = 0;
  std::string step_name;           // a DAG step's name
  std::vector<StepOutput> inputs;  // a DAG step: its dependencies' outcomes
  // A code-first workflow's main job: its journal and the events received.
  std::vector<JournalEntry> journal;
  std::vector<WorkflowEvent> events;
  std::string schedule_id;  // the schedule that fired this job, if any
  std::string concurrency_key;
  std::string traceparent;  // EnqueueRequest::traceparent; "" if none
  // EnqueueRequest::attempt_timeout (0: none), and the time (engine clock)
  // at which the server ends this attempt: the lease never extends past it.
  Millis attempt_timeout{0};
  std::optional<TimePoint> attempt_deadline;
};

// Decides, inside an operation, whether its caller may act on a job of
// `queue`: ratchetd's authorization (docs/operations.md, "Authorization")
// for calls that name a job only by id and fencing token. Check runs on the
// engine's sequencer, so it must be cheap and must not block; it returns OK
// or the error the operation then answers (PERMISSION_DENIED), having
// changed nothing. Null: no check. Implementations are immutable and
// thread-safe.
class QueueGuard {
 public:
  virtual ~QueueGuard() = default;
  virtual absl::Status Check(std::string_view queue) const = 0;
};

struct HeartbeatRequest {
  JobId id = 0;
  FencingToken token = 0;
  // New lease length from now; default: the lease's visibility timeout.
  std::optional<Millis> extension;

  // ---- Progress (issue 12) ----
  // Optional. Stored on the job in the heartbeat's write and shown by Get
  // (Job::progress). Each is kept until a later heartbeat replaces it or a
  // new attempt starts (a Lease clears both). Fraction done: finite, in
  // [0, 1] (INVALID_ARGUMENT naming `progress`).
  std::optional<double> progress;
  // A short note, 0..kMaxProgressMessageBytes bytes of UTF-8
  // (INVALID_ARGUMENT naming `progress_message`).
  std::optional<std::string> progress_message;
  // Checked against the job's queue before anything else about the job.
  std::shared_ptr<const QueueGuard> guard;
};

// Longest HeartbeatRequest::progress_message, bytes.
inline constexpr size_t kMaxProgressMessageBytes = 256;

struct HeartbeatResult {
  TimePoint lease_deadline;
  bool cancel_requested = false;  // the worker should stop and Fail the job
};

// One write to the application's keyspace. value == nullopt deletes the key.
struct AppWrite {
  std::string key;  // 1..1024 bytes
  std::optional<std::string> value;
};

struct CompleteRequest {
  JobId id = 0;
  FencingToken token = 0;
  std::string result;  // at most EngineOptions::max_payload_bytes
  // Applied in the same atomic write as the completion, and only if the
  // token is current: exactly-once effects on local state.
  std::vector<AppWrite> effects;
  // Checked against the job's queue before anything else about the job.
  std::shared_ptr<const QueueGuard> guard;
};

// The answer to CompleteAndLease: the completion's own outcome (OK, or the
// error Complete would answer, e.g. LEASE_LOST) and the jobs leased after it.
struct CompleteAndLeaseResult {
  absl::Status completion;
  std::vector<LeasedJob> jobs;
};

struct FailRequest {
  JobId id = 0;
  FencingToken token = 0;
  std::string error;  // truncated to 4 KiB when stored
  bool retryable = true;
  // Checked against the job's queue before anything else about the job.
  std::shared_ptr<const QueueGuard> guard;
};

struct FailResult {
  JobState state = JobState::kScheduled;  // kScheduled (retry), kDead or kCancelled
  std::optional<TimePoint> retry_at;      // set when state == kScheduled
  std::string queue;                      // the job's queue (for logs and metrics)
  std::string worker_id;                  // the worker that held the failed attempt
  std::string traceparent;                // the job's, for logs ("" if none)
};

struct AttemptError {
  int attempt = 0;
  TimePoint at;
  std::string message;
};

// A snapshot of one job.
struct Job {
  JobId id = 0;
  std::string queue;
  std::string job_type;
  std::string payload;
  std::string idempotency_key;
  JobState state = JobState::kScheduled;
  int priority = 0;
  int attempts = 0;  // attempts started so far
  int max_attempts = 0;
  RetryPolicy retry_policy;
  Millis visibility_timeout{0};
  TimePoint created_at;
  TimePoint run_at;          // when it becomes (or became) available
  TimePoint lease_deadline;  // meaningful while running
  FencingToken token = 0;    // the current or last lease's token
  std::string worker_id;
  bool cancel_requested = false;
  TimePoint finished_at;  // meaningful when terminal
  std::string result;
  std::vector<AttemptError> errors;  // the most recent, oldest first
  WorkflowId workflow_id = 0;        // the workflow it belongs to, if any
  std::string schedule_id;           // the schedule that fired it, if any
  std::string concurrency_key;       // "" if none
  std::string traceparent;           // EnqueueRequest::traceparent; "" if none

  // ---- Unique jobs (issue 12) ----
  std::string unique_key;  // UniqueOptions::key of a job enqueued unique by key

  // ---- Timeouts and expiry (issue 12) ----
  Millis attempt_timeout{0};            // 0: none
  std::optional<TimePoint> expires_at;  // EnqueueRequest::expires_at, if set
  // When the current or last attempt was leased; unset before the first.
  std::optional<TimePoint> attempt_started_at;
  // Why a cancelled job was cancelled: "expired" (kCancelReasonExpired)
  // for a job whose expires_at passed before it started; "" otherwise.
  std::string cancel_reason;
  // ---- Progress (issue 12) ----
  // The current (or, for a finished job, the last) attempt's last reported
  // progress (HeartbeatRequest); nullopt / "" if it reported none.
  std::optional<double> progress;
  std::string progress_message;
  TimePoint progress_updated_at;  // the heartbeat that set either; meaningful if set
};

struct ListRequest {
  std::string queue;
  JobState state = JobState::kAvailable;
  int limit = 100;     // 1..1000
  std::string cursor;  // "" for the first page, else a previous next_cursor
  // ---- Filters (issue 12); "" matches every job ----
  // Only jobs of this type (a name, 1..128 bytes of [A-Za-z0-9_.:-]).
  std::string job_type;
  // Only jobs with this concurrency key (1..256 bytes of UTF-8 without NUL).
  std::string concurrency_key;
  // Bound on the page's bytes (payloads, results, errors and other strings,
  // plus a fixed overhead per job), so the answer fits the caller's message
  // limit; 0 means EngineOptions::max_lease_bytes. A page ends before the
  // job that would pass it, and always holds at least one job if any match:
  // it may then hold fewer than `limit` and still carry a next_cursor.
  size_t max_bytes = 0;
};

// With a filter, one List examines at most this many jobs of the state's
// index, so a page costs bounded work however few jobs match: a page may
// then hold fewer than `limit` jobs (even none) and still carry a
// next_cursor (as DynamoDB's Scan with a filter and LastEvaluatedKey).
inline constexpr int kMaxListScan = 1000;

struct ListResult {
  std::vector<Job> jobs;
  std::string next_cursor;  // "" when there are no more pages
};

// Selects live jobs of one queue for CancelJobs. Unset or "" matches every
// job; all that are set must match.
struct CancelJobsRequest {
  std::string queue;              // required
  std::optional<JobState> state;  // kScheduled, kAvailable or kRunning
  std::string job_type;           // as ListRequest::job_type
  std::string concurrency_key;    // as ListRequest::concurrency_key
  // nullptr: unrestricted. Otherwise checked against `queue` and, for each
  // workflow job a slice is about to cancel, against the workflow's queue
  // and every step's queue (cancelling a step fails its workflow and cancels
  // its other steps, as CancelWorkflow would), before the slice writes
  // anything: PERMISSION_DENIED, and the slices before it stay done.
  std::shared_ptr<const QueueGuard> guard;
};

struct CancelJobsResult {
  int64_t cancelled = 0;         // waiting jobs now cancelled
  int64_t cancel_requested = 0;  // running jobs newly asked to stop
};

// Selects dead-lettered jobs of one queue for redrive or purge.
struct DeadLetterFilter {
  std::string queue;
  std::optional<JobId> job_id;  // only this job
  std::string job_type;         // "" means any type
  int limit = 1000;             // most jobs touched per call, 1..10000
};

struct RedriveRequest {
  DeadLetterFilter filter;
  // true: the job starts over at attempt 0. false: history and attempt count
  // are kept and the job gets one more attempt.
  bool reset_attempts = false;
  // Optional pacing (issue 12): at most pace.limit of the redriven jobs
  // become available per pace.period. The i-th job the run takes (from 0)
  // gets run_at = start + floor(i / limit) * period, where start is the
  // engine's time at the first slice; run_at is stored in the redrive's
  // write, so the pacing survives restarts. Limits as RateLimit's
  // (INVALID_ARGUMENT naming `pace`).
  std::optional<RateLimit> pace;
};

struct BulkResult {
  int count = 0;      // jobs redriven or purged
  bool more = false;  // more jobs match; call again
};

// An application transaction for the outbox pattern: writes to the
// application keyspace and enqueues, in one atomic write.
struct OutboxTxn {
  std::vector<AppWrite> writes;
  std::vector<EnqueueRequest> enqueues;
};

struct QueueInfo {
  std::string name;
  QueueSettings settings;
  int64_t scheduled = 0;
  int64_t available = 0;
  int64_t running = 0;
  // Finished jobs still within retention (dead: in the dead-letter queue).
  int64_t completed = 0;
  int64_t cancelled = 0;
  int64_t dead = 0;
};

// A page of ListQueues. Queues are listed by name.
struct QueueListRequest {
  int limit = 100;     // queues per page, 1..1000
  std::string cursor;  // "" for the first page, else a previous next_cursor
};

struct QueueListResult {
  std::vector<QueueInfo> queues;  // by name, after the cursor's queue
  std::string next_cursor;        // "" when there are no more queues
};

// Counters since Open, for benchmarks and metrics. Monotonic.
struct EngineStats {
  uint64_t commits = 0;               // synced WriteBatches written
  uint64_t operations = 0;            // operations applied (including rejected ones)
  uint64_t entries = 0;               // puts and deletes written
  uint64_t bytes = 0;                 // WriteBatch bytes written
  uint64_t commit_micros = 0;         // time spent in synced writes (the fsync wait)
  uint64_t live_jobs = 0;             // scheduled, available and running jobs now
  uint64_t rocksdb_memory_bytes = 0;  // memtables + block cache + table readers
  // The retention sweeper (docs/consistency.md, "Background work"): passes
  // run, queues visited (only queues with finished jobs due), keys deleted,
  // and the most keys one pass deleted (its bound: about sweep_batch_keys).
  uint64_t sweeper_passes = 0;
  uint64_t sweeper_queues_visited = 0;
  uint64_t sweeper_keys_deleted = 0;
  uint64_t sweeper_largest_pass_keys = 0;
  // Job records parsed by recovery at Open: the live jobs only.
  uint64_t recovered_job_records = 0;
  uint64_t parked_leases = 0;  // long-poll Leases parked now
  // Parked long-poll Leases the sequencer has examined (cumulative): to
  // serve, end or check one for a departed caller. It grows with the
  // leases that change, not with the number parked.
  uint64_t parked_lease_checks = 0;
  // Rate-limit starts held now (in memory and in the meta column family):
  // those within their limit's period, plus expired ones not yet deleted.
  uint64_t rate_limit_starts = 0;
  // Jobs cancelled because their expires_at passed before they started,
  // since open (by a Lease that met them or the expiry maintenance pass).
  uint64_t expired_jobs = 0;
};

}  // namespace ratchet

#endif  // RATCHET_ENGINE_TYPES_H_
