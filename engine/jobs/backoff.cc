#include "ratchet/engine/backoff.h"

#include <algorithm>
#include <cmath>

#include "ratchet/base/saturating.h"

namespace ratchet {

namespace {

int64_t Exponential(const RetryPolicy& p, int attempt) {
  double grown = static_cast<double>(p.initial_backoff.count()) *
                 std::pow(p.multiplier, std::max(0, attempt - 1));
  // A policy read back from disk may hold any value: a NaN, an infinity or
  // a negative never reaches the conversion to int64 (undefined behavior)
  // or a jitter range with lo > hi; the delay stays in [0, max_backoff].
  const int64_t cap = std::max<int64_t>(0, p.max_backoff.count());
  if (std::isnan(grown) || grown >= static_cast<double>(cap)) return cap;
  if (grown <= 0) return 0;
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
      const int64_t base = std::max<int64_t>(0, p.initial_backoff.count());
      const int64_t cap = std::max<int64_t>(0, p.max_backoff.count());
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
