#include "bulk_cancel.h"

#include <vector>

#include "ratchet/base/status.h"
#include "record_io.h"
#include "validation.h"

namespace ratchet::internal {
namespace {

using Phase = CancelRun::Phase;

bool Wanted(const CancelJobsRequest& req, Phase phase) {
  if (!req.state) return true;
  switch (phase) {
    case Phase::kScheduled:
      return *req.state == JobState::kScheduled;
    case Phase::kAvailable:
      return *req.state == JobState::kAvailable;
    case Phase::kRunning:
      return *req.state == JobState::kRunning;
    case Phase::kDone:
      break;
  }
  return false;
}

// The jobs of `set` after `*after`, until the budget is spent; those not
// yet touched whose key matches go to `ids`. Moves `*after` along; returns
// whether the set's end was reached.
template <typename Set, typename Key>
bool Scan(const Set& set, std::optional<Key>* after, const CancelJobsRequest& req,
          const CancelRun& run, Indexes& indexes, int* budget, std::vector<JobId>* ids) {
  auto it = *after ? set.upper_bound(**after) : set.begin();
  for (; it != set.end(); ++it) {
    if (*budget == 0) return false;
    --*budget;
    *after = *it;
    if (run.touched.contains(it->id)) continue;
    const JobMeta* m = indexes.Find(it->id);
    if (!req.concurrency_key.empty() && (!m || !m->group || m->group->key != req.concurrency_key)) {
      continue;
    }
    ids->push_back(it->id);
  }
  return true;
}

// Candidates of this slice, in index order, at most `max_jobs` examined.
std::vector<JobId> Candidates(QueueState& q, Indexes& indexes, const CancelJobsRequest& req,
                              CancelRun& run, int max_jobs) {
  std::vector<JobId> ids;
  int budget = max_jobs;
  while (run.phase != Phase::kDone && budget > 0) {
    bool end = true;
    if (Wanted(req, run.phase)) {
      if (run.phase == Phase::kAvailable) {
        end = Scan(q.ready, &run.ready_after, req, run, indexes, &budget, &ids);
      } else {
        const auto& set = run.phase == Phase::kScheduled ? q.scheduled : q.running;
        end = Scan(set, &run.timed_after, req, run, indexes, &budget, &ids);
      }
    }
    if (!end) break;
    run.phase = static_cast<Phase>(static_cast<int>(run.phase) + 1);
    run.timed_after.reset();
  }
  return ids;
}

// Before the slice writes anything: a workflow's job reaches the workflow's
// other queues when it is cancelled (its observers say which), so a caller
// limited to some queues is refused here rather than rolled back later
// (a rollback rebuilds the engine's state: not for a refused caller to
// cause). Only jobs the slice would cancel (the type filter applies) are
// checked, and each workflow once per run: its queues never change.
absl::Status CheckGuard(JobStore& jobs, storage::Batch& batch, const CancelJobsRequest& req,
                        const std::vector<JobId>& ids, CancelRun& run) {
  for (JobId id : ids) {
    RATCHET_ASSIGN_OR_RETURN(JobRecord r, jobs.LoadState(batch, id));
    if (!req.job_type.empty() && r.job_type() != req.job_type) continue;
    if (r.workflow_id() == 0 || run.guarded_workflows.contains(r.workflow_id())) continue;
    for (JobObserver* o : jobs.observers()) {
      RATCHET_RETURN_IF_ERROR(o->CheckCancel(batch, r, *req.guard));
    }
    run.guarded_workflows.insert(r.workflow_id());
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<bool> CancelSlice(JobMachine& machine, JobStore& jobs, storage::Batch& batch,
                                 TimePoint now, const CancelJobsRequest& req, CancelRun& run,
                                 int max_jobs) {
  RATCHET_RETURN_IF_ERROR(ValidateCancelJobs(req));
  if (req.guard) RATCHET_RETURN_IF_ERROR(req.guard->Check(req.queue));
  QueueState* q = jobs.indexes().FindQueue(req.queue);
  if (!q) return true;  // no such queue: nothing to cancel
  jobs.indexes().PromoteDue(q, ToUnixMs(now));
  const std::vector<JobId> candidates = Candidates(*q, jobs.indexes(), req, run, max_jobs);
  if (req.guard) RATCHET_RETURN_IF_ERROR(CheckGuard(jobs, batch, req, candidates, run));
  for (JobId id : candidates) {
    // An earlier Cancel's owner (a workflow cancelling its other steps) may
    // have ended this one in the same slice.
    if (!jobs.indexes().Find(id)) continue;
    RATCHET_ASSIGN_OR_RETURN(JobRecord r, jobs.Load(batch, id));
    if (!req.job_type.empty() && r.job_type() != req.job_type) continue;
    const bool requested_before = r.cancel_requested();
    RATCHET_ASSIGN_OR_RETURN(JobState state, machine.Cancel(batch, now, id));
    if (state == JobState::kCancelled) {
      ++run.result.cancelled;  // it left the live indexes: never seen again
      continue;
    }
    if (!requested_before) ++run.result.cancel_requested;
    run.touched.insert(id);  // still running: a heartbeat may move it ahead
  }
  return run.phase == Phase::kDone;
}

}  // namespace ratchet::internal
