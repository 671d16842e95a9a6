// Corruption at open: a stored record that does not parse stops Open with
// DATA_LOSS naming its column family and key and the runbook; Engine::Salvage
// moves it (and what depends on it) to the quarantine column family, after
// which the engine opens and the rest of the data works.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "engine_harness.h"
#include "ratchet/engine/engine.h"
#include "ratchet/storage/keys.h"
#include "ratchet/storage/store.h"
#include "records.pb.h"

namespace ratchet {
namespace {

using storage::Cf;
using storage::KeyBuilder;
using testing::EngineHarness;

constexpr std::string_view kGarbage = "\xff\xff\xff\xff not a record";

std::string JobKey(JobId id) { return KeyBuilder().U64(id).Build(); }
std::string WorkflowKey(WorkflowId id) { return KeyBuilder().U8('w').U64(id).Build(); }
std::string StepKey(WorkflowId id, int index) {
  return KeyBuilder().U8('s').U64(id).U64(index).Build();
}
std::string QuarantineKey(std::string_view cf, std::string_view key) {
  return KeyBuilder().Str(cf).Raw(key).Build();
}

// Opens the engine's data directory as a plain Store (engine closed).
std::unique_ptr<storage::Store> OpenStore(EngineHarness& h) {
  auto store = storage::Store::Open({.path = h.options().data_dir});
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

void Write(EngineHarness& h, Cf cf, const std::string& key, std::string_view value) {
  auto store = OpenStore(h);
  ASSERT_NE(store, nullptr);
  storage::Batch batch(store.get());
  batch.Put(cf, key, value);
  ASSERT_TRUE(store->Commit(batch).ok());
}

std::optional<std::string> Read(EngineHarness& h, Cf cf, const std::string& key) {
  auto store = OpenStore(h);
  if (!store) return std::nullopt;
  auto value = store->Get(cf, key);
  EXPECT_TRUE(value.ok()) << value.status();
  return value.ok() ? *value : std::nullopt;
}

void ExpectCorruptionReported(const absl::Status& s, const std::string& where) {
  ASSERT_TRUE(absl::IsDataLoss(s)) << s;
  const std::string message(s.message());
  EXPECT_NE(message.find(where), std::string::npos) << message;
  EXPECT_NE(message.find("docs/operations.md#corrupt-records"), std::string::npos) << message;
  EXPECT_NE(message.find("ratchetd --salvage"), std::string::npos) << message;
}

SalvageReport Salvage(EngineHarness& h) {
  h.Close();
  auto report = Engine::Salvage(h.options());
  EXPECT_TRUE(report.ok()) << report.status();
  return report.ok() ? *report : SalvageReport();
}

// (column family, key) of every record the report says this run moved.
std::vector<std::pair<std::string, std::string>> Moved(const SalvageReport& r) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& q : r.moved) out.emplace_back(q.column_family, q.key);
  return out;
}

WorkflowSpec TwoSteps(const std::string& queue) {
  WorkflowSpec w;
  w.name = "two";
  w.queue = queue;
  StepSpec a;
  a.name = "a";
  a.job_type = "t";
  StepSpec b = a;
  b.name = "b";
  b.depends_on = {"a"};
  w.steps = {a, b};
  return w;
}

TEST(SalvageTest, OpenNamesTheColumnFamilyAndKeyOfACorruptJob) {
  EngineHarness h(/*in_memory=*/true);
  h.Enqueue("q");
  JobId corrupt = h.Enqueue("q");
  h.Close();
  Write(h, Cf::kJobs, JobKey(corrupt), kGarbage);
  ExpectCorruptionReported(
      h.TryReopen(),
      "column family 'jobs', key \"\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x02\" (job 2)");
}

TEST(SalvageTest, OpenNamesACorruptWorkflowRecordAndACorruptSchedule) {
  EngineHarness h(/*in_memory=*/true);
  auto wf = h->SubmitWorkflow(TwoSteps("wf"));
  ASSERT_TRUE(wf.ok()) << wf.status();
  ASSERT_TRUE(
      h->CreateSchedule({.id = "nightly", .spec = "@daily", .queue = "s", .job_type = "t"}).ok());
  h.Close();
  Write(h, Cf::kSchedules, "nightly", kGarbage);
  ExpectCorruptionReported(h.TryReopen(), "column family 'schedules', key \"nightly\"");
  Write(h, Cf::kWorkflows, WorkflowKey(wf->id), kGarbage);
  ExpectCorruptionReported(h.TryReopen(), "column family 'workflows', key \"w\\x00");
  EXPECT_NE(h.TryReopen().message().find("(workflow 1)"), std::string::npos);
}

// A queue record that parses but holds a setting the limit logic cannot
// take (a rate limit of 0 starts would read past the start log) is corrupt:
// open names it, and salvage quarantines it (the queue comes back with the
// default settings).
TEST(SalvageTest, AQueueRecordWithOutOfRangeSettingsIsCorrupt) {
  EngineHarness h(/*in_memory=*/true);
  QueueSettingsUpdate u;
  u.key_rate_limit = RateLimit{5, Millis(1000)};
  ASSERT_TRUE(h->UpdateQueue("q", u).ok());
  h.Enqueue("q");
  h.Close();
  records::QueueRecord damaged;
  damaged.mutable_key_rate_limit()->set_limit(0);
  damaged.mutable_key_rate_limit()->set_period_ms(1000);
  Write(h, Cf::kQueues, "q", damaged.SerializeAsString());
  ExpectCorruptionReported(h.TryReopen(), "queue setting key_rate_limit.limit is out of range: 0");
  SalvageReport report = Salvage(h);
  EXPECT_EQ(report.moved.size(), 1u) << "the queue record";
  h.Reopen();
  EXPECT_FALSE(h->GetQueue("q")->settings.key_rate_limit.has_value());
  EXPECT_EQ(h.LeaseOne("q").attempt, 1);
}

TEST(SalvageTest, ReadOfACorruptStepNamesItsKey) {
  EngineHarness h(/*in_memory=*/true);
  auto wf = h->SubmitWorkflow(TwoSteps("wf"));
  ASSERT_TRUE(wf.ok()) << wf.status();
  h.Close();
  Write(h, Cf::kWorkflows, StepKey(wf->id, 1), kGarbage);
  h.Reopen();  // step records are read when used, not at open
  ExpectCorruptionReported(h->GetWorkflow(wf->id).status(),
                           "column family 'workflows', key \"s\\x00");
}

TEST(SalvageTest, CorruptJobsAndTheirIndexEntriesAreQuarantinedAndTheRestRuns) {
  EngineHarness h(/*in_memory=*/true);
  JobId completed = h.Enqueue("q");
  LeasedJob l = h.LeaseOne("q");
  ASSERT_TRUE(h->Complete({.id = l.id, .token = l.token}).ok());
  JobId dead = h->Enqueue({.queue = "q", .job_type = "t", .max_attempts = 1})->id;
  l = h.LeaseOne("q");
  ASSERT_TRUE(h->Fail({.id = l.id, .token = l.token, .error = "e"}).ok());
  JobId live1 = h.Enqueue("q");
  JobId live2 = h.Enqueue("q");
  h.Close();
  Write(h, Cf::kFinishedJobs, JobKey(completed), kGarbage);
  Write(h, Cf::kFinishedJobs, JobKey(dead), kGarbage);
  // Recovery reads live jobs only: the engine opens, and reading a corrupt
  // finished job reports it.
  ASSERT_TRUE(h.TryReopen().ok());
  ExpectCorruptionReported(h->Get(completed).status(), "finished_jobs");
  h.Close();

  SalvageReport report = Salvage(h);
  auto moved = Moved(report);
  // Two jobs (the state record, and the payload record of the one that has
  // a payload), their job_index and dead_letters entries.
  ASSERT_EQ(moved.size(), 5u);
  EXPECT_EQ(moved[0], std::make_pair(std::string("finished_jobs"), JobKey(completed)));
  EXPECT_EQ(moved[1], std::make_pair(std::string("job_payloads"), JobKey(completed)));
  EXPECT_EQ(moved[2], std::make_pair(std::string("finished_jobs"), JobKey(dead)));
  EXPECT_EQ(moved[3].first, "job_index");
  EXPECT_EQ(moved[4].first, "dead_letters");
  EXPECT_NE(report.moved[0].reason.find("does not parse"), std::string::npos);
  EXPECT_EQ(report.moved[0].value_bytes, kGarbage.size());
  EXPECT_EQ(report.quarantine.size(), 5u);
  EXPECT_EQ(Read(h, Cf::kQuarantine, QuarantineKey("finished_jobs", JobKey(completed))),
            std::string(kGarbage));
  EXPECT_EQ(Read(h, Cf::kFinishedJobs, JobKey(completed)), std::nullopt);

  h.Reopen();
  EXPECT_TRUE(absl::IsNotFound(h->Get(completed).status()));
  // Salvage recounts the finished jobs from the indexes it left.
  EXPECT_EQ(h->GetQueue("q")->completed, 0);
  EXPECT_EQ(h->GetQueue("q")->dead, 0);
  auto leased = h->Lease({.queue = "q", .max_jobs = 10, .worker_id = "w"});
  ASSERT_TRUE(leased.ok()) << leased.status();
  ASSERT_EQ(leased->size(), 2u);
  EXPECT_EQ((*leased)[0].id, live1);
  EXPECT_EQ((*leased)[1].id, live2);
  for (const LeasedJob& j : *leased) EXPECT_TRUE(h->Complete({.id = j.id, .token = j.token}).ok());
  auto redriven = h->Redrive({.filter = {.queue = "q"}});  // no dangling dead letter trips it
  ASSERT_TRUE(redriven.ok()) << redriven.status();
  EXPECT_EQ(redriven->count, 0);
  auto finished = h->List({.queue = "q", .state = JobState::kCompleted});
  ASSERT_TRUE(finished.ok()) << finished.status();
  EXPECT_EQ(finished->jobs.size(), 2u);
}

TEST(SalvageTest, AWorkflowWithACorruptRecordIsQuarantinedWholeAndOthersRun) {
  EngineHarness h(/*in_memory=*/true);
  auto broken = h->SubmitWorkflow(TwoSteps("wf"));
  auto intact = h->SubmitWorkflow(TwoSteps("wf"));
  ASSERT_TRUE(broken.ok() && intact.ok());
  h.Close();
  Write(h, Cf::kWorkflows, StepKey(broken->id, 1), kGarbage);

  SalvageReport report = Salvage(h);
  // Its 'w' record, both steps and the job of step a, in one write.
  ASSERT_EQ(report.moved.size(), 4u);
  int jobs = 0;
  for (const auto& q : report.moved) {
    jobs += q.column_family == "jobs";
    if (q.key == StepKey(broken->id, 1)) {
      EXPECT_NE(q.reason.find("does not parse"), std::string::npos) << q.reason;
    } else {
      EXPECT_NE(q.reason.find("belongs to corrupt workflow 1"), std::string::npos) << q.reason;
    }
  }
  EXPECT_EQ(jobs, 1);
  EXPECT_EQ(Read(h, Cf::kQuarantine, QuarantineKey("workflows", StepKey(broken->id, 1))),
            std::string(kGarbage));

  h.Reopen();
  EXPECT_TRUE(absl::IsNotFound(h->GetWorkflow(broken->id).status()));
  auto leased = h->Lease({.queue = "wf", .max_jobs = 10, .worker_id = "w"});
  ASSERT_TRUE(leased.ok()) << leased.status();
  ASSERT_EQ(leased->size(), 1u);
  EXPECT_EQ((*leased)[0].workflow_id, intact->id);
  ASSERT_TRUE(h->Complete({.id = (*leased)[0].id, .token = (*leased)[0].token}).ok());
  leased = h->Lease({.queue = "wf", .max_jobs = 10, .worker_id = "w"});
  ASSERT_TRUE(leased.ok() && leased->size() == 1u);  // step b released
  EXPECT_EQ((*leased)[0].step_name, "b");
}

TEST(SalvageTest, ACorruptScheduleIsQuarantinedAndOthersStay) {
  EngineHarness h(/*in_memory=*/true);
  for (std::string id : {"a", "b"}) {
    ASSERT_TRUE(
        h->CreateSchedule({.id = id, .spec = "@daily", .queue = "s", .job_type = "t"}).ok());
  }
  h.Close();
  Write(h, Cf::kSchedules, "a", kGarbage);
  SalvageReport report = Salvage(h);
  EXPECT_EQ(Moved(report), (std::vector<std::pair<std::string, std::string>>{{"schedules", "a"}}));
  h.Reopen();
  EXPECT_TRUE(absl::IsNotFound(h->GetSchedule("a").status()));
  EXPECT_TRUE(h->GetSchedule("b").ok());
}

// Flow control's stored state (meta CF): a rate-limit start or the rate
// clock that does not parse stops the open; salvage moves both aside and the
// window forgets that start.
TEST(SalvageTest, ACorruptRateStartAndRateClockAreQuarantined) {
  EngineHarness h(/*in_memory=*/true);
  QueueSettingsUpdate update;
  update.rate_limit = RateLimit{1, Millis(3600000)};
  ASSERT_TRUE(h->UpdateQueue("q", update).ok());
  h.Enqueue("q");
  JobId second = h.Enqueue("q");
  h.LeaseOne("q");
  ASSERT_TRUE(h->RunMaintenance().ok());  // stores rate_clock
  h.Close();
  std::string start_key;
  {
    auto store = OpenStore(h);
    ASSERT_NE(store, nullptr);
    const std::string prefix = KeyBuilder().Str("rate_start").Build();
    ASSERT_TRUE(store
                    ->ForEach(Cf::kMeta, prefix, storage::PrefixSuccessor(prefix),
                              [&](std::string_view key, std::string_view) {
                                start_key = std::string(key);
                                return false;
                              })
                    .ok());
    ASSERT_FALSE(start_key.empty());
    ASSERT_TRUE(store->Get(Cf::kMeta, "rate_clock").ok());
    storage::Batch batch(store.get());
    batch.Put(Cf::kMeta, start_key, kGarbage);
    batch.Put(Cf::kMeta, "rate_clock", kGarbage);
    ASSERT_TRUE(store->Commit(batch).ok());
  }
  EXPECT_TRUE(absl::IsDataLoss(h.TryReopen()));
  SalvageReport report = Salvage(h);
  auto moved = Moved(report);
  std::sort(moved.begin(), moved.end());
  // The meta keys live in RocksDB's default column family.
  std::vector<std::pair<std::string, std::string>> want = {{"default", start_key},
                                                           {"default", "rate_clock"}};
  std::sort(want.begin(), want.end());
  EXPECT_EQ(moved, want);
  h.Reopen();
  LeasedJob next = h.LeaseOne("q");
  EXPECT_EQ(next.id, second) << "the quarantined start no longer counts";
}

// Schema 3: a job is its state record and its payload record. A corrupt or
// missing payload record takes the job's state record (and so its index
// entries) with it; the engine then opens and runs the other jobs.
TEST(SalvageTest, AJobWithACorruptOrMissingPayloadRecordIsQuarantinedWhole) {
  EngineHarness h(/*in_memory=*/true);
  JobId corrupt = h.Enqueue("q", "payload-1");
  JobId missing = h.Enqueue("q", "payload-2");
  JobId fine = h.Enqueue("q", "payload-3");
  h.Close();
  Write(h, Cf::kJobPayloads, JobKey(corrupt), kGarbage);
  {
    auto store = OpenStore(h);
    ASSERT_NE(store, nullptr);
    storage::Batch batch(store.get());
    batch.Delete(Cf::kJobPayloads, JobKey(missing));
    ASSERT_TRUE(store->Commit(batch).ok());
  }
  ASSERT_TRUE(h.TryReopen().ok());  // recovery reads state records only
  ExpectCorruptionReported(h->Get(corrupt).status(), "job_payloads");
  ExpectCorruptionReported(h->Get(missing).status(), "payload record is missing");
  h.Close();

  SalvageReport report = Salvage(h);
  auto moved = Moved(report);
  ASSERT_EQ(moved.size(), 3u);
  EXPECT_EQ(moved[0], std::make_pair(std::string("jobs"), JobKey(corrupt)));
  EXPECT_EQ(moved[1], std::make_pair(std::string("job_payloads"), JobKey(corrupt)));
  EXPECT_EQ(moved[2], std::make_pair(std::string("jobs"), JobKey(missing)));
  EXPECT_NE(report.moved[2].reason.find("payload record (job_payloads) is missing"),
            std::string::npos);
  h.Reopen();
  LeasedJob next = h.LeaseOne("q");
  EXPECT_EQ(next.id, fine);
  EXPECT_EQ(next.payload, "payload-3");
  EXPECT_EQ(h->Get(corrupt).status().code(), absl::StatusCode::kNotFound);
}

// The state a crash between a job's move and its index entry's move leaves:
// the engine opens, and the next salvage moves the entry.
TEST(SalvageTest, ARunInterruptedAfterAJobMoveIsCompletedByTheNext) {
  EngineHarness h(/*in_memory=*/true);
  JobId id = h.Enqueue("q");
  LeasedJob l = h.LeaseOne("q");
  ASSERT_TRUE(h->Complete({.id = l.id, .token = l.token}).ok());
  h.Close();
  {
    auto store = OpenStore(h);
    ASSERT_NE(store, nullptr);
    storage::Batch batch(store.get());
    batch.Put(Cf::kQuarantine, QuarantineKey("finished_jobs", JobKey(id)), kGarbage);
    batch.Delete(Cf::kFinishedJobs, JobKey(id));
    ASSERT_TRUE(store->Commit(batch).ok());
  }
  ASSERT_TRUE(h.TryReopen().ok());
  SalvageReport report = Salvage(h);
  // The job's payload record, whose state record is gone, then the index
  // entry.
  ASSERT_EQ(report.moved.size(), 2u);
  EXPECT_EQ(report.moved[0].column_family, "job_payloads");
  EXPECT_NE(report.moved[0].reason.find("whose state record is not stored"), std::string::npos);
  EXPECT_EQ(report.moved[1].column_family, "job_index");
  EXPECT_EQ(report.quarantine.size(), 3u);
  h.Reopen();
  EXPECT_EQ(h->GetQueue("q")->completed, 0) << "salvage recounts the finished jobs";
  auto finished = h->List({.queue = "q", .state = JobState::kCompleted});
  ASSERT_TRUE(finished.ok()) << finished.status();
  EXPECT_TRUE(finished->jobs.empty());
}

TEST(SalvageTest, ACleanStoreMovesNothingAndASecondRunListsTheQuarantine) {
  EngineHarness h(/*in_memory=*/true);
  h.Enqueue("q");
  JobId corrupt = h.Enqueue("q");
  h.Close();
  SalvageReport clean = Salvage(h);
  EXPECT_TRUE(clean.moved.empty());
  EXPECT_TRUE(clean.quarantine.empty());

  Write(h, Cf::kJobs, JobKey(corrupt), kGarbage);
  EXPECT_EQ(Salvage(h).moved.size(), 2u);  // its state and payload records
  SalvageReport again = Salvage(h);
  EXPECT_TRUE(again.moved.empty());
  ASSERT_EQ(again.quarantine.size(), 2u);
  EXPECT_EQ(again.quarantine[0].column_family, "job_payloads");
  EXPECT_EQ(again.quarantine[1].column_family, "jobs");
  EXPECT_EQ(again.quarantine[1].key, JobKey(corrupt));
  EXPECT_EQ(again.quarantine[1].value_bytes, kGarbage.size());
}

}  // namespace
}  // namespace ratchet
