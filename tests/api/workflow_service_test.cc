// WorkflowService over gRPC with the C++ client and Worker: a DAG workflow
// run by workers, a code-first workflow with a durable timer and an event,
// and bad input answered INVALID_ARGUMENT naming the problem.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "ratchet/client/worker.h"
#include "server_fixture.h"

namespace ratchet {
namespace {

class WorkflowServiceTest : public testing::ServerFixture {
 protected:
  // Polls until the workflow leaves running (at most 10 s).
  v1::Workflow AwaitFinished(uint64_t id) {
    v1::Workflow wf;
    for (int i = 0; i < 200; ++i) {
      auto got = client().GetWorkflow(id);
      EXPECT_TRUE(got.ok()) << got.status();
      if (!got.ok()) break;
      wf = *got;
      if (wf.state() != v1::WORKFLOW_RUNNING) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return wf;
  }
};

v1::StepSpec Step(const std::string& name, std::vector<std::string> deps = {}) {
  v1::StepSpec s;
  s.set_name(name);
  s.set_job_type("concat");
  s.set_payload(name);
  for (auto& d : deps) s.add_depends_on(d);
  return s;
}

// Regression (issue 10): a workflow of 20 steps with 1 MiB results made a
// GetWorkflow answer over the 16 MiB message limit: RESOURCE_EXHAUSTED, and
// the workflow could not be read at all. Results past the limit are now left
// out and marked, and each stays readable from its step's job.
TEST_F(WorkflowServiceTest, GetWorkflowFitsTheMessageLimit) {
  Stop();
  configure_engine_ = [](EngineOptions& o) { o.max_payload_bytes = 1 << 20; };
  Start();
  v1::SubmitWorkflowRequest req;
  req.set_name("big");
  req.set_queue("wf");
  std::vector<std::string> all;
  for (int i = 0; i < 20; ++i) {
    all.push_back("s" + std::to_string(i));
    *req.add_steps() = Step(all.back());
  }
  *req.add_steps() = Step("sink", all);  // its inputs: 20 MiB
  auto submitted = client().SubmitWorkflow(req);
  ASSERT_TRUE(submitted.ok()) << submitted.status();
  const std::string result(1 << 20, 'r');
  for (int i = 0; i < 20; ++i) {
    v1::LeasedJob job = LeaseOne("wf");
    v1::CompleteRequest done;
    done.set_job_id(job.job_id());
    done.set_fencing_token(job.fencing_token());
    done.set_result(result);
    ASSERT_TRUE(client().Complete(done).ok());
  }
  // The sink could never be delivered: it is dead-lettered with the sizes,
  // not marked running in an answer over the limit (RESOURCE_EXHAUSTED
  // before, on every attempt).
  v1::LeaseRequest lease;
  lease.set_queue("wf");
  auto none = client().Lease(lease);
  ASSERT_TRUE(none.ok()) << none.status();
  EXPECT_EQ(none->jobs_size(), 0);
  auto wf = client().GetWorkflow(submitted->workflow_id());
  ASSERT_TRUE(wf.ok()) << wf.status();
  EXPECT_LT(wf->ByteSizeLong(), size_t{16} << 20);
  ASSERT_EQ(wf->steps_size(), 21);
  EXPECT_EQ(wf->state(), v1::WORKFLOW_FAILED);
  auto sink = client().GetJob(wf->steps(20).job_id());
  ASSERT_TRUE(sink.ok()) << sink.status();
  EXPECT_EQ(sink->state(), v1::JOB_STATE_DEAD);
  ASSERT_EQ(sink->errors_size(), 1);
  EXPECT_NE(sink->errors(0).message().find("not delivered"), std::string::npos);
  EXPECT_EQ(wf->steps(0).result(), result);
  EXPECT_FALSE(wf->steps(0).result_omitted());
  const v1::StepInfo& last = wf->steps(19);
  EXPECT_TRUE(last.result_omitted());
  EXPECT_TRUE(last.result().empty());
  EXPECT_EQ(client().GetJob(last.job_id())->result(), result);
}

TEST_F(WorkflowServiceTest, WorkersRunAFanOutFanInWorkflow) {
  v1::SubmitWorkflowRequest req;
  req.set_name("fan");
  req.set_queue("wf");
  *req.add_steps() = Step("root");
  std::vector<std::string> middle;
  for (int i = 0; i < 10; ++i) {
    middle.push_back("m" + std::to_string(i));
    *req.add_steps() = Step(middle.back(), {"root"});
  }
  *req.add_steps() = Step("sink", middle);
  auto submitted = client().SubmitWorkflow(req);
  ASSERT_TRUE(submitted.ok()) << submitted.status();

  Worker worker(&client(), {.queue = "wf", .concurrency = 4, .lease_wait = Millis(200)});
  worker.Register("concat", [](JobContext& job) {
    std::string out = job.payload();
    for (const auto& in : job.job().inputs()) out += "<" + in.step();
    return HandlerResult::Success(out);
  });
  ASSERT_TRUE(worker.Start().ok());
  v1::Workflow wf = AwaitFinished(submitted->workflow_id());
  worker.Stop();
  ASSERT_EQ(wf.state(), v1::WORKFLOW_COMPLETED) << wf.DebugString();
  ASSERT_EQ(wf.steps_size(), 12);
  const v1::StepInfo& sink = wf.steps(11);
  EXPECT_EQ(sink.state(), v1::STEP_COMPLETED);
  EXPECT_EQ(sink.result().size(), std::string("sink").size() + 10 * 3);  // "sink" + 10 x "<mN"
  EXPECT_EQ(sink.depends_on_size(), 10);

  auto listed = client().ListWorkflows({});
  ASSERT_TRUE(listed.ok());
  ASSERT_EQ(listed->workflows_size(), 1);
  EXPECT_EQ(listed->workflows(0).kind(), "dag");
}

TEST_F(WorkflowServiceTest, ACodeFirstWorkflowSleepsAndWaitsForAnEvent) {
  v1::StartWorkflowRequest start;
  start.set_name("order");
  start.set_queue("wf");
  start.set_job_type("order");
  start.set_payload("o-1");
  start.add_events("paid");
  auto started = client().StartWorkflow(start);
  ASSERT_TRUE(started.ok()) << started.status();
  std::atomic<int> charges{0};
  Worker worker(&client(), {.queue = "wf", .concurrency = 2, .lease_wait = Millis(200)});
  worker.RegisterWorkflow("order", [&](WorkflowContext& ctx) -> absl::StatusOr<std::string> {
    auto reserved = ctx.Step("reserve", [&]() -> absl::StatusOr<std::string> { return "r"; });
    if (!reserved.ok()) return reserved.status();
    ctx.Sleep(Millis(300));
    auto paid = ctx.WaitForEvent("paid", Millis(60000));
    if (!paid.ok()) return paid.status();
    auto charged = ctx.Step("charge", [&]() -> absl::StatusOr<std::string> {
      ++charges;
      return "charged:" + paid->value_or("none");
    });
    if (!charged.ok()) return charged.status();
    return *charged;
  });
  ASSERT_TRUE(worker.Start().ok());
  // Unknown event names are rejected with the declared ones listed.
  v1::SendEventRequest bad;
  bad.set_workflow_id(started->workflow_id());
  bad.set_name("shipped");
  EXPECT_STATUS(client().SendEvent(bad), absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT");
  std::this_thread::sleep_for(std::chrono::milliseconds(600));
  v1::SendEventRequest paid;
  paid.set_workflow_id(started->workflow_id());
  paid.set_name("paid");
  paid.set_payload("10 EUR");
  ASSERT_TRUE(client().SendEvent(paid).ok());
  v1::Workflow wf = AwaitFinished(started->workflow_id());
  worker.Stop();
  ASSERT_EQ(wf.state(), v1::WORKFLOW_COMPLETED) << wf.DebugString();
  EXPECT_EQ(wf.result(), "charged:10 EUR");
  EXPECT_EQ(charges.load(), 1);
  EXPECT_EQ(wf.kind(), "code");
  EXPECT_GE(worker.stats().suspended, 2u);  // the timer and the wait
}

TEST_F(WorkflowServiceTest, StepJobsCarryTheWorkflowsTraceparent) {
  constexpr char kTrace[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  v1::SubmitWorkflowRequest req;
  req.set_name("traced");
  req.set_queue("wf");
  req.set_traceparent(kTrace);
  *req.add_steps() = Step("a");
  *req.add_steps() = Step("b", {"a"});
  ASSERT_TRUE(client().SubmitWorkflow(req).ok());
  // The root step now, its dependent once the root completes (released later).
  v1::LeasedJob a = LeaseOne("wf");
  EXPECT_EQ(a.traceparent(), kTrace);
  v1::CompleteRequest done;
  done.set_job_id(a.job_id());
  done.set_fencing_token(a.fencing_token());
  ASSERT_TRUE(client().Complete(done).ok());
  EXPECT_EQ(LeaseOne("wf").traceparent(), kTrace);

  v1::StartWorkflowRequest start;
  start.set_name("code");
  start.set_queue("code");
  start.set_job_type("main");
  start.set_traceparent(kTrace);
  ASSERT_TRUE(client().StartWorkflow(start).ok());
  EXPECT_EQ(LeaseOne("code").traceparent(), kTrace);

  req.set_traceparent("00-nope");
  auto bad = client().SubmitWorkflow(req);
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kInvalidArgument) << bad.status();
  EXPECT_NE(bad.status().message().find("traceparent"), absl::string_view::npos);
}

TEST_F(WorkflowServiceTest, BadWorkflowsAreInvalidArgumentNamingTheProblem) {
  v1::SubmitWorkflowRequest cyclic;
  cyclic.set_name("c");
  cyclic.set_queue("wf");
  *cyclic.add_steps() = Step("a", {"b"});
  *cyclic.add_steps() = Step("b", {"a"});
  auto r = client().SubmitWorkflow(cyclic);
  EXPECT_STATUS(r.status(), absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT");
  EXPECT_NE(r.status().message().find("cycle"), std::string::npos) << r.status();

  v1::SubmitWorkflowRequest big;
  big.set_name("big");
  big.set_queue("wf");
  for (int i = 0; i < 1001; ++i) *big.add_steps() = Step("s" + std::to_string(i));
  r = client().SubmitWorkflow(big);
  EXPECT_STATUS(r.status(), absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT");
  EXPECT_NE(r.status().message().find("exceeds the limit of 1000"), std::string::npos);

  EXPECT_STATUS(client().GetWorkflow(999).status(), absl::StatusCode::kNotFound, "NOT_FOUND");
}

TEST_F(WorkflowServiceTest, StepErrorsNameTheStepsIndex) {
  v1::SubmitWorkflowRequest req;
  req.set_name("w");
  req.set_queue("wf");
  *req.add_steps() = Step("a");
  *req.add_steps() = Step("b");
  req.mutable_steps(1)->set_payload(std::string(1025, 'x'));
  auto r = client().SubmitWorkflow(req);
  EXPECT_STATUS(r.status(), absl::StatusCode::kInvalidArgument, "PAYLOAD_TOO_LARGE");
  EXPECT_EQ(r.status().message().rfind("steps[1].payload: ", 0), 0u) << r.status();

  req.mutable_steps(1)->set_payload("p");
  req.mutable_steps(0)->mutable_options()->mutable_visibility_timeout()->set_nanos(-1);
  req.mutable_steps(0)->mutable_options()->mutable_visibility_timeout()->set_seconds(30);
  r = client().SubmitWorkflow(req);
  EXPECT_STATUS(r.status(), absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT");
  EXPECT_EQ(r.status().message().rfind("steps[0].options.visibility_timeout: ", 0), 0u)
      << r.status();
}

TEST_F(WorkflowServiceTest, UnknownStateIsInvalidArgument) {
  v1::ListWorkflowsRequest list;
  list.set_state(static_cast<v1::WorkflowState>(42));
  EXPECT_STATUS(client().ListWorkflows(list).status(), absl::StatusCode::kInvalidArgument,
                "INVALID_ARGUMENT");
}

TEST_F(WorkflowServiceTest, SchedulesOverGrpc) {
  v1::ScheduleSpec spec;
  spec.set_id("nightly");
  spec.set_spec("0 3 * * *");
  spec.set_time_zone("America/New_York");
  spec.set_queue("cron");
  spec.set_job_type("report");
  auto created = client().CreateSchedule(spec);
  ASSERT_TRUE(created.ok()) << created.status();
  EXPECT_TRUE(created->has_next_tick());
  EXPECT_EQ(created->spec().missed(), v1::MISSED_RUN_ONCE);
  EXPECT_TRUE(client().CreateSchedule(spec).ok()) << "a retried create";
  auto job = client().TriggerSchedule("nightly");
  ASSERT_TRUE(job.ok()) << job.status();
  auto got = client().GetJob(*job);
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->schedule_id(), "nightly");
  auto paused = client().PauseSchedule("nightly");
  ASSERT_TRUE(paused.ok());
  EXPECT_FALSE(paused->has_next_tick());
  ASSERT_EQ(client().ListSchedules()->schedules_size(), 1);

  v1::ScheduleSpec bad = spec;
  bad.set_id("bad");
  bad.set_spec("0 3 * *");
  EXPECT_STATUS(client().CreateSchedule(bad).status(), absl::StatusCode::kInvalidArgument,
                "INVALID_ARGUMENT");
  bad.set_spec("0 3 * * *");
  bad.set_time_zone("America/Nowhere");
  auto tz = client().CreateSchedule(bad);
  EXPECT_STATUS(tz.status(), absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT");
  EXPECT_NE(tz.status().message().find("time_zone"), std::string::npos) << tz.status();
  ASSERT_TRUE(client().DeleteSchedule("nightly").ok());
  EXPECT_STATUS(client().GetSchedule("nightly").status(), absl::StatusCode::kNotFound, "NOT_FOUND");
}

}  // namespace
}  // namespace ratchet
