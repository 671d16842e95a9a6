#include <gtest/gtest.h>

#include "engine_harness.h"
#include "ratchet/engine/engine.h"

namespace ratchet {
namespace {

using testing::EngineHarness;

// Regression (issue 10): UpdateQueue replaced every setting, `paused`
// included, so changing a paused queue's limit silently resumed it.
TEST(QueueAdminTest, UpdateQueueNeverChangesPaused) {
  EngineHarness h;
  ASSERT_TRUE(h->PauseQueue("q").ok());
  QueueSettings s;
  s.concurrency_limit = 3;
  ASSERT_TRUE(h->UpdateQueue("q", s).ok());
  auto info = h->GetQueue("q");
  ASSERT_TRUE(info.ok());
  EXPECT_TRUE(info->settings.paused) << "an update resumed a paused queue";
  EXPECT_EQ(info->settings.concurrency_limit, 3);
  h.Enqueue("q");
  EXPECT_TRUE(h->Lease({.queue = "q"})->empty());
  ASSERT_TRUE(h->ResumeQueue("q").ok());
  s.paused = true;  // ignored: pausing is PauseQueue's
  ASSERT_TRUE(h->UpdateQueue("q", s).ok());
  EXPECT_FALSE(h->GetQueue("q")->settings.paused);
  h.Reopen();
  EXPECT_FALSE(h->GetQueue("q")->settings.paused);
  EXPECT_EQ(h->Lease({.queue = "q"})->size(), 1u);
}

}  // namespace
}  // namespace ratchet
