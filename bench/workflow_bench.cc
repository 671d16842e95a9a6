// Workflow and schedule benchmark (figures only; never pass/fail):
//   - workflow steps/s for a 10-step linear workflow and a 1 -> 100 -> 1
//     fan-out/fan-in, on the embedded engine and over gRPC (in-process
//     ratchetd on loopback, the C++ client), with workers that lease up to
//     64 jobs per call and complete each batch in one CompleteBatch. The
//     workflows are submitted first; only the execution of steps is timed;
//   - schedule fire lag (tick -> the job's enqueue) p50/p99/max with
//     10,000 active "@every" schedules on the real clock.
// Synced group commit throughout, on --dir (a real disk).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <thread>

#include "CLI/CLI.hpp"
#include "absl/synchronization/mutex.h"
#include "ratchet/api/time_codec.h"
#include "ratchet/client/client.h"
#include "ratchet/engine/engine.h"
#include "server.h"
#include "spdlog/spdlog.h"

namespace {

using namespace ratchet;
using Clock = std::chrono::steady_clock;

WorkflowSpec Linear(int n) {
  WorkflowSpec w;
  w.name = "linear";
  w.queue = "wf";
  for (int i = 0; i < n; ++i) {
    StepSpec s;
    s.name = "s" + std::to_string(i);
    s.job_type = "step";
    s.payload = std::string(100, 'x');
    if (i > 0) s.depends_on = {"s" + std::to_string(i - 1)};
    w.steps.push_back(std::move(s));
  }
  return w;
}

WorkflowSpec FanOut(int width) {
  WorkflowSpec w;
  w.name = "fan";
  w.queue = "wf";
  StepSpec root;
  root.name = "root";
  root.job_type = "step";
  w.steps.push_back(root);
  StepSpec sink;
  sink.name = "sink";
  sink.job_type = "step";
  for (int i = 0; i < width; ++i) {
    StepSpec s;
    s.name = "m" + std::to_string(i);
    s.job_type = "step";
    s.payload = std::string(100, 'x');
    s.depends_on = {"root"};
    sink.depends_on.push_back(s.name);
    w.steps.push_back(std::move(s));
  }
  w.steps.push_back(std::move(sink));
  return w;
}

// How a benchmark drives one backend.
struct Backend {
  std::function<void(const WorkflowSpec&)> submit;
  // Leases up to 64 jobs and completes them; returns how many.
  std::function<int()> work_once;
};

// Submits `workflows` copies of `spec` (4 threads, so submissions share
// group commits), then times only the steps' execution: from the moment the
// workers start until every step has completed. Returns steps/s and sets
// *submit_s to the submission time.
double RunWorkflows(Backend& b, const WorkflowSpec& spec, int workflows, int workers,
                    double* submit_s) {
  const int total = workflows * static_cast<int>(spec.steps.size());
  auto submit_start = Clock::now();
  std::vector<std::thread> producers;
  for (int p = 0; p < 4; ++p) {
    producers.emplace_back([&, p] {
      for (int i = p; i < workflows; i += 4) b.submit(spec);
    });
  }
  for (auto& t : producers) t.join();
  *submit_s = std::chrono::duration<double>(Clock::now() - submit_start).count();
  std::atomic<int> done{0};
  auto start = Clock::now();
  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w) {
    threads.emplace_back([&] {
      while (done.load() < total) done += b.work_once();
    });
  }
  for (auto& t : threads) t.join();
  double seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return total / seconds;
}

Backend Embedded(Engine& e) {
  Backend b;
  b.submit = [&e](const WorkflowSpec& spec) {
    auto r = e.SubmitWorkflow(spec);
    if (!r.ok()) std::fprintf(stderr, "submit: %s\n", r.status().ToString().c_str());
  };
  b.work_once = [&e]() {
    LeaseRequest req{"wf", 64, Millis(30000), "bench"};
    req.wait = Millis(20);
    auto jobs = e.Lease(req);
    if (!jobs.ok() || jobs->empty()) return 0;
    std::vector<CompleteRequest> done;
    for (const LeasedJob& j : *jobs) done.push_back({j.id, j.token, "ok", {}});
    e.CompleteBatch(std::move(done)).IgnoreError();
    return static_cast<int>(jobs->size());
  };
  return b;
}

Backend OverGrpc(Client& c) {
  Backend b;
  b.submit = [&c](const WorkflowSpec& spec) {
    v1::SubmitWorkflowRequest req;
    req.set_name(spec.name);
    req.set_queue(spec.queue);
    for (const StepSpec& s : spec.steps) {
      v1::StepSpec* out = req.add_steps();
      out->set_name(s.name);
      out->set_job_type(s.job_type);
      out->set_payload(s.payload);
      for (const auto& d : s.depends_on) out->add_depends_on(d);
    }
    auto r = c.SubmitWorkflow(std::move(req));
    if (!r.ok()) std::fprintf(stderr, "submit: %s\n", r.status().ToString().c_str());
  };
  b.work_once = [&c]() {
    v1::LeaseRequest req;
    req.set_queue("wf");
    req.set_max_jobs(64);
    *req.mutable_wait() = ToProtoDuration(Millis(20));
    auto leased = c.Lease(req);
    if (!leased.ok() || leased->jobs().empty()) return 0;
    v1::CompleteBatchRequest done;
    for (const auto& j : leased->jobs()) {
      v1::CompleteRequest* r = done.add_items();
      r->set_job_id(j.job_id());
      r->set_fencing_token(j.fencing_token());
      r->set_result("ok");
    }
    c.CompleteBatch(done).IgnoreError();
    return leased->jobs_size();
  };
  return b;
}

