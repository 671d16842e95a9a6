// Dashboard benchmark (figures only; never pass/fail): how long each
// dashboard page's JSON API calls take with --queues queues and --jobs jobs
// stored (default 100 and 1,000,000, a tenth of them completed and a tenth
// dead), through the real HTTP listener (in-process ratchetd, loopback,
// cpp-httplib client). Issue 15's target: every page under 200 ms.
//
// A page's time is the sum of its calls, made one after another as the
// page makes them; each is timed --samples times (p50, p99, max printed).
#include <httplib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "http_server.h"
#include "prometheus/registry.h"
#include "ratchet/engine/engine.h"
#include "server.h"
#include "spdlog/spdlog.h"

namespace {

using namespace ratchet;
using SteadyClock = std::chrono::steady_clock;

struct Call {
  std::string path, body;
};

struct Page {
  std::string name;
  std::vector<Call> calls;
};

double Percentile(std::vector<double> v, double q) {
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(q * static_cast<double>(v.size())))];
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app("dashboard_bench");
  std::string dir = "dashboard-bench-data";
  int queues = 100, jobs = 1000000, samples = 50;
  app.add_option("--dir", dir, "data directory (wiped)");
  app.add_option("--queues", queues);
  app.add_option("--jobs", jobs);
  app.add_option("--samples", samples);
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);
  std::filesystem::remove_all(dir);

  EngineOptions options;
  options.data_dir = dir;
  options.metrics_registry = std::make_shared<prometheus::Registry>();
  auto engine = Engine::Open(options);
  if (!engine.ok()) {
    std::fprintf(stderr, "open: %s\n", engine.status().ToString().c_str());
    return 1;
  }
  Engine& e = **engine;
  const auto load_start = SteadyClock::now();
  constexpr int kBatch = 1000;
  for (int done = 0; done < jobs; done += kBatch) {
    std::vector<EnqueueRequest> batch;
    for (int i = done; i < std::min(jobs, done + kBatch); ++i) {
      EnqueueRequest r;
      r.queue = "queue-" + std::to_string(i % queues);
      r.job_type = i % 2 == 0 ? "send" : "sync";
      r.payload = std::string(100, 'x');
      batch.push_back(std::move(r));
    }
    auto r = e.EnqueueBatch(std::move(batch));
    if (!r.ok()) {
      std::fprintf(stderr, "enqueue: %s\n", r.status().ToString().c_str());
      return 1;
    }
  }
  // A tenth completed and a tenth dead, leased from each queue in turn.
  for (int q = 0; q < queues; ++q) {
    const std::string name = "queue-" + std::to_string(q);
    for (int left = jobs / queues / 5; left > 0;) {
      LeaseRequest lease;
      lease.queue = name;
      lease.max_jobs = std::min(left, 1000);
      auto leased = e.Lease(lease);
      if (!leased.ok() || leased->empty()) break;
      std::vector<CompleteRequest> completes;
      std::vector<FailRequest> fails;
      for (size_t i = 0; i < leased->size(); ++i, --left) {
        const LeasedJob& j = (*leased)[i];
        if (i % 2 == 0) {
          completes.push_back(CompleteRequest{.id = j.id, .token = j.token, .result = "ok"});
        } else {
          fails.push_back(
              FailRequest{.id = j.id, .token = j.token, .error = "boom", .retryable = false});
        }
      }
      if (!e.CompleteBatch(std::move(completes)).ok() || !e.FailBatch(std::move(fails)).ok()) {
        std::fprintf(stderr, "complete/fail failed\n");
        return 1;
      }
    }
  }
  std::printf("loaded %d jobs in %d queues in %.1f s\n", jobs, queues,
              std::chrono::duration<double>(SteadyClock::now() - load_start).count());

  server::ServerOptions server_options;
  server_options.listen = "127.0.0.1:0";
  auto srv = server::Server::Start(server_options, &e);
  if (!srv.ok()) return 1;
  auto http = server::HttpServer::Start(server::HttpOptions{.listen = "127.0.0.1:0",
                                                            .registry = options.metrics_registry,
                                                            .api = (*srv)->service_context()});
  if (!http.ok()) return 1;
  httplib::Client client("127.0.0.1", (*http)->port());
  client.set_keep_alive(true);
  client.set_tcp_nodelay(true);  // as browsers do

  const std::string q = "queue-7";
  const std::vector<Page> pages = {
      {"overview", {{"QueueService/ListQueues", "{}"}}},
      {"queue",
       {{"QueueService/GetQueue", R"({"queue":")" + q + R"("})"},
        {"JobService/ListJobs",
         R"({"queue":")" + q + R"(","state":"JOB_STATE_AVAILABLE","limit":50})"},
        {"JobService/ListJobs",
         R"({"queue":")" + q + R"(","state":"JOB_STATE_COMPLETED","jobType":"sync","limit":50})"}}},
      {"job",
       {{"JobService/GetJob", R"({"jobId":"500008"})"},
        {"JobService/ExplainJob", R"({"jobId":"500008"})"}}},
      {"dead letters",
       {{"QueueService/ListDeadLetters", R"({"queue":")" + q + R"(","limit":50})"}}},
      {"workflows", {{"WorkflowService/ListWorkflows", R"({"limit":50})"}}},
      {"schedules", {{"ScheduleService/ListSchedules", "{}"}}},
      {"workers", {{"WorkerService/ListWorkers", "{}"}}},
  };
  std::printf("%-13s %10s %10s %10s  (ms per page, %d samples; target < 200)\n", "page", "p50",
              "p99", "max", samples);
  for (const Page& page : pages) {
    std::vector<double> ms;
    for (int s = 0; s < samples; ++s) {
      const auto start = SteadyClock::now();
      for (const Call& c : page.calls) {
        auto res = client.Post("/v1/" + c.path, c.body, "application/json");
        if (!res || res->status != 200) {
          std::fprintf(stderr, "%s: %d %s\n", c.path.c_str(), res ? res->status : 0,
                       res ? res->body.substr(0, 300).c_str() : "no answer");
          return 1;
        }
      }
      ms.push_back(std::chrono::duration<double, std::milli>(SteadyClock::now() - start).count());
    }
    std::printf("%-13s %10.2f %10.2f %10.2f\n", page.name.c_str(), Percentile(ms, 0.5),
                Percentile(ms, 0.99), *std::max_element(ms.begin(), ms.end()));
  }
  (*http)->Stop();
  (*srv)->Shutdown(Millis(1000));
  return 0;
}
