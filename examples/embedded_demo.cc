// The embedded demo behind `make run`: a single process that embeds the
// engine (no server). It enqueues a batch of jobs, runs two workers, and
// shows a retry with backoff, a dead letter, and a redrive of that dead
// letter, then prints a summary. Data stays in --data-dir for the next run.
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include "CLI/CLI.hpp"
#include "ratchet/engine/engine.h"
#include "spdlog/spdlog.h"

namespace {

using namespace ratchet;

struct Counters {
  std::atomic<int> completed{0}, retries{0}, dead{0};
};

// A handler: "flaky" fails its first attempt, "poison" fails for good until
// `fixed` is set (as if a bug fix was deployed before the redrive).
absl::Status Handle(const LeasedJob& job, const std::atomic<bool>& fixed) {
  if (job.job_type == "flaky" && job.attempt == 1) {
    return absl::UnavailableError("upstream timed out (transient)");
  }
  if (job.job_type == "poison" && !fixed.load()) {
    return absl::InvalidArgumentError("payload cannot be parsed");
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(2));  // the "work"
  return absl::OkStatus();
}

void Work(Engine& engine, const std::string& worker, const std::atomic<bool>& fixed,
          const std::atomic<bool>& stop, Counters& counters) {
  while (!stop.load()) {
    LeaseRequest lease{"demo", 4, Millis(10000), worker};
    lease.wait = Millis(200);  // long poll: no busy loop while the queue is empty
    auto jobs = engine.Lease(lease);
    if (!jobs.ok() || jobs->empty()) continue;
    for (const LeasedJob& job : *jobs) {
      absl::Status result = Handle(job, fixed);
      if (result.ok()) {
        if (engine.Complete({job.id, job.token, "ok", {}}).ok()) counters.completed++;
        continue;
      }
      bool retryable = absl::IsUnavailable(result);
      auto failed = engine.Fail({job.id, job.token, std::string(result.message()), retryable});
      if (!failed.ok()) continue;
      if (failed->state == JobState::kScheduled) {
        counters.retries++;
        spdlog::info("job={} type={} attempt={} failed ({}); retry in {} ms", job.id, job.job_type,
                     job.attempt, std::string(result.message()),
                     (failed->retry_at->time_since_epoch() -
                      std::chrono::time_point_cast<Millis>(std::chrono::system_clock::now())
                          .time_since_epoch())
                         .count());
      } else if (failed->state == JobState::kDead) {
        counters.dead++;
        spdlog::warn("job={} type={} dead-lettered: {}", job.id, job.job_type,
                     std::string(result.message()));
      }
    }
  }
}

void WaitFor(const std::function<bool()>& done) {
  for (int i = 0; i < 500 && !done(); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"Ratchet embedded demo"};
  std::string data_dir = "./ratchet-data";
  int jobs = 200;
  app.add_option("--data-dir", data_dir, "engine data directory");
  app.add_option("--jobs", jobs, "ordinary jobs to enqueue")->check(CLI::Range(1, 1000000));
  CLI11_PARSE(app, argc, argv);

  EngineOptions options;
  options.data_dir = data_dir;
  auto opened = Engine::Open(options);
  if (!opened.ok()) {
    std::fprintf(stderr, "cannot open %s: %s\n", data_dir.c_str(),
                 opened.status().ToString().c_str());
    return 1;
  }
  Engine& engine = **opened;
  QueueSettings settings;
  settings.retry_policy = {Millis(200), Millis(2000), 2.0, JitterMode::kFull};
  settings.max_attempts = 3;
  if (auto s = engine.UpdateQueue("demo", settings); !s.ok()) {
    std::fprintf(stderr, "%s\n", s.ToString().c_str());
    return 1;
  }

  const std::string run =
      std::to_string(std::chrono::system_clock::now().time_since_epoch().count());
  std::vector<EnqueueRequest> batch;
  for (int i = 0; i < jobs; ++i) {
    batch.push_back(
        {"demo", "resize_image", "image-" + std::to_string(i), run + "-" + std::to_string(i)});
  }
  batch.push_back({"demo", "flaky", "call upstream", run + "-flaky"});
  batch.push_back({"demo", "poison", "{not json", run + "-poison"});
  auto start = std::chrono::steady_clock::now();
  auto enqueued = engine.EnqueueBatch(batch);
  if (!enqueued.ok()) {
    std::fprintf(stderr, "enqueue failed: %s\n", enqueued.status().ToString().c_str());
    return 1;
  }
  JobId poison = enqueued->back().id;
  auto again = engine.Enqueue(batch.front());
  std::printf("enqueued %zu jobs in one atomic batch; re-enqueue of key %s: %s %llu\n",
              enqueued->size(), batch.front().idempotency_key.c_str(),
              again.ok() && again->duplicate ? "duplicate of" : "created",
              static_cast<unsigned long long>(again.ok() ? again->id : 0));

  Counters counters;
  std::atomic<bool> fixed{false}, stop{false};
  std::thread w1(Work, std::ref(engine), "worker-1", std::cref(fixed), std::cref(stop),
                 std::ref(counters));
  std::thread w2(Work, std::ref(engine), "worker-2", std::cref(fixed), std::cref(stop),
                 std::ref(counters));
  WaitFor([&] { return counters.completed.load() >= jobs + 1 && counters.dead.load() >= 1; });

  auto dlq = engine.List({"demo", JobState::kDead, 10, ""});
  std::printf("dead-letter queue 'demo': %zu job(s)\n", dlq.ok() ? dlq->jobs.size() : 0);
  if (dlq.ok()) {
    for (const Job& j : dlq->jobs) {
      std::printf("  job %llu type=%s attempts=%d last error: %s\n",
                  static_cast<unsigned long long>(j.id), j.job_type.c_str(), j.attempts,
                  j.errors.empty() ? "" : j.errors.back().message.c_str());
    }
  }
  fixed = true;  // "deploy the fix", then redrive
  RedriveRequest redrive;
  redrive.filter.job_id = poison;
  auto redriven = engine.Redrive(redrive);
  std::printf("redrive of job %llu: %s\n", static_cast<unsigned long long>(poison),
              redriven.ok() ? "ok" : redriven.status().ToString().c_str());
  WaitFor([&] { return counters.completed.load() >= jobs + 2; });
  stop = true;
  w1.join();
  w2.join();
  double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  auto poison_job = engine.Get(poison);
  std::printf(
      "\nsummary: %d completed, %d retries, %d dead-lettered, 1 redriven (now %s), "
      "%.0f jobs/s over %.2f s\n",
      counters.completed.load(), counters.retries.load(), counters.dead.load(),
      poison_job.ok() ? JobStateName(poison_job->state) : "?", counters.completed.load() / elapsed,
      elapsed);
  auto queues = engine.ListQueues();
  if (queues.ok()) {
    for (const QueueInfo& q : queues->queues) {
      std::printf(
          "queue %-8s scheduled=%lld available=%lld running=%lld completed=%lld cancelled=%lld "
          "dead=%lld\n",
          q.name.c_str(), static_cast<long long>(q.scheduled), static_cast<long long>(q.available),
          static_cast<long long>(q.running), static_cast<long long>(q.completed),
          static_cast<long long>(q.cancelled), static_cast<long long>(q.dead));
    }
  }
  std::printf("data kept in %s\n", data_dir.c_str());
  return counters.completed.load() >= jobs + 2 ? 0 : 1;
}
