// A code-first (durable) workflow on the embedded engine: an order is
// reserved, charged and shipped, each as a journalled step. If shipping
// fails for good, compensation steps refund the charge and release the
// reservation (a saga), and the workflow fails with the reason.
//
// It also shows the other durable primitives: the workflow waits for a
// "payment_confirmed" event (sent by a simulated payment provider) before
// charging, and sleeps durably before shipping. Neither wait holds a worker.
//
// The "external services" deduplicate by the step's idempotency token, as a
// real payment API would, so a step that re-runs after a crash has its
// effect once.
//
//   ./build/examples/order_workflow [--data-dir DIR] [--orders N]
#include <atomic>
#include <cstdio>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "CLI/CLI.hpp"
#include "ratchet/engine/engine.h"
#include "ratchet/engine/workflow_runner.h"
#include "spdlog/spdlog.h"

namespace {

using namespace ratchet;

// A stand-in for external systems: applies each effect once per token.
class ExternalServices {
 public:
  bool Apply(const std::string& token, const std::string& what) {
    std::lock_guard<std::mutex> lock(mu_);
    if (!seen_.insert(token).second) return false;  // a retry: already done
    ++effects_[what];
    return true;
  }
  std::map<std::string, int> effects() {
    std::lock_guard<std::mutex> lock(mu_);
    return effects_;
  }

 private:
  std::mutex mu_;
  std::set<std::string> seen_;
  std::map<std::string, int> effects_;
};

// The workflow code. The payload is the order id; orders ending in "7"
// cannot be shipped (a permanent failure that triggers compensation).
WorkflowFunction OrderWorkflow(ExternalServices& services) {
  return [&services](WorkflowContext& ctx) -> absl::StatusOr<std::string> {
    const std::string order = ctx.payload();
    auto step = [&](const std::string& name, const std::string& effect) {
      return ctx.Step(name, [&]() -> absl::StatusOr<std::string> {
        services.Apply(ctx.IdempotencyToken(name), effect);
        return effect + ":" + order;
      });
    };
    auto reserved = step("reserve", "reserve");
    if (!reserved.ok()) return reserved.status();

    auto payment = ctx.WaitForEvent("payment_confirmed", Millis(60000));
    if (!payment.ok()) return payment.status();
    if (!payment->has_value()) {
      auto released = step("release", "release");
      if (!released.ok()) return released.status();
      return absl::FailedPreconditionError("payment not confirmed within 60 s");
    }
    auto charged = step("charge", "charge");
    if (!charged.ok()) return charged.status();

    ctx.Sleep(Millis(200));  // a durable cool-off before shipping

    auto shipped = ctx.Step("ship", [&]() -> absl::StatusOr<std::string> {
      if (order.back() == '7') return absl::InvalidArgumentError("address cannot be delivered");
      services.Apply(ctx.IdempotencyToken("ship"), "ship");
      return "shipped:" + order;
    });
    if (shipped.ok()) return *shipped;
    // Compensation, newest effect first; each is a journalled step too.
    auto refunded = step("refund", "refund");
    if (!refunded.ok()) return refunded.status();
    auto released = step("release", "release");
    if (!released.ok()) return released.status();
    return absl::FailedPreconditionError("ship failed (" + std::string(shipped.status().message()) +
                                         "); charge refunded, reservation released");
  };
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("Ratchet code-first workflow example: order -> reserve, charge, ship (saga)");
  std::string data_dir = "./order-workflow-data";
  int orders = 10;
  app.add_option("--data-dir", data_dir, "engine data directory");
  app.add_option("--orders", orders, "orders to run (every order ending in 7 fails to ship)");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);

  EngineOptions options;
  options.data_dir = data_dir;
  auto engine = Engine::Open(options);
  if (!engine.ok()) {
    std::fprintf(stderr, "open: %s\n", engine.status().ToString().c_str());
    return 1;
  }
  Engine& e = **engine;
  ExternalServices services;
  WorkflowFunction workflow = OrderWorkflow(services);

  std::vector<WorkflowId> ids;
  for (int i = 1; i <= orders; ++i) {
    StartWorkflowRequest start;
    start.name = "order";
    start.queue = "orders";
    start.job_type = "order";
    start.payload = "order-" + std::to_string(i);
    start.idempotency_key = start.payload;  // a rerun of the example resumes, not duplicates
    start.events = {"payment_confirmed"};
    auto r = e.StartWorkflow(start);
    if (!r.ok()) {
      std::fprintf(stderr, "start: %s\n", r.status().ToString().c_str());
      return 1;
    }
    ids.push_back(r->id);
  }

  std::atomic<bool> stop{false};
  std::vector<std::thread> workers;
  for (int w = 0; w < 2; ++w) {
    workers.emplace_back([&, w] {
      while (!stop.load()) {
        LeaseRequest lease{"orders", 4, Millis(10000), "worker-" + std::to_string(w)};
        lease.wait = Millis(100);
        auto jobs = e.Lease(lease);
        if (!jobs.ok()) return;
        for (const LeasedJob& job : *jobs) RunWorkflowJob(e, job, workflow).IgnoreError();
      }
    });
  }
  // The payment provider confirms every order a little later.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  for (WorkflowId id : ids) e.SendEvent({id, "payment_confirmed", "ok"}).IgnoreError();

  int completed = 0, failed = 0;
  for (int round = 0; round < 200; ++round) {
    completed = failed = 0;
    for (WorkflowId id : ids) {
      auto wf = e.GetWorkflow(id);
      if (!wf.ok()) continue;
      completed += wf->state == WorkflowState::kCompleted;
      failed += wf->state == WorkflowState::kFailed;
    }
    if (completed + failed == static_cast<int>(ids.size())) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  stop = true;
  for (auto& t : workers) t.join();

  std::printf("orders: %zu  completed: %d  failed (compensated): %d\n", ids.size(), completed,
              failed);
  for (const auto& [effect, count] : services.effects()) {
    std::printf("  effect %-8s x %d\n", effect.c_str(), count);
  }
  auto sample = e.GetWorkflow(ids.back());
  if (sample.ok()) {
    std::printf("workflow %llu (%s): %s%s\n", static_cast<unsigned long long>(sample->id),
                sample->steps.empty() ? "-" : sample->steps.back().name.c_str(),
                WorkflowStateName(sample->state),
                sample->error.empty() ? "" : (" - " + sample->error).c_str());
  }
  return completed + failed == static_cast<int>(ids.size()) ? 0 : 1;
}
