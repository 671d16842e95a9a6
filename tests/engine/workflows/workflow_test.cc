// DAG workflows on the embedded engine: validation, release of steps with
// their parents' results, failure and redrive, cancel, list, idempotency,
// crash-and-reopen, retention.
#include <gtest/gtest.h>

#include <map>

#include "engine_harness.h"
#include "ratchet/base/status.h"
#include "ratchet/engine/engine.h"
#include "record_rewrite.h"
#include "schema.h"

namespace ratchet {
namespace {

using testing::EngineHarness;

StepSpec Step(std::string name, std::vector<std::string> deps = {}) {
  StepSpec s;
  s.name = name;
  s.job_type = "work";
  s.payload = "payload-" + name;
  s.depends_on = std::move(deps);
  s.options.max_attempts = 1;
  return s;
}

WorkflowSpec Spec(std::vector<StepSpec> steps, std::string key = "") {
  WorkflowSpec w;
  w.name = "pipeline";
  w.queue = "wf";
  w.idempotency_key = std::move(key);
  w.steps = std::move(steps);
  return w;
}

// Leases everything available in "wf" (up to 100 jobs).
std::vector<LeasedJob> LeaseAll(EngineHarness& h) {
  auto jobs = h->Lease({.queue = "wf", .max_jobs = 100});
  EXPECT_TRUE(jobs.ok()) << jobs.status();
  return jobs.ok() ? *jobs : std::vector<LeasedJob>();
}

std::map<std::string, StepState> StepStates(EngineHarness& h, WorkflowId id) {
  auto wf = h->GetWorkflow(id);
  EXPECT_TRUE(wf.ok()) << wf.status();
  std::map<std::string, StepState> out;
  if (wf.ok()) {
    for (const StepInfo& s : wf->steps) out[s.name] = s.state;
  }
  return out;
}

void ExpectInvalid(EngineHarness& h, WorkflowSpec spec, const std::string& fragment) {
  auto r = h->SubmitWorkflow(std::move(spec));
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
  EXPECT_NE(r.status().message().find(fragment), std::string::npos) << r.status();
}

TEST(WorkflowTest, BadDefinitionsAreRejectedNamingTheProblem) {
  EngineHarness h;
  ExpectInvalid(h, Spec({Step("a", {"c"}), Step("b", {"a"}), Step("c", {"b"})}), "cycle: ");
  ExpectInvalid(h, Spec({Step("a", {"nope"})}), "steps[0].depends_on[0]: unknown step 'nope'");
  ExpectInvalid(h, Spec({Step("a"), Step("a")}), "steps[1].name: duplicate step name 'a'");
  ExpectInvalid(h, Spec({Step("a", {"a"})}), "cannot depend on itself");
  ExpectInvalid(h, Spec({}), "at least one step");
  std::vector<StepSpec> many;
  for (int i = 0; i < 1001; ++i) many.push_back(Step("s" + std::to_string(i)));
  ExpectInvalid(h, Spec(many), "1001 steps exceeds the limit of 1000");
  StepSpec bad = Step("a");
  bad.options.queue = "bad queue";
  ExpectInvalid(h, Spec({bad}), "steps[0].queue");
  // Nothing was stored by the rejected requests.
  auto list = h->ListWorkflows({});
  ASSERT_TRUE(list.ok());
  EXPECT_TRUE(list->workflows.empty());
}

TEST(WorkflowTest, CycleMessageNamesTheLoop) {
  EngineHarness h;
  auto r = h->SubmitWorkflow(Spec({Step("start"), Step("x", {"start", "y"}), Step("y", {"x"})}));
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("x -> y -> x"), std::string::npos) << r.status();
}

TEST(WorkflowTest, StepsReleaseOnlyAfterAllDependenciesWithTheirResults) {
  EngineHarness h;
  // a -> {b, c} -> d
  auto id = h->SubmitWorkflow(
      Spec({Step("a"), Step("b", {"a"}), Step("c", {"a"}), Step("d", {"b", "c"})}));
  ASSERT_TRUE(id.ok()) << id.status();
  auto first = LeaseAll(h);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].step_name, "a");
  EXPECT_EQ(first[0].workflow_id, id->id);
  EXPECT_EQ(first[0].payload, "payload-a");
  ASSERT_TRUE(h->Complete({first[0].id, first[0].token, "A", {}}).ok());

  auto second = LeaseAll(h);
  ASSERT_EQ(second.size(), 2u);
  for (const LeasedJob& j : second) {
    ASSERT_EQ(j.inputs.size(), 1u);
    EXPECT_EQ(j.inputs[0].step, "a");
    EXPECT_EQ(j.inputs[0].result, "A");
  }
  ASSERT_TRUE(h->Complete({second[0].id, second[0].token, "R0", {}}).ok());
  EXPECT_TRUE(LeaseAll(h).empty()) << "d must wait for both b and c";
  ASSERT_TRUE(h->Complete({second[1].id, second[1].token, "R1", {}}).ok());
  auto last = LeaseAll(h);
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(last[0].step_name, "d");
  ASSERT_EQ(last[0].inputs.size(), 2u);
  ASSERT_TRUE(h->Complete({last[0].id, last[0].token, "D", {}}).ok());

  auto wf = h->GetWorkflow(id->id);
  ASSERT_TRUE(wf.ok());
  EXPECT_EQ(wf->state, WorkflowState::kCompleted);
  for (const StepInfo& s : wf->steps) {
    EXPECT_EQ(s.state, StepState::kCompleted) << s.name;
    EXPECT_EQ(s.attempts, 1);
  }
  EXPECT_EQ(wf->steps[3].result, "D");
  EXPECT_EQ(wf->steps[3].depends_on, (std::vector<std::string>{"b", "c"}));
}

