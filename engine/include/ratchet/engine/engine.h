// An Engine durably stores and schedules jobs in a RocksDB data directory:
// enqueue (with idempotency keys), lease with fencing tokens, heartbeat,
// complete, fail with backoff, dead-letter queues and redrive, cancel, queue
// settings and a retention sweeper. See docs/consistency.md for the state
// machine and the atomic write behind every operation.
//
// Durability: a call is acknowledged (callback run / blocking call returns)
// only after its write is fsynced. Operations apply in submission order; the
// engine's one sequencer thread merges concurrent operations into one
// WriteBatch (group commit) and never splits an operation across batches; a
// writer thread fsyncs each batch while the sequencer prepares the next.
//
// Failure: if a write fails (I/O error, disk full) nothing of that batch is
// acknowledged (its callers get UNAVAILABLE, reason STORAGE_FAILED: the
// outcome is unknown), and every later call gets UNAVAILABLE until the engine
// is destroyed and opened again. The engine never retries an fsync.
//
// Thread safety: all methods are safe to call concurrently from any thread.
// Asynchronous callbacks run on the engine's callback thread, in submission
// order, after their write is durable; the writer goes on to the next fsync
// meanwhile. They must be quick and must not call the engine's blocking
// methods (they may call the asynchronous ones).
#ifndef RATCHET_ENGINE_ENGINE_H_
#define RATCHET_ENGINE_ENGINE_H_

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "ratchet/base/clock.h"
#include "ratchet/base/random.h"
#include "ratchet/base/status.h"
#include "ratchet/engine/backup.h"
#include "ratchet/engine/engine_options.h"
#include "ratchet/engine/explain.h"
#include "ratchet/engine/salvage.h"
#include "ratchet/engine/schedule_types.h"
#include "ratchet/engine/stats.h"
#include "ratchet/engine/types.h"
#include "ratchet/engine/workers.h"
#include "ratchet/engine/workflow_types.h"

namespace ratchet {

template <typename T>
using Callback = std::function<void(absl::StatusOr<T>)>;
using StatusCallback = std::function<void(absl::Status)>;

class Engine {
 public:
  // Opens the data directory, rebuilds the in-memory indexes from it and
  // starts the sequencer thread. Leases in flight keep their deadlines.
  // Errors: FAILED_PRECONDITION/SCHEMA_TOO_NEW; UNAVAILABLE/STORAGE_FAILED
  // if RocksDB cannot open or read the directory; INVALID_ARGUMENT naming a
  // bad option.
  // Errors also: DATA_LOSS naming the column family and key of a stored
  // record that does not parse (docs/operations.md#corrupt-records).
  static absl::StatusOr<std::unique_ptr<Engine>> Open(const EngineOptions& options);

  // Offline repair of a data directory that Open refuses with DATA_LOSS: run
  // it before Open, never while an Engine has the directory open (RocksDB's
  // lock makes it fail with UNAVAILABLE then). It moves every stored record
  // that does not parse (the check Open and reads make) into the
  // `quarantine` column family, with what depends on it: a workflow with a
  // corrupt record moves whole (all its keys and its jobs), and finished-job
  // and dead-letter index entries whose job is gone move too. Each record
  // (or workflow) moves in one atomic write, so a crash leaves each either in
  // place or quarantined, and running Salvage again finishes the work. With
  // nothing corrupt it writes nothing. Uses data_dir, block_cache_bytes and
  // file_system of `options`.
  // Errors: as Open's store errors (UNAVAILABLE/STORAGE_FAILED,
  // FAILED_PRECONDITION/SCHEMA_TOO_NEW); INVALID_ARGUMENT naming a bad option.
  static absl::StatusOr<SalvageReport> Salvage(const EngineOptions& options);

  // Makes the data directory `options.data_dir` a copy of the backup
  // directory `backup` (written by Backup), for a restore: run it before
  // Open, with no engine on data_dir. The files are copied into a sibling
  // directory data_dir + ".restoring" (removed first if a crashed restore
  // left it), fsynced, and renamed to data_dir in one step, so a crash leaves
  // either no data_dir or the whole copy. The backup is not changed. Returns
  // the files and bytes copied.
  // Errors: INVALID_ARGUMENT naming `backup` (not an absolute path of
  // 1..4096 bytes of UTF-8 without NUL) or `data_dir`; NOT_FOUND if `backup`
  // is not a data directory (it has no CURRENT file); FAILED_PRECONDITION if
  // data_dir exists and is not empty (a restore never overwrites data);
  // UNAVAILABLE/STORAGE_FAILED if a copy, fsync or rename fails (data_dir is
  // then absent; run it again).
  static absl::StatusOr<BackupInfo> RestoreBackup(const std::string& backup,
                                                  const EngineOptions& options);

