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
// Durability: every start is also a meta-CF entry
// `rate_start` 0x00 queue 0x00 scope key 0x00 be64(ms) be64(fencing token) ->
// be64(expires ms), put in the lease's write and deleted when it leaves the
// window (TakeExpired), so the limit holds across a restart.
//
// Thread safety: sequencer thread only.
#ifndef RATCHET_ENGINE_JOBS_START_LOGS_H_
#define RATCHET_ENGINE_JOBS_START_LOGS_H_

#include <cstdint>
#include <deque>
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
    int64_t expires_ms;  // at_ms + the period when it was recorded
    JobId id;            // the lease's fencing token: unique per start
  };
  std::string queue;
  bool queue_wide = false;
  std::string key;                        // the concurrency key (queue_wide: "")
  std::deque<Start> starts;               // oldest first; at_ms non-decreasing
  std::optional<int64_t> indexed_expiry;  // its entry in StartLogs' expiry index
  // Adjacent pairs of `starts` whose expiry goes down (a later start logged
  // under a shorter period): 0 while every start was logged under one
  // period, which makes the expiries sorted too.
  int64_t descents = 0;

  // A start counts against the limit from its time until its expiry (its
  // time plus the period in force when it was logged: a changed period
  // applies to later starts), whether or not TakeExpired has removed it
  // yet, so the answers do not depend on when the lease-expiry step ran.
  //
  // The first time at which `rate` admits one more start: kOpenNow while
  // fewer than rate.limit starts are logged, else the time at which only
  // limit - 1 of them still count (possibly already past). O(1), or O(n)
  // while starts logged under different periods overlap.
  int64_t OpensAt(const RateLimit& rate) const;
  // Starts `rate` still admits at `now_ms`: limit minus the starts that
  // count at `now_ms`, at least 0. O(log n), or O(n) as above.
  int64_t Allowance(const RateLimit& rate, int64_t now_ms) const;
  // Appends a start (at_ms not before the newest) / removes the oldest,
  // keeping `descents`.
  void PushBack(const Start& s);
  void PopFront();
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
  // Removes up to `max` starts whose expiry is at or before `now_ms`,
  // earliest first, and returns their meta-CF keys to delete.
  std::vector<std::string> TakeExpired(int64_t now_ms, size_t max);
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
  void Reindex(StartLog* log);
  static std::string ScopeId(const std::string& queue, bool queue_wide, const std::string& key);

  absl::flat_hash_map<std::string, std::unique_ptr<StartLog>> logs_;
  absl::btree_set<Expiry> expiry_;
  size_t starts_ = 0;
};

}  // namespace ratchet::internal

#endif  // RATCHET_ENGINE_JOBS_START_LOGS_H_