TEST(WorkflowTest, ReleaseSurvivesReopenRightAfterTheParentCompletes) {
  EngineHarness h(/*in_memory=*/false);
  auto id = h->SubmitWorkflow(Spec({Step("a"), Step("b", {"a"})}));
  ASSERT_TRUE(id.ok());
  auto a = LeaseAll(h);
  ASSERT_TRUE(h->Complete({a[0].id, a[0].token, "A", {}}).ok());
  h.Reopen();
  auto b = LeaseAll(h);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].step_name, "b");
  EXPECT_EQ(b[0].inputs[0].result, "A");
  ASSERT_TRUE(h->Complete({b[0].id, b[0].token, "", {}}).ok());
  h.Reopen();
  auto listed = h->ListWorkflows({.state = WorkflowState::kCompleted});
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->workflows.size(), 1u);
  EXPECT_EQ(listed->workflows[0].id, id->id);
}

TEST(WorkflowTest, ADeadStepFailsTheWorkflowAndCancelsUnstartedSteps) {
  EngineHarness h;
  // a -> b -> c, and an independent x that is running when a dies.
  auto id = h->SubmitWorkflow(Spec({Step("a"), Step("b", {"a"}), Step("c", {"b"}), Step("x")}));
  ASSERT_TRUE(id.ok());
  auto jobs = LeaseAll(h);
  ASSERT_EQ(jobs.size(), 2u);
  const LeasedJob& a = jobs[0].step_name == "a" ? jobs[0] : jobs[1];
  const LeasedJob& x = jobs[0].step_name == "a" ? jobs[1] : jobs[0];
  ASSERT_EQ(h->Fail({a.id, a.token, "boom", false})->state, JobState::kDead);

  auto wf = h->GetWorkflow(id->id);
  ASSERT_TRUE(wf.ok());
  EXPECT_EQ(wf->state, WorkflowState::kFailed);
  EXPECT_NE(wf->error.find("step 'a'"), std::string::npos) << wf->error;
  auto states = StepStates(h, id->id);
  EXPECT_EQ(states["a"], StepState::kFailed);
  EXPECT_EQ(states["b"], StepState::kCancelled);
  EXPECT_EQ(states["c"], StepState::kCancelled);
  EXPECT_EQ(states["x"], StepState::kReleased) << "a running step finishes on its own";
  ASSERT_TRUE(h->Complete({x.id, x.token, "X", {}}).ok());
  EXPECT_EQ(StepStates(h, id->id)["x"], StepState::kCompleted);
  EXPECT_EQ(h->GetWorkflow(id->id)->state, WorkflowState::kFailed);
  EXPECT_TRUE(LeaseAll(h).empty());
}

