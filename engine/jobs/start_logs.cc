#include "start_logs.h"

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "ratchet/base/saturating.h"
#include "ratchet/storage/keys.h"
#include "validation.h"

namespace ratchet::internal {

using storage::KeyBuilder;
using storage::KeyReader;

int64_t StartLog::OpensAt(const RateLimit& rate) const {
  const size_t limit = static_cast<size_t>(rate.limit);
  if (starts.size() < limit) return kOpenNow;
  return AddSaturating(starts[starts.size() - limit].at_ms, rate.period.count());
}

int64_t StartLog::Allowance(const RateLimit& rate, int64_t now_ms) const {
  // Starts in the window are those with at_ms > now - period.
  const int64_t after = SubtractSaturating(now_ms, rate.period.count());
  auto first_in = std::upper_bound(starts.begin(), starts.end(), after,
                                   [](int64_t t, const Start& s) { return t < s.at_ms; });
  const int64_t in_window = static_cast<int64_t>(starts.end() - first_in);
  return std::max<int64_t>(0, rate.limit - in_window);
}

std::string StartLogs::ScopeId(const std::string& queue, bool queue_wide, const std::string& key) {
  return absl::StrCat(queue, absl::string_view("\0", 1), queue_wide ? "q" : "k", key);
}

const StartLog* StartLogs::Find(const std::string& queue, bool queue_wide,
                                const std::string& key) const {
  auto it = logs_.find(ScopeId(queue, queue_wide, key));
  return it == logs_.end() ? nullptr : it->second.get();
}

StartLog* StartLogs::Ensure(const std::string& queue, bool queue_wide, const std::string& key) {
  std::unique_ptr<StartLog>& slot = logs_[ScopeId(queue, queue_wide, key)];
  if (!slot) {
    slot = std::make_unique<StartLog>();
    slot->queue = queue;
    slot->queue_wide = queue_wide;
    slot->key = key;
  }
  return slot.get();
}

void StartLogs::Reindex(StartLog* log, std::optional<int64_t> due_ms) {
  if (log->indexed_expiry) expiry_.erase({*log->indexed_expiry, log});
  log->indexed_expiry.reset();
  if (log->starts.empty()) {
    logs_.erase(ScopeId(log->queue, log->queue_wide, log->key));  // frees `log`
    return;
  }
  log->indexed_expiry = due_ms.value_or(log->starts.front().expires_ms);
  expiry_.insert({*log->indexed_expiry, log});
}

std::string StartLogs::Record(const std::string& queue, bool queue_wide, const std::string& key,
                              int64_t at_ms, Millis period, JobId id, int64_t* expires_ms) {
  StartLog* log = Ensure(queue, queue_wide, key);
  if (!log->starts.empty()) at_ms = std::max(at_ms, log->starts.back().at_ms);
  *expires_ms = AddSaturating(at_ms, period.count());
  log->starts.push_back({at_ms, *expires_ms, id});
  ++starts_;
  if (log->starts.size() == 1) {
    Reindex(log);
  } else if (const int64_t leaves = AddSaturating(log->starts.front().at_ms, period.count());
             log->indexed_expiry && leaves < *log->indexed_expiry) {
    // The period was shortened: the oldest starts leave the window earlier
    // than they were indexed for, and must not pile up until then.
    Reindex(log, leaves);
  }
  return StoredKey(*log, log->starts.back());
}

void StartLogs::Restore(const std::string& queue, bool queue_wide, const std::string& key,
                        int64_t at_ms, int64_t expires_ms, JobId id) {
  StartLog* log = Ensure(queue, queue_wide, key);
  // The stored expiry only says when to look again: kept within the longest
  // period a limit can have, so a damaged value cannot keep a start forever.
  expires_ms = std::clamp(expires_ms, at_ms, AddSaturating(at_ms, kMaxRatePeriod.count()));
  log->starts.push_back({at_ms, expires_ms, id});
  ++starts_;
  if (log->starts.size() == 1) Reindex(log);
}

std::vector<std::string> StartLogs::TakeExpired(int64_t now_ms, size_t max,
                                                const PeriodOf& period_of) {
  std::vector<std::string> keys;
  for (size_t logs = 0;
       logs < max && keys.size() < max && !expiry_.empty() && expiry_.begin()->at_ms <= now_ms;
       ++logs) {
    StartLog* log = expiry_.begin()->log;
    const std::optional<Millis> period = period_of(*log);
    // Out of the window of the period in force (no limit: every start).
    const auto left = [&](const StartLog::Start& s) {
      return !period || AddSaturating(s.at_ms, period->count()) <= now_ms;
    };
    while (keys.size() < max && !log->starts.empty() && left(log->starts.front())) {
      keys.push_back(StoredKey(*log, log->starts.front()));
      log->starts.pop_front();
      --starts_;
    }
    if (log->starts.empty()) {
      Reindex(log);  // frees `log`
    } else if (!left(log->starts.front())) {
      // Looked at again when its oldest start leaves the window (later
      // than its stored expiry if the period was lengthened).
      Reindex(log, std::max(AddSaturating(now_ms, 1),
                            AddSaturating(log->starts.front().at_ms, period->count())));
    } else {
      break;  // `max` keys reached: the log stays due
    }
  }
  return keys;
}

std::string StartLogs::Prefix() { return KeyBuilder().Str("rate_start").Build(); }

std::string StartLogs::StoredKey(const StartLog& log, const StartLog::Start& s) {
  return KeyBuilder()
      .Str("rate_start")
      .Str(log.queue)
      .U8(log.queue_wide ? 'q' : 'k')
      .Str(log.key)
      .I64(s.at_ms)
      .U64(s.id)
      .Build();
}

bool StartLogs::ParseKey(std::string_view key, std::string* queue, bool* queue_wide,
                         std::string* scope_key, int64_t* at_ms, JobId* id) {
  KeyReader r(key);
  std::string family;
  uint8_t scope = 0;
  uint64_t job = 0;
  if (!r.Str(&family) || family != "rate_start" || !r.Str(queue) || !r.U8(&scope) ||
      (scope != 'q' && scope != 'k') || !r.Str(scope_key) || !r.I64(at_ms) || !r.U64(&job) ||
      !r.rest().empty()) {
    return false;
  }
  *queue_wide = scope == 'q';
  *id = job;
  return true;
}

std::optional<StartLogs::Stored> StartLogs::ParseEntry(std::string_view key,
                                                       std::string_view value) {
  Stored s;
  if (value.size() != 8 || !ParseKey(key, &s.queue, &s.queue_wide, &s.scope_key, &s.at_ms, &s.id)) {
    return std::nullopt;
  }
  uint64_t expires = 0;
  KeyReader r(value);
  if (!r.U64(&expires)) return std::nullopt;
  s.expires_ms = static_cast<int64_t>(expires);
  return s;
}

}  // namespace ratchet::internal
