#include "job_migration.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ratchet/base/status.h"
#include "ratchet/storage/keys.h"
#include "record_check.h"
#include "schema.h"
#include "spdlog/spdlog.h"

namespace ratchet::internal {

using storage::Cf;

namespace {

struct Counts {
  uint64_t completed = 0, cancelled = 0, dead = 0;
};

// Moves up to kMigrationBatchRecords finished records at or after `*cursor`
// from `jobs` to `finished_jobs` in one write; advances `*cursor`. Returns
// false once the column family is read to its end.
absl::StatusOr<bool> MoveSomeFinished(storage::Store& store, std::string* cursor, int64_t* moved,
                                      uint64_t* max_id, uint64_t* max_token) {
  storage::Batch batch(&store);
  int n = 0;
  bool more = false;
  absl::Status parse_status;
  RATCHET_RETURN_IF_ERROR(
      store.ForEach(Cf::kJobs, *cursor, "", [&](std::string_view key, std::string_view value) {
        if (n == kMigrationBatchRecords || batch.ByteSize() >= kMigrationBatchBytes) {
          *cursor = std::string(key);
          more = true;
          return false;
        }
        JobRecord r;
        parse_status = ParseStored(Cf::kJobs, key, value, &r);
        if (!parse_status.ok()) return false;
        *max_id = std::max<uint64_t>(*max_id, r.id());
        *max_token = std::max<uint64_t>(*max_token, r.token());
        if (!IsTerminal(StateOf(r))) return true;
        batch.Put(Cf::kFinishedJobs, key, value);
        batch.Delete(Cf::kJobs, key);
        ++n;
        return true;
      }));
  RATCHET_RETURN_IF_ERROR(parse_status);
  if (n > 0) RATCHET_RETURN_IF_ERROR(store.Commit(batch));
  *moved += n;
  return more;
}

// Per queue: the keys of its finished-job indexes (queue 0x00 [state] ...).
absl::Status CountIndex(storage::Store& store, Cf cf, bool has_state,
                        std::map<std::string, Counts>* counts) {
  return store.ForEach(cf, "", "", [&](std::string_view key, std::string_view) {
    size_t end = key.find('\0');
    if (end == std::string_view::npos || key.size() < end + 2) return true;
    Counts& c = (*counts)[std::string(key.substr(0, end))];
    JobState state = has_state ? static_cast<JobState>(key[end + 1]) : JobState::kDead;
    (state == JobState::kCompleted ? c.completed
     : state == JobState::kDead    ? c.dead
                                   : c.cancelled)++;
    return true;
  });
}

}  // namespace

absl::Status RecountFinished(storage::Store& store, storage::Batch& batch) {
  std::map<std::string, Counts> counts;
  RATCHET_RETURN_IF_ERROR(CountIndex(store, Cf::kJobIndex, /*has_state=*/true, &counts));
  RATCHET_RETURN_IF_ERROR(CountIndex(store, Cf::kDeadLetters, /*has_state=*/false, &counts));
  const std::string prefix = FinishedCountPrefix();
  RATCHET_RETURN_IF_ERROR(store.ForEach(Cf::kMeta, prefix, storage::PrefixSuccessor(prefix),
                                        [&](std::string_view key, std::string_view) {
                                          batch.Delete(Cf::kMeta, key);
                                          return true;
                                        }));
  for (const auto& [queue, c] : counts) {
    batch.Put(Cf::kMeta, FinishedCountKey(queue),
              storage::KeyBuilder().U64(c.completed).U64(c.cancelled).U64(c.dead).Build());
  }
  return absl::OkStatus();
}

absl::Status MigrateJobsToSchema2(storage::Store& store) {
  RATCHET_ASSIGN_OR_RETURN(uint32_t version, store.SchemaVersion());
  if (version >= 2) return absl::OkStatus();
  spdlog::info("event=schema_migration from=1 to=2 step=move_finished_jobs");
  std::string cursor;
  int64_t moved = 0;
  uint64_t max_id = 0, max_token = 0;
  for (bool more = true; more;) {
    RATCHET_ASSIGN_OR_RETURN(more, MoveSomeFinished(store, &cursor, &moved, &max_id, &max_token));
  }
  // Recovery no longer reads finished records, so the id and token
  // counters must already be past every one of them (they are written with
  // every id and token handed out; this is the belt to those braces).
  storage::Batch counters(&store);
  for (auto [key, max] :
       {std::pair{kMetaNextJobId, max_id}, std::pair{kMetaNextToken, max_token}}) {
    RATCHET_ASSIGN_OR_RETURN(auto stored, store.Get(Cf::kMeta, key));
    if (!stored || DecodeU64(*stored) <= max) counters.Put(Cf::kMeta, key, EncodeU64(max + 1));
  }
  if (counters.Count() > 0) RATCHET_RETURN_IF_ERROR(store.Commit(counters));
  storage::Batch batch(&store);
  RATCHET_RETURN_IF_ERROR(RecountFinished(store, batch));
  storage::Store::SetSchemaVersion(batch, 2);
  RATCHET_RETURN_IF_ERROR(store.Commit(batch));
  spdlog::info("event=schema_migration from=1 to=2 moved_finished_jobs={}", moved);
  return absl::OkStatus();
}

absl::Status MigrateJobsToSchema3(storage::Store& store) {
  RATCHET_ASSIGN_OR_RETURN(uint32_t version, store.SchemaVersion());
  if (version >= 3) return absl::OkStatus();
  storage::Batch batch(&store);
  storage::Store::SetSchemaVersion(batch, 3);
  RATCHET_RETURN_IF_ERROR(store.Commit(batch));
  spdlog::info(
      "event=schema_migration from=2 to=3 rewritten=0 (records split at their next write)");
  return absl::OkStatus();
}

}  // namespace ratchet::internal