TEST(WorkflowTest, ARedrivenStepThatCompletesResumesTheWorkflow) {
  EngineHarness h;
  auto id = h->SubmitWorkflow(Spec({Step("a"), Step("b", {"a"})}));
  ASSERT_TRUE(id.ok());
  auto a = LeaseAll(h);
  ASSERT_EQ(h->Fail({a[0].id, a[0].token, "boom", false})->state, JobState::kDead);
  ASSERT_EQ(h->GetWorkflow(id->id)->state, WorkflowState::kFailed);

  auto redriven = h->Redrive({.filter = {.queue = "wf", .job_id = a[0].id}});
  ASSERT_TRUE(redriven.ok()) << redriven.status();
  EXPECT_EQ(h->GetWorkflow(id->id)->state, WorkflowState::kFailed)
      << "resumes when the step completes, not at redrive";
  auto again = LeaseAll(h);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].id, a[0].id);
  ASSERT_TRUE(h->Complete({again[0].id, again[0].token, "A", {}}).ok());
  EXPECT_EQ(h->GetWorkflow(id->id)->state, WorkflowState::kRunning);
  auto b = LeaseAll(h);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].step_name, "b");
  ASSERT_TRUE(h->Complete({b[0].id, b[0].token, "B", {}}).ok());
  EXPECT_EQ(h->GetWorkflow(id->id)->state, WorkflowState::kCompleted);
}

// A step left running when its workflow failed, then cancelled on its own,
// blocks the workflow for good, as a cancel does while it runs: a cancelled
// job cannot be redriven. Before, it did not count, so a redrive of the
// failed step "resumed" the workflow without the cancelled step or its
// dependents, and it stayed running for ever (no expiry, never completed).
TEST(WorkflowTest, AStepCancelledAfterTheWorkflowFailedBlocksItsResume) {
  EngineHarness h;
  auto id = h->SubmitWorkflow(Spec({Step("a"), Step("x"), Step("after_x", {"x"})}));
  ASSERT_TRUE(id.ok());
  auto jobs = LeaseAll(h);
  ASSERT_EQ(jobs.size(), 2u);
  const LeasedJob& a = jobs[0].step_name == "a" ? jobs[0] : jobs[1];
  const LeasedJob& x = jobs[0].step_name == "a" ? jobs[1] : jobs[0];
  ASSERT_EQ(h->Fail({a.id, a.token, "boom", false})->state, JobState::kDead);
  ASSERT_EQ(h->GetWorkflow(id->id)->state, WorkflowState::kFailed);
  ASSERT_TRUE(h->Cancel(x.id).ok());  // x still runs: its worker learns of the request
  auto ended = h->Fail({x.id, x.token, "cancelled", true});
  ASSERT_TRUE(ended.ok()) << ended.status();
  ASSERT_EQ(ended->state, JobState::kCancelled);

  ASSERT_TRUE(h->Redrive({.filter = {.queue = "wf", .job_id = a.id}}).ok());
  auto again = LeaseAll(h);
  ASSERT_EQ(again.size(), 1u);
  ASSERT_TRUE(h->Complete({again[0].id, again[0].token, "A", {}}).ok());
  auto wf = h->GetWorkflow(id->id);
  ASSERT_TRUE(wf.ok());
  EXPECT_EQ(wf->state, WorkflowState::kFailed) << "x was cancelled: nothing can resume it";
  EXPECT_NE(ToUnixMs(wf->finished_at), 0) << "still finished, so retention removes it";
  EXPECT_TRUE(LeaseAll(h).empty());
}

