// StateMachine: applies engine operations to the in-memory indexes and to
// the current group-commit batch. It runs only on the sequencer thread.
//
// Contract of every operation: it validates and checks everything first and
// returns an error before touching any state, so a rejected request leaves
// both the batch and the indexes unchanged. An accepted operation appends
// all of its writes to `batch` (one atomic write) and updates the indexes
// as if the batch will commit; if the commit fails, the engine is poisoned
// and the indexes are thrown away with it.
#ifndef RATCHET_ENGINE_STATE_MACHINE_H_
#define RATCHET_ENGINE_STATE_MACHINE_H_

#include <vector>

#include "absl/container/btree_set.h"
#include "absl/status/statusor.h"
#include "indexes.h"
#include "ratchet/engine/engine.h"
#include "ratchet/engine/schedule_types.h"
#include "ratchet/engine/workflow_types.h"
#include "ratchet/storage/store.h"
#include "record_cache.h"
#include "records.h"
#include "tick_spec.h"

namespace ratchet::internal {

class StateMachine {
 public:
  // `store` and `random` are borrowed and must outlive this object.
  StateMachine(storage::Store* store, const EngineOptions& options, Random* random);

  // Rebuilds the indexes and counters from the store. Call once, first.
  absl::Status Recover();

  // Writes the id and token high-water marks if they moved. Called by the
  // sequencer once per batch, just before the commit.
  void FinishBatch(storage::Batch& batch);

  absl::StatusOr<std::vector<EnqueueResult>> Enqueue(storage::Batch& batch, TimePoint now,
                                                     const std::vector<EnqueueRequest>& reqs,
                                                     const std::vector<AppWrite>& app_writes,
                                                     bool indexed_fields);
  absl::StatusOr<std::vector<LeasedJob>> Lease(storage::Batch& batch, TimePoint now,
                                               const LeaseRequest& req);
  // True if a Lease on `queue` now would lease at least one job.
  bool CanLease(const std::string& queue, TimePoint now);
  // When the earliest scheduled job of `queue` becomes available, if any.
  std::optional<int64_t> NextRunAt(const std::string& queue);
  absl::StatusOr<HeartbeatResult> Heartbeat(storage::Batch& batch, TimePoint now,
                                            const HeartbeatRequest& req);
  absl::Status Complete(storage::Batch& batch, TimePoint now, const CompleteRequest& req);
  absl::StatusOr<FailResult> Fail(storage::Batch& batch, TimePoint now, const FailRequest& req);
  absl::StatusOr<JobState> Cancel(storage::Batch& batch, TimePoint now, JobId id);

  // Scheduled, available and running jobs come from the indexes.
  absl::StatusOr<ListResult> ListLive(storage::Batch& batch, TimePoint now, const ListRequest& req);

  // Dead-letter operations read the committed DLQ index, so the sequencer
  // runs them at the start of a fresh batch.
  absl::StatusOr<BulkResult> Redrive(storage::Batch& batch, TimePoint now,
                                     const RedriveRequest& req);
  absl::StatusOr<BulkResult> Purge(storage::Batch& batch, const DeadLetterFilter& filter);

  absl::Status UpdateQueue(storage::Batch& batch, const std::string& name,
                           const QueueSettings& settings);
  absl::Status SetPaused(storage::Batch& batch, const std::string& name, bool paused);
  absl::StatusOr<QueueInfo> GetQueue(TimePoint now, const std::string& name);
  std::vector<QueueInfo> ListQueues(TimePoint now);

  // Ends up to `max_jobs` expired leases as failed attempts ("lease expired").
  absl::Status ExpireLeases(storage::Batch& batch, TimePoint now, int max_jobs);
  // One bounded retention pass over committed data; run on a fresh batch.
  // Returns the number of keys deleted.
  absl::StatusOr<int> Sweep(storage::Batch& batch, TimePoint now, int max_keys);

