#include "retention.h"

#include <functional>

#include "absl/strings/str_cat.h"
#include "ratchet/base/status.h"
#include "ratchet/storage/keys.h"

namespace ratchet::internal {

using storage::Cf;
using storage::KeyBuilder;
using storage::KeyReader;

namespace {

// Deletes index entries under `prefix` whose time is at or before `cutoff`,
// and their job records. Returns keys deleted.
absl::StatusOr<int> SweepIndex(const storage::Store& store, storage::Batch& batch, Cf cf,
                               const std::string& prefix, int64_t cutoff_ms, int budget,
                               int64_t* count, const std::function<void(JobId)>& delete_job) {
  int deleted = 0;
  std::string end = KeyBuilder().Raw(prefix).I64(cutoff_ms + 1).Build();
  RATCHET_RETURN_IF_ERROR(
      store.ForEach(cf, prefix, end, [&](std::string_view key, std::string_view) {
        if (deleted + 2 > budget) return false;
        batch.Delete(cf, key);
        delete_job(JobIdFromIndexKey(key));
        deleted += 2;
        --*count;
        return true;
      }));
  return deleted;
}

absl::StatusOr<int> SweepIdempotencyKeys(const storage::Store& store, storage::Batch& batch,
                                         int64_t now_ms, int budget) {
  int deleted = 0;
  const std::string prefix = IdempotencyExpiryPrefix();
  std::string end = KeyBuilder().Raw(prefix).I64(now_ms + 1).Build();
  absl::Status read_status;
  RATCHET_RETURN_IF_ERROR(
      store.ForEach(Cf::kIdempotency, prefix, end, [&](std::string_view key, std::string_view) {
        if (deleted + 2 > budget) return false;
        KeyReader reader(key.substr(prefix.size()));
        int64_t expires_ms = 0;
        std::string queue;
        if (!reader.I64(&expires_ms) || !reader.Str(&queue)) return true;
        std::string primary = IdempotencyKey(queue, reader.rest());
        auto value = store.Get(Cf::kIdempotency, primary);
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
  return deleted;
}

}  // namespace

absl::StatusOr<int> JobRetention::Sweep(storage::Batch& batch, TimePoint now, int max_keys) {
  const int64_t now_ms = ToUnixMs(now);
  int deleted = 0;
  auto delete_job = [&](JobId id) { jobs_.Delete(batch, id); };
  for (QueueState* q : jobs_.indexes().Queues()) {
    const int64_t finished_cutoff = now_ms - q->settings.completed_retention.count();
    for (JobState state : {JobState::kCompleted, JobState::kCancelled}) {
      RATCHET_ASSIGN_OR_RETURN(
          int n,
          SweepIndex(jobs_.store(), batch, Cf::kJobIndex, FinishedPrefix(q->name, state),
                     finished_cutoff, max_keys - deleted, &q->FinishedCount(state), delete_job));
      deleted += n;
    }
    RATCHET_ASSIGN_OR_RETURN(
        int n, SweepIndex(jobs_.store(), batch, Cf::kDeadLetters, DeadPrefix(q->name),
                          now_ms - q->settings.dead_retention.count(), max_keys - deleted, &q->dead,
                          delete_job));
    deleted += n;
  }
  RATCHET_ASSIGN_OR_RETURN(int n,
                           SweepIdempotencyKeys(jobs_.store(), batch, now_ms, max_keys - deleted));
  return deleted + n;
}

}  // namespace ratchet::internal
