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

}  // namespace ratchet

#endif  // RATCHET_BASE_SATURATING_H_