  // ---- Workflows: workflow_submit.cc, workflow_steps.cc, workflow_code.cc,
  // workflow_read.cc. A step's job carries its workflow id and step index;
  // every change of a step's job updates the step and its workflow in the
  // same batch (see docs/workflows.md).
  absl::StatusOr<WorkflowSubmitResult> SubmitWorkflow(storage::Batch& batch, TimePoint now,
                                                      const WorkflowSpec& spec);
  absl::StatusOr<WorkflowSubmitResult> StartWorkflow(storage::Batch& batch, TimePoint now,
                                                     const StartWorkflowRequest& req);
  absl::StatusOr<Workflow> GetWorkflow(storage::Batch& batch, TimePoint now, WorkflowId id);
  absl::StatusOr<WorkflowListResult> ListWorkflows(storage::Batch& batch,
                                                   const WorkflowListRequest& req);
  absl::StatusOr<WorkflowState> CancelWorkflow(storage::Batch& batch, TimePoint now, WorkflowId id);
  absl::Status SendEvent(storage::Batch& batch, TimePoint now, const SendEventRequest& req);
  absl::Status RecordStep(storage::Batch& batch, TimePoint now, const RecordStepRequest& req);
  absl::Status Suspend(storage::Batch& batch, TimePoint now, const SuspendRequest& req);

  // ---- Schedules: schedules.cc, schedule_fire.cc.
  absl::Status CreateSchedule(storage::Batch& batch, TimePoint now, const ScheduleSpec& spec,
                              bool update);
  absl::Status DeleteSchedule(storage::Batch& batch, const std::string& id);
  absl::Status SetSchedulePaused(storage::Batch& batch, TimePoint now, const std::string& id,
                                 bool paused);
  absl::StatusOr<ScheduleInfo> GetSchedule(storage::Batch& batch, const std::string& id);
  absl::StatusOr<std::vector<ScheduleInfo>> ListSchedules(storage::Batch& batch);
  absl::StatusOr<TriggerResult> TriggerSchedule(storage::Batch& batch, TimePoint now,
                                                const std::string& id);
  // Fires the ticks due at `now` of at most `max_schedules` schedules.
  absl::Status FireDueSchedules(storage::Batch& batch, TimePoint now, int max_schedules);
  // When the earliest active schedule is next due, if any.
  std::optional<int64_t> NextScheduleDue() const;

  std::optional<int64_t> NextDeadline() const { return indexes_.NextDeadline(); }
  size_t live_jobs() const { return indexes_.live_jobs(); }

 private:
  struct EnqueuePlan {
    JobId existing = 0;       // duplicate of a stored job
    int duplicate_of = -1;    // duplicate of an earlier request in the same call
    std::string fingerprint;  // of a keyed job to insert
  };
  // Where a job inserted by the engine itself comes from.
  struct JobOrigin {
    WorkflowId workflow_id = 0;
    int step_index = 0;  // -1: a code-first workflow's main job
    std::string step_name;
    std::vector<StepOutputRecord> inputs;
    std::string schedule_id;
    int64_t schedule_tick_ms = 0;
  };

  absl::Status CountFinished();
  absl::StatusOr<JobRecord> Load(storage::Batch& batch, JobId id);
  // The only writers of the jobs column family (they keep cache_ coherent).
  void Save(storage::Batch& batch, const JobRecord& r);
  void Delete(storage::Batch& batch, JobId id);
  QueueState* EnsureQueue(storage::Batch& batch, const std::string& name);
  absl::StatusOr<std::vector<EnqueuePlan>> PlanEnqueue(storage::Batch& batch, TimePoint now,
                                                       const std::vector<EnqueueRequest>& reqs,
                                                       bool indexed_fields);
  JobId Insert(storage::Batch& batch, TimePoint now, const EnqueueRequest& req,
               const std::string& fingerprint, const JobOrigin* origin = nullptr);
  // The Fail path shared by Fail and lease expiry.
  FailResult EndAttemptInFailure(storage::Batch& batch, TimePoint now, JobRecord& r,
                                 absl::string_view error, bool retryable);
  // Ends a job. With notify, its workflow or schedule learns of it.
  void Finish(storage::Batch& batch, TimePoint now, JobRecord& r, JobState state,
              bool notify = true);

