// JobStore's record layout (schema 3, issue 14): a job's payload and step
// inputs are written once, to job_payloads, and a lease, heartbeat or
// completion rewrites only the small state record. Records a schema-2 build
// wrote (payload inline) are read as they are and split at their next write.
#include <gtest/gtest.h>

#include <string>

#include "engine_harness.h"
#include "ratchet/engine/engine.h"
#include "ratchet/storage/keys.h"
#include "ratchet/storage/store.h"
#include "schema.h"

namespace ratchet {
namespace {

using internal::JobKey;
using internal::JobPayloadRecord;
using internal::JobRecord;
using storage::Cf;
using testing::EngineHarness;

uint64_t KeysIn(EngineHarness& h, const std::string& cf_name) {
  auto stats = h->GetStats({});
  EXPECT_TRUE(stats.ok()) << stats.status();
  if (!stats.ok()) return 0;
  for (const ColumnFamilyStats& cf : stats->column_families) {
    if (cf.name == cf_name) return cf.estimated_keys;
  }
  ADD_FAILURE() << "no column family " << cf_name;
  return 0;
}

std::unique_ptr<storage::Store> OpenStore(EngineHarness& h) {
  auto store = storage::Store::Open({.path = h.options().data_dir});
  EXPECT_TRUE(store.ok()) << store.status();
  return store.ok() ? std::move(*store) : nullptr;
}

std::optional<std::string> Read(storage::Store& store, Cf cf, JobId id) {
  auto value = store.Get(cf, JobKey(id));
  EXPECT_TRUE(value.ok()) << value.status();
  return value.ok() ? *value : std::nullopt;
}

TEST(JobStoreTest, LeaseHeartbeatAndCompletionRewriteOnlyTheStateRecord) {
  EngineHarness h;
  const std::string payload(64 << 10, 'p');
  JobId id = h.Enqueue("q", payload);
  // estimate-num-keys counts every Put in the memtable: a rewrite would add one.
  EXPECT_EQ(KeysIn(h, "job_payloads"), 1u);
  LeasedJob l = h.LeaseOne("q");
  ASSERT_EQ(l.id, id);
  EXPECT_EQ(l.payload, payload);
  ASSERT_TRUE(h->Heartbeat({.id = l.id, .token = l.token}).ok());
  EXPECT_EQ(KeysIn(h, "jobs"), 3u) << "enqueue, lease and heartbeat each write the state";
  ASSERT_TRUE(h->Complete({.id = l.id, .token = l.token, .result = "r"}).ok());
  EXPECT_EQ(KeysIn(h, "job_payloads"), 1u) << "the payload was written again";
  auto job = h->Get(id);
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->payload, payload);
  EXPECT_EQ(job->result, "r");

