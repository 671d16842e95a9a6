// Worker benchmark (issue 14): what a user running ratchet::Worker gets.
// ratchetd's server runs in this process on a real disk with synced group
// commit and default settings; the Worker connects over loopback with a
// Client, as the README shows. Prints figures; it is not a test.
//
//   1. peer-shaped drain: N queued no-op jobs drained by one Worker at
//      concurrency 10, over the stream (the default) and over the unary
//      fallback, with 100 B, 1 KiB and 10 KiB payloads;
//   2. the hand-batched gRPC reference in the same run (Lease 500 +
//      CompleteBatch on one connection, the shape grpc_bench's batched runs
//      use) and the ratios;
//   3. concurrency 1 (one job per message / per call);
//   4. enqueue-to-start latency through the Worker at 200 jobs/s (Enqueue
//      sent -> handler started), next to the latency of one synced
//      Enqueue (one synced write plus a loopback round trip);
//   5. the embedded worker loop (EmbeddedWorker) on the same engine, no
//      gRPC, with the same jobs;
//   6. the disk's ceiling in the same run: raw synced RocksDB WriteBatches
//      per second (500 puts of 150 B, the size of a job's state record),
//      and how many jobs each drain finished per synced write of that rate.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "ratchet/client/client.h"
#include "ratchet/client/worker.h"
#include "ratchet/engine/embedded_worker.h"
#include "ratchet/engine/engine.h"
#include "rocksdb/db.h"
#include "rocksdb/write_batch.h"
#include "server.h"
#include "spdlog/spdlog.h"

namespace ratchet::bench {
namespace {

using Steady = std::chrono::steady_clock;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Steady::now().time_since_epoch())
      .count();
}

void Fill(Client& client, const std::string& queue, int jobs, size_t payload_bytes) {
  std::vector<v1::JobSpec> batch;
  for (int i = 0; i < jobs; ++i) {
    v1::JobSpec job;
    job.set_queue(queue);
    job.set_job_type("noop");
    job.set_payload(std::string(payload_bytes, 'x'));
    batch.push_back(std::move(job));
    if (batch.size() == 500 || i == jobs - 1) {
      auto r = client.EnqueueBatch(std::move(batch));
      if (!r.ok()) std::fprintf(stderr, "enqueue: %s\n", r.status().ToString().c_str());
      batch.clear();
    }
  }
}

// Drains `jobs` queued jobs with one Worker; jobs/s.
double Drain(Client& client, const std::string& queue, int jobs, size_t payload,
             WorkerProtocol protocol, int concurrency, int prefetch = -1) {
  Fill(client, queue, jobs, payload);
  std::atomic<int> done{0};
  Worker worker(
      &client,
      {.queue = queue, .concurrency = concurrency, .protocol = protocol, .prefetch = prefetch});
  worker.Register("noop", [&](JobContext&) {
    done++;
    return HandlerResult::Success();
  });
  const auto start = Steady::now();
  if (!worker.Start().ok()) return 0;
  while (worker.stats().completed < static_cast<uint64_t>(jobs)) {
    std::this_thread::sleep_for(Millis(1));
  }
  const double seconds = std::chrono::duration<double>(Steady::now() - start).count();
  worker.Stop();
  return jobs / seconds;
}

// Hand-batched: Lease(500) + CompleteBatch, one connection; jobs/s.
double HandBatched(Client& client, const std::string& queue, int jobs, size_t payload) {
  Fill(client, queue, jobs, payload);
  const auto start = Steady::now();
  int done = 0;
  while (done < jobs) {
    v1::LeaseRequest lease;
    lease.set_queue(queue);
    lease.set_max_jobs(500);
    auto leased = client.Lease(lease);
    if (!leased.ok() || leased->jobs_size() == 0) continue;
    v1::CompleteBatchRequest complete;
    for (const auto& j : leased->jobs()) {
      auto* item = complete.add_items();
      item->set_job_id(j.job_id());
      item->set_fencing_token(j.fencing_token());
    }
    auto r = client.CompleteBatch(complete);
    if (r.ok()) done += static_cast<int>(r->size());
  }
  return jobs / std::chrono::duration<double>(Steady::now() - start).count();
}