  // Workflow internals (workflow_steps.cc).
  void OnJobFinished(storage::Batch& batch, TimePoint now, const JobRecord& r);
  void OnJobRedriven(storage::Batch& batch, TimePoint now, const JobRecord& r);
  absl::Status OnStepFinished(storage::Batch& batch, TimePoint now, const JobRecord& r);
  absl::Status OnMainJobFinished(storage::Batch& batch, TimePoint now, const JobRecord& r);
  absl::Status ReleaseStep(storage::Batch& batch, TimePoint now, const WorkflowRecord& wf,
                           int index, StepRecord& step);
  // Resolves step `index` for its dependents: one fewer to wait for each,
  // released when none is left and the workflow is running.
  absl::Status ResolveDependents(storage::Batch& batch, TimePoint now, const WorkflowRecord& wf,
                                 const StepRecord& step);
  absl::Status FailWorkflow(storage::Batch& batch, TimePoint now, WorkflowRecord& wf,
                            const std::string& error);
  absl::Status ResumeWorkflow(storage::Batch& batch, TimePoint now, WorkflowRecord& wf);
  void EndWorkflow(storage::Batch& batch, TimePoint now, WorkflowRecord& wf, WorkflowState state);
  // Cancels a step's queued job; with request_running, also requests
  // cancellation of a running one. Returns true if the job ended now.
  absl::StatusOr<bool> CancelStepJob(storage::Batch& batch, TimePoint now, JobId id,
                                     bool request_running);
  void IndexWorkflow(WorkflowId id, std::optional<WorkflowState> from, WorkflowState to);
  absl::Status AttachWorkflow(storage::Batch& batch, const JobRecord& r, LeasedJob* out);
  // LEASE_LOST unless `token` holds the job's current lease.
  absl::Status CheckLease(JobId job_id, FencingToken token, absl::string_view op);
  absl::StatusOr<WorkflowSubmitResult> CreateWorkflow(storage::Batch& batch, TimePoint now,
                                                      WorkflowRecord wf,
                                                      std::vector<StepRecord> steps,
                                                      const EnqueueRequest* main_job);
  absl::Status RecoverWorkflows();
  absl::StatusOr<int> SweepWorkflows(storage::Batch& batch, TimePoint now, int max_keys);

  // Schedule internals (schedule_fire.cc).
  absl::Status RecoverSchedules();
  void OnScheduledJobFinished(storage::Batch& batch, TimePoint now, const JobRecord& r);
  absl::StatusOr<ScheduleRecord> LoadSchedule(storage::Batch& batch, const std::string& id);
  void SaveSchedule(storage::Batch& batch, const ScheduleRecord& rec);
  // Re-files the schedule in the due index from its cursor and settings.
  void IndexSchedule(const ScheduleRecord& rec);
  std::optional<int64_t> NextTick(const ScheduleRecord& rec) const;
  // Evaluates the due ticks of one schedule at `now` (policies applied).
  absl::Status EvaluateSchedule(storage::Batch& batch, TimePoint now, ScheduleRecord& rec);
  // Fires one tick, subject to the overlap policy.
  absl::Status FireTick(storage::Batch& batch, TimePoint now, ScheduleRecord& rec, int64_t tick_ms,
                        bool manual);
  absl::StatusOr<std::vector<JobId>> MatchDead(const DeadLetterFilter& filter, bool* more);

  storage::Store* const store_;
  const EngineOptions options_;
  Random* const random_;

  Indexes indexes_;
  RecordCache cache_;
  JobId next_job_id_ = 1;
  WorkflowId next_workflow_id_ = 1;
  absl::btree_set<WorkflowId> workflows_by_state_[4];  // by WorkflowState
  // Active (unpaused, not ended) schedules by next due time (ms, id).
  absl::btree_set<std::pair<int64_t, std::string>> schedule_due_;
  absl::flat_hash_map<std::string, int64_t> schedule_next_;  // id -> due ms
  // Every schedule's parsed spec, paused ones included (also the id list).
  absl::flat_hash_map<std::string, TickSpec> tick_specs_;
  FencingToken next_token_ = 1;
  bool counters_dirty_ = false;
};

}  // namespace ratchet::internal

#endif  // RATCHET_ENGINE_STATE_MACHINE_H_
