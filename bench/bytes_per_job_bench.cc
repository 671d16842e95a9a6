// Bytes written per job (issue 14): what one job's life costs the disk on
// the embedded engine with default options. For each payload size, N jobs
// with incompressible payloads (a fixed-seed PRNG) go through the life a
// Worker gives them: enqueued in batches of 500, leased 100 at a time, one
// heartbeat each (HeartbeatBatch), completed (CompleteBatch). Prints, per
// job and per phase, the bytes this process passed to write(2) (`wchar` in
// /proc/self/io: the WAL, plus memtable flushes and compactions as they
// happen), and in all, with the engine closed, the bytes that reached the
// block device (`write_bytes`). Prints figures; it is not a test.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <vector>

#include "CLI/CLI.hpp"
#include "bench_engine.h"
#include "spdlog/spdlog.h"

namespace ratchet::bench {
namespace {

struct Io {
  uint64_t wchar = 0;
  uint64_t write_bytes = 0;
};

Io ReadIo() {
  Io io;
  std::ifstream in("/proc/self/io");
  std::string name;
  uint64_t value = 0;
  while (in >> name >> value) {
    if (name == "wchar:") io.wchar = value;
    if (name == "write_bytes:") io.write_bytes = value;
  }
  return io;
}

void Check(const absl::Status& s, const char* what) {
  if (s.ok()) return;
  std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
  std::exit(1);
}

void Run(const std::string& dir, int jobs, size_t payload_bytes) {
  std::filesystem::remove_all(dir);
  std::mt19937_64 rng(42);
  Io start = ReadIo();
  Io after_enqueue;
  uint64_t lease_bytes = 0, heartbeat_bytes = 0, complete_bytes = 0;
  {
    EngineOptions options;
    options.data_dir = dir;
    auto engine = OpenEngineOrExit(options);
    start = ReadIo();
    std::vector<EnqueueRequest> batch;
    for (int i = 0; i < jobs; ++i) {
      EnqueueRequest req;
      req.queue = "bytes";
      req.job_type = "noop";
      req.payload.resize(payload_bytes);
      for (char& c : req.payload) c = static_cast<char>(rng());
      batch.push_back(std::move(req));
      if (batch.size() == 500 || i == jobs - 1) {
        Check(engine->EnqueueBatch(std::move(batch)).status(), "enqueue");
        batch.clear();
      }
    }
    after_enqueue = ReadIo();
    for (;;) {
      Io before = ReadIo();
      LeaseRequest lease;
      lease.queue = "bytes";
      lease.max_jobs = 100;
      auto leased = engine->Lease(lease);
      Check(leased.status(), "lease");
      if (leased->empty()) break;
      Io after = ReadIo();
      lease_bytes += after.wchar - before.wchar;
      std::vector<HeartbeatRequest> beats;
      std::vector<CompleteRequest> done;
      for (const LeasedJob& j : *leased) {
        beats.push_back({.id = j.id, .token = j.token});
        done.push_back({.id = j.id, .token = j.token});
      }
      Check(engine->HeartbeatBatch(std::move(beats)).status(), "heartbeat");
      before = after;
      after = ReadIo();
      heartbeat_bytes += after.wchar - before.wchar;
      Check(engine->CompleteBatch(std::move(done)).status(), "complete");
      before = after;
      after = ReadIo();
      complete_bytes += after.wchar - before.wchar;
    }
  }
  const Io end = ReadIo();
  const double n = jobs;
  std::printf(
      "payload %6zu B: written per job (wchar): enqueue %7.0f B, lease %6.0f B, heartbeat %6.0f "
      "B, complete %6.0f B; in all %7.0f B (block device, engine closed: %7.0f B)\n",
      payload_bytes, static_cast<double>(after_enqueue.wchar - start.wchar) / n,
      static_cast<double>(lease_bytes) / n, static_cast<double>(heartbeat_bytes) / n,
      static_cast<double>(complete_bytes) / n, static_cast<double>(end.wchar - start.wchar) / n,
      static_cast<double>(end.write_bytes - start.write_bytes) / n);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace ratchet::bench

int main(int argc, char** argv) {
  CLI::App app("bytes written per job on the embedded engine (issue 14)");
  std::string dir = "bytes-bench-data";
  int jobs = 20000;
  std::vector<size_t> payloads = {100, 10240};
  app.add_option("--dir", dir, "scratch directory on the disk to measure");
  app.add_option("--jobs", jobs, "jobs per payload size");
  app.add_option("--payloads", payloads, "payload sizes in bytes");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);
  for (size_t p : payloads) ratchet::bench::Run(dir, jobs, p);
  return 0;
}
