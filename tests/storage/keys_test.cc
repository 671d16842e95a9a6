#include "ratchet/storage/keys.h"

#include <gtest/gtest.h>

namespace ratchet::storage {
namespace {

TEST(KeysTest, UnsignedIntegersSortNumerically) {
  EXPECT_LT(KeyBuilder().U64(1).Build(), KeyBuilder().U64(256).Build());
  EXPECT_LT(KeyBuilder().U64(255).Build(), KeyBuilder().U64(uint64_t{1} << 40).Build());
}

TEST(KeysTest, SignedIntegersSortNumericallyAcrossZero) {
  EXPECT_LT(KeyBuilder().I64(-5).Build(), KeyBuilder().I64(0).Build());
  EXPECT_LT(KeyBuilder().I64(0).Build(), KeyBuilder().I64(7).Build());
  EXPECT_LT(KeyBuilder().I64(INT64_MIN).Build(), KeyBuilder().I64(INT64_MAX).Build());
}

TEST(KeysTest, TerminatedStringsDoNotPrefixEachOther) {
  // "a" followed by a component must sort before "ab": the terminator keeps
  // one queue's keys together.
  EXPECT_LT(KeyBuilder().Str("a").U64(UINT64_MAX).Build(), KeyBuilder().Str("ab").Build());
}

TEST(KeysTest, ReaderRoundTripsEveryComponent) {
  std::string key = KeyBuilder().Str("queue").U8(3).I64(-42).U64(99).Build();
  KeyReader r(key);
  std::string s;
  uint8_t b;
  int64_t i;
  uint64_t u;
  ASSERT_TRUE(r.Str(&s) && r.U8(&b) && r.I64(&i) && r.U64(&u));
  EXPECT_EQ(s, "queue");
  EXPECT_EQ(b, 3);
  EXPECT_EQ(i, -42);
  EXPECT_EQ(u, 99u);
  EXPECT_TRUE(r.rest().empty());
  EXPECT_FALSE(r.U64(&u));
}

TEST(KeysTest, PrefixSuccessorBoundsThePrefix) {
  EXPECT_EQ(PrefixSuccessor("ab"), "ac");
  EXPECT_EQ(PrefixSuccessor(std::string("a\xff", 2)), "b");
  EXPECT_EQ(PrefixSuccessor(std::string("\xff\xff", 2)), "");
}

}  // namespace
}  // namespace ratchet::storage
