// Kill -9 of ratchetd while DAG and code-first workflows run on Workers.
// A simulated external service applies each effect once per idempotency
// token and counts, per step (by workflow and step name, independent of the
// token), how many distinct tokens it saw. After the final drain:
//   - every workflow completed;
//   - every step's effect was applied exactly once (one token per step:
//     tokens are stable across retries, restarts and replays);
//   - no DAG step ran before all of its dependencies had completed: each
//     leased step carries its dependencies' results, and their effects were
//     already applied.
// RATCHET_KILL9_CYCLES (default 10) and RATCHET_KILL9_SEED replay a run.
#include <gtest/gtest.h>
#include <signal.h>

#include <map>
#include <random>
#include <set>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "ratchet/client/worker.h"
#include "ratchetd_process.h"
#include "temp_dir.h"

namespace ratchet::testing {
namespace {

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : fallback;
}

constexpr int kDagWorkflows = 20;
constexpr int kFanOut = 8;
constexpr int kCodeWorkflows = 20;
constexpr int kCodeSteps = 5;

class ExternalService {
 public:
  void Apply(const std::string& token, const std::string& step) {
    absl::MutexLock lock(&mu_);
    ++calls_;
    if (tokens_.insert(token).second) applied_[step]++;
  }
  int calls() {
    absl::MutexLock lock(&mu_);
    return calls_;
  }
  bool Applied(const std::string& step) {
    absl::MutexLock lock(&mu_);
    return applied_.count(step) > 0;
  }
  std::map<std::string, int> applied() {
    absl::MutexLock lock(&mu_);
    return applied_;
  }
  void Violation(const std::string& what) {
    absl::MutexLock lock(&mu_);
    violations_.push_back(what);
  }
  std::vector<std::string> violations() {
    absl::MutexLock lock(&mu_);
    return violations_;
  }