  // Finishes the calls already submitted, stops the sequencer and closes the
  // store. Calls made during or after destruction are undefined behaviour.
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // ---- Blocking API. Each returns once its write is durable. ----

  // Enqueues one job. Returns the new id, or the existing id with
  // duplicate=true when the idempotency key is known with the same content,
  // or with unique_match=true when req.unique matches a job (then nothing is
  // written; docs/consistency.md, "Unique jobs").
  // Errors: INVALID_ARGUMENT naming the field and limit (reason
  // PAYLOAD_TOO_LARGE for the payload; "unique.key", "unique.states",
  // "unique.period" for bad or conflicting unique options;
  // "attempt_timeout" outside [1 ms, 7 days]; "expires_at" not after now
  // or not after the job's run_at);
  // ALREADY_EXISTS/IDEMPOTENCY_CONFLICT, naming the existing job, if the key
  // is known with another job type or payload; DATA_LOSS if the unique entry
  // or the job it names does not parse.
  absl::StatusOr<EnqueueResult> Enqueue(EnqueueRequest req);

  // Enqueues all or none, in one atomic write. Results are in request order;
  // a key repeated inside the batch yields the first job's id, and a unique
  // request matching an earlier one of the batch yields it (unique_match).
  // Errors: as Enqueue, with the index in the field name ("jobs[3].queue").
  absl::StatusOr<std::vector<EnqueueResult>> EnqueueBatch(std::vector<EnqueueRequest> reqs);

  // Leases up to max_jobs available jobs of one queue, by priority then FIFO
  // (run_at, then id), without exceeding the queue's concurrency limit. Each
  // lease starts an attempt. Returns an empty vector when nothing is
  // available, the queue is paused or unknown, or it is at its limit, and
  // req.wait (long poll) has passed. Parked leases are served in the order
  // they started waiting. A job whose expires_at has passed is never leased:
  // one met at the head of its key's group is cancelled ("expired") in the
  // Lease's write. A job with an attempt_timeout gets a lease that ends by
  // its attempt deadline. Errors: INVALID_ARGUMENT; UNAVAILABLE/ENGINE_CLOSED if the
  // engine is destroyed while the lease waits.
  absl::StatusOr<std::vector<LeasedJob>> Lease(LeaseRequest req);

  // Ends parked leases whose LeaseRequest::abandoned flag is set (at most
  // 64 per pass, as the sweep does) at the engine's next pass, now, rather
  // than within the sweep's second. For a caller that has just set the
  // flag and waits for its lease to end. Writes nothing; never fails.
  void ReleaseAbandonedLeases();

  // Extends a lease to now + extension, but never past the job's attempt
  // deadline (EnqueueRequest::attempt_timeout), stores the progress it
  // carries (if any) and reports cancel requests.
  // Errors: FAILED_PRECONDITION/LEASE_LOST if the token is not the job's
  // current lease (stale, expired, job finished); NOT_FOUND; INVALID_ARGUMENT
  // (`extension`, `progress`, `progress_message`).
  absl::StatusOr<HeartbeatResult> Heartbeat(HeartbeatRequest req);

  // Heartbeats many leases in one atomic write; each item is answered as
  // Heartbeat would answer it (results in request order). The call itself
  // fails only for a bad request size. Errors: INVALID_ARGUMENT naming
  // `heartbeats` when reqs is empty or longer than max_lease_jobs.
  absl::StatusOr<std::vector<absl::StatusOr<HeartbeatResult>>> HeartbeatBatch(
      std::vector<HeartbeatRequest> reqs);

  // Completes a running job and applies its effects, atomically. Idempotent:
  // repeating a successful call returns OK and changes nothing.
  // Errors: FAILED_PRECONDITION/LEASE_LOST for a stale token; NOT_FOUND;
  // INVALID_ARGUMENT (oversized result, bad effect keys).
  absl::Status Complete(CompleteRequest req);

