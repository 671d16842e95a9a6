// JobStore::Recover: rebuilds the in-memory indexes from RocksDB at open.
// Only live jobs enter the indexes; terminal ones are skipped after a parse.
// A record that does not parse stops the open with DATA_LOSS naming its
// column family and key (CorruptRecord); docs/operations.md says what to do.
#include <algorithm>

#include "absl/strings/str_cat.h"
#include "job_store.h"
#include "ratchet/base/status.h"
#include "record_check.h"

namespace ratchet::internal {

using storage::Cf;

absl::Status JobStore::Recover() {
  RATCHET_ASSIGN_OR_RETURN(auto next_id, store_->Get(Cf::kMeta, kMetaNextJobId));
  RATCHET_ASSIGN_OR_RETURN(auto next_token, store_->Get(Cf::kMeta, kMetaNextToken));
  if (next_id) next_job_id_ = std::max<JobId>(1, DecodeU64(*next_id));
  if (next_token) next_token_ = std::max<FencingToken>(1, DecodeU64(*next_token));

  absl::Status parse_status;
  RATCHET_RETURN_IF_ERROR(
      store_->ForEach(Cf::kQueues, "", "", [&](std::string_view name, std::string_view value) {
        QueueRecord rec;
        parse_status = ParseStored(Cf::kQueues, name, value, &rec);
        if (!parse_status.ok()) return false;
        indexes_.AddQueue(std::string(name), FromRecord(rec));
        return true;
      }));
  RATCHET_RETURN_IF_ERROR(parse_status);
  RATCHET_RETURN_IF_ERROR(RecoverJobs());
  return CountFinished();
}

absl::Status JobStore::RecoverJobs() {
  absl::Status parse_status;
  JobRecord r;
  RATCHET_RETURN_IF_ERROR(
      store_->ForEach(Cf::kJobs, "", "", [&](std::string_view key, std::string_view value) {
        parse_status = ParseStored(Cf::kJobs, key, value, &r);
        if (!parse_status.ok()) return false;
        // Belt and braces: the counters are written with every id and token,
        // but never hand out an id or token at or below one on disk.
        next_job_id_ = std::max<JobId>(next_job_id_, r.id() + 1);
        next_token_ = std::max<FencingToken>(next_token_, r.token() + 1);
        const JobState state = StateOf(r);
        if (IsTerminal(state)) return true;
        QueueState* q = indexes_.FindQueue(r.queue());
        if (!q) q = indexes_.AddQueue(r.queue(), options_.default_queue_settings);
        if (state == JobState::kRunning) {
          indexes_.AddRunning(r.id(), q, r.priority(), r.lease_deadline_ms(), r.token(),
                              r.cancel_requested());
        } else {
          indexes_.AddWaiting(r.id(), q, r.priority(), r.run_at_ms());
        }
        return true;
      }));
  return parse_status;
}

absl::Status JobStore::CountFinished() {
  // Keys only (values are empty): queue 0x00 [state] time id.
  auto count = [&](Cf cf, bool has_state) {
    return store_->ForEach(cf, "", "", [&](std::string_view key, std::string_view) {
      size_t end = key.find('\0');
      if (end == std::string_view::npos || key.size() < end + 2) return true;
      QueueState* q = indexes_.FindQueue(absl::string_view(key.data(), end));
      if (!q) {
        q = indexes_.AddQueue(std::string(key.substr(0, end)), options_.default_queue_settings);
      }
      JobState state = has_state ? static_cast<JobState>(key[end + 1]) : JobState::kDead;
      q->FinishedCount(state)++;
      return true;
    });
  };
  RATCHET_RETURN_IF_ERROR(count(Cf::kJobIndex, /*has_state=*/true));
  return count(Cf::kDeadLetters, /*has_state=*/false);
}

}  // namespace ratchet::internal