TEST(WorkflowTest, ContinueOnFailureReleasesDependentsWithTheFailure) {
  EngineHarness h;
  StepSpec optional = Step("optional");
  optional.continue_on_failure = true;
  auto id = h->SubmitWorkflow(Spec({optional, Step("after", {"optional"})}));
  ASSERT_TRUE(id.ok());
  auto o = LeaseAll(h);
  ASSERT_EQ(h->Fail({o[0].id, o[0].token, "meh", false})->state, JobState::kDead);
  EXPECT_EQ(h->GetWorkflow(id->id)->state, WorkflowState::kRunning);
  auto after = LeaseAll(h);
  ASSERT_EQ(after.size(), 1u);
  ASSERT_EQ(after[0].inputs.size(), 1u);
  EXPECT_EQ(after[0].inputs[0].state, StepState::kFailed);
  ASSERT_TRUE(h->Complete({after[0].id, after[0].token, "", {}}).ok());
  EXPECT_EQ(h->GetWorkflow(id->id)->state, WorkflowState::kCompleted);
}

TEST(WorkflowTest, CancelStopsQueuedStepsAndRequestsCancelOfRunningOnes) {
  EngineHarness h;
  auto id = h->SubmitWorkflow(Spec({Step("run"), Step("queued"), Step("later", {"run"})}));
  ASSERT_TRUE(id.ok());
  auto run = h->Lease({.queue = "wf", .max_jobs = 1});
  ASSERT_EQ(run->size(), 1u);
  auto state = h->CancelWorkflow(id->id);
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(*state, WorkflowState::kCancelled);
  auto states = StepStates(h, id->id);
  EXPECT_EQ(states["queued"], StepState::kCancelled);
  EXPECT_EQ(states["later"], StepState::kCancelled);
  EXPECT_EQ(states[run->front().step_name], StepState::kReleased);
  auto hb = h->Heartbeat({run->front().id, run->front().token, std::nullopt});
  ASSERT_TRUE(hb.ok());
  EXPECT_TRUE(hb->cancel_requested);
  EXPECT_TRUE(LeaseAll(h).empty());
  EXPECT_EQ(*h->CancelWorkflow(id->id), WorkflowState::kCancelled) << "idempotent";
}

