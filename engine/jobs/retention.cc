#include "retention.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "ratchet/base/saturating.h"
#include "ratchet/base/status.h"
#include "ratchet/storage/keys.h"

namespace ratchet::internal {

using storage::Cf;
using storage::KeyBuilder;
using storage::KeyReader;

absl::StatusOr<int> JobRetention::Sweep(storage::Batch& batch, TimePoint now, int max_keys) {
  ++passes_;
  // A smaller budget would never delete a job and leave the queue due at
  // once, pass after pass.
  max_keys = std::max(max_keys, kKeysPerJob);
  const int64_t now_ms = Tick(now);
  int deleted = 0;
  auto due = jobs_.indexes().DueForRetention(now_ms, kMaxQueuesPerPass);
  if (!due.empty()) {
    const int slice = std::max(kMinSliceKeys, max_keys / static_cast<int>(due.size()));
    for (auto [q, c] : due) {
      const int budget = std::min(slice, max_keys - deleted);
      if (budget < kKeysPerJob) break;  // the rest stay due, for the next pass
      RATCHET_ASSIGN_OR_RETURN(int n, SweepQueue(batch, q, c, now_ms, budget));
      deleted += n;
      ++queues_visited_;
    }
  }
  // Idempotency keys by the clock: a key's window is never cut short.
  RATCHET_ASSIGN_OR_RETURN(
      int n,
      SweepIdempotencyKeys(batch, ToUnixMs(now), std::max(kMinSliceKeys, max_keys - deleted)));
  deleted += n;
  // Unique jobs' entries whose job is gone or no longer covered, by the clock.
  bool unique_backlog = false;
  RATCHET_ASSIGN_OR_RETURN(
      n, unique_.Sweep(batch, ToUnixMs(now), std::max(kMinSliceKeys, max_keys - deleted),
                       &unique_backlog));
  deleted += n;
  idempotency_backlog_ = idempotency_backlog_ || unique_backlog;
  keys_deleted_ += static_cast<uint64_t>(deleted);
  largest_pass_keys_ = std::max(largest_pass_keys_, static_cast<uint64_t>(deleted));
  return deleted;
}

int64_t JobRetention::SweeperTime(TimePoint now) const {
  const int64_t clock_ms = ToUnixMs(now);
  if (!sweeper_ms_) return clock_ms;
  const int64_t elapsed_ms =
      std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - last_steady_).count();
  return std::max(clock_ms, AddSaturating(*sweeper_ms_, std::max<int64_t>(0, elapsed_ms)));
}

int64_t JobRetention::Tick(TimePoint now) {
  sweeper_ms_ = SweeperTime(now);
  last_steady_ = std::chrono::steady_clock::now();
  return *sweeper_ms_;
}

std::optional<TimePoint> JobRetention::NextDue(TimePoint now) const {
  std::optional<int64_t> next = jobs_.indexes().NextRetentionDue();
  if (idempotency_backlog_) return now;
  if (!next) return std::nullopt;
  // On the caller's clock: as far ahead of `now` as the due time is ahead
  // of the sweeper's time.
  const int64_t ahead = std::max<int64_t>(0, SubtractSaturating(*next, SweeperTime(now)));
  return FromUnixMs(AddSaturating(ToUnixMs(now), ahead));
}

