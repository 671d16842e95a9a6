#include "dead_letters.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "ratchet/base/invariant.h"
#include "ratchet/base/status.h"
#include "ratchet/storage/keys.h"
#include "record_io.h"
#include "validation.h"

namespace ratchet::internal {

using storage::Cf;

absl::StatusOr<std::vector<JobId>> DeadLetters::MatchDead(const DeadLetterFilter& filter,
                                                          bool* more) {
  std::vector<JobId> ids;
  if (filter.job_id) {
    storage::Batch empty(&jobs_.store());
    RATCHET_ASSIGN_OR_RETURN(JobRecord r, jobs_.Load(empty, *filter.job_id));
    if (!filter.queue.empty() && r.queue() != filter.queue) {
      return NotFound(
          absl::StrCat("job ", *filter.job_id, " is not in queue '", filter.queue, "'"));
    }
    if (StateOf(r) != JobState::kDead) {
      return InvalidState(
          absl::StrCat("job ", *filter.job_id, " is ", JobStateName(StateOf(r)), ", not dead"));
    }
    ids.push_back(r.id());
    return ids;
  }
  std::string prefix = DeadPrefix(filter.queue);
  absl::Status read_status;
  absl::Status s =
      jobs_.store().ForEach(Cf::kDeadLetters, prefix, storage::PrefixSuccessor(prefix),
                            [&](std::string_view key, std::string_view) {
                              JobId id = JobIdFromIndexKey(key);
                              if (!filter.job_type.empty()) {
                                auto r = FindCommittedJob(jobs_.store(), id);
                                if (!r.ok() && !absl::IsDataLoss(r.status())) {
                                  read_status = r.status();
                                  return false;
                                }
                                if (!r.ok() || !*r || (*r)->job_type() != filter.job_type)
                                  return true;
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

absl::StatusOr<std::vector<JobRecord>> DeadLetters::LoadAll(storage::Batch& batch,
                                                            const std::vector<JobId>& ids) {
  std::vector<JobRecord> records;
  records.reserve(ids.size());
  for (JobId id : ids) {
    RATCHET_ASSIGN_OR_RETURN(JobRecord r, jobs_.Load(batch, id));
    records.push_back(std::move(r));
  }
  return records;
}

absl::StatusOr<BulkResult> DeadLetters::Redrive(storage::Batch& batch, TimePoint now,
                                                const RedriveRequest& req) {
  RATCHET_RETURN_IF_ERROR(ValidateFilter(req.filter));
  bool more = false;
  RATCHET_ASSIGN_OR_RETURN(std::vector<JobId> ids, MatchDead(req.filter, &more));
  RATCHET_ASSIGN_OR_RETURN(std::vector<JobRecord> records, LoadAll(batch, ids));
  for (JobRecord& r : records) {
    batch.Delete(Cf::kDeadLetters, DeadKey(r));
    jobs_.UncountFinished(batch, jobs_.EnsureQueue(batch, r.queue()), JobState::kDead, 1);
    if (req.reset_attempts) {
      r.set_attempts(0);
      r.set_last_backoff_ms(0);
    } else {
      r.set_max_attempts(std::max(r.max_attempts(), r.attempts() + 1));
    }
    SetState(r, JobState::kScheduled);
    r.set_run_at_ms(ToUnixMs(now));
    r.set_finished_at_ms(0);
    r.set_cancel_requested(false);
    jobs_.Save(batch, r);
    jobs_.indexes().AddWaiting(r.id(), jobs_.EnsureQueue(batch, r.queue()), r.priority(),
                               r.run_at_ms());
    // An owner that cannot follow fails the whole redrive (rolled back).
    for (JobObserver* o : jobs_.observers())
      RATCHET_RETURN_IF_ERROR(o->OnJobRedriven(batch, now, r));
  }
  return BulkResult{static_cast<int>(records.size()), more};
}

absl::StatusOr<BulkResult> DeadLetters::Purge(storage::Batch& batch,
                                              const DeadLetterFilter& filter) {
  RATCHET_RETURN_IF_ERROR(ValidateFilter(filter));
  bool more = false;
  RATCHET_ASSIGN_OR_RETURN(std::vector<JobId> ids, MatchDead(filter, &more));
  RATCHET_ASSIGN_OR_RETURN(std::vector<JobRecord> records, LoadAll(batch, ids));
  for (const JobRecord& r : records) {
    batch.Delete(Cf::kDeadLetters, DeadKey(r));
    jobs_.DeleteFinished(batch, r.id());
    jobs_.UncountFinished(batch, jobs_.EnsureQueue(batch, r.queue()), JobState::kDead, 1);
  }
  return BulkResult{static_cast<int>(records.size()), more};
}

}  // namespace ratchet::internal
