// Crash-test child: runs enqueue/lease/complete/fail traffic on an engine and
// appends each acknowledged operation to an ack log, fdatasync'ed per line,
// until it is SIGKILLed. Lines: "E id key", "L id token", "C id token",
// "F id token". Usage: crash_worker DATA_DIR ACK_LOG SEED THREADS
#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "ratchet/engine/engine.h"
#include "spdlog/spdlog.h"

namespace {

std::mutex log_mu;
int log_fd = -1;

void Ack(const std::string& line) {
  std::lock_guard<std::mutex> lock(log_mu);
  std::string out = line + "\n";
  if (write(log_fd, out.data(), out.size()) != static_cast<ssize_t>(out.size())) std::abort();
  fdatasync(log_fd);
}

void Traffic(ratchet::Engine* engine, uint64_t seed, int thread) {
  ratchet::SeededRandom random(seed * 1000 + thread);
  for (uint64_t n = 0;; ++n) {
    std::string key =
        "s" + std::to_string(seed) + "-t" + std::to_string(thread) + "-" + std::to_string(n);
    ratchet::EnqueueRequest req{"q", "crash", "payload-" + key, key};
    req.retry_policy = ratchet::RetryPolicy{ratchet::Millis(1), ratchet::Millis(5), 2.0,
                                            ratchet::JitterMode::kFull};
    auto e = engine->Enqueue(req);
    if (e.ok()) Ack("E " + std::to_string(e->id) + " " + key);
    auto leased = engine->Lease({"q", 4, ratchet::Millis(60000), "crash-worker"});
    if (!leased.ok()) continue;
    for (const auto& job : *leased) {
      Ack("L " + std::to_string(job.id) + " " + std::to_string(job.token));
      if (random.UniformInt(0, 9) < 7) {
        if (engine->Complete({job.id, job.token, "ok", {}}).ok()) {
          Ack("C " + std::to_string(job.id) + " " + std::to_string(job.token));
        }
      } else if (engine->Fail({job.id, job.token, "transient", true}).ok()) {
        Ack("F " + std::to_string(job.id) + " " + std::to_string(job.token));
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: crash_worker DATA_DIR ACK_LOG SEED THREADS\n");
    return 2;
  }
  spdlog::set_level(spdlog::level::warn);
  log_fd = open(argv[2], O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (log_fd < 0) return 3;
  ratchet::EngineOptions options;
  options.data_dir = argv[1];
  auto engine = ratchet::Engine::Open(options);
  if (!engine.ok()) {
    std::fprintf(stderr, "open failed: %s\n", engine.status().ToString().c_str());
    return 4;
  }
  uint64_t seed = std::strtoull(argv[3], nullptr, 10);
  std::vector<std::thread> threads;
  for (int t = 0; t < std::atoi(argv[4]); ++t) {
    threads.emplace_back(Traffic, engine->get(), seed, t);
  }
  for (auto& t : threads) t.join();  // never returns: the parent kills us
  return 0;
}
