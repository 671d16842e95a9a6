// Code-first workflows on the embedded engine: journalled steps run once,
// durable timers and events suspend the main job without holding a worker,
// and a crash mid-run resumes from the last journalled step.
#include <gtest/gtest.h>

#include <map>

#include "code_workflow_testing.h"
#include "engine_harness.h"
#include "ratchet/base/status.h"
#include "ratchet/engine/engine.h"
#include "ratchet/engine/workflow_runner.h"

namespace ratchet {
namespace {

using testing::EngineHarness;

using testing::LeaseMain;
using testing::Start;

TEST(DurableWorkflowTest, StepsRunOnceAndTheirResultsReplay) {
  EngineHarness h;
  auto id = h->StartWorkflow(Start());
  ASSERT_TRUE(id.ok()) << id.status();
  std::map<std::string, int> runs;
  bool crash_after_reserve = true;
  WorkflowFunction fn = [&](WorkflowContext& ctx) -> absl::StatusOr<std::string> {
    auto reserve = ctx.Step("reserve", [&]() -> absl::StatusOr<std::string> {
      ++runs["reserve"];
      return "R-" + ctx.payload();
    });
    if (!reserve.ok()) return reserve.status();
    if (crash_after_reserve) {
      crash_after_reserve = false;
      throw std::runtime_error("worker crashed");
    }
    auto charge = ctx.Step("charge", [&]() -> absl::StatusOr<std::string> {
      ++runs["charge"];
      EXPECT_EQ(ctx.IdempotencyToken("charge"),
                "ratchet:wf:" + std::to_string(ctx.workflow_id()) + ":charge");
      return "C(" + *reserve + ")";
    });
    if (!charge.ok()) return charge.status();
    return *charge;
  };
  auto first = LeaseMain(h);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->workflow_id, id->id);
  ASSERT_TRUE(RunWorkflowJob(h.engine(), *first, fn, &h.clock()).ok());  // fails, retry scheduled
  h.clock().Advance(Millis(200));
  auto second = LeaseMain(h);
  ASSERT_TRUE(second);
  ASSERT_EQ(second->journal.size(), 1u);
  EXPECT_EQ(second->journal[0].name, "reserve");
  ASSERT_TRUE(RunWorkflowJob(h.engine(), *second, fn, &h.clock()).ok());
  EXPECT_EQ(runs["reserve"], 1);
  EXPECT_EQ(runs["charge"], 1);
  auto wf = h->GetWorkflow(id->id);
  ASSERT_TRUE(wf.ok());
  EXPECT_EQ(wf->state, WorkflowState::kCompleted);
  EXPECT_EQ(wf->result, "C(R-order-1)");
  ASSERT_EQ(wf->steps.size(), 2u);
  EXPECT_EQ(wf->steps[1].name, "charge");
}

TEST(DurableWorkflowTest, RecordStepIsFencedByTheLease) {
  EngineHarness h;
  ASSERT_TRUE(h->StartWorkflow(Start()).ok());
  auto job = LeaseMain(h);
  ASSERT_TRUE(job);
  absl::Status stale = h->RecordStep({job->id, job->token + 100, {"x", "1", {}}});
  EXPECT_EQ(ReasonOf(stale), kReasonLeaseLost) << stale;
  EXPECT_TRUE(h->RecordStep({job->id, job->token, {"x", "1", {}}}).ok());
  EXPECT_TRUE(h->RecordStep({job->id, job->token, {"x", "2", {}}}).ok())
      << "a repeat is acknowledged";
  auto wf = h->GetWorkflow(job->workflow_id);
  ASSERT_TRUE(wf.ok());
  ASSERT_EQ(wf->steps.size(), 1u);
  EXPECT_EQ(wf->steps[0].result, "1") << "the first result stands";
  JobId plain = h.Enqueue("other");
  auto other = h.LeaseOne("other");
  EXPECT_TRUE(absl::IsInvalidArgument(h->RecordStep({plain, other.token, {"x", "1", {}}})));
}

// Regression (issue 10): a step name that is not UTF-8 was journalled, and
// the workflow record then no longer parsed.
TEST(DurableWorkflowTest, StepNameThatIsNotUtf8IsRejected) {
  EngineHarness h(/*in_memory=*/false);
  ASSERT_TRUE(h->StartWorkflow(Start()).ok());
  auto job = LeaseMain(h);
  ASSERT_TRUE(job);
  absl::Status bad = h->RecordStep({job->id, job->token, {std::string("step\xFF"), "1", {}}});
  EXPECT_TRUE(absl::IsInvalidArgument(bad)) << bad;
  EXPECT_NE(bad.message().find("entry.name"), absl::string_view::npos) << bad;
  EXPECT_TRUE(h->GetWorkflow(job->workflow_id).ok());
  h.Reopen();
  EXPECT_TRUE(h->GetWorkflow(job->workflow_id).ok());
}

TEST(DurableWorkflowTest, SleepHoldsNoWorkerAndWakesAfterReopen) {
  EngineHarness h(/*in_memory=*/false);
  auto id = h->StartWorkflow(Start());
  ASSERT_TRUE(id.ok());
  int before = 0, after = 0;
  WorkflowFunction fn = [&](WorkflowContext& ctx) -> absl::StatusOr<std::string> {
    ++before;
    ctx.Sleep(Millis(3600000));
    ++after;
    return "woke";
  };
  auto job = LeaseMain(h);
  ASSERT_TRUE(RunWorkflowJob(h.engine(), *job, fn, &h.clock()).ok());
  EXPECT_EQ(after, 0);
  auto parked = h->Get(job->id);
  EXPECT_EQ(parked->state, JobState::kScheduled);
  EXPECT_EQ(parked->attempts, 0) << "a suspension is not a failed attempt";
  EXPECT_FALSE(LeaseMain(h));
  h.Reopen();
  h.clock().Advance(Millis(3599000));
  EXPECT_FALSE(LeaseMain(h)) << "not before the wake-up time";
  h.clock().Advance(Millis(1000));
  auto woken = LeaseMain(h);
  ASSERT_TRUE(woken);
  ASSERT_TRUE(RunWorkflowJob(h.engine(), *woken, fn, &h.clock()).ok());
  EXPECT_EQ(after, 1);
  EXPECT_EQ(h->GetWorkflow(id->id)->state, WorkflowState::kCompleted);
}

TEST(DurableWorkflowTest, SendEventWakesAWaitingWorkflow) {
  EngineHarness h;
  auto id = h->StartWorkflow(Start({"payment"}));
  ASSERT_TRUE(id.ok());
  WorkflowFunction fn = [&](WorkflowContext& ctx) -> absl::StatusOr<std::string> {
    auto paid = ctx.WaitForEvent("payment", Millis(24 * 3600000));
    if (!paid.ok()) return paid.status();
    return paid->value_or("timeout");
  };
  auto job = LeaseMain(h);
  ASSERT_TRUE(RunWorkflowJob(h.engine(), *job, fn, &h.clock()).ok());
  EXPECT_FALSE(LeaseMain(h));
  absl::Status unknown = h->SendEvent({id->id, "refund", "x"});
  EXPECT_TRUE(absl::IsInvalidArgument(unknown)) << unknown;
  EXPECT_NE(unknown.message().find("unknown event 'refund'"), std::string::npos) << unknown;
  ASSERT_TRUE(h->SendEvent({id->id, "payment", "paid 10 EUR"}).ok());
  ASSERT_TRUE(h->SendEvent({id->id, "payment", "paid 10 EUR"}).ok()) << "a retried send";
  EXPECT_EQ(h->SendEvent({id->id, "payment", "other"}).code(), absl::StatusCode::kAlreadyExists);
  auto woken = LeaseMain(h);
  ASSERT_TRUE(woken) << "the event makes the job available at once";
  ASSERT_TRUE(RunWorkflowJob(h.engine(), *woken, fn, &h.clock()).ok());
  EXPECT_EQ(h->GetWorkflow(id->id)->result, "paid 10 EUR");
}

TEST(DurableWorkflowTest, WaitForEventTimesOutAndALateEventDoesNotChangeThePath) {
  EngineHarness h;
  auto id = h->StartWorkflow(Start({"approval"}));
  ASSERT_TRUE(id.ok());
  int steps_after = 0;
  WorkflowFunction fn = [&](WorkflowContext& ctx) -> absl::StatusOr<std::string> {
    auto approval = ctx.WaitForEvent("approval", Millis(60000));
    if (!approval.ok()) return approval.status();
    std::string path = approval->has_value() ? "approved" : "timed-out";
    auto s = ctx.Step("after", [&]() -> absl::StatusOr<std::string> {
      ++steps_after;
      return path;
    });
    if (!s.ok()) return s.status();
    ctx.Sleep(Millis(1000));
    return *s;
  };
  ASSERT_TRUE(RunWorkflowJob(h.engine(), *LeaseMain(h), fn, &h.clock()).ok());
  h.clock().Advance(Millis(60000));
  ASSERT_TRUE(RunWorkflowJob(h.engine(), *LeaseMain(h), fn, &h.clock()).ok());  // times out, sleeps
  ASSERT_TRUE(h->SendEvent({id->id, "approval", "late"}).ok());
  h.clock().Advance(Millis(1000));
  ASSERT_TRUE(RunWorkflowJob(h.engine(), *LeaseMain(h), fn, &h.clock()).ok());
  EXPECT_EQ(steps_after, 1);
  EXPECT_EQ(h->GetWorkflow(id->id)->result, "timed-out");
}

TEST(DurableWorkflowTest, AFailingWorkflowIsDeadLetteredAndRedriveResumesIt) {
  EngineHarness h;
  StartWorkflowRequest req = Start();
  req.options.max_attempts = 1;
  auto id = h->StartWorkflow(req);
  ASSERT_TRUE(id.ok());
  bool fail = true;
  int reserves = 0;
  WorkflowFunction fn = [&](WorkflowContext& ctx) -> absl::StatusOr<std::string> {
    auto r = ctx.Step("reserve", [&]() -> absl::StatusOr<std::string> {
      ++reserves;
      return "ok";
    });
    if (!r.ok()) return r.status();
    if (fail) return absl::UnavailableError("payment service down");
    return "done";
  };
  ASSERT_TRUE(RunWorkflowJob(h.engine(), *LeaseMain(h), fn, &h.clock()).ok());
  auto wf = h->GetWorkflow(id->id);
  EXPECT_EQ(wf->state, WorkflowState::kFailed);
  EXPECT_EQ(wf->error, "payment service down");
  ASSERT_TRUE(h->Redrive({.filter = {.queue = "wf"}}).ok());
  EXPECT_EQ(h->GetWorkflow(id->id)->state, WorkflowState::kRunning);
  fail = false;
  ASSERT_TRUE(RunWorkflowJob(h.engine(), *LeaseMain(h), fn, &h.clock()).ok());
  EXPECT_EQ(h->GetWorkflow(id->id)->state, WorkflowState::kCompleted);
  EXPECT_EQ(reserves, 1);
}

TEST(DurableWorkflowTest, CancelEndsASuspendedWorkflow) {
  EngineHarness h;
  auto id = h->StartWorkflow(Start({"go"}));
  WorkflowFunction fn = [&](WorkflowContext& ctx) -> absl::StatusOr<std::string> {
    auto go = ctx.WaitForEvent("go", Millis(60000));
    return go.ok() ? std::string("went") : go.status().ToString();
  };
  ASSERT_TRUE(RunWorkflowJob(h.engine(), *LeaseMain(h), fn, &h.clock()).ok());
  EXPECT_EQ(*h->CancelWorkflow(id->id), WorkflowState::kCancelled);
  auto wf = h->GetWorkflow(id->id);
  EXPECT_EQ(h->Get(wf->main_job_id)->state, JobState::kCancelled);
  EXPECT_EQ(h->SendEvent({id->id, "go", ""}).code(), absl::StatusCode::kFailedPrecondition);
}

TEST(DurableWorkflowTest, StartValidatesEvents) {
  EngineHarness h;
  auto dup = h->StartWorkflow(Start({"a", "a"}));
  EXPECT_TRUE(absl::IsInvalidArgument(dup.status()));
  auto bad = h->StartWorkflow(Start({"no spaces"}));
  EXPECT_NE(bad.status().message().find("events[0]"), std::string::npos) << bad.status();
}

}  // namespace
}  // namespace ratchet
