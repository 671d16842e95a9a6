// Saturating int64 arithmetic for times and durations in milliseconds.
//
// Times read back from storage (a finish time in an index key, a stored
// period) or given by a caller may lie anywhere in int64's range; a sum that
// would overflow is clamped to the end of the range it overflowed, so a due
// time far in the future stays "far in the future" instead of wrapping into
// the past (signed overflow is also undefined behavior). Pure functions,
// safe from any thread. Uses the GCC/Clang overflow builtins.
#ifndef RATCHET_BASE_SATURATING_H_
#define RATCHET_BASE_SATURATING_H_

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>

namespace ratchet {

// a + b, clamped to [INT64_MIN, INT64_MAX].
constexpr int64_t AddSaturating(int64_t a, int64_t b) {
  int64_t sum = 0;
  if (!__builtin_add_overflow(a, b, &sum)) return sum;
  return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
}

// a - b, clamped to [INT64_MIN, INT64_MAX].
constexpr int64_t SubtractSaturating(int64_t a, int64_t b) {
  int64_t difference = 0;
  if (!__builtin_sub_overflow(a, b, &difference)) return difference;
  return b < 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
}

// v + 1, stopping at T's maximum: counters read back from storage (a job's
// attempts, a schedule's fired and skipped counts) may hold anything.
template <class T>
constexpr T IncrementSaturating(T v) {
  return v == std::numeric_limits<T>::max() ? v : static_cast<T>(v + 1);
}

// The longest span a worker adds to std::chrono::steady_clock (nanoseconds
// since boot, about 292 years of room): 366 days. Attempt timeouts are at
// most 7 days, and leases max_visibility_timeout (12 h by default; an
// embedder may set it higher, without an upper bound).
inline constexpr std::chrono::milliseconds kMaxSteadySpan{366LL * 24 * 3600 * 1000};

// `span` clamped to [0, kMaxSteadySpan]. Workers pass every lease length and
// attempt timeout they read (from a stored job, or from a server's answer)
// through it before adding it to steady_clock::now(), so a damaged record or
// a hostile server cannot overflow the sum and put a deadline in the past.
// A clamped lease still heartbeats every third of it, before it ends; an
// attempt timeout past the cap is not tracked at all (left to the engine).
constexpr std::chrono::milliseconds SteadySpan(std::chrono::milliseconds span) {
  return std::clamp(span, std::chrono::milliseconds(0), kMaxSteadySpan);
}

}  // namespace ratchet

#endif  // RATCHET_BASE_SATURATING_H_
