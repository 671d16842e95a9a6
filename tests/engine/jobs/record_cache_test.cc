#include "record_cache.h"

#include <gtest/gtest.h>

namespace ratchet::internal {
namespace {

TEST(RecordCacheTest, KeepsTheNewestRecordPerJob) {
  RecordCache cache(1000);
  cache.Put(1, "v1");
  cache.Put(1, "v2");
  ASSERT_NE(cache.Get(1), nullptr);
  EXPECT_EQ(cache.Get(1)->state, "v2");
  EXPECT_EQ(cache.bytes(), 2u);
  cache.Erase(1);
  EXPECT_EQ(cache.Get(1), nullptr);
  EXPECT_EQ(cache.bytes(), 0u);
}

TEST(RecordCacheTest, EvictsOldestWritesToStayWithinCapacity) {
  RecordCache cache(30);
  for (JobId id = 1; id <= 5; ++id) cache.Put(id, std::string(10, 'x'));
  EXPECT_LE(cache.bytes(), 30u);
  EXPECT_EQ(cache.Get(1), nullptr);
  EXPECT_EQ(cache.Get(2), nullptr);
  EXPECT_NE(cache.Get(5), nullptr);
  // Rewriting an old entry makes it the newest.
  cache.Put(3, std::string(10, 'y'));
  cache.Put(6, std::string(10, 'z'));
  EXPECT_NE(cache.Get(3), nullptr);
  EXPECT_EQ(cache.Get(4), nullptr);
}

TEST(RecordCacheTest, StaleSlotsDoNotAccumulateBehindALongLivedEntry) {
  RecordCache cache(1 << 20);
  cache.Put(1, "long-lived");
  for (JobId id = 2; id < 100000; ++id) {
    cache.Put(id, "short");
    cache.Erase(id);
  }
  EXPECT_EQ(cache.size(), 1u);
  EXPECT_LE(cache.slots(), 2 * cache.size() + 65) << "stale FIFO slots piled up";
  EXPECT_NE(cache.Get(1), nullptr);
  // The bound is on bytes; entries stay exact, and a fresh entry still evicts.
  RecordCache small(10);
  small.Put(1, "0123456789");
  small.Put(2, "abc");
  EXPECT_EQ(small.Get(1), nullptr);
}

TEST(RecordCacheTest, PutStateKeepsThePayloadAndCountsBoth) {
  RecordCache cache(1000);
  EXPECT_FALSE(cache.PutState(1, "s0")) << "no payload at hand for an uncached job";
  EXPECT_EQ(cache.Get(1), nullptr);
  cache.Put(1, "s1", "payload");
  EXPECT_EQ(cache.bytes(), 9u);
  EXPECT_TRUE(cache.PutState(1, "state2"));
  ASSERT_NE(cache.Get(1), nullptr);
  EXPECT_EQ(cache.Get(1)->state, "state2");
  EXPECT_EQ(cache.Get(1)->payload, "payload");
  EXPECT_EQ(cache.bytes(), 13u);
  cache.Erase(1);
  EXPECT_EQ(cache.bytes(), 0u);
}

TEST(RecordCacheTest, ZeroCapacityDisablesIt) {
  RecordCache cache(0);
  cache.Put(1, "v");
  EXPECT_EQ(cache.Get(1), nullptr);
}

}  // namespace
}  // namespace ratchet::internal
