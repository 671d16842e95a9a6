#include "listing.h"

#include <limits>

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
  RATCHET_RETURN_IF_ERROR(ValidateJobFilter(req.job_type, req.concurrency_key));
  return DecodeCursor(req.cursor).status();
}

namespace {

bool Filtered(const ListRequest& req) {
  return !req.job_type.empty() || !req.concurrency_key.empty();
}

// How many index entries one page may examine (kMaxListScan with a filter).
int ScanBudget(const ListRequest& req) {
  return Filtered(req) ? kMaxListScan : std::numeric_limits<int>::max();
}

// A listed job's share of the answer: its strings plus a fixed overhead
// for the numbers, times and framing.
size_t JobBytes(const Job& j) {
  size_t n = 256 + j.queue.size() + j.job_type.size() + j.payload.size() +
             j.idempotency_key.size() + j.worker_id.size() + j.result.size() +
             j.schedule_id.size() + j.concurrency_key.size() + j.traceparent.size() +
             j.unique_key.size() + j.cancel_reason.size() + j.progress_message.size();
  for (const AttemptError& e : j.errors) n += 32 + e.message.size();
  return n;
}

// Adds `job` to the page unless the page already holds a job and `job`
// would take it past `max_bytes` (then false: the page ends before it).
bool AddWithin(ListResult& out, size_t& bytes, size_t max_bytes, Job job) {
  const size_t n = JobBytes(job);
  if (!out.jobs.empty() && bytes + n > max_bytes) return false;
  bytes += n;
  out.jobs.push_back(std::move(job));
  return true;
}

bool Matches(const JobRecord& r, const ListRequest& req) {
  return (req.job_type.empty() || r.job_type() == req.job_type) &&
         (req.concurrency_key.empty() || r.concurrency_key() == req.concurrency_key);
}

}  // namespace

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
  const int budget = ScanBudget(req);
  int scanned = 0;
  size_t bytes = 0;
  std::string last;  // the last key the page is done with
  bool more = false;
  absl::Status read_status;
  RATCHET_RETURN_IF_ERROR(store.ForEach(
      cf, start, storage::PrefixSuccessor(prefix), [&](std::string_view key, std::string_view) {
        if (static_cast<int>(out.jobs.size()) == req.limit || scanned == budget) {
          more = true;
          return false;
        }
        ++scanned;
        auto r = FindCommittedJob(store, JobIdFromIndexKey(key));
        if (!r.ok() && !absl::IsDataLoss(r.status())) {
          read_status = r.status();
          return false;
        }
        // Damaged: shown by Get, not a listing error. Absent: pruned since
        // the scan. A job past the page's bytes starts the next page.
        if (r.ok() && *r && Matches(**r, req) &&
            !AddWithin(out, bytes, req.max_bytes, ToJob(**r, now))) {
          more = true;
          return false;
        }
        last = std::string(key);
        return true;
      }));
  RATCHET_RETURN_IF_ERROR(read_status);
  if (more) out.next_cursor = EncodeCursor(std::string_view(last).substr(prefix.size()));
  return out;
}

namespace {

// Up to `limit` keys of `set` starting at `it` for which `keep(id)` holds,
// examining at most `budget` entries; sets *next_cursor when more.
template <typename Set, typename Encode, typename Keep>
std::vector<typename Set::value_type> Page(const Set& set, typename Set::const_iterator it,
                                           int limit, int budget, Encode encode, Keep keep,
                                           std::string* next_cursor) {
  std::vector<typename Set::value_type> keys;
  for (int scanned = 0; it != set.end(); ++it, ++scanned) {
    if (static_cast<int>(keys.size()) == limit || scanned == budget) {
      *next_cursor = EncodeCursor(encode(*std::prev(it)));
      break;
    }
    if (keep(it->id)) keys.push_back(*it);
  }
  return keys;
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
  // The key is in the live index; the type needs the state record (not
  // the payload), read (from the record cache, usually) only for a job
  // whose key matches. Payloads are read for the page's jobs only.
  absl::Status read_status;
  auto keep = [&](JobId id) {
    const JobMeta* m = jobs.indexes().Find(id);
    if (!req.concurrency_key.empty() && !(m && m->group && m->group->key == req.concurrency_key)) {
      return false;
    }
    if (req.job_type.empty() || !read_status.ok()) return read_status.ok();
    absl::StatusOr<JobRecord> r = jobs.LoadState(batch, id);
    if (!r.ok()) {
      read_status = r.status();
      return false;
    }
    return r->job_type() == req.job_type;
  };
  // The page's jobs, up to its bytes: a job past them ends the page, and
  // the cursor resumes after the last job it holds.
  size_t bytes = 0;
  auto fill = [&](const auto& keys, auto encode) -> absl::Status {
    RATCHET_RETURN_IF_ERROR(read_status);
    for (size_t i = 0; i < keys.size(); ++i) {
      RATCHET_ASSIGN_OR_RETURN(JobRecord r, jobs.Load(batch, keys[i].id));
      if (!AddWithin(out, bytes, req.max_bytes, ToJob(r, now))) {
        out.next_cursor = EncodeCursor(encode(keys[i - 1]));
        break;
      }
    }
    return absl::OkStatus();
  };
  const int budget = ScanBudget(req);
  if (req.state == JobState::kAvailable) {
    RATCHET_ASSIGN_OR_RETURN(auto it, StartOf(q->ready, after));
    RATCHET_RETURN_IF_ERROR(fill(
        Page(q->ready, it, req.limit, budget, EncodeReady, keep, &out.next_cursor), EncodeReady));
  } else {
    const auto& set = req.state == JobState::kScheduled ? q->scheduled : q->running;
    RATCHET_ASSIGN_OR_RETURN(auto it, StartOf(set, after));
    RATCHET_RETURN_IF_ERROR(
        fill(Page(set, it, req.limit, budget, EncodeTimed, keep, &out.next_cursor), EncodeTimed));
  }
  return out;
}

}  // namespace ratchet::internal
