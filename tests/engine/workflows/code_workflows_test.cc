// Code-first workflows against a journal they did not write as they expect
// (issue 10): timers run on the engine's clock whatever the worker's says,
// suspensions per attempt are bounded, and a replay that asks for another
// entry than the journal holds fails the workflow as NON_DETERMINISTIC.
#include <gtest/gtest.h>

#include "code_workflow_testing.h"
#include "engine_harness.h"
#include "ratchet/base/status.h"
#include "ratchet/engine/engine.h"
#include "ratchet/engine/workflow_runner.h"
#include "record_rewrite.h"
#include "schema.h"

namespace ratchet {
namespace {

using testing::EngineHarness;

constexpr Millis kHour{3600000};

using testing::LeaseMain;
using testing::Start;

// Leases and runs the main job until nothing is available; returns the runs.
int RunWhileAvailable(EngineHarness& h, const WorkflowFunction& fn, Clock* worker_clock) {
  int runs = 0;
  for (; runs < 50; ++runs) {
    auto job = LeaseMain(h);
    if (!job) break;
    EXPECT_TRUE(RunWorkflowJob(h.engine(), *job, fn, worker_clock).ok());
  }
  return runs;
}

// Regression: the wake-up was the worker's clock + 10 s; an hour behind, the
// engine found it past at once, and the worker suspended again on every
// lease (a durable write each) until its own clock caught up.
TEST(CodeWorkflowsTest, AWorkerClockBehindDoesNotSpinASleep) {
  EngineHarness h;
  auto id = h->StartWorkflow(Start());
  ASSERT_TRUE(id.ok()) << id.status();
  ManualClock worker(h.clock().Now() - kHour);
  int woke = 0;
  WorkflowFunction fn = [&](WorkflowContext& ctx) -> absl::StatusOr<std::string> {
    ctx.Sleep(Millis(10000));
    ++woke;
    return "woke";
  };
  EXPECT_EQ(RunWhileAvailable(h, fn, &worker), 1) << "one suspension, no suspend/resume cycles";
  h.clock().Advance(Millis(9999));
  worker.Advance(Millis(9999));
  EXPECT_FALSE(LeaseMain(h)) << "not before 10 s on the engine's clock";
  h.clock().Advance(Millis(1));
  worker.Advance(Millis(1));
  EXPECT_EQ(RunWhileAvailable(h, fn, &worker), 1);
  EXPECT_EQ(woke, 1);
  EXPECT_EQ(h->GetWorkflow(id->id)->state, WorkflowState::kCompleted);
}

// Regression: an hour ahead, the worker's wake-up was an hour late.
TEST(CodeWorkflowsTest, AWorkerClockAheadDoesNotStretchASleep) {
  EngineHarness h;
  auto id = h->StartWorkflow(Start());
  ASSERT_TRUE(id.ok()) << id.status();
  ManualClock worker(h.clock().Now() + kHour);
  WorkflowFunction fn = [&](WorkflowContext& ctx) -> absl::StatusOr<std::string> {
    ctx.Sleep(Millis(10000));
    return "woke";
  };
  EXPECT_EQ(RunWhileAvailable(h, fn, &worker), 1);
  h.clock().Advance(Millis(10000));
  worker.Advance(Millis(10000));
  EXPECT_EQ(RunWhileAvailable(h, fn, &worker), 1) << "due after 10 s of the engine's clock";
  EXPECT_EQ(h->GetWorkflow(id->id)->state, WorkflowState::kCompleted);
}

// A wait's deadline is the engine's too: its timeout is not the worker's.
TEST(CodeWorkflowsTest, AWaitTimesOutOnTheEngineClock) {
  EngineHarness h;
  auto id = h->StartWorkflow(Start({"approval"}));
  ASSERT_TRUE(id.ok()) << id.status();
  ManualClock worker(h.clock().Now() - kHour);
  WorkflowFunction fn = [&](WorkflowContext& ctx) -> absl::StatusOr<std::string> {
    auto approval = ctx.WaitForEvent("approval", Millis(60000));
    if (!approval.ok()) return approval.status();
    return approval->value_or("timed-out");
  };
  EXPECT_EQ(RunWhileAvailable(h, fn, &worker), 1);
  h.clock().Advance(Millis(60000));
  EXPECT_EQ(RunWhileAvailable(h, fn, &worker), 1);
  EXPECT_EQ(h->GetWorkflow(id->id)->result, "timed-out");
}

// Regression: a worker that suspends without waiting (an old worker with a
// skewed clock, or a bug) cost one durable write per cycle, without bound.
TEST(CodeWorkflowsTest, SuspendsPerAttemptAreBounded) {
  EngineHarness h(true, 42, [](EngineOptions& o) { o.max_suspends_per_attempt = 3; });
  StartWorkflowRequest start = Start();
  start.options.max_attempts = 2;
  auto id = h->StartWorkflow(start);
  ASSERT_TRUE(id.ok()) << id.status();
  auto spin = [&]() {
    for (int i = 0; i < 3; ++i) {
      auto job = LeaseMain(h);
      ASSERT_TRUE(job) << "suspension " << i;
      ASSERT_TRUE(h->Suspend({job->id, job->token, h.clock().Now(), "", {}}).ok());
    }
    auto job = LeaseMain(h);
    ASSERT_TRUE(job);
    ASSERT_TRUE(h->Suspend({job->id, job->token, h.clock().Now(), "", {}}).ok());
  };
  spin();
  auto failed = h->Get(h->GetWorkflow(id->id)->main_job_id);
  ASSERT_TRUE(failed.ok()) << failed.status();
  EXPECT_EQ(failed->state, JobState::kScheduled) << "the attempt failed; a retry waits";
  EXPECT_EQ(failed->attempts, 1);
  ASSERT_FALSE(failed->errors.empty());
  EXPECT_NE(failed->errors.back().message.find("max_suspends_per_attempt"), std::string::npos)
      << failed->errors.back().message;
  EXPECT_FALSE(LeaseMain(h)) << "the retry backs off";
  h.clock().Advance(Millis(100));
  spin();  // the next attempt counts afresh, and fails the same way
  auto wf = h->GetWorkflow(id->id);
  EXPECT_EQ(wf->state, WorkflowState::kFailed);
  EXPECT_NE(wf->error.find("suspended more than 3 times in attempt 2"), std::string::npos)
      << wf->error;
}

// A stored suspension count at INT32_MAX (damage): the next suspension
// counts past the limit. Before, the count wrapped to INT32_MIN and the
// limit no longer held.
TEST(CodeWorkflowsTest, AStoredSuspendCountAtItsMaximumStillHitsTheLimit) {
  EngineHarness h(/*in_memory=*/false);
  auto id = h->StartWorkflow(Start());
  ASSERT_TRUE(id.ok()) << id.status();
  auto job = LeaseMain(h);
  ASSERT_TRUE(job);
  ASSERT_TRUE(h->Suspend({job->id, job->token, h.clock().Now(), "", {}}).ok());
  h.Close();
  ASSERT_NO_FATAL_FAILURE(testing::RewriteRecord<internal::WorkflowRecord>(
      h, storage::Cf::kWorkflows, internal::WorkflowKey(id->id),
      [](internal::WorkflowRecord& wf) { wf.set_suspends(INT32_MAX); }));
  h.Reopen();
  job = LeaseMain(h);
  ASSERT_TRUE(job);
  ASSERT_TRUE(h->Suspend({job->id, job->token, h.clock().Now(), "", {}}).ok());
  auto failed = h->Get(job->id);
  ASSERT_TRUE(failed.ok()) << failed.status();
  ASSERT_FALSE(failed->errors.empty()) << "the suspension was taken";
  EXPECT_NE(failed->errors.back().message.find("max_suspends_per_attempt"), std::string::npos)
      << failed->errors.back().message;
}

WorkflowFunction ChargeThenSleep() {
  return [](WorkflowContext& ctx) -> absl::StatusOr<std::string> {
    auto charge = ctx.Step("charge", []() -> absl::StatusOr<std::string> { return "c"; });
    if (!charge.ok()) return charge.status();
    ctx.Sleep(Millis(1000));
    return *charge;
  };
}

// Regression: a function changed under a running workflow took journal
// entries meant for other calls (here the sleep and the charge swapped) and
// completed as if nothing had happened.
TEST(CodeWorkflowsTest, AReplayThatAsksForAnotherEntryFailsAsNonDeterministic) {
  EngineHarness h;
  auto id = h->StartWorkflow(Start());
  ASSERT_TRUE(id.ok()) << id.status();
  ASSERT_TRUE(RunWorkflowJob(h.engine(), *LeaseMain(h), ChargeThenSleep(), &h.clock()).ok());
  h.clock().Advance(Millis(1000));
  int charges = 0;
  WorkflowFunction v2 = [&](WorkflowContext& ctx) -> absl::StatusOr<std::string> {
    ctx.Sleep(Millis(1000));
    auto charge = ctx.Step("charge", [&]() -> absl::StatusOr<std::string> {
      ++charges;
      return "c2";
    });
    if (!charge.ok()) return charge.status();
    return *charge;
  };
  auto job = LeaseMain(h);
  ASSERT_TRUE(job);
  ASSERT_TRUE(RunWorkflowJob(h.engine(), *job, v2, &h.clock()).ok());
  auto wf = h->GetWorkflow(id->id);
  EXPECT_EQ(wf->state, WorkflowState::kFailed);
  EXPECT_EQ(wf->error,
            "NON_DETERMINISTIC: journal entry 0 is step \"charge\" but the code asked for sleep "
            "\"sleep#1\"");
  EXPECT_EQ(h->Get(job->id)->state, JobState::kDead) << "not retried: the journal stays the same";
  EXPECT_EQ(charges, 0);
}

// Regression: a wait for another event suspended again, for ever.
TEST(CodeWorkflowsTest, AWaitForAnotherEventFailsAsNonDeterministic) {
  EngineHarness h;
  auto id = h->StartWorkflow(Start({"approval", "payment"}));
  ASSERT_TRUE(id.ok()) << id.status();
  auto waiting_for = [](std::string event) -> WorkflowFunction {
    return [event](WorkflowContext& ctx) -> absl::StatusOr<std::string> {
      auto got = ctx.WaitForEvent(event, Millis(60000));
      if (!got.ok()) return got.status();
      return got->value_or("timed-out");
    };
  };
  ASSERT_TRUE(RunWorkflowJob(h.engine(), *LeaseMain(h), waiting_for("approval"), &h.clock()).ok());
  ASSERT_TRUE(h->SendEvent({id->id, "payment", "paid"}).ok());
  ASSERT_TRUE(h->SendEvent({id->id, "approval", "ok"}).ok());
  ASSERT_TRUE(RunWorkflowJob(h.engine(), *LeaseMain(h), waiting_for("payment"), &h.clock()).ok());
  auto wf = h->GetWorkflow(id->id);
  EXPECT_EQ(wf->state, WorkflowState::kFailed);
  EXPECT_EQ(wf->error,
            "NON_DETERMINISTIC: journal entry 0 is wait \"wait#1:approval\" but the code asked "
            "for wait \"wait#1:payment\"");
}

// Regression: a function that no longer reached a journalled step completed.
TEST(CodeWorkflowsTest, AReplayThatSkipsJournalledEntriesFailsAsNonDeterministic) {
  EngineHarness h;
  auto id = h->StartWorkflow(Start());
  ASSERT_TRUE(id.ok()) << id.status();
  ASSERT_TRUE(RunWorkflowJob(h.engine(), *LeaseMain(h), ChargeThenSleep(), &h.clock()).ok());
  h.clock().Advance(Millis(1000));
  WorkflowFunction v2 = [](WorkflowContext&) -> absl::StatusOr<std::string> { return "free"; };
  ASSERT_TRUE(RunWorkflowJob(h.engine(), *LeaseMain(h), v2, &h.clock()).ok());
  EXPECT_EQ(h->GetWorkflow(id->id)->error,
            "NON_DETERMINISTIC: journal entry 0 is step \"charge\" but the code returned without "
            "asking for it");
}

// A step error the code goes on past (a saga's compensation) is journalled
// with the next entry, so a replay takes the same path without calling the
// failed step again and without a false NON_DETERMINISTIC.
TEST(CodeWorkflowsTest, AStepErrorTheCodeWentOnPastReplays) {
  EngineHarness h;
  auto id = h->StartWorkflow(Start());
  ASSERT_TRUE(id.ok()) << id.status();
  int ships = 0, refunds = 0;
  WorkflowFunction fn = [&](WorkflowContext& ctx) -> absl::StatusOr<std::string> {
    auto shipped = ctx.Step("ship", [&]() -> absl::StatusOr<std::string> {
      if (++ships == 1) return absl::UnavailableError("carrier down");
      return "shipped";
    });
    if (shipped.ok()) return *shipped;
    auto refund = ctx.Step("refund", [&]() -> absl::StatusOr<std::string> {
      ++refunds;
      return "refunded";
    });
    if (!refund.ok()) return refund.status();
    ctx.Sleep(Millis(1000));  // a replay follows
    return absl::FailedPreconditionError(std::string(shipped.status().message()));
  };
  ASSERT_TRUE(RunWorkflowJob(h.engine(), *LeaseMain(h), fn, &h.clock()).ok());
  h.clock().Advance(Millis(1000));
  ASSERT_TRUE(RunWorkflowJob(h.engine(), *LeaseMain(h), fn, &h.clock()).ok());
  auto wf = h->GetWorkflow(id->id);
  EXPECT_EQ(wf->state, WorkflowState::kFailed);
  EXPECT_EQ(wf->error, "carrier down");
  EXPECT_EQ(ships, 1) << "the replay returns the journalled error";
  EXPECT_EQ(refunds, 1);
}

// Journals written before entries had kinds are replayed by name, as they
// were written: no determinism check (nothing to check against).
TEST(CodeWorkflowsTest, AJournalWithoutKindsIsReplayedByName) {
  EngineHarness h;
  auto id = h->StartWorkflow(Start());
  ASSERT_TRUE(id.ok()) << id.status();
  auto job = LeaseMain(h);
  ASSERT_TRUE(job);
  JournalEntry old{"charge", "c-old", {}};  // kind kUnknown, as an old worker recorded it
  ASSERT_TRUE(h->RecordStep({job->id, job->token, old}).ok());
  ASSERT_TRUE(h->Suspend({job->id, job->token, h.clock().Now(), "", {}}).ok());
  int charges = 0;
  WorkflowFunction fn = [&](WorkflowContext& ctx) -> absl::StatusOr<std::string> {
    ctx.Sleep(Millis(1000));
    auto charge = ctx.Step("charge", [&]() -> absl::StatusOr<std::string> {
      ++charges;
      return "c-new";
    });
    if (!charge.ok()) return charge.status();
    return *charge;
  };
  ASSERT_TRUE(RunWorkflowJob(h.engine(), *LeaseMain(h), fn, &h.clock()).ok());  // sleeps
  h.clock().Advance(Millis(1000));
  ASSERT_TRUE(RunWorkflowJob(h.engine(), *LeaseMain(h), fn, &h.clock()).ok());
  auto wf = h->GetWorkflow(id->id);
  EXPECT_EQ(wf->state, WorkflowState::kCompleted) << wf->error;
  EXPECT_EQ(wf->result, "c-old");
  EXPECT_EQ(charges, 0);
}

TEST(CodeWorkflowsTest, RecordedEntriesAreValidated) {
  EngineHarness h;
  ASSERT_TRUE(h->StartWorkflow(Start()).ok());
  auto job = LeaseMain(h);
  ASSERT_TRUE(job);
  JournalEntry bad_kind{"x", "", {}};
  bad_kind.kind = static_cast<JournalKind>(9);
  absl::Status s = h->RecordStep({job->id, job->token, bad_kind});
  EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
  EXPECT_NE(s.message().find("entry.kind"), std::string::npos) << s;
  JournalEntry step_delay{"x", "", {}};
  step_delay.kind = JournalKind::kStep;
  step_delay.delay = Millis(5);
  s = h->RecordStep({job->id, job->token, step_delay});
  EXPECT_NE(s.message().find("entry.delay"), std::string::npos) << s;
  JournalEntry negative{"sleep#1", "", {}};
  negative.kind = JournalKind::kSleep;
  negative.delay = Millis(-1);
  s = h->Suspend({job->id, job->token, h.clock().Now(), "", {negative}});
  EXPECT_NE(s.message().find("record[0].delay"), std::string::npos) << s;
}

}  // namespace
}  // namespace ratchet