void RunScheduleLag(const std::string& dir, int schedules, int seconds) {
  std::filesystem::remove_all(dir);
  EngineOptions options;
  options.data_dir = dir;
  auto engine = Engine::Open(options);
  if (!engine.ok()) return;
  Engine& e = **engine;
  auto created = Clock::now();
  std::vector<std::thread> creators;
  for (int t = 0; t < 16; ++t) {
    creators.emplace_back([&, t] {
      for (int i = t; i < schedules; i += 16) {
        ScheduleSpec s;
        s.id = "s" + std::to_string(i);
        s.spec = "@every 10s";
        s.queue = "cron";
        s.job_type = "tick";
        s.missed = MissedRunPolicy::kRunAll;
        e.CreateSchedule(s).IgnoreError();
      }
    });
  }
  for (auto& t : creators) t.join();
  double create_s = std::chrono::duration<double>(Clock::now() - created).count();
  std::this_thread::sleep_for(std::chrono::seconds(seconds));
  // Lag of every fired job: created_at (the enqueue) - the tick in its key.
  std::vector<int64_t> lags;
  std::string cursor;
  do {
    auto page = e.List({"cron", JobState::kAvailable, 1000, cursor});
    if (!page.ok()) break;
    for (const Job& j : page->jobs) {
      int64_t tick = std::stoll(j.idempotency_key.substr(j.idempotency_key.rfind(':') + 1));
      lags.push_back(ToUnixMs(j.created_at) - tick);
    }
    cursor = page->next_cursor;
  } while (!cursor.empty());
  std::sort(lags.begin(), lags.end());
  auto pct = [&](double p) {
    return lags.empty() ? 0 : lags[std::min(lags.size() - 1, static_cast<size_t>(p * lags.size()))];
  };
  std::printf(
      "schedule fire lag, %d active schedules (@every 10s; created in %.1f s), %d s: "
      "%zu fires, lag p50 %lld ms, p99 %lld ms, max %lld ms\n",
      schedules, create_s, seconds, lags.size(), static_cast<long long>(pct(0.5)),
      static_cast<long long>(pct(0.99)), static_cast<long long>(lags.empty() ? 0 : lags.back()));
  engine->reset();
  std::filesystem::remove_all(dir);
}

}  // namespace

int main(int argc, char** argv) {
  std::string dir = "./workflow-bench-data";
  int linear_workflows = 2000, fan_workflows = 200, workers = 4, schedules = 10000,
      lag_seconds = 30;
  CLI::App app("Workflow and schedule benchmark");
  app.add_option("--dir", dir, "data directory (on a real disk; removed first)");
  app.add_option("--linear", linear_workflows, "10-step linear workflows per run");
  app.add_option("--fan", fan_workflows, "1 -> 100 -> 1 workflows per run");
  app.add_option("--workers", workers, "worker threads");
  app.add_option("--schedules", schedules, "active schedules in the lag run");
  app.add_option("--lag-seconds", lag_seconds, "duration of the lag run");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  std::printf(
      "workflow steps/s: all workflows submitted first (4 threads), then the steps'\n"
      "execution is timed (lease up to 64 -> CompleteBatch; %d worker threads)\n",
      workers);
  for (bool grpc : {false, true}) {
    std::filesystem::remove_all(dir);
    EngineOptions options;
    options.data_dir = dir;
    auto engine = Engine::Open(options);
    if (!engine.ok()) return std::fprintf(stderr, "%s\n", engine.status().ToString().c_str()), 1;
    std::unique_ptr<server::Server> srv;
    std::unique_ptr<Client> client;
    Backend backend;
    if (grpc) {
      server::ServerOptions so;
      so.listen = "127.0.0.1:0";
      so.max_message_bytes = 64 << 20;
      auto s = server::Server::Start(so, engine->get());
      if (!s.ok()) return 1;
      srv = std::move(*s);
      auto c = Client::Connect({.target = "127.0.0.1:" + std::to_string(srv->port())});
      if (!c.ok()) return 1;
      client = std::move(*c);
      backend = OverGrpc(*client);
    } else {
      backend = Embedded(**engine);
    }
    const char* where = grpc ? "gRPC    " : "embedded";
    double submit_s = 0;
    double linear = RunWorkflows(backend, Linear(10), linear_workflows, workers, &submit_s);
    std::printf("  %s  10-step linear     x %5d: %8.0f steps/s  (submitted in %.2f s)\n", where,
                linear_workflows, linear, submit_s);
    double fan = RunWorkflows(backend, FanOut(100), fan_workflows, workers, &submit_s);
    std::printf("  %s  1 -> 100 -> 1      x %5d: %8.0f steps/s  (submitted in %.2f s)\n", where,
                fan_workflows, fan, submit_s);
    client.reset();
    if (srv) srv->Shutdown(Millis(500));
    srv.reset();
    engine->reset();
  }
  std::filesystem::remove_all(dir);
  RunScheduleLag(dir, schedules, lag_seconds);
  return 0;
}