  // Completes `complete`, then leases as `lease` would, in one operation
  // (the worker's "done, give me the next" round trip). The lease request is
  // checked first: if it is invalid, the call fails with INVALID_ARGUMENT and
  // writes nothing. A failed completion (LEASE_LOST, NOT_FOUND, ...) does not
  // stop the lease: its status is in `completion`. With lease.wait > 0 the
  // answer waits as a long-poll Lease, and the completion is written (and
  // durable) before it. Errors: INVALID_ARGUMENT (the lease request);
  // UNAVAILABLE as Lease, in which case the completion's outcome is
  // unknown: repeating it is safe (a repeat of a completion that landed is
  // acknowledged).
  absl::StatusOr<CompleteAndLeaseResult> CompleteAndLease(CompleteRequest complete,
                                                          LeaseRequest lease);

  // Completes many jobs in one atomic write. Each item succeeds or fails on
  // its own (statuses in request order, as Complete would answer); the call
  // itself fails only for a bad request size. Errors: INVALID_ARGUMENT when
  // reqs is empty or longer than max_lease_jobs.
  absl::StatusOr<std::vector<absl::Status>> CompleteBatch(std::vector<CompleteRequest> reqs);

  // Ends an attempt in failure. If retryable and attempts remain, the job is
  // scheduled at now + backoff; otherwise it moves to the dead-letter queue
  // (or to cancelled if cancellation was requested). Idempotent: repeating
  // the call returns the same outcome and changes nothing.
  // Errors: FAILED_PRECONDITION/LEASE_LOST; NOT_FOUND; INVALID_ARGUMENT.
  absl::StatusOr<FailResult> Fail(FailRequest req);

  // Fails many attempts in one atomic write; each item is answered as Fail
  // would answer it. Errors: INVALID_ARGUMENT when reqs is empty or longer
  // than max_lease_jobs.
  absl::StatusOr<std::vector<absl::StatusOr<FailResult>>> FailBatch(std::vector<FailRequest> reqs);

  // Cancels a scheduled or available job, or requests cancellation of a
  // running one (its worker learns of it on its next heartbeat). Returns the
  // state afterwards. Cancelling a cancelled job is acknowledged.
  // Errors: NOT_FOUND; FAILED_PRECONDITION/INVALID_STATE for completed or
  // dead jobs.
  absl::StatusOr<JobState> Cancel(JobId id);

  // Retry now: a scheduled job (waiting for its delay or for the backoff
  // after a failed attempt) becomes available at once, as Sidekiq's "Retry
  // Now" and River's JobRetry do; its attempts, limits and everything else
  // stay. Returns AVAILABLE (also when it was due already). One atomic
  // write of its state record (docs/consistency.md, "RetryJob").
  // Errors: NOT_FOUND; FAILED_PRECONDITION/INVALID_STATE for a job that is
  // not scheduled (redrive a dead one) or that belongs to a workflow.
  absl::StatusOr<JobState> RetryJob(JobId id);

  // Cancels every live job of req.queue that matches the filter, as Cancel
  // does for each (waiting jobs end cancelled, running ones get
  // cancel_requested). Runs in slices of at most
  // EngineOptions::cancel_slice_jobs examined jobs, each one atomic write
  // with other operations in between, and answers after the last; a job
  // that changes state during the run may be missed (call again). On an
  // error the slices already written stay (docs/consistency.md, "Bulk
  // cancel"). Errors: INVALID_ARGUMENT naming the field (`queue`, `state`,
  // `job_type`, `concurrency_key`); UNAVAILABLE (a read or write failed, or
  // the engine closed part-way).
  absl::StatusOr<CancelJobsResult> CancelJobs(CancelJobsRequest req);

  // A snapshot of one job as of the last durable write. Errors: NOT_FOUND.
  absl::StatusOr<Job> Get(JobId id);

  // Why the job is not running now, and when it could (explain.h): from
  // the engine's indexes in one sequencer step, so the answer agrees with
  // what a Lease of its queue would do then. O(log n) plus at most 10
  // holders. Errors: NOT_FOUND.
  absl::StatusOr<JobExplanation> ExplainJob(JobId id);

  // Jobs of one queue in one state, a page at a time. Order: scheduled by
  // run_at; available in lease order; running by lease deadline; completed,
  // cancelled and dead by finish time. With a job_type or concurrency_key
  // filter a page examines at most kMaxListScan jobs (see there).
  // Errors: INVALID_ARGUMENT (queue, limit, cursor, job_type,
  // concurrency_key).
  absl::StatusOr<ListResult> List(ListRequest req);