TEST(WorkflowTest, IdempotencyKeyReturnsTheExistingWorkflow) {
  EngineHarness h;
  auto first = h->SubmitWorkflow(Spec({Step("a")}, "order-7"));
  auto again = h->SubmitWorkflow(Spec({Step("a")}, "order-7"));
  ASSERT_TRUE(first.ok() && again.ok());
  EXPECT_EQ(first->id, again->id);
  EXPECT_TRUE(again->duplicate);
  auto other = h->SubmitWorkflow(Spec({Step("b")}, "order-7"));
  ASSERT_FALSE(other.ok());
  EXPECT_EQ(other.status().code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(LeaseAll(h).size(), 1u) << "one workflow, one released step";
}

// A workflow idempotency record damaged on disk is corruption: the submit
// answers DATA_LOSS and starts no second workflow under the key.
TEST(WorkflowTest, ADamagedIdempotencyRecordIsDataLossNotASecondWorkflow) {
  EngineHarness h;
  ASSERT_TRUE(h->SubmitWorkflow(Spec({Step("a")}, "order-7")).ok());
  h.Close();
  testing::OverwriteValue(h, storage::Cf::kWorkflows, internal::WorkflowIdempotencyKey("order-7"),
                          "\xff\xff\xff");
  h.Reopen();
  auto again = h->SubmitWorkflow(Spec({Step("a")}, "order-7"));
  ASSERT_FALSE(again.ok()) << "a second workflow " << again->id << " was started";
  EXPECT_TRUE(absl::IsDataLoss(again.status())) << again.status();
  EXPECT_EQ(LeaseAll(h).size(), 1u) << "one workflow, one released step";
}

// GetWorkflow's answer is bounded in bytes: step results are kept in step
// order while they fit and the rest are left out, marked result_omitted
// (1,000 steps of 1 MiB results were one answer of 1 GB). ListWorkflows
// pages are bounded too, and their cursors reach every workflow.
TEST(WorkflowTest, AnswersAreBoundedInBytes) {
  EngineHarness h;
  h.options().max_payload_bytes = 1 << 20;
  h.Reopen();
  auto id = h->SubmitWorkflow(Spec({Step("a"), Step("b"), Step("c")}));
  ASSERT_TRUE(id.ok()) << id.status();
  const std::string big(300 << 10, 'r');
  for (const LeasedJob& j : LeaseAll(h)) {
    ASSERT_TRUE(h->Complete({j.id, j.token, big, {}}).ok());
  }
  auto whole = h->GetWorkflow(id->id);
  ASSERT_TRUE(whole.ok()) << whole.status();
  for (const StepInfo& s : whole->steps) {
    EXPECT_EQ(s.result.size(), big.size()) << s.name;
    EXPECT_FALSE(s.result_omitted) << s.name;
  }
  auto cut = h->GetWorkflow(id->id, 700 << 10);
  ASSERT_TRUE(cut.ok()) << cut.status();
  ASSERT_EQ(cut->steps.size(), 3u);
  EXPECT_EQ(cut->steps[0].result, big);
  EXPECT_EQ(cut->steps[1].result, big);
  EXPECT_TRUE(cut->steps[2].result.empty());
  EXPECT_TRUE(cut->steps[2].result_omitted);
  EXPECT_EQ(h->Get(cut->steps[2].job_id)->result, big) << "the step's job still has it";
  ASSERT_TRUE(h->SubmitWorkflow(Spec({Step("d")})).ok());
  std::vector<WorkflowId> ids;
  WorkflowListRequest req{.max_bytes = 1};
  for (int pages = 0; pages < 5; ++pages) {
    auto page = h->ListWorkflows(req);
    ASSERT_TRUE(page.ok()) << page.status();
    ASSERT_EQ(page->workflows.size(), 1u) << "one a page, never none";
    ids.push_back(page->workflows[0].id);
    req.cursor = page->next_cursor;
    if (req.cursor.empty()) break;
  }
  EXPECT_EQ(ids.size(), 2u);
}

// A step whose inputs alone are over the bound of one lease answer could
// never be delivered: before, it was marked running in an answer that
// could not be sent, again on every attempt, and dead-lettered unseen.
// Now a Lease dead-letters it at once, with an error naming both sizes, and
// its workflow fails; a job that fits is still leased.
TEST(WorkflowTest, AStepWhoseInputsCannotFitOneAnswerIsDeadLetteredNotLeased) {
  EngineHarness h;
  h.options().max_payload_bytes = 1 << 20;
  h.Reopen();
  auto id = h->SubmitWorkflow(Spec({Step("a"), Step("b"), Step("c"), Step("d", {"a", "b", "c"})}));
  ASSERT_TRUE(id.ok()) << id.status();
  const std::string big(300 << 10, 'r');
  for (const LeasedJob& j : LeaseAll(h)) {
    ASSERT_TRUE(h->Complete({j.id, j.token, big, {}}).ok());
  }
  ASSERT_TRUE(h->Enqueue(EnqueueRequest{.queue = "wf", .job_type = "small", .payload = "p"}).ok());
  // As ratchetd leases: one job's answer can be at most 700 KiB. (In
  // process, with max_job_bytes 0, it would be leased: nothing limits it.)
  auto leased =
      h->Lease({.queue = "wf", .max_jobs = 10, .max_bytes = 700 << 10, .max_job_bytes = 700 << 10});
  ASSERT_TRUE(leased.ok()) << leased.status();
  ASSERT_EQ(leased->size(), 1u);
  EXPECT_EQ((*leased)[0].job_type, "small");
  auto wf = h->GetWorkflow(id->id);
  ASSERT_TRUE(wf.ok()) << wf.status();
  EXPECT_EQ(wf->state, WorkflowState::kFailed);
  auto d = h->Get(wf->steps[3].job_id);
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_EQ(d->state, JobState::kDead);
  EXPECT_EQ(d->attempts, 0) << "it never ran";
  ASSERT_EQ(d->errors.size(), 1u);
  EXPECT_NE(d->errors[0].message.find("not delivered"), std::string::npos) << d->errors[0].message;
  EXPECT_NE(d->errors[0].message.find("716800 bytes"), std::string::npos) << d->errors[0].message;
}

TEST(WorkflowTest, ListFiltersByStateAndPages) {
  EngineHarness h;
  std::vector<WorkflowId> ids;
  for (int i = 0; i < 5; ++i) ids.push_back(h->SubmitWorkflow(Spec({Step("a")}))->id);
  ASSERT_TRUE(h->CancelWorkflow(ids[1]).ok());
  auto running = h->ListWorkflows({.state = WorkflowState::kRunning, .limit = 2});
  ASSERT_TRUE(running.ok());
  ASSERT_EQ(running->workflows.size(), 2u);
  EXPECT_EQ(running->workflows[0].id, ids[0]);
  EXPECT_EQ(running->workflows[1].id, ids[2]);
  auto rest = h->ListWorkflows(
      {.state = WorkflowState::kRunning, .limit = 10, .cursor = running->next_cursor});
  ASSERT_TRUE(rest.ok());
  ASSERT_EQ(rest->workflows.size(), 2u);
  EXPECT_TRUE(rest->next_cursor.empty());
  auto all = h->ListWorkflows({});
  EXPECT_EQ(all->workflows.size(), 5u);
  EXPECT_FALSE(h->ListWorkflows({.cursor = "zz"}).ok());
}

TEST(WorkflowTest, FinishedWorkflowsFollowTheQueueRetention) {
  EngineHarness h;
  QueueSettings settings;
  settings.completed_retention = Millis(60000);
  ASSERT_TRUE(h->UpdateQueue("wf", settings).ok());
  auto id = h->SubmitWorkflow(Spec({Step("a")}, "key-1"));
  auto a = LeaseAll(h);
  ASSERT_TRUE(h->Complete({a[0].id, a[0].token, "", {}}).ok());
  h.clock().Advance(Millis(30000));
  ASSERT_TRUE(h->RunMaintenance().ok());
  EXPECT_TRUE(h->GetWorkflow(id->id).ok());
  h.clock().Advance(Millis(31000));
  ASSERT_TRUE(h->RunMaintenance().ok());
  EXPECT_EQ(h->GetWorkflow(id->id).status().code(), absl::StatusCode::kNotFound);
  EXPECT_TRUE(h->ListWorkflows({})->workflows.empty());
  // The key went with it.
  auto fresh = h->SubmitWorkflow(Spec({Step("b")}, "key-1"));
  ASSERT_TRUE(fresh.ok()) << fresh.status();
  EXPECT_FALSE(fresh->duplicate);
}

// The queue's retention is read back from its stored record (damage, or a
// record written by a build with other limits): a finished workflow's expiry
// saturates instead of wrapping into the past, where the next sweep would
// delete the workflow at once.
TEST(WorkflowTest, AHugeStoredRetentionKeepsTheWorkflow) {
  EngineHarness h;
  ASSERT_TRUE(h->UpdateQueue("wf", QueueSettings{}).ok());
  h.Close();
  ASSERT_NO_FATAL_FAILURE(testing::RewriteRecord<records::QueueRecord>(
      h, storage::Cf::kQueues, "wf",
      [](records::QueueRecord& rec) { rec.set_completed_retention_ms(INT64_MAX); }));
  h.Reopen();
  auto id = h->SubmitWorkflow(Spec({Step("a")}));
  ASSERT_TRUE(id.ok()) << id.status();
  auto a = LeaseAll(h);
  ASSERT_TRUE(h->Complete({a[0].id, a[0].token, "", {}}).ok());
  h.clock().Advance(Millis(24LL * 3600 * 1000));
  ASSERT_TRUE(h->RunMaintenance().ok());
  auto wf = h->GetWorkflow(id->id);
  ASSERT_TRUE(wf.ok()) << wf.status();
  EXPECT_EQ(wf->state, WorkflowState::kCompleted);
}

}  // namespace
}  // namespace ratchet
