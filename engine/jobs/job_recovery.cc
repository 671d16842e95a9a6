// JobStore::Recover: rebuilds the in-memory indexes from RocksDB at open.
// It reads the live jobs (the `jobs` column family) and each queue's
// persisted finished counts, never the finished jobs themselves, so open
// time grows with the live jobs, not with throughput x retention. A data
// directory of schema 1 is migrated first (job_migration.h).
// A record that does not parse stops the open with DATA_LOSS naming its
// column family and key (CorruptRecord); docs/operations.md says what to do.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "job_machine.h"
#include "job_migration.h"
#include "job_store.h"
#include "ratchet/base/status.h"
#include "ratchet/storage/keys.h"
#include "record_check.h"

namespace ratchet::internal {

using storage::Cf;

absl::Status JobStore::Recover() {
  RATCHET_RETURN_IF_ERROR(MigrateJobsToSchema2(*store_));
  RATCHET_RETURN_IF_ERROR(MigrateJobsToSchema3(*store_));
  RATCHET_ASSIGN_OR_RETURN(auto next_id, store_->Get(Cf::kMeta, kMetaNextJobId));
  RATCHET_ASSIGN_OR_RETURN(auto next_token, store_->Get(Cf::kMeta, kMetaNextToken));
  if (next_id) next_job_id_ = std::max<JobId>(1, DecodeU64(*next_id));
  if (next_token) next_token_ = std::max<FencingToken>(1, DecodeU64(*next_token));

  absl::Status parse_status;
  RATCHET_RETURN_IF_ERROR(
      store_->ForEach(Cf::kQueues, "", "", [&](std::string_view name, std::string_view value) {
        QueueRecord rec;
        parse_status = ParseStored(Cf::kQueues, name, value, &rec);
        if (parse_status.ok()) parse_status = CheckQueueRecord(name, rec);
        if (!parse_status.ok()) return false;
        indexes_.AddQueue(std::string(name), FromRecord(rec));
        return true;
      }));
  RATCHET_RETURN_IF_ERROR(parse_status);
  RATCHET_RETURN_IF_ERROR(RecoverJobs());
  RATCHET_RETURN_IF_ERROR(RecoverStartLogs());
  return RecoverFinishedCounts();
}

absl::Status JobStore::RecoverStartLogs() {
  // Rate-limit starts still in (or recently out of) their window; the
  // expired ones are deleted by the next ExpireLeases, in slices.
  RATCHET_ASSIGN_OR_RETURN(auto clock, store_->Get(Cf::kMeta, StartLogs::kClockKey));
  if (clock) {
    if (clock->size() != 8) {
      return CorruptRecord(Cf::kMeta, StartLogs::kClockKey, "rate-limit clock does not parse");
    }
    indexes_.AdvanceRateClock(static_cast<int64_t>(DecodeU64(*clock)));
  }
  const std::string prefix = StartLogs::Prefix();
  absl::Status parse_status;
  RATCHET_RETURN_IF_ERROR(store_->ForEach(
      Cf::kMeta, prefix, storage::PrefixSuccessor(prefix),
      [&](std::string_view key, std::string_view value) {
        std::optional<StartLogs::Stored> s = StartLogs::ParseEntry(key, value);
        if (!s) {
          parse_status = CorruptRecord(Cf::kMeta, key, "rate-limit start does not parse");
          return false;
        }
        indexes_.start_logs().Restore(s->queue, s->queue_wide, s->scope_key, s->at_ms,
                                      s->expires_ms, s->id);
        indexes_.AdvanceRateClock(s->at_ms);
        return true;
      }));
  return parse_status;
}

absl::Status JobStore::RecoverJobs() {
  absl::Status parse_status;
  JobRecord r;
  recovered_records_ = 0;
  RATCHET_RETURN_IF_ERROR(
      store_->ForEach(Cf::kJobs, "", "", [&](std::string_view key, std::string_view value) {
        parse_status = ParseStored(Cf::kJobs, key, value, &r);
        if (!parse_status.ok()) return false;
        ++recovered_records_;
        // Belt and braces: the counters are written with every id and token,
        // but never hand out an id or token at or below one on disk.
        next_job_id_ = std::max<JobId>(next_job_id_, r.id() + 1);
        next_token_ = std::max<FencingToken>(next_token_, r.token() + 1);
        const JobState state = StateOf(r);
        // Not written by schema 2 (the migration moves them all); a
        // leftover is still a finished job, readable by Get, and not live.
        if (IsTerminal(state)) return true;
        QueueState* q = indexes_.FindQueue(r.queue());
        if (!q) q = indexes_.AddQueue(r.queue(), options_.default_queue_settings);
        if (state == JobState::kRunning) {
          indexes_.AddRunning(r.id(), q, r.priority(), r.lease_deadline_ms(), r.token(),
                              r.cancel_requested(), r.concurrency_key());
        } else {
          indexes_.AddWaiting(r.id(), q, r.priority(), r.run_at_ms(), r.concurrency_key());
          if (ExpiryApplies(r)) indexes_.SetExpiry(r.id(), r.expires_at_ms());
        }
        return true;
      }));
  return parse_status;
}

absl::Status JobStore::RecoverFinishedCounts() {
  const std::string prefix = FinishedCountPrefix();
  absl::Status parse_status;
  RATCHET_RETURN_IF_ERROR(store_->ForEach(
      Cf::kMeta, prefix, storage::PrefixSuccessor(prefix),
      [&](std::string_view key, std::string_view value) {
        uint64_t completed = 0, cancelled = 0, dead = 0;
        storage::KeyReader reader(value);
        constexpr uint64_t kMax = static_cast<uint64_t>(INT64_MAX);
        if (!reader.U64(&completed) || !reader.U64(&cancelled) || !reader.U64(&dead) ||
            !reader.rest().empty() || completed > kMax || cancelled > kMax || dead > kMax) {
          parse_status = CorruptRecord(Cf::kMeta, key, "finished counts do not parse");
          return false;
        }
        std::string_view name = QueueOfFinishedCountKey(key);
        QueueState* q = indexes_.FindQueue(absl::string_view(name.data(), name.size()));
        if (!q) q = indexes_.AddQueue(std::string(name), options_.default_queue_settings);
        // One key per queue: its counts start from zero here.
        indexes_.CountFinished(q, JobState::kCompleted, static_cast<int64_t>(completed));
        indexes_.CountFinished(q, JobState::kCancelled, static_cast<int64_t>(cancelled));
        indexes_.CountFinished(q, JobState::kDead, static_cast<int64_t>(dead));
        // The sweeper visits each queue with finished jobs once after open,
        // in slices, and learns its next due time there.
        if (q->completed > 0 || q->cancelled > 0) {
          indexes_.SetRetentionDue(q, RetentionClass::kFinished, 0);
        }
        if (q->dead > 0) indexes_.SetRetentionDue(q, RetentionClass::kDead, 0);
        return true;
      }));
  return parse_status;
}

}  // namespace ratchet::internal