  // ---- Dead-letter queues (list them with List(state = kDead)). ----

  // Moves matching dead jobs back to available, now (or paced, see
  // RedriveRequest::pace), keeping their error history. It takes dead jobs in order of death, each
  // at most once, in slices of at most EngineOptions::dead_letter_slice_keys, each one atomic write
  // with other operations in between, and answers after the last. On an error the slices already
  // written stay (docs/consistency.md). Errors: INVALID_ARGUMENT; NOT_FOUND if filter.job_id is
  // unknown; FAILED_PRECONDITION/INVALID_STATE if filter.job_id is not dead; UNAVAILABLE (a read or
  // write failed, or the engine closed part-way).
  absl::StatusOr<BulkResult> Redrive(RedriveRequest req);
  // Deletes matching dead jobs, in slices as Redrive; their idempotency keys
  // stay for the window. Errors: as Redrive.
  absl::StatusOr<BulkResult> Purge(DeadLetterFilter filter);

  // ---- Queues. ----

  // Replaces a queue's settings, creating the queue if needed. It never
  // changes whether the queue is paused (`settings.paused` is ignored): only
  // PauseQueue and ResumeQueue do, so an update cannot resume a paused queue.
  // Errors: INVALID_ARGUMENT naming the setting and its limit.
  absl::Status UpdateQueue(std::string queue, QueueSettings settings);
  // Changes only the settings set in `update`, in one write, creating the
  // queue (with EngineOptions::default_queue_settings) if needed; concurrent
  // updates of different settings all take effect. Never changes `paused`.
  // Errors: INVALID_ARGUMENT naming the setting and its limit.
  absl::Status UpdateQueue(std::string queue, QueueSettingsUpdate update);
  // Pause stops leasing from the queue; jobs stay available. Errors:
  // INVALID_ARGUMENT for a bad name.
  absl::Status PauseQueue(std::string queue);
  absl::Status ResumeQueue(std::string queue);
  // Errors: NOT_FOUND for a queue never used; INVALID_ARGUMENT.
  absl::StatusOr<QueueInfo> GetQueue(std::string queue);
  // A page of queues, by name, with their counts (due scheduled jobs are
  // counted available). Bounded work: one sequencer step of at most
  // `limit` queues. Errors: INVALID_ARGUMENT (limit, cursor).
  absl::StatusOr<QueueListResult> ListQueues(QueueListRequest req = {});

  // ---- Application keyspace: outbox and effects. ----

  // Commits application writes and enqueues in one atomic write. Results as
  // EnqueueBatch. Errors: as EnqueueBatch; INVALID_ARGUMENT for bad keys.
  absl::StatusOr<std::vector<EnqueueResult>> CommitOutbox(OutboxTxn txn);
  // Reads a committed application value; nullopt if absent.
  // Errors: INVALID_ARGUMENT for a bad key; UNAVAILABLE on read errors.
  absl::StatusOr<std::optional<std::string>> ReadApp(std::string key);

  // ---- Workflows (docs/workflows.md). ----

