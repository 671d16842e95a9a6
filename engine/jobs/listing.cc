#include "listing.h"

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "ratchet/base/status.h"
#include "ratchet/storage/keys.h"
#include "record_io.h"
#include "schema.h"
#include "validation.h"

namespace ratchet::internal {

using storage::Cf;
using storage::KeyBuilder;
using storage::KeyReader;

std::string EncodeCursor(std::string_view raw) {
  return absl::BytesToHexString(absl::string_view(raw.data(), raw.size()));
}

absl::StatusOr<std::string> DecodeCursor(std::string_view cursor) {
  for (char c : cursor) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) {
      return InvalidArgument("cursor", "malformed; pass a next_cursor from a previous page");
    }
  }
  if (cursor.size() % 2 != 0) {
    return InvalidArgument("cursor", "malformed; pass a next_cursor from a previous page");
  }
  return absl::HexStringToBytes(absl::string_view(cursor.data(), cursor.size()));
}

absl::Status ValidateList(const ListRequest& req) {
  RATCHET_RETURN_IF_ERROR(ValidateName("queue", req.queue));
  if (req.limit < 1 || req.limit > kMaxListLimit) {
    return InvalidArgument("limit",
                           absl::StrCat(req.limit, " is outside [1, ", kMaxListLimit, "]"));
  }
  return DecodeCursor(req.cursor).status();
}

absl::StatusOr<ListResult> ListFinished(const storage::Store& store, const ListRequest& req,
                                        TimePoint now) {
  RATCHET_RETURN_IF_ERROR(ValidateList(req));
  RATCHET_ASSIGN_OR_RETURN(std::string after, DecodeCursor(req.cursor));
  const bool dead = req.state == JobState::kDead;
  const std::string prefix = dead ? DeadPrefix(req.queue) : FinishedPrefix(req.queue, req.state);
  const Cf cf = dead ? Cf::kDeadLetters : Cf::kJobIndex;
  std::string start = prefix;
  if (!after.empty()) start = storage::PrefixSuccessor(prefix + after);

  ListResult out;
  std::vector<std::string> keys;
  RATCHET_RETURN_IF_ERROR(store.ForEach(cf, start, storage::PrefixSuccessor(prefix),
                                        [&](std::string_view key, std::string_view) {
                                          keys.emplace_back(key);
                                          return keys.size() <= static_cast<size_t>(req.limit);
                                        }));
  if (keys.size() > static_cast<size_t>(req.limit)) {
    keys.pop_back();
    out.next_cursor = EncodeCursor(std::string_view(keys.back()).substr(prefix.size()));
  }
  for (const std::string& key : keys) {
    JobId id = JobIdFromIndexKey(key);
    auto r = FindCommittedJob(store, id);
    if (absl::IsDataLoss(r.status())) continue;  // shown by Get, not a listing error
    RATCHET_RETURN_IF_ERROR(r.status());
    if (!*r) continue;  // pruned since the scan
    out.jobs.push_back(ToJob(**r, now));
  }
  return out;
}

namespace {

// Up to `limit` ids of `set` starting at `it`; sets *next_cursor when more.
template <typename Set, typename Encode>
std::vector<JobId> Page(const Set& set, typename Set::const_iterator it, int limit, Encode encode,
                        std::string* next_cursor) {
  std::vector<JobId> ids;
  for (; it != set.end(); ++it) {
    if (static_cast<int>(ids.size()) == limit) {
      *next_cursor = EncodeCursor(encode(*std::prev(it)));
      break;
    }
    ids.push_back(it->id);
  }
  return ids;
}

std::string EncodeReady(const ReadyKey& k) {
  return KeyBuilder().I64(k.priority).I64(k.run_at_ms).U64(k.id).Build();
}

std::string EncodeTimed(const TimedKey& k) { return KeyBuilder().I64(k.at_ms).U64(k.id).Build(); }

absl::Status BadCursor() { return InvalidArgument("cursor", "does not belong to this listing"); }

absl::StatusOr<absl::btree_set<ReadyKey>::const_iterator> StartOf(
    const absl::btree_set<ReadyKey>& set, std::string_view after) {
  if (after.empty()) return set.begin();
  KeyReader r(after);
  int64_t priority, run_at;
  uint64_t id;
  if (!r.I64(&priority) || !r.I64(&run_at) || !r.U64(&id) || !r.rest().empty()) {
    return BadCursor();
  }
  return set.upper_bound({static_cast<int32_t>(priority), run_at, id});
}

absl::StatusOr<absl::btree_set<TimedKey>::const_iterator> StartOf(
    const absl::btree_set<TimedKey>& set, std::string_view after) {
  if (after.empty()) return set.begin();
  KeyReader r(after);
  int64_t at;
  uint64_t id;
  if (!r.I64(&at) || !r.U64(&id) || !r.rest().empty()) return BadCursor();
  return set.upper_bound({at, id});
}

}  // namespace

absl::StatusOr<ListResult> ListLive(JobStore& jobs, storage::Batch& batch, TimePoint now,
                                    const ListRequest& req) {
  RATCHET_RETURN_IF_ERROR(ValidateList(req));
  RATCHET_ASSIGN_OR_RETURN(std::string after, DecodeCursor(req.cursor));
  ListResult out;
  QueueState* q = jobs.indexes().FindQueue(req.queue);
  if (!q) return out;
  jobs.indexes().PromoteDue(q, ToUnixMs(now));
  std::vector<JobId> ids;
  if (req.state == JobState::kAvailable) {
    RATCHET_ASSIGN_OR_RETURN(auto it, StartOf(q->ready, after));
    ids = Page(q->ready, it, req.limit, EncodeReady, &out.next_cursor);
  } else {
    const auto& set = req.state == JobState::kScheduled ? q->scheduled : q->running;
    RATCHET_ASSIGN_OR_RETURN(auto it, StartOf(set, after));
    ids = Page(set, it, req.limit, EncodeTimed, &out.next_cursor);
  }
  for (JobId id : ids) {
    RATCHET_ASSIGN_OR_RETURN(JobRecord r, jobs.Load(batch, id));
    out.jobs.push_back(ToJob(r, now));
  }
  return out;
}

}  // namespace ratchet::internal