 private:
  absl::Mutex mu_;
  std::set<std::string> tokens_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int> applied_ ABSL_GUARDED_BY(mu_);  // step -> distinct tokens
  std::vector<std::string> violations_ ABSL_GUARDED_BY(mu_);
  int calls_ ABSL_GUARDED_BY(mu_) = 0;  // including repeats after a crash
};

std::string StepKey(uint64_t workflow, const std::string& step) {
  return std::to_string(workflow) + "/" + step;
}

v1::SubmitWorkflowRequest FanOutFanIn(int n) {
  v1::SubmitWorkflowRequest req;
  req.set_name("fan");
  req.set_queue("wf");
  req.set_idempotency_key("dag-" + std::to_string(n));
  auto add = [&](const std::string& name, std::vector<std::string> deps) {
    v1::StepSpec* s = req.add_steps();
    s->set_name(name);
    s->set_job_type("step");
    s->mutable_options()->set_max_attempts(100);
    for (auto& d : deps) s->add_depends_on(d);
  };
  add("root", {});
  std::vector<std::string> middle;
  for (int i = 0; i < kFanOut; ++i) {
    middle.push_back("m" + std::to_string(i));
    add(middle.back(), {"root"});
  }
  add("sink", middle);
  return req;
}

TEST(WorkflowKill9Test, EveryStepsEffectHappensOnceAndWorkflowsFinish) {
  const int cycles = EnvInt("RATCHET_KILL9_CYCLES", 10);
  uint64_t seed = EnvInt("RATCHET_KILL9_SEED", 0);
  if (seed == 0) seed = std::random_device{}();
  std::printf("workflow kill9: cycles=%d seed=%llu\n", cycles,
              static_cast<unsigned long long>(seed));
  std::mt19937_64 rng(seed);

  TempDir dir;
  const int port = FreePort();
  RatchetdProcess server(RATCHETD_PATH, dir.Sub("data"), port, {"--shutdown-grace-ms", "200"});
  ASSERT_TRUE(server.Start()) << "see " << server.log_path();
  auto client = Client::Connect({.target = "127.0.0.1:" + std::to_string(port),
                                 .deadline = Millis(2000),
                                 .max_attempts = 10,
                                 .max_backoff = Millis(500)});
  ASSERT_TRUE(client.ok());
  Client& c = **client;

  std::vector<uint64_t> dags, codes;
  for (int i = 0; i < kDagWorkflows; ++i) {
    auto r = c.SubmitWorkflow(FanOutFanIn(i));
    ASSERT_TRUE(r.ok()) << r.status();
    dags.push_back(r->workflow_id());
  }
  for (int i = 0; i < kCodeWorkflows; ++i) {
    v1::StartWorkflowRequest start;
    start.set_name("durable");
    start.set_queue("wf");
    start.set_job_type("durable");
    start.set_idempotency_key("code-" + std::to_string(i));
    start.mutable_options()->set_max_attempts(1000);
    auto r = c.StartWorkflow(start);
    ASSERT_TRUE(r.ok()) << r.status();
    codes.push_back(r->workflow_id());
  }

  ExternalService service;
  WorkerOptions options{.queue = "wf",
                        .concurrency = 4,
                        .lease_wait = Millis(200),
                        .visibility_timeout = Millis(1500)};
  std::vector<std::unique_ptr<Worker>> workers;
  for (int w = 0; w < 2; ++w) {
    options.worker_id = "w" + std::to_string(w);
    auto worker = std::make_unique<Worker>(&c, options);
    worker->Register("step", [&](JobContext& job) {
      const v1::LeasedJob& j = job.job();
      std::string step = StepKey(j.workflow_id(), j.step_name());
      // Its dependencies completed (results present) and their effects happened.
      size_t want = j.step_name() == "root" ? 0 : j.step_name() == "sink" ? kFanOut : 1;
      if (static_cast<size_t>(j.inputs_size()) != want) {
        service.Violation(step + " leased with " + std::to_string(j.inputs_size()) + " inputs");
      }
      for (const auto& in : j.inputs()) {
        if (in.state() != v1::STEP_COMPLETED ||
            !service.Applied(StepKey(j.workflow_id(), in.step()))) {
          service.Violation(step + " started before " + in.step() + " completed");
        }
      }
      std::this_thread::sleep_for(Millis(30));
      service.Apply(job.idempotency_token(), step);
      return HandlerResult::Success(step);
    });
    worker->RegisterWorkflow("durable", [&](WorkflowContext& ctx) -> absl::StatusOr<std::string> {
      for (int i = 0; i < kCodeSteps; ++i) {
        std::string name = "s" + std::to_string(i);
        auto r = ctx.Step(name, [&]() -> absl::StatusOr<std::string> {
          std::this_thread::sleep_for(Millis(30));
          service.Apply(ctx.IdempotencyToken(name), StepKey(ctx.workflow_id(), name));
          return name;
        });
        if (!r.ok()) return r.status();
        if (i == 2) ctx.Sleep(Millis(100));
      }
      return "done";
    });
    ASSERT_TRUE(worker->Start().ok());
    workers.push_back(std::move(worker));
  }

  for (int cycle = 0; cycle < cycles; ++cycle) {
    std::this_thread::sleep_for(Millis(100 + rng() % 400));
    server.Stop(SIGKILL);
    ASSERT_TRUE(server.Start()) << "restart " << cycle << " failed; see " << server.log_path();
  }

  // Drain: every workflow leaves running.
  bool finished = false;
  for (int i = 0; i < 600 && !finished; ++i) {
    v1::ListWorkflowsRequest running;
    running.set_state(v1::WORKFLOW_RUNNING);
    auto r = c.ListWorkflows(running);
    finished = r.ok() && r->workflows().empty();
    if (!finished) std::this_thread::sleep_for(Millis(100));
  }
  for (auto& w : workers) w->Stop();
  ASSERT_TRUE(finished) << "workflows still running after the drain";

  std::map<std::string, int> applied = service.applied();
  for (uint64_t id : dags) {
    auto wf = c.GetWorkflow(id);
    ASSERT_TRUE(wf.ok()) << wf.status();
    EXPECT_EQ(wf->state(), v1::WORKFLOW_COMPLETED) << "workflow " << id;
    for (const v1::StepInfo& s : wf->steps()) {
      EXPECT_EQ(applied[StepKey(id, s.name())], 1) << "workflow " << id << " step " << s.name();
      EXPECT_EQ(s.state(), v1::STEP_COMPLETED);
    }
  }
  for (uint64_t id : codes) {
    auto wf = c.GetWorkflow(id);
    ASSERT_TRUE(wf.ok()) << wf.status();
    EXPECT_EQ(wf->state(), v1::WORKFLOW_COMPLETED) << "workflow " << id;
    EXPECT_EQ(wf->result(), "done");
    for (int i = 0; i < kCodeSteps; ++i) {
      EXPECT_EQ(applied[StepKey(id, "s" + std::to_string(i))], 1)
          << "workflow " << id << " step s" << i;
    }
  }
  for (const std::string& v : service.violations()) ADD_FAILURE() << v;
  std::printf(
      "workflow kill9: %d cycles, %zu DAG + %zu code-first workflows completed, "
      "%zu step effects from %d calls (repeats were deduplicated by token)\n",
      cycles, dags.size(), codes.size(), applied.size(), service.calls());
  server.Stop(SIGTERM);
}

}  // namespace
}  // namespace ratchet::testing