  // Submits a DAG workflow: validates it, stores every step and releases
  // (enqueues) the steps without dependencies, in one atomic write.
  // Errors: INVALID_ARGUMENT naming the field for a cycle ("steps: the
  // dependencies form a cycle: a -> b -> a"), an unknown or repeated
  // dependency, a duplicate step name, more than max_workflow_steps steps, or
  // any bad step field ("steps[2].queue"); ALREADY_EXISTS/
  // IDEMPOTENCY_CONFLICT if the key belongs to a different workflow.
  absl::StatusOr<WorkflowSubmitResult> SubmitWorkflow(WorkflowSpec spec);
  // Starts a code-first workflow: stores it and enqueues its main job.
  // Errors: as SubmitWorkflow for name, queue, job fields, events and key.
  absl::StatusOr<WorkflowSubmitResult> StartWorkflow(StartWorkflowRequest req);
  // A workflow with each step's state. The answer is bounded in bytes by
  // `max_bytes` (0: EngineOptions::max_lease_bytes): step results are
  // included in step order while they fit, and one that does not is left
  // out with StepInfo::result_omitted set. Errors: NOT_FOUND.
  absl::StatusOr<Workflow> GetWorkflow(WorkflowId id, size_t max_bytes = 0);
  // Errors: INVALID_ARGUMENT (limit, cursor, state).
  absl::StatusOr<WorkflowListResult> ListWorkflows(WorkflowListRequest req);
  // Cancels pending and queued steps (or the main job) and requests
  // cancellation of running ones; the workflow is cancelled at once.
  // Cancelling a cancelled workflow is acknowledged. Errors: NOT_FOUND;
  // FAILED_PRECONDITION/INVALID_STATE for a completed workflow.
  absl::StatusOr<WorkflowState> CancelWorkflow(WorkflowId id);
  // Delivers an event to a code-first workflow and wakes it if it waits for
  // it. One payload per event name: repeating the same payload is
  // acknowledged. Errors: INVALID_ARGUMENT for an event name the workflow
  // did not declare; NOT_FOUND; FAILED_PRECONDITION/INVALID_STATE if the
  // workflow is not running; ALREADY_EXISTS/IDEMPOTENCY_CONFLICT if the
  // event was sent with another payload.
  absl::Status SendEvent(SendEventRequest req);
  // Journals one code-first step under the main job's lease (the first
  // result recorded for a name stands). Errors: FAILED_PRECONDITION/
  // LEASE_LOST; NOT_FOUND; INVALID_ARGUMENT (not a main job, sizes, limit).
  absl::Status RecordStep(RecordStepRequest req);
  // Parks a code-first workflow's main job (a durable timer or event wait).
  // Errors: as RecordStep; INVALID_ARGUMENT for an undeclared event or an
  // `until` beyond max_schedule_ahead.
  absl::Status Suspend(SuspendRequest req);

  // ---- Schedules (docs/schedules.md). ----

  // Creates a schedule. Creating it again with the same definition is
  // acknowledged. Errors: INVALID_ARGUMENT naming the field (spec,
  // time_zone, end_at, jitter, catchup_window, queue, ...); ALREADY_EXISTS
  // if the id exists with another definition.
  absl::Status CreateSchedule(ScheduleSpec spec);
  // Update, Delete, Pause, Resume and Trigger take an optional QueueGuard
  // (types.h; ratchetd's authorization): the schedule's present queue must
  // pass it, checked inside the operation, so a concurrent Update that
  // moves the schedule cannot slip between a check and the change. A
  // refusal (the guard's error, PERMISSION_DENIED) changes nothing.
  //
  // Replaces a schedule's definition, keeping its history; ticks between
  // its last evaluation and now are not replayed. Errors: as Create;
  // NOT_FOUND; the guard's.
  absl::Status UpdateSchedule(ScheduleSpec spec, std::shared_ptr<const QueueGuard> guard = nullptr);
  // Deletes a schedule; jobs it fired stay. Errors: NOT_FOUND; the guard's.
  absl::Status DeleteSchedule(std::string id, std::shared_ptr<const QueueGuard> guard = nullptr);
  // While paused no tick fires; on resume, ticks that fell meanwhile follow
  // the missed-run policy. Errors: NOT_FOUND; the guard's.
  absl::Status PauseSchedule(std::string id, std::shared_ptr<const QueueGuard> guard = nullptr);
  absl::Status ResumeSchedule(std::string id, std::shared_ptr<const QueueGuard> guard = nullptr);
  // Errors: NOT_FOUND.
  absl::StatusOr<ScheduleInfo> GetSchedule(std::string id);
  // A page of schedules, by id (one whose time zone the system no longer
  // knows included, with no next tick). Bounded work: one sequencer step
  // reads at most `limit` schedules. Follow next_cursor for the rest; a
  // schedule created after the cursor appears on a later page.
  // Errors: INVALID_ARGUMENT (limit, cursor); DATA_LOSS for a damaged record.
  absl::StatusOr<ScheduleListResult> ListSchedules(ScheduleListRequest req = {});
  // Fires the schedule now, outside its ticks and overlap policy (key
  // "schedule:<id>:<now ms>:manual"). Errors: NOT_FOUND; the guard's.
  absl::StatusOr<TriggerResult> TriggerSchedule(std::string id,
                                                std::shared_ptr<const QueueGuard> guard = nullptr);

  // Runs the engine's maintenance now, as its own timer does: ends expired
  // leases (as failed attempts: "lease expired" or "attempt timed out"),
  // cancels waiting jobs whose expires_at passed, fires due schedule ticks,
  // and runs one
  // bounded retention sweep over committed data. Tests using a ManualClock
  // call it after advancing the clock. Errors: UNAVAILABLE if the store
  // fails a read or the engine has failed.
  absl::Status RunMaintenance();

