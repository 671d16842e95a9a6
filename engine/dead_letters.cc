// StateMachine: the dead-letter queue. Dead jobs keep their record in the
// jobs CF; the dead_letters CF indexes them by queue and time of death.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "ratchet/base/status.h"
#include "ratchet/storage/keys.h"
#include "state_machine.h"
#include "validation.h"

namespace ratchet::internal {

using storage::Cf;

absl::StatusOr<std::vector<JobId>> StateMachine::MatchDead(const DeadLetterFilter& filter,
                                                           bool* more) {
  std::vector<JobId> ids;
  if (filter.job_id) {
    storage::Batch empty(store_);
    RATCHET_ASSIGN_OR_RETURN(JobRecord r, Load(empty, *filter.job_id));
    if (!filter.queue.empty() && r.queue() != filter.queue) {
      return NotFound(
          absl::StrCat("job ", *filter.job_id, " is not in queue '", filter.queue, "'"));
    }
    if (static_cast<JobState>(r.state()) != JobState::kDead) {
      return InvalidState(absl::StrCat("job ", *filter.job_id, " is ",
                                       JobStateName(static_cast<JobState>(r.state())),
                                       ", not dead"));
    }
    ids.push_back(r.id());
    return ids;
  }
  std::string prefix = DeadPrefix(filter.queue);
  absl::Status read_status;
  absl::Status s = store_->ForEach(
      Cf::kDeadLetters, prefix, storage::PrefixSuccessor(prefix),
      [&](std::string_view key, std::string_view) {
        JobId id = JobIdFromIndexKey(key);
        if (!filter.job_type.empty()) {
          auto value = store_->Get(Cf::kJobs, JobKey(id));
          JobRecord r;
          if (!value.ok()) {
            read_status = value.status();
            return false;
          }
          if (!*value || !r.ParseFromString(**value) || r.job_type() != filter.job_type) {
            return true;
          }
        }
        if (static_cast<int>(ids.size()) == filter.limit) {
          *more = true;
          return false;
        }
        ids.push_back(id);
        return true;
      });
  RATCHET_RETURN_IF_ERROR(s);
  RATCHET_RETURN_IF_ERROR(read_status);
  return ids;
}

absl::StatusOr<BulkResult> StateMachine::Redrive(storage::Batch& batch, TimePoint now,
                                                 const RedriveRequest& req) {
  RATCHET_RETURN_IF_ERROR(ValidateFilter(req.filter));
  bool more = false;
  RATCHET_ASSIGN_OR_RETURN(std::vector<JobId> ids, MatchDead(req.filter, &more));
  std::vector<JobRecord> records;
  for (JobId id : ids) {
    RATCHET_ASSIGN_OR_RETURN(JobRecord r, Load(batch, id));
    records.push_back(std::move(r));
  }
  for (JobRecord& r : records) {
    batch.Delete(Cf::kDeadLetters, DeadKey(r));
    if (QueueState* q = indexes_.FindQueue(r.queue())) q->dead--;
    if (req.reset_attempts) {
      r.set_attempts(0);
      r.set_last_backoff_ms(0);
    } else {
      r.set_max_attempts(std::max(r.max_attempts(), r.attempts() + 1));
    }
    r.set_state(static_cast<int>(JobState::kScheduled));
    r.set_run_at_ms(ToUnixMs(now));
    r.set_finished_at_ms(0);
    r.set_cancel_requested(false);
    Save(batch, r);
    indexes_.AddWaiting(r.id(), EnsureQueue(batch, r.queue()), r.priority(), r.run_at_ms());
    if (r.workflow_id() != 0) OnJobRedriven(batch, now, r);
  }
  return BulkResult{static_cast<int>(records.size()), more};
}

absl::StatusOr<BulkResult> StateMachine::Purge(storage::Batch& batch,
                                               const DeadLetterFilter& filter) {
  RATCHET_RETURN_IF_ERROR(ValidateFilter(filter));
  bool more = false;
  RATCHET_ASSIGN_OR_RETURN(std::vector<JobId> ids, MatchDead(filter, &more));
  std::vector<JobRecord> records;
  for (JobId id : ids) {
    RATCHET_ASSIGN_OR_RETURN(JobRecord r, Load(batch, id));
    records.push_back(std::move(r));
  }
  for (const JobRecord& r : records) {
    batch.Delete(Cf::kDeadLetters, DeadKey(r));
    Delete(batch, r.id());
    if (QueueState* q = indexes_.FindQueue(r.queue())) q->dead--;
  }
  return BulkResult{static_cast<int>(records.size()), more};
}

}  // namespace ratchet::internal
