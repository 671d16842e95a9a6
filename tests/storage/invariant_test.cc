#include "ratchet/base/invariant.h"

#include <gtest/gtest.h>

namespace ratchet {
namespace {

// In the builds that check invariants (the sanitizer build, Debug), a broken
// one stops the process; this fails if the sanitizer build ever stops
// checking them.
TEST(InvariantTest, ABrokenInvariantAbortsWhereTheyAreChecked) {
#if defined(RATCHET_CHECK_INVARIANTS) || !defined(NDEBUG)
  EXPECT_DEATH(RATCHET_INVARIANT(1 + 1 == 3, "arithmetic holds"), "arithmetic holds");
  RATCHET_INVARIANT(1 + 1 == 2, "arithmetic holds");
#else
  GTEST_SKIP() << "invariants are compiled away in this build";
#endif
}

}  // namespace
}  // namespace ratchet
