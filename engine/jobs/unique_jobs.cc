#include "unique_jobs.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "ratchet/base/saturating.h"
#include "ratchet/base/status.h"
#include "ratchet/storage/keys.h"
#include "record_io.h"
#include "validation.h"

namespace ratchet::internal {

using storage::Cf;

namespace {

constexpr int Bit(JobState s) { return 1 << static_cast<int>(s); }
constexpr int kLiveBits =
    Bit(JobState::kScheduled) | Bit(JobState::kAvailable) | Bit(JobState::kRunning);

int Mask(const std::vector<JobState>& states) {
  int mask = 0;
  for (JobState s : states) mask |= Bit(s);
  return mask;
}

// A state the covered set needs whenever it holds `s`: every live state a
// job passes through before it can be in `s`.
int NeededBefore(JobState s) {
  switch (s) {
    case JobState::kScheduled:
      return 0;
    case JobState::kAvailable:
      return Bit(JobState::kScheduled);
    case JobState::kRunning:
      return Bit(JobState::kScheduled) | Bit(JobState::kAvailable);
    default:
      return kLiveBits;
  }
}

}  // namespace

absl::Status ValidateUnique(const std::string& field, const UniqueOptions& u) {
  switch (u.by) {
    case UniqueBy::kArgs:
      if (!u.key.empty()) return InvalidArgument(field + ".key", "must be empty when by is args");
      break;
    case UniqueBy::kKey:
      if (u.key.empty() || u.key.size() > kMaxUniqueKeyBytes) {
        return InvalidArgument(field + ".key",
                               absl::StrCat("must be 1..", kMaxUniqueKeyBytes,
                                            " bytes when by is key (got ", u.key.size(), ")"));
      }
      RATCHET_RETURN_IF_ERROR(ValidateUtf8(field + ".key", u.key));
      break;
    default:
      return InvalidArgument(field + ".by", "unknown value");
  }
  if (u.states.empty()) return InvalidArgument(field + ".states", "must not be empty");
  const int mask = Mask(u.states);
  for (JobState s : u.states) {
    if (static_cast<int>(s) > static_cast<int>(JobState::kCancelled)) {
      return InvalidArgument(field + ".states", "unknown state");
    }
    if ((mask & NeededBefore(s)) != NeededBefore(s)) {
      return InvalidArgument(
          field + ".states",
          absl::StrCat("'", JobStateName(s), "' needs every live state a job passes before it ",
                       "(available needs scheduled; running needs scheduled and available; a "
                       "finished state needs all three), or a job could come back into them"));
    }
  }
  if (u.period && u.period->count() <= 0) {
    return InvalidArgument(field + ".period", absl::StrCat(u.period->count(), " ms must be > 0"));
  }
  return absl::OkStatus();
}

std::string UniqueJobs::EntryKey(const EnqueueRequest& req) {
  const UniqueOptions& u = *req.unique;
  if (u.by == UniqueBy::kKey) return UniqueKey(req.queue, 'k', ContentFingerprint("", u.key));
  return UniqueKey(req.queue, 'a', ContentFingerprint(req.job_type, req.payload));
}

JobState UniqueJobs::StateFor(const JobRecord& r, int64_t now_ms) {
  const JobState s = internal::StateOf(r);
  if (IsTerminal(s) || s == JobState::kRunning || r.attempts() > 0) {
    return IsTerminal(s) ? s : JobState::kRunning;  // started: running or waiting for a retry
  }
  JobMeta* m = jobs_.indexes().Find(r.id());
  if (m == nullptr) return s;  // not indexed: cannot happen for a live record
  // What a Lease would see now; promoting makes it stick across a backward
  // clock step (docs/consistency.md, "Clock steps").
  jobs_.indexes().PromoteDue(m->queue, now_ms);
  return m->queue->scheduled.contains({m->time_ms, r.id()}) ? JobState::kScheduled
                                                            : JobState::kAvailable;
}

absl::StatusOr<std::optional<UniqueJobs::Match>> UniqueJobs::Find(storage::Batch& batch,
                                                                  TimePoint now,
                                                                  const EnqueueRequest& req,
                                                                  const std::string& entry) {
  RATCHET_ASSIGN_OR_RETURN(
      auto rec, FindRecord<UniqueRecord>(batch, Cf::kIdempotency, entry, "unique entry"));
  if (!rec) return std::nullopt;
  absl::StatusOr<JobRecord> r = jobs_.LoadState(batch, rec->job_id());
  if (absl::IsNotFound(r.status())) return std::nullopt;  // deleted by retention or purge
  RATCHET_RETURN_IF_ERROR(r.status());
  const int64_t now_ms = ToUnixMs(now);
  const UniqueOptions& u = *req.unique;
  if (u.period && SubtractSaturating(now_ms, r->created_at_ms()) >= u.period->count()) {
    return std::nullopt;
  }
  const JobState state = StateFor(*r, now_ms);
  if ((Mask(u.states) & Bit(state)) == 0) return std::nullopt;
  return Match{r->id(), state};
}

std::optional<JobState> UniqueJobs::MatchesEarlier(const EnqueueRequest& first,
                                                   const EnqueueRequest& req, TimePoint now) {
  // `first` is inserted in this write: never started, created now.
  const TimePoint run_at = first.run_at ? *first.run_at : now + first.delay.value_or(Millis(0));
  const JobState state = run_at > now ? JobState::kScheduled : JobState::kAvailable;
  if ((Mask(req.unique->states) & Bit(state)) == 0) return std::nullopt;
  return state;
}

void UniqueJobs::OnInsert(storage::Batch& batch, const EnqueueRequest& req, JobRecord& r) {
  const UniqueOptions& u = *req.unique;
  if (u.by == UniqueBy::kKey) r.set_unique_key(u.key);
  r.set_unique_entry(EntryKey(req));
  r.set_unique_states(Mask(u.states));
  r.set_unique_period_ms(u.period ? u.period->count() : 0);
  UniqueRecord rec;
  rec.set_job_id(r.id());
  batch.Put(Cf::kIdempotency, r.unique_entry(), rec.SerializeAsString());
}

int64_t UniqueJobs::CleanupDue(const JobRecord& r, int64_t now_ms) const {
  const JobState s = internal::StateOf(r);
  if ((r.unique_states() & Bit(s)) == 0) return now_ms;
  const QueueSettings settings = jobs_.SettingsOf(r.queue());
  const Millis retention =
      s == JobState::kDead ? settings.dead_retention : settings.completed_retention;
  int64_t due = AddSaturating(r.finished_at_ms(), retention.count());
  if (r.unique_period_ms() > 0) {
    due = std::min(due, AddSaturating(r.created_at_ms(), r.unique_period_ms()));
  }
  return due;
}

void UniqueJobs::OnFinish(storage::Batch& batch, const JobRecord& r) {
  if (r.unique_entry().empty()) return;
  const int64_t due = CleanupDue(r, r.finished_at_ms());
  batch.Put(Cf::kIdempotency, UniqueCleanupKey(due, r.unique_entry()), "");
  jobs_.indexes().unique_sweep().Added(due, jobs_.indexes().building_group());
}

absl::Status UniqueJobs::CleanUp(storage::Batch& batch, int64_t now_ms, std::string_view entry,
                                 std::string_view cleanup_key, int* written) {
  batch.Delete(Cf::kIdempotency, cleanup_key);
  ++*written;
  RATCHET_ASSIGN_OR_RETURN(
      auto rec, FindRecord<UniqueRecord>(batch, Cf::kIdempotency, entry, "unique entry"));
  if (!rec) return absl::OkStatus();
  absl::StatusOr<JobRecord> r = jobs_.LoadState(batch, rec->job_id());
  if (!r.ok() && !absl::IsNotFound(r.status())) return r.status();
  if (r.ok()) {
    // A live job (redriven, or a newer job than the one that finished)
    // puts its own cleanup key when it finishes.
    if (!IsTerminal(internal::StateOf(*r))) return absl::OkStatus();
    const int64_t due = CleanupDue(*r, now_ms);
    if (due > now_ms) {  // still covered: its retention was made longer
      batch.Put(Cf::kIdempotency, UniqueCleanupKey(due, entry), "");
      jobs_.indexes().unique_sweep().Added(due, jobs_.indexes().building_group());
      ++*written;
      return absl::OkStatus();
    }
  }
  batch.Delete(Cf::kIdempotency, entry);
  ++*written;
  return absl::OkStatus();
}

absl::StatusOr<int> UniqueJobs::Sweep(storage::Batch& batch, int64_t now_ms, int budget,
                                      bool* backlog) {
  int written = 0;
  const std::string prefix = UniqueCleanupPrefix();
  const std::string end = storage::KeyBuilder().Raw(prefix).I64(AddSaturating(now_ms, 1)).Build();
  absl::Status status;
  SweepCursor& cursor = jobs_.indexes().unique_sweep();
  std::optional<int64_t> swept;
  RATCHET_RETURN_IF_ERROR(jobs_.store().ForEach(
      Cf::kIdempotency, cursor.BeginScan(prefix, jobs_.indexes().durable_group()), end,
      [&](std::string_view key, std::string_view) {
        if (written + 3 > budget) {
          *backlog = true;
          return false;
        }
        storage::KeyReader reader(key.substr(prefix.size()));
        int64_t due_ms = 0;
        if (!reader.I64(&due_ms)) return true;
        if (batch.DeletesPending(Cf::kIdempotency, key)) {  // a pending pass
          swept = due_ms;
          return true;
        }
        status = CleanUp(batch, now_ms, reader.rest(), key, &written);
        if (status.ok()) swept = due_ms;
        return status.ok();
      }));
  RATCHET_RETURN_IF_ERROR(status);
  cursor.EndScan(swept);
  return written;
}

}  // namespace ratchet::internal
