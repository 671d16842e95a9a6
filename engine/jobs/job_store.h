// JobStore: the job domain's state, shared by the classes of engine/jobs:
// the jobs column family behind a write-through record cache, the in-memory
// indexes of queues and live jobs, the job id and fencing token counters,
// and the registered JobObservers.
//
// Thread safety: sequencer thread only, like everything it holds.
// Record access: Save and DeleteFinished are the only writers of the jobs
// and finished_jobs column families, so the record cache is always coherent
// with the pending batch. A live job's record is in `jobs`; Save moves it to
// `finished_jobs` when it finishes (and back if it is redriven), so recovery
// reads live jobs only.
#ifndef RATCHET_ENGINE_JOBS_JOB_STORE_H_
#define RATCHET_ENGINE_JOBS_JOB_STORE_H_

#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "absl/status/statusor.h"
#include "indexes.h"
#include "job_events.h"
#include "job_observer.h"
#include "ratchet/engine/engine_options.h"
#include "ratchet/storage/store.h"
#include "record_cache.h"
#include "schema.h"

namespace ratchet::internal {

class JobStore {
 public:
  // `store` is borrowed and must outlive this object; `options` is copied.
  JobStore(storage::Store* store, const EngineOptions& options);

  // Rebuilds queues, live-job indexes, finished counts and counters from
  // the store (job_recovery.cc). Call once, before anything else.
  // Errors: DATA_LOSS naming the record that does not parse; UNAVAILABLE.
  absl::Status Recover();

  // Writes the id and token high-water marks if they moved. Called once per
  // group, just before its commit.
  void FinishBatch(storage::Batch& batch);

  // The job's whole record as of the pending batch, live or finished: its
  // state record merged with its payload record (schema 3).
  // Errors: NOT_FOUND; DATA_LOSS (a record, or the payload record it names,
  // missing or not parsing).
  absl::StatusOr<JobRecord> Load(storage::Batch& batch, JobId id);
  // The job's state record only (payload and inputs absent when they are in
  // job_payloads): one read less, and a job whose payload record is damaged
  // can still expire, fail or be checked. Save accepts it and leaves the
  // payload record alone. Errors: NOT_FOUND; DATA_LOSS (the state record).
  absl::StatusOr<JobRecord> LoadState(storage::Batch& batch, JobId id);
  // Writes the state record to `jobs` if the job is live, else to
  // `finished_jobs`, deleting the other copy when a live job finishes or a
  // finished one loaded in this group comes back (redrive). The state record
  // never holds the payload and inputs: the job's first write (its enqueue,
  // or the first write of a record from schema 2) puts them in job_payloads
  // and sets payload_split; later writes leave them alone. `r` is a whole
  // record (from Load, or new); it is borrowed to serialize and is left as
  // it was, but for payload_split. A record from LoadState (split, with
  // neither payload nor inputs) writes only its state.
  void Save(storage::Batch& batch, JobRecord& r);
  // Deletes a finished job's state and payload records (retention, purge).
  void DeleteFinished(storage::Batch& batch, JobId id);

  // Finished-job counts per queue, kept in the meta column family in the
  // same write as the change (one Put per call), so recovery reads them
  // instead of counting the indexes. CountFinished also puts the queue on
  // the retention schedule for the job's class.
  void CountFinished(storage::Batch& batch, QueueState* q, JobState state, int64_t finished_at_ms);
  // `n` finished jobs of `state` left `q` (retention, purge, redrive).
  void UncountFinished(storage::Batch& batch, QueueState* q, JobState state, int64_t n);

  // Job records the last Recover parsed (live jobs only, in schema 2).
  int64_t recovered_records() const { return recovered_records_; }

  // The queue, created with the default settings (and stored) if new.
  QueueState* EnsureQueue(storage::Batch& batch, const std::string& name);

  // The queue's settings, or the defaults for a queue not yet created.
  QueueSettings SettingsOf(const std::string& name) const;

  JobId NextJobId();
  FencingToken NextToken();

  // Observers are borrowed and must outlive this object.
  void AddObserver(JobObserver* observer) { observers_.push_back(observer); }
  const std::vector<JobObserver*>& observers() const { return observers_; }

  // Where job events go (metrics); borrowed, must outlive this object.
  // Defaults to NoJobEvents.
  void SetEvents(JobEvents* events) { events_ = events; }
  JobEvents& events() { return *events_; }

  Indexes& indexes() { return indexes_; }
  const Indexes& indexes() const { return indexes_; }
  storage::Store& store() { return *store_; }
  const EngineOptions& options() const { return options_; }

 private:
  absl::Status RecoverJobs();
  absl::Status RecoverFinishedCounts();
  absl::Status RecoverStartLogs();
  void SaveFinishedCounts(storage::Batch& batch, const QueueState& q);

  storage::Store* const store_;
  const EngineOptions options_;  // a copy: read on every operation
  Indexes indexes_;
  RecordCache cache_;
  std::vector<JobObserver*> observers_;
  JobEvents* events_ = NoJobEvents::Instance();
  JobId next_job_id_ = 1;
  FencingToken next_token_ = 1;
  bool counters_dirty_ = false;
  // Jobs loaded from finished_jobs in this group: a live Save of one of
  // them deletes its finished copy. Cleared by FinishBatch.
  absl::flat_hash_set<JobId> loaded_finished_;
  int64_t recovered_records_ = 0;
};

}  // namespace ratchet::internal

#endif  // RATCHET_ENGINE_JOBS_JOB_STORE_H_
