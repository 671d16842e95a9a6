#include "dead_letters.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "ratchet/base/invariant.h"
#include "ratchet/base/saturating.h"
#include "ratchet/base/status.h"
#include "ratchet/storage/keys.h"
#include "record_io.h"
#include "validation.h"

namespace ratchet::internal {

using storage::Cf;

absl::StatusOr<JobRecord> DeadLetters::MatchJob(storage::Batch& batch,
                                                const DeadLetterFilter& filter) {
  RATCHET_ASSIGN_OR_RETURN(JobRecord r, jobs_.Load(batch, *filter.job_id));
  if (!filter.queue.empty() && r.queue() != filter.queue) {
    return NotFound(absl::StrCat("job ", *filter.job_id, " is not in queue '", filter.queue, "'"));
  }
  if (StateOf(r) != JobState::kDead) {
    return InvalidState(
        absl::StrCat("job ", *filter.job_id, " is ", JobStateName(StateOf(r)), ", not dead"));
  }
  return r;
}

absl::StatusOr<bool> DeadLetters::HasType(JobId id, const std::string& job_type) {
  RATCHET_ASSIGN_OR_RETURN(std::optional<JobRecord> r, FindCommittedJob(jobs_.store(), id));
  return r && r->job_type() == job_type;
}

absl::StatusOr<std::vector<JobId>> DeadLetters::ScanSlice(const DeadLetterFilter& filter,
                                                          DeadLetterRun& run, int max_keys,
                                                          int* examined) {
  std::vector<JobId> ids;
  absl::Status read_status;
  bool stopped = false;  // by the slice's budget or the run's limit
  absl::Status s = jobs_.store().ForEach(
      Cf::kDeadLetters, run.next_key, run.end_key, [&](std::string_view key, std::string_view) {
        if (*examined == max_keys) {
          stopped = true;
          return false;
        }
        ++*examined;
        run.next_key = std::string(key) + '\0';  // the key right after it
        JobId id = JobIdFromIndexKey(key);
        if (run.touched.contains(id)) return true;
        if (!filter.job_type.empty()) {
          absl::StatusOr<bool> match = HasType(id, filter.job_type);
          if (!match.ok()) {
            read_status = match.status();
            return false;
          }
          if (!*match) return true;
        }
        if (run.count + static_cast<int>(ids.size()) == filter.limit) {
          run.more = true;  // one more matches than the limit allows
          run.done = true;
          stopped = true;
          return false;
        }
        ids.push_back(id);
        return true;
      });
  RATCHET_RETURN_IF_ERROR(s);
  RATCHET_RETURN_IF_ERROR(read_status);
  if (!stopped) run.done = true;  // the end of the jobs dead at the start
  return ids;
}

absl::StatusOr<std::vector<JobRecord>> DeadLetters::MatchSlice(storage::Batch& batch,
                                                               const DeadLetterFilter& filter,
                                                               DeadLetterRun& run, int max_keys,
                                                               int* examined) {
  RATCHET_RETURN_IF_ERROR(ValidateFilter(filter));
  std::vector<JobRecord> records;
  if (filter.job_id) {
    RATCHET_ASSIGN_OR_RETURN(JobRecord r, MatchJob(batch, filter));
    *examined = 1;
    run.done = true;
    records.push_back(std::move(r));
    return records;
  }
  if (!run.started) {
    // No bound by time of death: after a backward clock step, jobs dead
    // before the run can have keys "from the future". A job this run took
    // that dies again is skipped by `touched` instead.
    run.started = true;
    run.next_key = DeadPrefix(filter.queue);
    run.end_key = storage::PrefixSuccessor(run.next_key);
  }
  RATCHET_ASSIGN_OR_RETURN(std::vector<JobId> ids, ScanSlice(filter, run, max_keys, examined));
  records.reserve(ids.size());
  for (JobId id : ids) {
    RATCHET_ASSIGN_OR_RETURN(JobRecord r, jobs_.Load(batch, id));
    records.push_back(std::move(r));
  }
  return records;
}

void DeadLetters::Unlist(storage::Batch& batch, const JobRecord& r) {
  batch.Delete(Cf::kDeadLetters, DeadKey(r));
  jobs_.UncountFinished(batch, jobs_.EnsureQueue(batch, r.queue()), JobState::kDead, 1);
}

namespace {

// When the i-th job of a redrive run (from 0) becomes available: now, or
// paced, start + floor(i / limit) * period (docs/consistency.md).
int64_t RedriveAt(const RedriveRequest& req, DeadLetterRun& run, TimePoint now, int64_t i) {
  if (run.start_ms < 0) run.start_ms = ToUnixMs(now);
  if (!req.pace) return ToUnixMs(now);
  return run.start_ms + (i / req.pace->limit) * req.pace->period.count();
}

}  // namespace

absl::StatusOr<int> DeadLetters::RedriveSlice(storage::Batch& batch, TimePoint now,
                                              const RedriveRequest& req, DeadLetterRun& run,
                                              int max_keys) {
  RATCHET_RETURN_IF_ERROR(ValidateRedrive(req));
  int examined = 0;
  RATCHET_ASSIGN_OR_RETURN(std::vector<JobRecord> records,
                           MatchSlice(batch, req.filter, run, max_keys, &examined));
  int64_t i = run.count;
  for (JobRecord& r : records) {
    Unlist(batch, r);
    if (req.reset_attempts) {
      r.set_attempts(0);
      r.set_last_backoff_ms(0);
    } else {
      r.set_max_attempts(
          std::max(r.max_attempts(), IncrementSaturating(std::max(0, r.attempts()))));
    }
    SetState(r, JobState::kScheduled);
    r.set_run_at_ms(RedriveAt(req, run, now, i++));
    r.set_finished_at_ms(0);
    r.set_cancel_requested(false);
    jobs_.Save(batch, r);
    jobs_.indexes().AddWaiting(r.id(), jobs_.EnsureQueue(batch, r.queue()), r.priority(),
                               r.run_at_ms(), r.concurrency_key());
    // An owner that cannot follow fails the slice (rolled back) and the run.
    for (JobObserver* o : jobs_.observers())
      RATCHET_RETURN_IF_ERROR(o->OnJobRedriven(batch, now, r));
    run.touched.insert(r.id());
  }
  run.count += static_cast<int>(records.size());
  return examined;
}

absl::StatusOr<int> DeadLetters::PurgeSlice(storage::Batch& batch, const DeadLetterFilter& filter,
                                            DeadLetterRun& run, int max_keys) {
  int examined = 0;
  RATCHET_ASSIGN_OR_RETURN(std::vector<JobRecord> records,
                           MatchSlice(batch, filter, run, max_keys, &examined));
  for (const JobRecord& r : records) {
    Unlist(batch, r);
    jobs_.DeleteFinished(batch, r.id());
    run.touched.insert(r.id());
  }
  run.count += static_cast<int>(records.size());
  return examined;
}

}  // namespace ratchet::internal
