// Start logs: the sliding-window log behind rate limits. Each rate-limited
// scope (a whole queue, or one concurrency key of a queue) keeps the times
// of its job starts (leases) within the limit's period; a start is allowed
// while fewer than `limit` starts lie in the window (now - period, now].
//
// Algorithm: the sliding-window log (exact, no burst beyond `limit`): see
// e.g. Figma Engineering, "An alternative approach to rate limiting"
// (2017), which compares it with fixed windows, token buckets and sliding
// window counters. Memory is one entry per start within the period.
//
// Time: rate-limit time is the engine clock's high-water mark, so a clock
// stepped back never reopens a window early (starts pause until the clock
// catches up); a step forward opens windows early by the step.
//
// Period changes: the period in force applies to every logged start, so
// Lease, ExplainJob and a long poll's wake-up read one window whatever the
// history. A start is deleted (TakeExpired) only once it is older than the
// period in force then, which never changes an answer. A shortened period
// releases earlier starts at once; a lengthened one counts every start
// still logged, that is, those of the previous period's window.
//
// Durability: every start is also a meta-CF entry
// `rate_start` 0x00 queue 0x00 scope key 0x00 be64(ms) be64(fencing token) ->
// be64(expires ms), put in the lease's write and deleted when it leaves the
// window (TakeExpired), so the limit holds across a restart. The stored
// expiry (time plus the period when logged) only says when to look at the
// start again.
//
// Thread safety: sequencer thread only.
#ifndef RATCHET_ENGINE_JOBS_START_LOGS_H_
#define RATCHET_ENGINE_JOBS_START_LOGS_H_

#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/container/btree_set.h"
#include "absl/container/flat_hash_map.h"
#include "ratchet/engine/types.h"

namespace ratchet::internal {

inline constexpr int64_t kOpenNow = std::numeric_limits<int64_t>::min();

struct StartLog {
  struct Start {
    int64_t at_ms;
    int64_t expires_ms;  // at_ms + the period when it was recorded (when to look again)
    JobId id;            // the lease's fencing token: unique per start
  };
  std::string queue;
  bool queue_wide = false;
  std::string key;                        // the concurrency key (queue_wide: "")
  std::deque<Start> starts;               // oldest first; at_ms non-decreasing
  std::optional<int64_t> indexed_expiry;  // its entry in StartLogs' expiry index

  // The first time at which `rate` admits one more start: kOpenNow while
  // fewer than rate.limit starts are logged, else the limit-th newest
  // start's time plus the period (possibly already past).
  int64_t OpensAt(const RateLimit& rate) const;
  // Starts `rate` still admits at `now_ms`: limit minus the starts in
  // (now - period, now], at least 0. O(log n).
  int64_t Allowance(const RateLimit& rate, int64_t now_ms) const;
};

class StartLogs {
 public:
  // The log of a scope, or nullptr if it has none.
  const StartLog* Find(const std::string& queue, bool queue_wide, const std::string& key) const;
  // Records a start and returns the meta-CF key to put (value: EncodeU64 of
  // the expiry). `at_ms` is raised to the log's newest start if earlier.
  std::string Record(const std::string& queue, bool queue_wide, const std::string& key,
                     int64_t at_ms, Millis period, JobId id, int64_t* expires_ms);
  // Adds a stored start at open (in key order per scope).
  void Restore(const std::string& queue, bool queue_wide, const std::string& key, int64_t at_ms,
               int64_t expires_ms, JobId id);
  // The period in force for a log's scope; nullopt when the scope has no
  // rate limit any more (its starts can all go).
  using PeriodOf = std::function<std::optional<Millis>(const StartLog&)>;
  // Removes starts that left the window of the period in force
  // (at_ms + period <= now_ms), for logs due by their indexed time, earliest
  // first, and returns their meta-CF keys to delete. A log whose oldest
  // start is still in the window (its period was lengthened) is indexed
  // again at the time it leaves it. At most `max` keys and `max` logs looked
  // at per call.
  std::vector<std::string> TakeExpired(int64_t now_ms, size_t max, const PeriodOf& period_of);
  size_t starts() const { return starts_; }

  // The meta-CF key family of stored starts.
  static std::string Prefix();
  // The meta-CF key of the rate-limit clock (be64 ms) as of the last
  // deletion of expired starts; recovery starts the clock at least there.
  static constexpr std::string_view kClockKey = "rate_clock";
  static std::string StoredKey(const StartLog& log, const StartLog::Start& s);
  // Parses a stored key; false if it does not parse.
  static bool ParseKey(std::string_view key, std::string* queue, bool* queue_wide,
                       std::string* scope_key, int64_t* at_ms, JobId* id);
  // A stored start (key and value), as Restore takes it.
  struct Stored {
    std::string queue, scope_key;
    bool queue_wide = false;
    int64_t at_ms = 0, expires_ms = 0;
    JobId id = 0;
  };
  // Parses a stored entry; nullopt if the key or the value does not parse.
  static std::optional<Stored> ParseEntry(std::string_view key, std::string_view value);

 private:
  struct Expiry {
    int64_t at_ms;
    StartLog* log;
    auto operator<=>(const Expiry&) const = default;
  };
  StartLog* Ensure(const std::string& queue, bool queue_wide, const std::string& key);
  // Indexes `log` at `due_ms`, or at its oldest start's stored expiry;
  // frees a log with no starts.
  void Reindex(StartLog* log, std::optional<int64_t> due_ms = std::nullopt);
  static std::string ScopeId(const std::string& queue, bool queue_wide, const std::string& key);

  absl::flat_hash_map<std::string, std::unique_ptr<StartLog>> logs_;
  absl::btree_set<Expiry> expiry_;
  size_t starts_ = 0;
};

}  // namespace ratchet::internal

#endif  // RATCHET_ENGINE_JOBS_START_LOGS_H_