  // ---- Operations ----
  // Writes an online, consistent backup of the data directory to
  // `destination` (docs/operations.md#backup-and-restore): a RocksDB
  // checkpoint, which hard-links the immutable files when `destination` is on
  // the same file system and copies them otherwise, plus the live WAL. Every
  // write acknowledged before the call is in the backup; writes go on while
  // it runs (it does not use the sequencer). Blocks the calling thread for as
  // long as the copy takes; concurrent backups to different destinations are
  // allowed. The backup directory opens as a data directory as it is.
  // Errors: INVALID_ARGUMENT naming `destination` (not an absolute path of
  // 1..4096 bytes of UTF-8 without NUL); ALREADY_EXISTS if it exists;
  // FAILED_PRECONDITION if its parent directory does not exist;
  // UNAVAILABLE/STORAGE_FAILED if RocksDB fails (nothing is left at
  // `destination`).
  absl::StatusOr<BackupInfo> Backup(std::string destination);

  // Storage and backlog statistics (stats.h; docs/operations.md#stats): the
  // bytes of every column family, live and retained jobs over all queues,
  // and a page of queues by name with each one's counts and oldest
  // available job. Read-only: it writes nothing and changes no index (a
  // scheduled job whose run_at has passed counts as available here even
  // before a Lease moves it). The counts come from one sequencer step of
  // bounded work (at most req.limit queues and kMaxStatsProbes index
  // probes; a page may therefore hold fewer than req.limit queues and still
  // carry a next_cursor); the column-family figures are read from RocksDB
  // on the calling thread. Pages are not a snapshot: queues created between
  // pages after the cursor appear, earlier ones do not.
  // Errors: INVALID_ARGUMENT naming `limit` (outside 1..kMaxStatsQueues) or
  // `cursor` (not a next_cursor of this call).
  absl::StatusOr<StatsResult> GetStats(StatsRequest req);

  // The workers seen recently (workers.h): each worker_id that leased from
  // this engine, its queues, the jobs it holds now and its last Lease or
  // Heartbeat, most recently seen first, at most `max` (1..kMaxTrackedWorkers;
  // others are clamped). Kept in memory, not durable: after a reopen a
  // worker reappears with its next Lease or Heartbeat. Leases without a
  // worker_id are not listed. Safe from any thread; O(workers + jobs held).
  std::vector<WorkerInfo> ListWorkers(size_t max = 1000);

  // A snapshot of the engine's counters. Safe from any thread; cheap.
  EngineStats Stats() const;
  // The options the engine was opened with (defaults filled in). Immutable.
  const EngineOptions& options() const;

  // ---- Asynchronous API: one thread can keep many operations in flight. ----
  // Same semantics and errors as the blocking form; `cb` is invoked exactly
  // once, on an engine thread, after the write is durable (or failed).
  void EnqueueAsync(EnqueueRequest req, Callback<EnqueueResult> cb);
  void EnqueueBatchAsync(std::vector<EnqueueRequest> reqs, Callback<std::vector<EnqueueResult>> cb);
  void LeaseAsync(LeaseRequest req, Callback<std::vector<LeasedJob>> cb);
  void HeartbeatAsync(HeartbeatRequest req, Callback<HeartbeatResult> cb);
  void HeartbeatBatchAsync(std::vector<HeartbeatRequest> reqs,
                           Callback<std::vector<absl::StatusOr<HeartbeatResult>>> cb);
  void CompleteAsync(CompleteRequest req, StatusCallback cb);
  void CompleteAndLeaseAsync(CompleteRequest complete, LeaseRequest lease,
                             Callback<CompleteAndLeaseResult> cb);
  void CompleteBatchAsync(std::vector<CompleteRequest> reqs,
                          Callback<std::vector<absl::Status>> cb);
  void FailAsync(FailRequest req, Callback<FailResult> cb);
  void FailBatchAsync(std::vector<FailRequest> reqs,
                      Callback<std::vector<absl::StatusOr<FailResult>>> cb);
  void CancelAsync(JobId id, Callback<JobState> cb);
  void RetryJobAsync(JobId id, Callback<JobState> cb);
  void CancelJobsAsync(CancelJobsRequest req, Callback<CancelJobsResult> cb);

  class Impl;

 private:
  explicit Engine(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ratchet

#endif  // RATCHET_ENGINE_ENGINE_H_
