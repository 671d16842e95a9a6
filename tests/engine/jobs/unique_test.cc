// Unique jobs (EnqueueRequest::unique): which enqueues match which job, for
// every state rule, the retry rule, periods, reopen, batches, cleanup of the
// entries and bad options. docs/consistency.md, "Unique jobs".
#include <gtest/gtest.h>

#include "engine_harness.h"
#include "job_store.h"
#include "ratchet/engine/engine.h"
#include "ratchet/storage/store.h"
#include "retention.h"

namespace ratchet {
namespace {

using testing::EngineHarness;
constexpr JobState kS = JobState::kScheduled;
constexpr JobState kA = JobState::kAvailable;
constexpr JobState kR = JobState::kRunning;

EnqueueRequest Unique(std::vector<JobState> states = {kS, kA, kR}, std::string payload = "user=7") {
  EnqueueRequest r;
  r.queue = "q";
  r.job_type = "refresh";
  r.payload = std::move(payload);
  r.unique = UniqueOptions{};
  r.unique->states = std::move(states);
  return r;
}

EnqueueResult MustEnqueue(EngineHarness& h, const EnqueueRequest& req) {
  auto r = h->Enqueue(req);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? *r : EnqueueResult{};
}

void ExpectInserted(const EnqueueResult& r) {
  EXPECT_FALSE(r.unique_match) << "matched job " << r.id;
  EXPECT_FALSE(r.duplicate);
}

void ExpectMatch(const EnqueueResult& r, JobId id, JobState state) {
  EXPECT_TRUE(r.unique_match);
  EXPECT_FALSE(r.duplicate);
  EXPECT_EQ(r.id, id);
  EXPECT_EQ(r.unique_match_state, state) << JobStateName(r.unique_match_state);
}

// The keys of the idempotency CF starting with `prefix` ('u' entries, 'x'
// cleanup keys), read from the closed store; reopens the engine.
int CountKeys(EngineHarness& h, char prefix) {
  h.Close();
  int n = 0;
  {
    auto store = storage::Store::Open({.path = h.options().data_dir});
    EXPECT_TRUE(store.ok()) << store.status();
    std::string start(1, prefix), end(1, static_cast<char>(prefix + 1));
    EXPECT_TRUE((*store)
                    ->ForEach(storage::Cf::kIdempotency, start, end,
                              [&](std::string_view, std::string_view) { return ++n, true; })
                    .ok());
  }
  h.Reopen();
  return n;
}

TEST(UniqueTest, SameArgsMatchThePendingJobAndOtherArgsDoNot) {
  EngineHarness h;
  EnqueueResult a = MustEnqueue(h, Unique());
  ExpectInserted(a);
  ExpectMatch(MustEnqueue(h, Unique()), a.id, kA);
  ExpectInserted(MustEnqueue(h, Unique({kS, kA, kR}, "user=8")));
  EnqueueRequest other_type = Unique();
  other_type.job_type = "sync";
  ExpectInserted(MustEnqueue(h, other_type));
  EnqueueRequest other_queue = Unique();
  other_queue.queue = "q2";
  ExpectInserted(MustEnqueue(h, other_queue));
  EXPECT_EQ(h->ListQueues()->queues.at(0).available + h->ListQueues()->queues.at(1).available, 4);
}

// One pending refresh(user=7) at a time; a new one may be enqueued once the
// previous one runs.
TEST(UniqueTest, PendingOnlyAllowsANewJobOnceThePreviousOneRuns) {
  EngineHarness h;
  EnqueueResult a = MustEnqueue(h, Unique({kS, kA}));
  ExpectMatch(MustEnqueue(h, Unique({kS, kA})), a.id, kA);
  h.LeaseOne("q");
  EnqueueResult b = MustEnqueue(h, Unique({kS, kA}));
  ExpectInserted(b);
  ExpectMatch(MustEnqueue(h, Unique({kS, kA})), b.id, kA);
}

// The retry case: A runs, B is enqueued, A fails and waits for its retry.
// A started, so it counts as running: C matches B, and there are never two
// never-started jobs.
TEST(UniqueTest, AJobWaitingForARetryCountsAsRunning) {
  EngineHarness h;
  EnqueueResult a = MustEnqueue(h, Unique({kS, kA}));
  LeasedJob leased = h.LeaseOne("q");
  EnqueueResult b = MustEnqueue(h, Unique({kS, kA}));
  ExpectInserted(b);
  auto failed = h->Fail({a.id, leased.token, "boom", true});
  ASSERT_TRUE(failed.ok()) << failed.status();
  ASSERT_EQ(failed->state, kS);  // waiting for its retry
  ExpectMatch(MustEnqueue(h, Unique({kS, kA})), b.id, kA);
  // The entry names a job waiting for its retry: it is not pending, so a new
  // pending job is accepted (and A's retry never makes a second one).
  EnqueueRequest pending = Unique({kS, kA}, "p");
  pending.queue = "pq";
  EnqueueResult p = MustEnqueue(h, pending);
  LeasedJob lp = h.LeaseOne("pq");
  ASSERT_EQ(lp.id, p.id);
  ASSERT_EQ(h->Fail({p.id, lp.token, "boom", true})->state, kS);
  ExpectInserted(MustEnqueue(h, pending));
  // With the default (live) states, A's retry keeps matching while it runs.
  EngineHarness h2;
  EnqueueResult x = MustEnqueue(h2, Unique());
  LeasedJob lx = h2.LeaseOne("q");
  ExpectMatch(MustEnqueue(h2, Unique()), x.id, kR);
  ASSERT_TRUE(h2->Fail({x.id, lx.token, "boom", true}).ok());
  ExpectMatch(MustEnqueue(h2, Unique()), x.id, kR);
}

TEST(UniqueTest, ScheduledOnlyStopsMatchingOnceTheJobIsDue) {
  EngineHarness h;
  EnqueueRequest delayed = Unique({kS});
  delayed.delay = Millis(5000);
  EnqueueResult a = MustEnqueue(h, delayed);
  ExpectMatch(MustEnqueue(h, delayed), a.id, kS);
  h.clock().Advance(Millis(5000));
  EnqueueResult b = MustEnqueue(h, delayed);
  ExpectInserted(b);
  // A backward step does not make A scheduled again for uniqueness: it was
  // judged due, so only B is scheduled.
  h.clock().Advance(Millis(-3000));
  ExpectMatch(MustEnqueue(h, delayed), b.id, kS);
}

TEST(UniqueTest, FinishedStatesMatchOnlyWhenCovered) {
  EngineHarness h;
  EnqueueResult a = MustEnqueue(h, Unique());
  LeasedJob la = h.LeaseOne("q");
  ASSERT_TRUE(h->Complete({a.id, la.token, "", {}}).ok());
  EnqueueResult b = MustEnqueue(h, Unique());  // completed is not covered by default
  ExpectInserted(b);
  LeasedJob lb = h.LeaseOne("q");
  ASSERT_TRUE(h->Complete({b.id, lb.token, "", {}}).ok());
  ExpectMatch(MustEnqueue(h, Unique({kS, kA, kR, JobState::kCompleted})), b.id,
              JobState::kCompleted);
  // Dead and cancelled likewise.
  EnqueueResult c = MustEnqueue(h, Unique({kS, kA, kR, JobState::kCompleted}, "c"));
  ExpectInserted(c);
  ASSERT_EQ(*h->Cancel(c.id), JobState::kCancelled);
  ExpectInserted(MustEnqueue(h, Unique({kS, kA, kR, JobState::kCompleted}, "c")));
  EnqueueResult c2 = MustEnqueue(h, Unique({kS, kA, kR, JobState::kCancelled}, "c2"));
  ASSERT_EQ(*h->Cancel(c2.id), JobState::kCancelled);
  ExpectMatch(MustEnqueue(h, Unique({kS, kA, kR, JobState::kCancelled}, "c2")), c2.id,
              JobState::kCancelled);
  EnqueueRequest dies = Unique({kS, kA, kR, JobState::kDead}, "dies");
  dies.queue = "dq";
  EnqueueResult d = MustEnqueue(h, dies);
  LeasedJob ld = h.LeaseOne("dq");
  ASSERT_TRUE(h->Fail({d.id, ld.token, "fatal", false}).ok());
  ExpectMatch(MustEnqueue(h, dies), d.id, JobState::kDead);
}

TEST(UniqueTest, CancelledWaitingJobNoLongerMatches) {
  EngineHarness h;
  EnqueueResult a = MustEnqueue(h, Unique());
  ASSERT_EQ(*h->Cancel(a.id), JobState::kCancelled);
  ExpectInserted(MustEnqueue(h, Unique()));
}

TEST(UniqueTest, PeriodEndsTheMatch) {
  EngineHarness h;
  EnqueueRequest req = Unique();
  req.unique->period = Millis(10000);
  EnqueueResult a = MustEnqueue(h, req);
  h.clock().Advance(Millis(9999));
  ExpectMatch(MustEnqueue(h, req), a.id, kA);
  h.clock().Advance(Millis(1));
  EnqueueResult b = MustEnqueue(h, req);
  ExpectInserted(b);
  ExpectMatch(MustEnqueue(h, req), b.id, kA);
}

TEST(UniqueTest, EntrySurvivesReopen) {
  EngineHarness h;
  EnqueueResult a = MustEnqueue(h, Unique());
  h.Reopen();
  ExpectMatch(MustEnqueue(h, Unique()), a.id, kA);
}

TEST(UniqueTest, ASecondMatchingRequestOfABatchMatchesTheFirst) {
  EngineHarness h;
  auto r = h->EnqueueBatch({Unique(), Unique(), Unique({kS, kA, kR}, "other")});
  ASSERT_TRUE(r.ok()) << r.status();
  ExpectInserted((*r)[0]);
  ExpectMatch((*r)[1], (*r)[0].id, kA);
  ExpectInserted((*r)[2]);
  EXPECT_EQ(h->ListQueues()->queues.at(0).available, 2);
  // Scheduled-only: an available first job does not cover the second.
  EnqueueRequest later = Unique({kS}, "s");
  later.delay = Millis(1000);
  auto s = h->EnqueueBatch({Unique({kS}, "s"), later, later});
  ASSERT_TRUE(s.ok()) << s.status();
  ExpectInserted((*s)[0]);
  ExpectInserted((*s)[1]);
  ExpectMatch((*s)[2], (*s)[1].id, kS);
}

TEST(UniqueTest, ByKeyMatchesWhateverTheArgs) {
  EngineHarness h;
  EnqueueRequest req = Unique({kS, kA, kR}, "one");
  req.unique->by = UniqueBy::kKey;
  req.unique->key = "account-7 ✓";
  EnqueueResult a = MustEnqueue(h, req);
  EXPECT_EQ(h->Get(a.id)->unique_key, "account-7 ✓");
  req.payload = "two";
  req.job_type = "other";
  ExpectMatch(MustEnqueue(h, req), a.id, kA);
  // By args with the same job is a different entry.
  ExpectInserted(MustEnqueue(h, Unique({kS, kA, kR}, "one")));
}

TEST(UniqueTest, AnIdempotencyDuplicateWinsOverAUniqueMatch) {
  EngineHarness h;
  EnqueueRequest req = Unique();
  req.idempotency_key = "k1";
  EnqueueResult a = MustEnqueue(h, req);
  EnqueueResult again = MustEnqueue(h, req);
  EXPECT_TRUE(again.duplicate);
  EXPECT_FALSE(again.unique_match);
  EXPECT_EQ(again.id, a.id);
  req.idempotency_key = "k2";
  ExpectMatch(MustEnqueue(h, req), a.id, kA);
}

// A rejected request names the field and writes nothing.
void ExpectRejected(const UniqueOptions& u, const std::string& field) {
  EngineHarness h;
  EnqueueRequest req = Unique();
  req.unique = u;
  auto r = h->Enqueue(req);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << r.status();
  EXPECT_NE(r.status().message().find(field), absl::string_view::npos) << r.status();
  EXPECT_TRUE(h->ListQueues()->queues.empty()) << "a rejected enqueue created its queue";
}

TEST(UniqueTest, BadOptionsAreRejectedNamingTheField) {
  UniqueOptions u;
  u.key = "k";  // by args
  ExpectRejected(u, "unique.key");
  u.by = UniqueBy::kKey;
  u.key = "";
  ExpectRejected(u, "unique.key");
  u.key = std::string(257, 'k');
  ExpectRejected(u, "unique.key");
  u.key = "\xff";
  ExpectRejected(u, "unique.key");
  u.key = "k";
  u.states = {};
  ExpectRejected(u, "unique.states");
  u.states = {kA};
  ExpectRejected(u, "unique.states");
  u.states = {kS, kR};
  ExpectRejected(u, "unique.states");
  u.states = {kS, kA, JobState::kCompleted};
  ExpectRejected(u, "unique.states");
  u.states = {kS, kA, kR};
  u.period = Millis(0);
  ExpectRejected(u, "unique.period");
  u.period = Millis(-5);
  ExpectRejected(u, "unique.period");
  // In a batch, the field carries the index.
  EngineHarness h;
  EnqueueRequest bad = Unique();
  bad.unique->states = {};
  auto r = h->EnqueueBatch({Unique(), bad});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("jobs[1].unique.states"), absl::string_view::npos)
      << r.status();
}

// An entry whose job finished in a state it does not cover is deleted by the
// next sweeper pass; one that covers the state stays until retention.
TEST(UniqueTest, EntriesAreCleanedWhenTheirJobStopsMatching) {
  EngineHarness h;
  QueueSettingsUpdate retention;
  retention.completed_retention = Millis(3600000);
  ASSERT_TRUE(h->UpdateQueue("q", retention).ok());
  EnqueueResult a = MustEnqueue(h, Unique());
  EnqueueResult b = MustEnqueue(h, Unique({kS, kA, kR, JobState::kCompleted}, "kept"));
  EXPECT_EQ(CountKeys(h, 'u'), 2);
  for (JobId id : {a.id, b.id}) {
    LeasedJob l = h.LeaseOne("q");
    ASSERT_TRUE(h->Complete({l.id, l.token, "", {}}).ok());
    (void)id;
  }
  ASSERT_TRUE(h->RunMaintenance().ok());
  EXPECT_EQ(CountKeys(h, 'u'), 1) << "the uncovered entry is swept";
  EXPECT_EQ(CountKeys(h, 'x'), 1);
  ExpectMatch(MustEnqueue(h, Unique({kS, kA, kR, JobState::kCompleted}, "kept")), b.id,
              JobState::kCompleted);
  h.clock().Advance(Millis(3600000));
  ASSERT_TRUE(h->RunMaintenance().ok());
  ASSERT_TRUE(h->RunMaintenance().ok());
  EXPECT_EQ(CountKeys(h, 'u'), 0) << "retention ended the covered job";
  EXPECT_EQ(CountKeys(h, 'x'), 0);
  ExpectInserted(MustEnqueue(h, Unique({kS, kA, kR, JobState::kCompleted}, "kept")));
}

// A cleanup that comes due before what the sweeper has already swept (the
// job's period started long before it finished) is still swept: the
// sweep's cursor moves back for it (sweep_cursor.h).
TEST(UniqueTest, ACleanupDueBehindTheSweepIsStillSwept) {
  EngineHarness h;
  const std::vector<JobState> covered = {kS, kA, kR, JobState::kCompleted};
  EnqueueRequest old_req = Unique(covered, "old");
  old_req.unique->period = Millis(1000);
  MustEnqueue(h, old_req);  // at T0: cleanup due at T0 + 1 s once it finishes
  h.clock().Advance(Millis(500));
  EnqueueRequest young = Unique(covered, "young");
  young.queue = "other";
  young.unique->period = Millis(1000);
  MustEnqueue(h, young);
  LeasedJob y = h.LeaseOne("other");
  ASSERT_TRUE(h->Complete({y.id, y.token, "", {}}).ok());  // cleanup due at T0 + 1.5 s
  h.clock().Advance(Millis(2500));
  ASSERT_TRUE(h->RunMaintenance().ok());  // swept through T0 + 1.5 s
  LeasedJob o = h.LeaseOne("q");
  ASSERT_TRUE(h->Complete({o.id, o.token, "", {}}).ok());  // due at T0 + 1 s: behind
  ASSERT_TRUE(h->RunMaintenance().ok());
  ASSERT_TRUE(h->RunMaintenance().ok());
  EXPECT_EQ(CountKeys(h, 'x'), 0) << "a cleanup key behind the sweep is never swept";
}

// An entry written in the same group as a sweep (here by the lease expiry
// that runs just before it) is not committed when the sweep scans, so the
// scan cannot see it; the cursor must not pass it (the review found it did:
// the old job's cleanup key was never swept).
TEST(UniqueTest, ACleanupKeyWrittenBeforeTheSweepInItsGroupIsSwept) {
  EngineHarness h;
  const std::vector<JobState> covered = {kS, kA, kR, JobState::kDead};
  EnqueueRequest old_req = Unique(covered, "old");
  old_req.unique->period = Millis(1000);
  old_req.max_attempts = 1;
  MustEnqueue(h, old_req);
  ASSERT_EQ(h->Lease(LeaseRequest{"q", 1, Millis(1000), "w"})->size(), 1u);
  h.clock().Advance(Millis(500));
  EnqueueRequest young = Unique(covered, "young");
  young.queue = "other";
  young.unique->period = Millis(1000);
  young.max_attempts = 1;
  MustEnqueue(h, young);
  LeasedJob y = h.LeaseOne("other");
  ASSERT_TRUE(h->Fail({y.id, y.token, "x", true}).ok());  // dead: cleanup due at T0 + 1.5 s
  h.clock().Advance(Millis(2000));
  // Expires the old job's lease (dead: cleanup key at T0 + 1 s, pending),
  // then sweeps the young one's key in the same write.
  ASSERT_TRUE(h->RunMaintenance().ok());
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(h->RunMaintenance().ok());
  EXPECT_EQ(CountKeys(h, 'x'), 0) << "a cleanup key pending during a sweep is never swept";
}

// A sweeper pass cleans a bounded number of entries whatever the backlog:
// 3 keys written per entry, within the pass's budget. Run directly on the
// store, so no background pass interferes.
TEST(UniqueTest, CleanupPassesAreBounded) {
  EngineHarness h;
  std::vector<EnqueueRequest> reqs;
  for (int i = 0; i < 100; ++i) reqs.push_back(Unique({kS, kA, kR}, "user=" + std::to_string(i)));
  ASSERT_TRUE(h->EnqueueBatch(reqs).ok());
  std::vector<CompleteRequest> done;
  auto leased = h->Lease(LeaseRequest{"q", 100, Millis(30000), "w"});
  ASSERT_TRUE(leased.ok());
  ASSERT_EQ(leased->size(), 100u);
  for (const LeasedJob& l : *leased) done.push_back({l.id, l.token, "", {}});
  ASSERT_TRUE(h->CompleteBatch(done).ok());
  h.Close();
  {
    auto store = storage::Store::Open({.path = h.options().data_dir});
    ASSERT_TRUE(store.ok()) << store.status();
    internal::JobStore jobs(store->get(), h.options());
    ASSERT_TRUE(jobs.Recover().ok());
    internal::JobRetention retention(&jobs);
    storage::Batch batch(store->get());
    auto written = retention.Sweep(batch, h.clock().Now(), 40);
    ASSERT_TRUE(written.ok()) << written.status();
    EXPECT_EQ(*written, 38);  // 19 entries (each its 'x' and 'u' key), 3 keys kept in reserve
    ASSERT_TRUE((*store)->Commit(batch).ok());
  }
  h.Reopen();
  EXPECT_EQ(CountKeys(h, 'u'), 100 - 19);
  EXPECT_EQ(CountKeys(h, 'x'), 100 - 19);
  ASSERT_TRUE(h->RunMaintenance().ok());  // the default budget takes the rest
  ASSERT_TRUE(h->RunMaintenance().ok());
  EXPECT_EQ(CountKeys(h, 'u'), 0);
}

// Workflow steps and schedule ticks insert jobs without unique options; a
// plain enqueue that matches nothing behaves as before (ids, states).
TEST(UniqueTest, JobsWithoutUniqueOptionsAreUnaffected) {
  EngineHarness h;
  EnqueueRequest plain = Unique();
  plain.unique.reset();
  EXPECT_EQ(MustEnqueue(h, plain).id, 1u);
  EXPECT_EQ(MustEnqueue(h, plain).id, 2u);
  EXPECT_EQ(CountKeys(h, 'u'), 0);
}

}  // namespace
}  // namespace ratchet