// The embedded worker loop at concurrency 10 on `engine`; jobs/s.
double EmbeddedDrain(Engine& engine, const std::string& queue, int jobs, size_t payload) {
  std::vector<EnqueueRequest> batch;
  for (int i = 0; i < jobs; ++i) {
    batch.push_back({.queue = queue, .job_type = "noop", .payload = std::string(payload, 'x')});
    if (batch.size() == 500 || i == jobs - 1) {
      if (!engine.EnqueueBatch(std::move(batch)).ok()) return 0;
      batch.clear();
    }
  }
  EmbeddedWorker worker(&engine, {.queue = queue, .concurrency = 10});
  worker.Register("noop", [](EmbeddedJob&) { return EmbeddedResult::Success(); });
  const auto start = Steady::now();
  if (!worker.Start().ok()) return 0;
  while (worker.stats().completed < static_cast<uint64_t>(jobs)) {
    std::this_thread::sleep_for(Millis(1));
  }
  const double seconds = std::chrono::duration<double>(Steady::now() - start).count();
  worker.Stop();
  return jobs / seconds;
}

// Raw synced WriteBatches per second on the disk of `dir` (500 puts of
// 150 B each, for 2 s): the fsync rate every drain above is bounded by.
double RawSyncedBatches(const std::string& dir) {
  rocksdb::Options options;
  options.create_if_missing = true;
  rocksdb::DB* raw = nullptr;
  if (!rocksdb::DB::Open(options, dir, &raw).ok()) return 0;
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::WriteOptions synced;
  synced.sync = true;
  const std::string value(150, 'y');
  int batches = 0;
  const auto start = Steady::now();
  while (Steady::now() - start < std::chrono::seconds(2)) {
    rocksdb::WriteBatch wb;
    for (int i = 0; i < 500; ++i) wb.Put(std::to_string(batches) + "-" + std::to_string(i), value);
    if (!db->Write(synced, &wb).ok()) return 0;
    ++batches;
  }
  return batches / std::chrono::duration<double>(Steady::now() - start).count();
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * v.size()))];
}

// Enqueue-to-start through the Worker at `rate` jobs/s for `seconds`.
void Latency(Client& client, const std::string& queue, double rate, double seconds) {
  std::mutex mu;
  std::vector<double> start_ms, enqueue_ms;
  Worker worker(&client, {.queue = queue, .concurrency = 10});
  worker.Register("noop", [&](JobContext& job) {
    const double ms = (NowNs() - std::stoll(job.payload())) / 1e6;
    std::lock_guard<std::mutex> lock(mu);
    start_ms.push_back(ms);
    return HandlerResult::Success();
  });
  if (!worker.Start().ok()) return;
  std::this_thread::sleep_for(Millis(300));  // the stream is open and parked
  const int total = static_cast<int>(rate * seconds);
  const auto begin = Steady::now();
  for (int i = 0; i < total; ++i) {
    std::this_thread::sleep_until(begin +
                                  std::chrono::nanoseconds(static_cast<int64_t>(i * 1e9 / rate)));
    v1::JobSpec job;
    job.set_queue(queue);
    job.set_job_type("noop");
    const int64_t sent = NowNs();
    job.set_payload(std::to_string(sent));
    if (client.Enqueue(job).ok()) enqueue_ms.push_back((NowNs() - sent) / 1e6);
  }
  while (worker.stats().completed < static_cast<uint64_t>(total)) {
    std::this_thread::sleep_for(Millis(5));
  }
  worker.Stop();
  std::lock_guard<std::mutex> lock(mu);
  const double write_p50 = Percentile(enqueue_ms, 0.5);
  const double p99 = Percentile(start_ms, 0.99);
  std::printf(
      "  at %.0f jobs/s: enqueue-to-start p50 %.2f ms  p99 %.2f ms  p999 %.2f ms  "
      "(one synced Enqueue: p50 %.2f ms; target p99 <= 2 x %.2f + 0.5 = %.2f ms: %s)\n",
      rate, Percentile(start_ms, 0.5), p99, Percentile(start_ms, 0.999), write_p50, write_p50,
      2 * write_p50 + 0.5, p99 <= 2 * write_p50 + 0.5 ? "met" : "NOT met");
}

}  // namespace
}  // namespace ratchet::bench

