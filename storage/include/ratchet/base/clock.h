// Clock: the single source of wall-clock time for every time-based decision
// (run_at, lease deadlines, backoff, retention). Injectable so tests and the
// property model control time, as leveldb::Env does for files.
//
// Units: milliseconds since the Unix epoch (TimePoint) and milliseconds
// (std::chrono::milliseconds) for durations.
//
// Thread safety: implementations must be safe to call from any thread.
#ifndef RATCHET_BASE_CLOCK_H_
#define RATCHET_BASE_CLOCK_H_

#include <atomic>
#include <chrono>
#include <cstdint>

namespace ratchet {

using Millis = std::chrono::milliseconds;
// A wall-clock instant with millisecond resolution.
using TimePoint = std::chrono::time_point<std::chrono::system_clock, Millis>;

inline int64_t ToUnixMs(TimePoint t) { return t.time_since_epoch().count(); }
inline TimePoint FromUnixMs(int64_t ms) { return TimePoint(Millis(ms)); }

class Clock {
 public:
  virtual ~Clock() = default;
  // The current wall-clock time.
  virtual TimePoint Now() const = 0;
};

// The system clock (std::chrono::system_clock). Stateless; a process-wide
// instance is returned by SystemClock::Default().
class SystemClock final : public Clock {
 public:
  TimePoint Now() const override;
  // Never null; lives for the whole process.
  static Clock* Default();
};

// A clock that moves only when told. Safe for concurrent use.
class ManualClock final : public Clock {
 public:
  explicit ManualClock(TimePoint start) : now_ms_(ToUnixMs(start)) {}
  TimePoint Now() const override { return FromUnixMs(now_ms_.load()); }
  void Advance(Millis d) { now_ms_.fetch_add(d.count()); }
  void Set(TimePoint t) { now_ms_.store(ToUnixMs(t)); }

 private:
  std::atomic<int64_t> now_ms_;
};

}  // namespace ratchet

#endif  // RATCHET_BASE_CLOCK_H_
