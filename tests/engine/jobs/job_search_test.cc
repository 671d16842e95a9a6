// ListJobs filters (issue 12): by job type and concurrency key, with
// cursors, in every state, at most kMaxListScan jobs examined per page.
#include <gtest/gtest.h>

#include <set>

#include "engine_harness.h"
#include "ratchet/base/status.h"
#include "ratchet/engine/engine.h"

namespace ratchet {
namespace {

using testing::EngineHarness;
using testing::FieldOf;

JobId Add(EngineHarness& h, const std::string& type, const std::string& key,
          std::optional<Millis> delay = std::nullopt) {
  EnqueueRequest r{.queue = "q", .job_type = type, .payload = "p"};
  r.concurrency_key = key;
  r.delay = delay;
  auto res = h->Enqueue(r);
  EXPECT_TRUE(res.ok()) << res.status();
  return res->id;
}

// Every page of a filtered listing, followed to its end.
std::vector<JobId> ListAll(EngineHarness& h, ListRequest req, int* pages = nullptr) {
  std::vector<JobId> ids;
  int n = 0;
  do {
    auto page = h->List(req);
    EXPECT_TRUE(page.ok()) << page.status();
    if (!page.ok()) break;
    for (const Job& j : page->jobs) ids.push_back(j.id);
    req.cursor = page->next_cursor;
    ++n;
  } while (!req.cursor.empty() && n < 10000);  // a cursor that repeats fails, not hangs
  EXPECT_TRUE(req.cursor.empty()) << "the pages did not end";
  if (pages) *pages = n;
  return ids;
}

TEST(JobSearchTest, FiltersByTypeAndKeyInEveryLiveState) {
  EngineHarness h;
  JobId a = Add(h, "mail", "acme");
  Add(h, "mail", "globex");
  Add(h, "sms", "acme");
  JobId later = Add(h, "mail", "acme", Millis(60000));
  ListRequest req{.queue = "q", .state = JobState::kAvailable, .limit = 10};
  req.job_type = "mail";
  req.concurrency_key = "acme";
  EXPECT_EQ(ListAll(h, req), std::vector<JobId>{a});
  req.state = JobState::kScheduled;
  EXPECT_EQ(ListAll(h, req), std::vector<JobId>{later});
  auto leased = h->Lease({.queue = "q", .max_jobs = 3});
  ASSERT_TRUE(leased.ok());
  req.state = JobState::kRunning;
  EXPECT_EQ(ListAll(h, req), std::vector<JobId>{a});
  req.job_type = "";
  EXPECT_EQ(ListAll(h, req).size(), 2u) << "mail and sms of acme";
}

TEST(JobSearchTest, FiltersFinishedJobs) {
  EngineHarness h;
  std::vector<JobId> mail;
  for (int i = 0; i < 6; ++i) {
    JobId id = Add(h, i % 2 ? "mail" : "sms", "k");
    if (i % 2) mail.push_back(id);
  }
  auto leased = h->Lease({.queue = "q", .max_jobs = 6});
  ASSERT_TRUE(leased.ok());
  for (const LeasedJob& j : *leased) ASSERT_TRUE(h->Complete({.id = j.id, .token = j.token}).ok());
  ListRequest req{.queue = "q", .state = JobState::kCompleted, .limit = 2};
  req.job_type = "mail";
  int pages = 0;
  EXPECT_EQ(ListAll(h, req, &pages), mail);
  EXPECT_GE(pages, 2) << "the cursor pages through the matches";
}

// A filter that matches little must not make one call scan everything: a
// page examines at most kMaxListScan jobs and hands back a cursor.
TEST(JobSearchTest, APageExaminesAtMostMaxListScanJobs) {
  EngineHarness h;
  std::vector<EnqueueRequest> reqs(2500, EnqueueRequest{"q", "bulk", "p", ""});
  ASSERT_TRUE(h->EnqueueBatch(reqs).ok());
  JobId rare = Add(h, "rare", "");
  for (JobState state : {JobState::kAvailable}) {
    ListRequest req{.queue = "q", .state = state, .limit = 10};
    req.job_type = "rare";
    auto first = h->List(req);
    ASSERT_TRUE(first.ok()) << first.status();
    EXPECT_TRUE(first->jobs.empty());
    EXPECT_FALSE(first->next_cursor.empty()) << "stopped by the scan budget, not the end";
    int pages = 0;
    EXPECT_EQ(ListAll(h, req, &pages), std::vector<JobId>{rare});
    EXPECT_EQ(pages, 3) << "2,501 jobs at 1,000 per page";
  }
}

TEST(JobSearchTest, FinishedPagesAreBoundedToo) {
  EngineHarness h;
  std::vector<EnqueueRequest> reqs(1500, EnqueueRequest{"q", "bulk", "p", ""});
  ASSERT_TRUE(h->EnqueueBatch(reqs).ok());
  auto leased = h->Lease({.queue = "q", .max_jobs = 1000});
  ASSERT_TRUE(leased.ok());
  std::vector<CompleteRequest> done;
  for (const LeasedJob& j : *leased) done.push_back({.id = j.id, .token = j.token});
  ASSERT_TRUE(h->CompleteBatch(done).ok());
  leased = h->Lease({.queue = "q", .max_jobs = 500});
  ASSERT_TRUE(leased.ok());
  done.clear();
  for (const LeasedJob& j : *leased) done.push_back({.id = j.id, .token = j.token});
  ASSERT_TRUE(h->CompleteBatch(done).ok());
  ListRequest req{.queue = "q", .state = JobState::kCompleted, .limit = 10};
  req.concurrency_key = "nobody";
  auto first = h->List(req);
  ASSERT_TRUE(first.ok()) << first.status();
  EXPECT_TRUE(first->jobs.empty());
  EXPECT_FALSE(first->next_cursor.empty());
  int pages = 0;
  EXPECT_TRUE(ListAll(h, req, &pages).empty());
  EXPECT_EQ(pages, 2);
}

TEST(JobSearchTest, UnfilteredListingIsUnchanged) {
  EngineHarness h;
  std::vector<EnqueueRequest> reqs(1500, EnqueueRequest{"q", "bulk", "p", ""});
  ASSERT_TRUE(h->EnqueueBatch(reqs).ok());
  auto page = h->List({.queue = "q", .state = JobState::kAvailable, .limit = 1000});
  ASSERT_TRUE(page.ok());
  EXPECT_EQ(page->jobs.size(), 1000u);
}

// A page is bounded in bytes as well as in jobs: it ends before the job
// that would pass ListRequest::max_bytes, always holds at least one, and
// the pages together still list every job once, in every state.
TEST(JobSearchTest, APageEndsBeforeTheJobThatWouldPassItsBytes) {
  EngineHarness h;
  const std::string big(300 << 10, 'x');  // 300 KiB
  for (int i = 0; i < 6; ++i) {
    EnqueueRequest r{.queue = "q", .job_type = "t", .payload = big};
    ASSERT_TRUE(h->Enqueue(r).ok());
    r.delay = Millis(60000);
    if (i < 5) {
      ASSERT_TRUE(h->Enqueue(r).ok());
    }
  }
  auto leased = h->Lease({.queue = "q", .max_jobs = 3});
  ASSERT_TRUE(leased.ok() && leased->size() == 3u);
  for (const LeasedJob& j : *leased) {
    ASSERT_TRUE(h->Fail({j.id, j.token, "fatal", false}).ok());
  }
  for (JobState state : {JobState::kAvailable, JobState::kScheduled, JobState::kDead}) {
    ListRequest req{.queue = "q", .state = state, .limit = 100, .max_bytes = 700 << 10};
    auto first = h->List(req);
    ASSERT_TRUE(first.ok()) << first.status();
    EXPECT_EQ(first->jobs.size(), 2u) << JobStateName(state) << ": 2 of 300 KiB fit in 700 KiB";
    EXPECT_FALSE(first->next_cursor.empty()) << JobStateName(state);
    int pages = 0;
    std::vector<JobId> ids = ListAll(h, req, &pages);
    const size_t want = state == JobState::kScheduled ? 5u : 3u;
    EXPECT_EQ(ids.size(), want) << JobStateName(state);
    EXPECT_EQ(std::set<JobId>(ids.begin(), ids.end()).size(), ids.size()) << "a job listed twice";
    req.max_bytes = 1;  // smaller than any job: one a page, never none
    EXPECT_EQ(ListAll(h, req).size(), want) << JobStateName(state);
    auto one = h->List(req);
    ASSERT_TRUE(one.ok());
    EXPECT_EQ(one->jobs.size(), 1u) << JobStateName(state);
  }
  // The default bound is EngineOptions::max_lease_bytes.
  h.options().max_lease_bytes = 700 << 10;
  h.Reopen();
  EXPECT_EQ(h->List({.queue = "q", .state = JobState::kScheduled, .limit = 100})->jobs.size(), 2u);
}

TEST(JobSearchTest, BadFiltersAreRejectedNamingTheField) {
  EngineHarness h;
  Add(h, "mail", "");
  for (JobState state : {JobState::kAvailable, JobState::kCompleted}) {
    ListRequest req{.queue = "q", .state = state};
    req.job_type = "bad type!";
    EXPECT_EQ(FieldOf(h->List(req).status()), "job_type");
    req.job_type = "";
    req.concurrency_key = std::string(257, 'k');
    EXPECT_EQ(FieldOf(h->List(req).status()), "concurrency_key");
    req.concurrency_key = "\xc3\x28";
    EXPECT_EQ(FieldOf(h->List(req).status()), "concurrency_key");
  }
}

}  // namespace
}  // namespace ratchet