int main(int argc, char** argv) {
  using namespace ratchet;
  using namespace ratchet::bench;
  std::string dir = "./worker-bench-data";
  int jobs = 20000;
  double latency_seconds = 10;
  CLI::App app("ratchet::Worker through ratchetd: drain throughput and latency");
  app.add_option("--dir", dir, "data directory (on a real disk; removed first)");
  app.add_option("--jobs", jobs, "queued jobs per drain");
  app.add_option("--latency-seconds", latency_seconds, "duration of the latency run");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  std::filesystem::remove_all(dir);
  EngineOptions options;
  options.data_dir = dir;
  auto engine = Engine::Open(options);
  if (!engine.ok()) return std::fprintf(stderr, "%s\n", engine.status().ToString().c_str()), 1;
  server::ServerOptions server_options;
  server_options.listen = "127.0.0.1:0";
  auto srv = server::Server::Start(server_options, engine->get());
  if (!srv.ok()) return std::fprintf(stderr, "%s\n", srv.status().ToString().c_str()), 1;
  auto client = Client::Connect({.target = "127.0.0.1:" + std::to_string((*srv)->port())});
  if (!client.ok()) return 1;

  std::printf(
      "ratchet::Worker draining %d queued no-op jobs through ratchetd (loopback, synced "
      "group commit, default settings)\n",
      jobs);
  int q = 0;
  auto next = [&] { return "wq" + std::to_string(q++); };
  const double fsyncs = RawSyncedBatches(dir + "-raw");
  std::filesystem::remove_all(dir + "-raw");
  std::printf("  disk: raw synced WriteBatch (500 x 150 B) %.0f writes/s\n", fsyncs);
  for (size_t payload : {size_t{100}, size_t{1024}, size_t{10240}}) {
    const double batched = HandBatched(**client, next(), jobs, payload);
    const double stream = Drain(**client, next(), jobs, payload, WorkerProtocol::kStream, 10);
    const double unary = Drain(**client, next(), jobs, payload, WorkerProtocol::kUnary, 10);
    const double embedded = EmbeddedDrain(**engine, next(), jobs, payload);
    std::printf(
        "  payload %5zu B  concurrency 10: stream %8.0f jobs/s  unary %8.0f jobs/s  "
        "embedded %8.0f jobs/s  hand-batched gRPC %8.0f jobs/s  | stream/batched %.2f  "
        "stream/unary %.1fx  jobs per raw synced write: stream %.1f, embedded %.1f\n",
        payload, stream, unary, embedded, batched, stream / batched, stream / unary,
        stream / fsyncs, embedded / fsyncs);
  }
  {
    const double stream = Drain(**client, next(), jobs / 4, 100, WorkerProtocol::kStream, 1);
    const double unary = Drain(**client, next(), jobs / 4, 100, WorkerProtocol::kUnary, 1);
    std::printf(
        "  payload   100 B  concurrency 1:  stream %8.0f jobs/s  unary %8.0f jobs/s  | "
        "stream/unary %.1fx\n",
        stream, unary, stream / unary);
  }
  std::printf("enqueue-to-start latency through the Worker (stream, concurrency 10)\n");
  Latency(**client, next(), 200, latency_seconds);
  client->reset();
  (*srv)->Shutdown(Millis(1000));
  srv->reset();
  engine->reset();
  std::filesystem::remove_all(dir);
  return 0;
}
