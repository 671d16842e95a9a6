// Retry delays: capped exponential backoff with jitter.
//
// Source: Marc Brooker, "Exponential Backoff And Jitter", AWS Architecture
// Blog, 2015. With base b = initial_backoff, cap c = max_backoff, growth m =
// multiplier and n = the attempt that just failed (1-based):
//
//   exp(n)       = min(c, b * m^(n-1))
//   none         : exp(n)
//   full         : uniform[0, exp(n)]
//   equal        : exp(n)/2 + uniform[0, exp(n)/2]
//   decorrelated : min(c, uniform[b, 3 * previous delay])  (previous = b at n = 1)
//
// Thread safety: pure functions; `random` must not be shared across threads.
#ifndef RATCHET_ENGINE_BACKOFF_H_
#define RATCHET_ENGINE_BACKOFF_H_

#include "ratchet/base/random.h"
#include "ratchet/engine/types.h"

namespace ratchet {

struct BackoffBounds {
  Millis lo{0};
  Millis hi{0};
};

// The closed interval every delay for (policy, attempt, previous) lies in.
// `previous` is the delay used before the last attempt (0 if none).
BackoffBounds RetryDelayBounds(const RetryPolicy& policy, int attempt, Millis previous);

// A delay drawn within RetryDelayBounds using `random`.
Millis RetryDelay(const RetryPolicy& policy, int attempt, Millis previous, Random& random);

}  // namespace ratchet

#endif  // RATCHET_ENGINE_BACKOFF_H_
