#include "start_logs.h"

#include <algorithm>
#include <vector>

#include "absl/strings/str_cat.h"
#include "ratchet/storage/keys.h"

namespace ratchet::internal {

using storage::KeyBuilder;
using storage::KeyReader;

int64_t StartLog::OpensAt(const RateLimit& rate) const {
  const size_t limit = static_cast<size_t>(rate.limit);
  if (starts.size() < limit) return kOpenNow;
  // Only limit - 1 starts count once the (size - limit + 1)-th earliest
  // expiry has passed.
  const size_t k = starts.size() - limit;
  if (descents == 0) return starts[k].expires_ms;
  std::vector<int64_t> expiries;
  expiries.reserve(starts.size());
  for (const Start& s : starts) expiries.push_back(s.expires_ms);
  std::nth_element(expiries.begin(), expiries.begin() + static_cast<std::ptrdiff_t>(k),
                   expiries.end());
  return expiries[k];
}

int64_t StartLog::Allowance(const RateLimit& rate, int64_t now_ms) const {
  const auto counts = [now_ms](const Start& s) { return s.expires_ms > now_ms; };
  int64_t counted = 0;
  if (descents == 0) {
    auto first = std::upper_bound(starts.begin(), starts.end(), now_ms,
                                  [](int64_t t, const Start& s) { return t < s.expires_ms; });
    counted = static_cast<int64_t>(starts.end() - first);
  } else {
    counted = std::count_if(starts.begin(), starts.end(), counts);
  }
  return std::max<int64_t>(0, rate.limit - counted);
}

void StartLog::PushBack(const Start& s) {
  if (!starts.empty() && s.expires_ms < starts.back().expires_ms) ++descents;
  starts.push_back(s);
}

void StartLog::PopFront() {
  if (starts.size() >= 2 && starts[1].expires_ms < starts[0].expires_ms) --descents;
  starts.pop_front();
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

void StartLogs::Reindex(StartLog* log) {
  if (log->indexed_expiry) expiry_.erase({*log->indexed_expiry, log});
  log->indexed_expiry.reset();
  if (log->starts.empty()) {
    logs_.erase(ScopeId(log->queue, log->queue_wide, log->key));  // frees `log`
    return;
  }
  log->indexed_expiry = log->starts.front().expires_ms;
  expiry_.insert({*log->indexed_expiry, log});
}

std::string StartLogs::Record(const std::string& queue, bool queue_wide, const std::string& key,
                              int64_t at_ms, Millis period, JobId id, int64_t* expires_ms) {
  StartLog* log = Ensure(queue, queue_wide, key);
  if (!log->starts.empty()) at_ms = std::max(at_ms, log->starts.back().at_ms);
  *expires_ms = at_ms + period.count();
  log->PushBack({at_ms, *expires_ms, id});
  ++starts_;
  if (log->starts.size() == 1) Reindex(log);
  return StoredKey(*log, log->starts.back());
}

void StartLogs::Restore(const std::string& queue, bool queue_wide, const std::string& key,
                        int64_t at_ms, int64_t expires_ms, JobId id) {
  StartLog* log = Ensure(queue, queue_wide, key);
  log->PushBack({at_ms, expires_ms, id});
  ++starts_;
  if (log->starts.size() == 1) Reindex(log);
}

std::vector<std::string> StartLogs::TakeExpired(int64_t now_ms, size_t max) {
  std::vector<std::string> keys;
  while (keys.size() < max && !expiry_.empty() && expiry_.begin()->at_ms <= now_ms) {
    StartLog* log = expiry_.begin()->log;
    while (keys.size() < max && !log->starts.empty() && log->starts.front().expires_ms <= now_ms) {
      keys.push_back(StoredKey(*log, log->starts.front()));
      log->PopFront();
      --starts_;
    }
    // A later start may expire before the front one (its period was
    // shortened): it leaves with the front, never early.
    if (!log->starts.empty() && log->starts.front().expires_ms <= now_ms) {
      // `max` reached: keep its index entry where it is.
      break;
    }
    Reindex(log);  // may free `log`
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