absl::StatusOr<int> JobRetention::SweepQueue(storage::Batch& batch, QueueState* q, RetentionClass c,
                                             int64_t now_ms, int budget) {
  const int64_t retention = q->Retention(c).count();
  const int64_t cutoff = SubtractSaturating(now_ms, retention);
  std::optional<int64_t> next_due;
  auto due_at = [&](int64_t t) { next_due = std::min(next_due.value_or(t), t); };
  int deleted = 0;
  const std::vector<JobState> states =
      c == RetentionClass::kDead
          ? std::vector<JobState>{JobState::kDead}
          : std::vector<JobState>{JobState::kCompleted, JobState::kCancelled};
  int64_t remaining = 0;
  for (JobState state : states) {
    const bool dead = state == JobState::kDead;
    const Cf cf = dead ? Cf::kDeadLetters : Cf::kJobIndex;
    const std::string prefix = dead ? DeadPrefix(q->name) : FinishedPrefix(q->name, state);
    int64_t removed = 0;
    // Past the tombstones of what earlier passes deleted (sweep_cursor.h).
    SweepCursor& cursor = q->FinishedSweep(state);
    std::optional<int64_t> swept;
    RATCHET_RETURN_IF_ERROR(jobs_.store().ForEach(
        cf, cursor.BeginScan(prefix, jobs_.indexes().durable_group()),
        storage::PrefixSuccessor(prefix), [&](std::string_view key, std::string_view) {
          int64_t finished_at = 0;
          if (!FinishedAtOfIndexKey(key, prefix.size(), &finished_at)) return true;
          if (finished_at > cutoff) {
            due_at(AddSaturating(finished_at, retention));
            return false;
          }
          if (deleted + kKeysPerJob > budget) {
            due_at(now_ms);  // still due: back after the queues waiting longer
            return false;
          }
          swept = finished_at;
          // Committed data, checked against the pending groups (no read): an
          // entry a pending redrive, purge or earlier pass removed is skipped.
          if (batch.DeletesPending(cf, key)) return true;
          batch.Delete(cf, key);
          jobs_.DeleteFinished(batch, JobIdFromIndexKey(key));
          deleted += kKeysPerJob;
          ++removed;
          return true;
        }));
    cursor.EndScan(swept);
    jobs_.UncountFinished(batch, q, state, removed);
    remaining = AddSaturating(remaining, q->FinishedCount(state));
  }
  // Jobs that finished in a group not yet committed are not in the scan;
  // they finished at about now, so they come due about a retention from now.
  if (!next_due && remaining > 0) next_due = AddSaturating(now_ms, std::max(retention, kRecheckMs));
  jobs_.indexes().SetRetentionDue(q, c, next_due);
  return deleted;
}

absl::StatusOr<int> JobRetention::SweepIdempotencyKeys(storage::Batch& batch, int64_t now_ms,
                                                       int budget) {
  int deleted = 0;
  idempotency_backlog_ = false;
  const std::string prefix = IdempotencyExpiryPrefix();
  std::string end = KeyBuilder().Raw(prefix).I64(AddSaturating(now_ms, 1)).Build();
  absl::Status read_status;
  SweepCursor& cursor = jobs_.indexes().idempotency_sweep();
  std::optional<int64_t> swept;
  RATCHET_RETURN_IF_ERROR(jobs_.store().ForEach(
      Cf::kIdempotency, cursor.BeginScan(prefix, jobs_.indexes().durable_group()), end,
      [&](std::string_view key, std::string_view) {
        if (deleted + 2 > budget) {
          idempotency_backlog_ = true;
          return false;
        }
        KeyReader reader(key.substr(prefix.size()));
        int64_t expires_ms = 0;
        std::string queue;
        if (!reader.I64(&expires_ms) || !reader.Str(&queue)) return true;
        swept = expires_ms;
        if (batch.DeletesPending(Cf::kIdempotency, key)) return true;  // a pending pass
        std::string primary = IdempotencyKey(queue, reader.rest());
        auto value = batch.Get(Cf::kIdempotency, primary);
        if (!value.ok()) {
          read_status = value.status();
          return false;
        }
        IdempotencyRecord rec;
        // The key may have been reused after it expired; then it has a newer
        // expiry entry of its own and must stay.
        if (*value && rec.ParseFromString(**value) && rec.expires_at_ms() == expires_ms) {
          batch.Delete(Cf::kIdempotency, primary);
          ++deleted;
        }
        batch.Delete(Cf::kIdempotency, key);
        ++deleted;
        return true;
      }));
  RATCHET_RETURN_IF_ERROR(read_status);
  cursor.EndScan(swept);
  return deleted;
}

}  // namespace ratchet::internal
