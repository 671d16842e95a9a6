#include <gtest/gtest.h>

#include "engine_harness.h"
#include "ratchet/engine/engine.h"

namespace ratchet {
namespace {

using testing::EngineHarness;

// Every queue's name and counts, following next_cursor; pages of `limit`.
std::vector<std::string> AllQueues(EngineHarness& h, int limit, int* pages) {
  std::vector<std::string> names;
  QueueListRequest req{.limit = limit};
  *pages = 0;
  do {
    auto page = h->ListQueues(req);
    EXPECT_TRUE(page.ok()) << page.status();
    if (!page.ok()) break;
    EXPECT_LE(static_cast<int>(page->queues.size()), limit);
    for (const QueueInfo& q : page->queues) names.push_back(q.name);
    req.cursor = page->next_cursor;
    ++*pages;
  } while (!req.cursor.empty() && *pages < 100);
  return names;
}

// ListQueues answers a page of at most `limit` queues by name: a caller
// that made a million queues cannot make one call read them all.
TEST(QueueAdminTest, ListQueuesPagesByName) {
  EngineHarness h;
  for (const char* q : {"e", "a", "d", "b", "c"}) h.Enqueue(q);
  int pages = 0;
  EXPECT_EQ(AllQueues(h, 2, &pages), (std::vector<std::string>{"a", "b", "c", "d", "e"}));
  EXPECT_EQ(pages, 3);
  EXPECT_EQ(h->ListQueues()->queues.size(), 5u) << "the default page is 100";
  EXPECT_TRUE(h->ListQueues({.limit = 5})->next_cursor.empty());
  EXPECT_EQ(h->ListQueues({.limit = 0}).status().code(), absl::StatusCode::kInvalidArgument);
  auto big = h->ListQueues({.limit = 1001});
  EXPECT_NE(big.status().message().find("limit"), std::string::npos) << big.status();
  auto bad = h->ListQueues({.cursor = "zz"});
  EXPECT_NE(bad.status().message().find("cursor"), std::string::npos) << bad.status();
}

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