  h.Close();
  auto store = OpenStore(h);
  ASSERT_NE(store, nullptr);
  auto state = Read(*store, Cf::kFinishedJobs, id);
  ASSERT_TRUE(state.has_value());
  EXPECT_LT(state->size(), 200u) << "the state record holds no payload";
  JobRecord r;
  ASSERT_TRUE(r.ParseFromString(*state));
  EXPECT_TRUE(r.payload_split());
  EXPECT_TRUE(r.payload().empty());
  auto stored = Read(*store, Cf::kJobPayloads, id);
  ASSERT_TRUE(stored.has_value());
  JobPayloadRecord p;
  ASSERT_TRUE(p.ParseFromString(*stored));
  EXPECT_EQ(p.payload(), payload);
}

TEST(JobStoreTest, AJobWithoutPayloadHasNoPayloadRecord) {
  EngineHarness h;
  JobId id = h.Enqueue("q", "");
  EXPECT_EQ(KeysIn(h, "job_payloads"), 0u);
  LeasedJob l = h.LeaseOne("q");
  ASSERT_EQ(l.id, id);
  EXPECT_EQ(l.payload, "");
  ASSERT_TRUE(h->Complete({.id = l.id, .token = l.token}).ok());
  h.Reopen();
  EXPECT_EQ(h->Get(id)->payload, "");
}

TEST(JobStoreTest, StepInputsLiveWithThePayloadAndSurviveReopen) {
  EngineHarness h;
  WorkflowSpec w;
  w.name = "two";
  w.queue = "q";
  w.steps = {{.name = "a", .job_type = "t", .payload = "pa"},
             {.name = "b", .job_type = "t", .payload = "pb", .depends_on = {"a"}}};
  ASSERT_TRUE(h->SubmitWorkflow(w).ok());
  LeasedJob a = h.LeaseOne("q");
  ASSERT_TRUE(h->Complete({.id = a.id, .token = a.token, .result = "out-a"}).ok());
  h.Reopen();
  LeasedJob b = h.LeaseOne("q");
  EXPECT_EQ(b.payload, "pb");
  ASSERT_EQ(b.inputs.size(), 1u);
  EXPECT_EQ(b.inputs[0].result, "out-a");
}

// Rewrites every job of the closed engine's directory the way a schema-2
// build stored it: payload and inputs inline, no job_payloads record.
void DowngradeToSchema2(EngineHarness& h) {
  auto store = OpenStore(h);
  ASSERT_NE(store, nullptr);
  storage::Batch batch(store.get());
  for (Cf cf : {Cf::kJobs, Cf::kFinishedJobs}) {
    ASSERT_TRUE(store
                    ->ForEach(cf, "", "",
                              [&](std::string_view key, std::string_view value) {
                                JobRecord r;
                                EXPECT_TRUE(
                                    r.ParseFromArray(value.data(), static_cast<int>(value.size())));
                                if (r.payload_split()) {
                                  auto p = store->Get(Cf::kJobPayloads, key);
                                  EXPECT_TRUE(p.ok() && p->has_value());
                                  EXPECT_TRUE(r.MergeFromString(**p));
                                  r.set_payload_split(false);
                                  batch.Delete(Cf::kJobPayloads, key);
                                }
                                batch.Put(cf, key, r.SerializeAsString());
                                return true;
                              })
                    .ok());
  }
  storage::Store::SetSchemaVersion(batch, 2);
  ASSERT_TRUE(store->Commit(batch).ok());
}

TEST(JobStoreTest, Schema2RecordsAreReadInlineAndSplitAtTheirNextWrite) {
  EngineHarness h;
  JobId done = h.Enqueue("q", "finished-payload");
  LeasedJob l = h.LeaseOne("q");
  ASSERT_TRUE(h->Complete({.id = l.id, .token = l.token}).ok());
  JobId live = h.Enqueue("q", "live-payload");
  h.Close();
  DowngradeToSchema2(h);
  {
    auto store = OpenStore(h);
    ASSERT_NE(store, nullptr);
    EXPECT_EQ(store->SchemaVersion().value_or(0), 2u);
    EXPECT_FALSE(Read(*store, Cf::kJobPayloads, live).has_value());
  }
  h.Reopen();  // sets schema 3, rewrites nothing
  EXPECT_EQ(h->Get(done)->payload, "finished-payload");
  EXPECT_EQ(h->Get(live)->payload, "live-payload");
  auto listed = h->List({.queue = "q", .state = JobState::kCompleted});
  ASSERT_TRUE(listed.ok()) << listed.status();
  ASSERT_EQ(listed->jobs.size(), 1u);
  EXPECT_EQ(listed->jobs[0].payload, "finished-payload");
  LeasedJob leased = h.LeaseOne("q");
  ASSERT_EQ(leased.id, live);
  EXPECT_EQ(leased.payload, "live-payload");
  h.Close();
  auto store = OpenStore(h);
  ASSERT_NE(store, nullptr);
  EXPECT_EQ(store->SchemaVersion().value_or(0), storage::kSchemaVersion);
  auto state = Read(*store, Cf::kJobs, live);
  ASSERT_TRUE(state.has_value());
  JobRecord r;
  ASSERT_TRUE(r.ParseFromString(*state));
  EXPECT_TRUE(r.payload_split()) << "the lease split the record";
  EXPECT_TRUE(r.payload().empty());
  EXPECT_TRUE(Read(*store, Cf::kJobPayloads, live).has_value());
  EXPECT_FALSE(Read(*store, Cf::kJobPayloads, done).has_value()) << "not rewritten at open";
}

TEST(JobStoreTest, RetentionAndPurgeDeleteThePayloadRecord) {
  EngineHarness h;
  JobId id = h->Enqueue({.queue = "q", .job_type = "t", .payload = "x", .max_attempts = 1})->id;
  LeasedJob l = h.LeaseOne("q");
  ASSERT_TRUE(h->Fail({.id = l.id, .token = l.token, .error = "e"}).ok());
  auto purged = h->Purge({.queue = "q"});
  ASSERT_TRUE(purged.ok()) << purged.status();
  EXPECT_EQ(purged->count, 1);
  h.Close();
  auto store = OpenStore(h);
  ASSERT_NE(store, nullptr);
  EXPECT_FALSE(Read(*store, Cf::kFinishedJobs, id).has_value());
  EXPECT_FALSE(Read(*store, Cf::kJobPayloads, id).has_value());
}

TEST(JobStoreTest, RetentionDeletesThePayloadRecord) {
  EngineHarness h;
  QueueSettings settings;
  settings.completed_retention = Millis(1000);
  ASSERT_TRUE(h->UpdateQueue("q", settings).ok());
  JobId id = h.Enqueue("q", "x");
  LeasedJob l = h.LeaseOne("q");
  ASSERT_TRUE(h->Complete({.id = l.id, .token = l.token}).ok());
  h.clock().Advance(Millis(5000));
  ASSERT_TRUE(h->RunMaintenance().ok());
  ASSERT_EQ(h->GetQueue("q")->completed, 0);
  h.Close();
  auto store = OpenStore(h);
  ASSERT_NE(store, nullptr);
  EXPECT_FALSE(Read(*store, Cf::kFinishedJobs, id).has_value());
  EXPECT_FALSE(Read(*store, Cf::kJobPayloads, id).has_value());
}

TEST(JobStoreTest, ARedrivenSchema2DeadJobIsSplitAndRunsWithItsPayload) {
  EngineHarness h;
  JobId id =
      h->Enqueue({.queue = "q", .job_type = "t", .payload = "dead-payload", .max_attempts = 1})->id;
  LeasedJob l = h.LeaseOne("q");
  ASSERT_TRUE(h->Fail({.id = l.id, .token = l.token, .error = "e"}).ok());
  h.Close();
  DowngradeToSchema2(h);
  h.Reopen();
  auto redriven = h->Redrive({.filter = {.queue = "q"}});
  ASSERT_TRUE(redriven.ok()) << redriven.status();
  EXPECT_EQ(redriven->count, 1);
  h.Reopen();
  LeasedJob again = h.LeaseOne("q");
  EXPECT_EQ(again.id, id);
  EXPECT_EQ(again.payload, "dead-payload");
  h.Close();
  auto store = OpenStore(h);
  ASSERT_NE(store, nullptr);
  EXPECT_TRUE(Read(*store, Cf::kJobPayloads, id).has_value());
}

// Lease expiry reads and writes the state record only (LoadState): the job
// keeps its payload, whether or not the record cache holds it.
TEST(JobStoreTest, AnExpiredLeaseKeepsThePayload) {
  for (bool reopen : {false, true}) {
    EngineHarness h;
    JobId id = h.Enqueue("q", "keep-me");
    ASSERT_EQ(h.LeaseOne("q", Millis(1000)).id, id);
    if (reopen) h.Reopen();  // the record cache starts empty
    h.clock().Advance(Millis(2000));
    ASSERT_TRUE(h->RunMaintenance().ok());
    ASSERT_EQ(h->GetQueue("q")->running, 0);
    h.clock().Advance(Millis(60000));  // past the retry backoff
    LeasedJob again = h.LeaseOne("q");
    EXPECT_EQ(again.id, id);
    EXPECT_EQ(again.payload, "keep-me") << "reopen=" << reopen;
    EXPECT_EQ(again.attempt, 2);
    h.Reopen();
    EXPECT_EQ(h->Get(id)->payload, "keep-me") << "reopen=" << reopen;
  }
}

// A live job whose payload record is missing or damaged: the open does not
// read payloads (it stays O(live jobs) in state records only), reading the
// job says DATA_LOSS naming job_payloads, and what needs only the state
// goes on: its lease still expires, and other queues are untouched.
TEST(JobStoreTest, ADamagedPayloadRecordFailsReadsOfItsJobButNotExpiry) {
  EngineHarness h;
  JobId id = h.Enqueue("q", "x");
  LeasedJob l = h.LeaseOne("q", Millis(1000));
  ASSERT_EQ(l.id, id);
  JobId other = h.Enqueue("other", "y");
  h.Close();
  {
    auto store = OpenStore(h);
    ASSERT_NE(store, nullptr);
    JobRecord bogus;  // a state record's fields where a payload record belongs
    bogus.set_id(id);
    bogus.set_token(99);
    storage::Batch batch(store.get());
    batch.Put(Cf::kJobPayloads, JobKey(id), bogus.SerializeAsString());
    ASSERT_TRUE(store->Commit(batch).ok());
  }
  h.Reopen();
  absl::Status read = h->Get(id).status();
  EXPECT_TRUE(absl::IsDataLoss(read)) << read;
  EXPECT_NE(read.message().find("job_payloads"), std::string::npos) << read;
  h.clock().Advance(Millis(2000));
  ASSERT_TRUE(h->RunMaintenance().ok()) << "lease expiry stalled on the damaged job";
  EXPECT_EQ(h->GetQueue("q")->running, 0) << "its lease did not expire";
  EXPECT_EQ(h.LeaseOne("other").id, other);
  // A missing payload record is reported the same way.
  h.Close();
  {
    auto store = OpenStore(h);
    ASSERT_NE(store, nullptr);
    storage::Batch batch(store.get());
    batch.Delete(Cf::kJobPayloads, JobKey(id));
    ASSERT_TRUE(store->Commit(batch).ok());
  }
  h.Reopen();
  read = h->Get(id).status();
  EXPECT_TRUE(absl::IsDataLoss(read)) << read;
  EXPECT_NE(read.message().find("payload record is missing"), std::string::npos) << read;
}

}  // namespace
}  // namespace ratchet
