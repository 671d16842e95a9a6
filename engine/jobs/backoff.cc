#include "ratchet/engine/backoff.h"

#include <algorithm>
#include <cmath>

#include "ratchet/base/saturating.h"

namespace ratchet {

namespace {

int64_t Exponential(const RetryPolicy& p, int attempt) {
  double grown = static_cast<double>(p.initial_backoff.count()) *
                 std::pow(p.multiplier, std::max(0, attempt - 1));
  // A policy read back from disk may hold any multiplier: a NaN or an
  // infinity never reaches the conversion to int64 (undefined behavior).
  if (!(grown < static_cast<double>(p.max_backoff.count()))) return p.max_backoff.count();
  return static_cast<int64_t>(grown);
}

}  // namespace

BackoffBounds RetryDelayBounds(const RetryPolicy& p, int attempt, Millis previous) {
  const int64_t e = Exponential(p, attempt);
  switch (p.jitter) {
    case JitterMode::kNone:
      return {Millis(e), Millis(e)};
    case JitterMode::kFull:
      return {Millis(0), Millis(e)};
    case JitterMode::kEqual:
      return {Millis(e - e / 2), Millis(e)};
    case JitterMode::kDecorrelated: {
      const int64_t base = p.initial_backoff.count();
      const int64_t cap = p.max_backoff.count();
      const int64_t prev = previous.count() > 0 ? previous.count() : base;
      // prev is the stored last backoff: 3 * prev saturates.
      const int64_t hi =
          std::max(base, std::min(cap, AddSaturating(prev, AddSaturating(prev, prev))));
      return {Millis(std::min(base, cap)), Millis(hi)};
    }
  }
  return {Millis(e), Millis(e)};
}

Millis RetryDelay(const RetryPolicy& p, int attempt, Millis previous, Random& random) {
  BackoffBounds b = RetryDelayBounds(p, attempt, previous);
  if (b.lo == b.hi) return b.lo;
  return Millis(random.UniformInt(b.lo.count(), b.hi.count()));
}

}  // namespace ratchet
