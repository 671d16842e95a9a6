// RATCHET_INVARIANT(cond, message): an invariant the code relies on, stated
// as an assertion. Checked when RATCHET_CHECK_INVARIANTS is defined (the
// sanitizer build and Debug builds turn it on); otherwise compiled away, and
// `cond` is not evaluated, so it may be as costly as a test needs.
//
// A failed invariant prints the condition, the message and the place to
// stderr and aborts: the process is in a state the consistency rules
// (docs/consistency.md) say cannot happen, and going on could write it.
#ifndef RATCHET_BASE_INVARIANT_H_
#define RATCHET_BASE_INVARIANT_H_

#if defined(RATCHET_CHECK_INVARIANTS) || !defined(NDEBUG)
#include <cstdio>
#include <cstdlib>

#define RATCHET_INVARIANT(cond, message)                                                    \
  do {                                                                                      \
    if (!(cond)) {                                                                          \
      std::fprintf(stderr, "%s:%d: invariant failed: %s (%s)\n", __FILE__, __LINE__, #cond, \
                   message);                                                                \
      std::abort();                                                                         \
    }                                                                                       \
  } while (0)
#else
#define RATCHET_INVARIANT(cond, message) \
  do {                                   \
  } while (0)
#endif

#endif  // RATCHET_BASE_INVARIANT_H_
