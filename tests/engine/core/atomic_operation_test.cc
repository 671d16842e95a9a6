// Every operation is all or nothing (engine/core/sequencer: Atomically): an
// operation that fails after it has written, here because a workflow's
// bookkeeping cannot be read, leaves no write behind and the in-memory state
// is rebuilt; CompleteAndLease with an invalid lease part writes nothing.
#include <gtest/gtest.h>

#include <atomic>
#include <memory>

#include "engine_harness.h"
#include "ratchet/base/status.h"
#include "ratchet/engine/engine.h"

namespace ratchet {
namespace {

using testing::EngineHarness;

// Fails point reads of the "workflows" column family while `on`.
struct WorkflowReadFault {
  std::shared_ptr<std::atomic<bool>> on = std::make_shared<std::atomic<bool>>(false);
  void Install(EngineOptions& o) const {
    o.read_fault = [on = on](std::string_view cf, std::string_view) {
      if (*on && cf == "workflows") return absl::UnavailableError("injected read error");
      return absl::OkStatus();
    };
  }
};

WorkflowSpec TwoSteps() {
  WorkflowSpec w;
  w.name = "pipeline";
  w.queue = "wf";
  StepSpec a;
  a.name = "a";
  a.job_type = "work";
  StepSpec b = a;
  b.name = "b";
  b.depends_on = {"a"};
  w.steps = {a, b};
  return w;
}

TEST(AtomicOperationTest, AnOwnerThatCannotReadFailsTheWholeCompletion) {
  WorkflowReadFault fault;
  EngineHarness h(/*in_memory=*/true, 42, [&](EngineOptions& o) { fault.Install(o); });
  auto wf = h->SubmitWorkflow(TwoSteps());
  ASSERT_TRUE(wf.ok()) << wf.status();
  LeasedJob a = h.LeaseOne("wf");
  ASSERT_EQ(a.step_name, "a");

  *fault.on = true;
  absl::Status s = h->Complete({.id = a.id, .token = a.token});
  EXPECT_TRUE(absl::IsUnavailable(s)) << s;
  *fault.on = false;

  // Nothing of the failed completion stands: the job still runs under its
  // lease, and step b is not released.
  auto job = h->Get(a.id);
  ASSERT_TRUE(job.ok()) << job.status();
  EXPECT_EQ(job->state, JobState::kRunning);
  auto none = h->Lease({.queue = "wf", .max_jobs = 10});
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->empty());

  // The retry completes it and the workflow moves on.
  ASSERT_TRUE(h->Complete({.id = a.id, .token = a.token}).ok());
  EXPECT_EQ(h->Get(a.id)->state, JobState::kCompleted);
  LeasedJob b = h.LeaseOne("wf");
  EXPECT_EQ(b.step_name, "b");
  ASSERT_TRUE(h->Complete({.id = b.id, .token = b.token}).ok());
  EXPECT_EQ(h->GetWorkflow(wf->id)->state, WorkflowState::kCompleted);
}

// Review finding: a CompleteBatch item that failed after writing used to
// commit the job as completed without its effects or its workflow's update.
TEST(AtomicOperationTest, ACompleteBatchItemWhoseOwnerCannotReadFailsTheBatch) {
  WorkflowReadFault fault;
  EngineHarness h(/*in_memory=*/true, 42, [&](EngineOptions& o) { fault.Install(o); });
  ASSERT_TRUE(h->SubmitWorkflow(TwoSteps()).ok());
  h.Enqueue("plain");
  LeasedJob a = h.LeaseOne("wf");
  LeasedJob plain = h.LeaseOne("plain");
  h.Enqueue("other");  // so the workflow record is read from the store
  h.Enqueue("other");

  *fault.on = true;
  CompleteRequest with_effect{.id = a.id, .token = a.token};
  with_effect.effects.push_back({.key = "effect", .value = "v"});
  auto r = h->CompleteBatch({with_effect, {.id = plain.id, .token = plain.token}});
  EXPECT_TRUE(absl::IsUnavailable(r.status())) << r.status();
  *fault.on = false;
  EXPECT_EQ(h->Get(a.id)->state, JobState::kRunning) << "nothing of the batch stands";
  EXPECT_EQ(h->Get(plain.id)->state, JobState::kRunning);

  r = h->CompleteBatch({with_effect, {.id = plain.id, .token = plain.token}});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE((*r)[0].ok() && (*r)[1].ok());
  EXPECT_EQ(h.LeaseOne("wf").step_name, "b");
}

TEST(AtomicOperationTest, ARedriveWhoseOwnerCannotReadChangesNothing) {
  WorkflowReadFault fault;
  EngineHarness h(/*in_memory=*/true, 42, [&](EngineOptions& o) { fault.Install(o); });
  WorkflowSpec spec = TwoSteps();
  spec.steps[0].options.max_attempts = 1;
  auto wf = h->SubmitWorkflow(spec);
  ASSERT_TRUE(wf.ok()) << wf.status();
  LeasedJob a = h.LeaseOne("wf");
  auto failed = h->Fail({.id = a.id, .token = a.token, .error = "boom", .retryable = false});
  ASSERT_TRUE(failed.ok()) << failed.status();
  ASSERT_EQ(h->Get(a.id)->state, JobState::kDead);
  // Two unrelated writes, so the workflow record is read from the store (a
  // group reads through the one before it).
  h.Enqueue("other");
  h.Enqueue("other");

  *fault.on = true;
  auto redriven = h->Redrive({.filter = {.queue = "wf"}});
  EXPECT_TRUE(absl::IsUnavailable(redriven.status())) << redriven.status();
  *fault.on = false;
  EXPECT_EQ(h->Get(a.id)->state, JobState::kDead) << "the failed redrive moved nothing";

  redriven = h->Redrive({.filter = {.queue = "wf"}});
  ASSERT_TRUE(redriven.ok()) << redriven.status();
  EXPECT_EQ(redriven->count, 1);
  LeasedJob again = h.LeaseOne("wf");
  EXPECT_EQ(again.id, a.id);
}

TEST(AtomicOperationTest, CompleteAndLeaseWithAnInvalidLeaseWritesNothing) {
  EngineHarness h;
  h.Enqueue("q");
  LeasedJob j = h.LeaseOne("q");
  auto r =
      h->CompleteAndLease({.id = j.id, .token = j.token}, {.queue = "not a queue!", .max_jobs = 1});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
  EXPECT_EQ(h->Get(j.id)->state, JobState::kRunning) << "the completion was not applied";

  // Valid: completes, then leases the next job, in one call.
  JobId next = h.Enqueue("q", "p2");
  r = h->CompleteAndLease({.id = j.id, .token = j.token}, {.queue = "q", .max_jobs = 1});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE(r->completion.ok()) << r->completion;
  ASSERT_EQ(r->jobs.size(), 1u);
  EXPECT_EQ(r->jobs[0].id, next);
  EXPECT_EQ(h->Get(j.id)->state, JobState::kCompleted);

  // A stale completion is reported in `completion`; the lease still runs.
  h.Enqueue("q", "p3");
  r = h->CompleteAndLease({.id = j.id, .token = j.token + 1000}, {.queue = "q", .max_jobs = 1});
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->completion.code(), absl::StatusCode::kFailedPrecondition) << r->completion;
  EXPECT_EQ(r->jobs.size(), 1u);
}

}  // namespace
}  // namespace ratchet
