// gRPC end-to-end benchmark: ratchetd's server (in this process, on a real
// disk with synced group commit) and its clients share the machine over
// loopback. Prints figures; it is not a test.
//
//   1. jobs/s from enqueue to completion with C producer and C worker
//      connections (C = 1, 4, 16): one job per call (Enqueue; workers use
//      CompleteAndLease, completing one job and leasing the next in one
//      round trip) and batched (EnqueueBatch; Lease + CompleteBatch);
//   2. enqueue-to-start latency (Enqueue sent -> the job's Lease answer
//      received by a worker) p50/p99/p999 at a fixed arrival rate: 200
//      jobs/s and half the measured one-per-call maximum.
//
// Clients use the callback API with a window of calls in flight per
// connection, the way a production client keeps a connection busy.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <thread>
#include <vector>

#include "CLI/CLI.hpp"
#include "absl/synchronization/mutex.h"
#include "grpcpp/grpcpp.h"
#include "ratchet/api/time_codec.h"
#include "ratchet/engine/engine.h"
#include "ratchet/v1/job_service.grpc.pb.h"
#include "ratchet/v1/worker_service.grpc.pb.h"
#include "server.h"
#include "spdlog/spdlog.h"

namespace ratchet::bench {
namespace {

using Steady = std::chrono::steady_clock;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Steady::now().time_since_epoch())
      .count();
}

// A channel with its own TCP connection.
std::shared_ptr<grpc::Channel> Connect(int port, int id) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  args.SetInt("ratchet.bench.connection", id);  // distinct args: distinct subchannel
  args.SetMaxReceiveMessageSize(64 << 20);
  args.SetMaxSendMessageSize(64 << 20);
  return grpc::CreateCustomChannel("127.0.0.1:" + std::to_string(port),
                                   grpc::InsecureChannelCredentials(), args);
}

// Counts down to zero; Wait blocks until then.
class Latch {
 public:
  explicit Latch(int64_t n) : n_(n) {}
  void CountDown(int64_t k = 1) {
    std::lock_guard<std::mutex> lock(mu_);
    n_ -= k;
    if (n_ <= 0) cv_.notify_all();
  }
  void Wait() {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return n_ <= 0; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int64_t n_;
};

v1::JobSpec Spec(const std::string& queue, int64_t seq) {
  v1::JobSpec job;
  job.set_queue(queue);
  job.set_job_type("bench");
  job.set_payload(std::string(100, 'x'));
  job.set_idempotency_key("b" + std::to_string(seq));
  return job;
}

// ---- Producers ----

// Enqueues `count` jobs with one call each, `window` calls in flight.
void ProduceSingle(v1::JobService::Stub* stub, const std::string& queue, std::atomic<int64_t>* seq,
                   int64_t count, int window) {
  struct Call {
    grpc::ClientContext ctx;
    v1::EnqueueRequest req;
    v1::EnqueueResponse resp;
  };
  Latch done(count);
  std::atomic<int64_t> issued{0};
  std::function<void()> issue = [&] {
    if (issued.fetch_add(1) >= count) return;
    auto* call = new Call;
    *call->req.mutable_job() = Spec(queue, seq->fetch_add(1));
    stub->async()->Enqueue(&call->ctx, &call->req, &call->resp, [&, call](grpc::Status s) {
      if (!s.ok()) std::fprintf(stderr, "enqueue: %s\n", s.error_message().c_str());
      delete call;
      issue();  // before CountDown: the last CountDown lets this frame return
      done.CountDown();
    });
  };
  for (int i = 0; i < window; ++i) issue();
  done.Wait();
}

void ProduceBatched(v1::JobService::Stub* stub, const std::string& queue, std::atomic<int64_t>* seq,
                    int64_t count, int batch, int window) {
  struct Call {
    grpc::ClientContext ctx;
    v1::EnqueueBatchRequest req;
    v1::EnqueueBatchResponse resp;
  };
  int64_t calls = (count + batch - 1) / batch;
  Latch done(calls);
  std::atomic<int64_t> issued{0};
  std::function<void()> issue = [&] {
    int64_t n = issued.fetch_add(1);
    if (n >= calls) return;
    auto* call = new Call;
    int64_t jobs = std::min<int64_t>(batch, count - n * batch);
    for (int64_t i = 0; i < jobs; ++i) *call->req.add_jobs() = Spec(queue, seq->fetch_add(1));
    stub->async()->EnqueueBatch(&call->ctx, &call->req, &call->resp, [&, call](grpc::Status s) {
      if (!s.ok()) std::fprintf(stderr, "enqueue batch: %s\n", s.error_message().c_str());
      delete call;
      issue();
      done.CountDown();
    });
  };
  for (int i = 0; i < window; ++i) issue();
  done.Wait();
}

// ---- Workers ----

// One worker loop ("chain") keeps one call in flight: CompleteAndLease of
// the job it holds (or a plain lease first), until `stop`.
struct WorkerChains {
  v1::WorkerService::Stub* stub;
  std::string queue;
  int max_jobs;  // 1: CompleteAndLease; > 1: Lease + CompleteBatch
  Latch* completed;
  std::atomic<bool>* stop;
  std::vector<int64_t>* latencies_ns = nullptr;  // enqueue -> start, if set
  std::mutex* latencies_mu = nullptr;
  std::atomic<int> live{0};

  v1::LeaseRequest LeaseReq() const {
    v1::LeaseRequest req;
    req.set_queue(queue);
    req.set_max_jobs(max_jobs);
    req.set_worker_id("bench");
    *req.mutable_wait() = ToProtoDuration(Millis(200));
    return req;
  }

  void Record(const google::protobuf::RepeatedPtrField<v1::LeasedJob>& jobs) {
    if (latencies_ns == nullptr) return;
    int64_t now = NowNs();
    std::lock_guard<std::mutex> lock(*latencies_mu);
    for (const auto& j : jobs)
      latencies_ns->push_back(now - std::stoll(j.idempotency_key().substr(1)));
  }

  // Single: CompleteAndLease chain.
  void Next(v1::LeasedJob held) {
    struct Call {
      grpc::ClientContext ctx;
      v1::CompleteAndLeaseRequest req;
      v1::CompleteAndLeaseResponse resp;
    };
    if (stop->load()) {
      live--;
      return;
    }
    auto* call = new Call;
    call->ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    *call->req.mutable_lease() = LeaseReq();
    if (held.job_id() != 0) {
      call->req.mutable_complete()->set_job_id(held.job_id());
      call->req.mutable_complete()->set_fencing_token(held.fencing_token());
    }
    stub->async()->CompleteAndLease(&call->ctx, &call->req, &call->resp,
                                    [this, call, had = held.job_id() != 0](grpc::Status s) {
                                      if (s.ok() && had && call->resp.completion().code() == 0)
                                        completed->CountDown();
                                      v1::LeasedJob next;
                                      if (s.ok() && call->resp.jobs_size() > 0) {
                                        Record(call->resp.jobs());
                                        next = call->resp.jobs(0);
                                      }
                                      delete call;
                                      Next(std::move(next));
                                    });
  }

  // Batched: Lease then CompleteBatch.
  void LeaseBatch() {
    struct Call {
      grpc::ClientContext ctx;
      v1::LeaseRequest req;
      v1::LeaseResponse resp;
    };
    if (stop->load()) {
      live--;
      return;
    }
    auto* call = new Call;
    call->req = LeaseReq();
    stub->async()->Lease(&call->ctx, &call->req, &call->resp, [this, call](grpc::Status s) {
      if (!s.ok() || call->resp.jobs_size() == 0) {
        delete call;
        return LeaseBatch();
      }
      Record(call->resp.jobs());
      CompleteBatch(call->resp);
      delete call;
    });
  }

  void CompleteBatch(const v1::LeaseResponse& leased) {
    struct Call {
      grpc::ClientContext ctx;
      v1::CompleteBatchRequest req;
      v1::CompleteBatchResponse resp;
    };
    auto* call = new Call;
    for (const auto& j : leased.jobs()) {
      auto* item = call->req.add_items();
      item->set_job_id(j.job_id());
      item->set_fencing_token(j.fencing_token());
    }
    stub->async()->CompleteBatch(&call->ctx, &call->req, &call->resp, [this, call](grpc::Status s) {
      if (s.ok()) {
        int ok = 0;
        for (const auto& st : call->resp.statuses()) ok += st.code() == 0;
        completed->CountDown(ok);
      }
      delete call;
      LeaseBatch();
    });
  }

  void Start(int chains) {
    live = chains;
    for (int i = 0; i < chains; ++i) max_jobs == 1 ? Next(v1::LeasedJob()) : LeaseBatch();
  }
  void Join() {
    while (live.load() > 0) std::this_thread::sleep_for(Millis(5));
  }
};

struct Setup {
  int port;
  Engine* engine;
  int window;  // calls in flight per side (producers, workers), one job per call
  std::atomic<int64_t> seq{1};
  int queue_id = 0;
};

// Runs producers and workers on `conns` connections each until `jobs` jobs
// completed; returns jobs/s.
double RunThroughput(Setup& setup, int conns, int64_t jobs, bool batched, int batch) {
  EngineStats before = setup.engine->Stats();
  std::string queue = "bench" + std::to_string(setup.queue_id++);
  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < 2 * conns; ++i)
    channels.push_back(Connect(setup.port, setup.queue_id * 100 + i));
  Latch completed(jobs);
  std::atomic<bool> stop{false};
  std::vector<std::unique_ptr<v1::WorkerService::Stub>> worker_stubs;
  std::vector<std::unique_ptr<WorkerChains>> workers;
  auto start = Steady::now();
  for (int i = 0; i < conns; ++i) {
    worker_stubs.push_back(v1::WorkerService::NewStub(channels[conns + i]));
    workers.push_back(std::unique_ptr<WorkerChains>(new WorkerChains{
        worker_stubs.back().get(), queue, batched ? batch : 1, &completed, &stop}));
    workers.back()->Start(batched ? std::max(2, 8 / conns) : std::max(4, setup.window / conns));
  }
  std::vector<std::thread> producers;
  for (int i = 0; i < conns; ++i) {
    producers.emplace_back([&, i] {
      auto stub = v1::JobService::NewStub(channels[i]);
      int64_t share = jobs / conns + (i < jobs % conns ? 1 : 0);
      if (batched) {
        ProduceBatched(stub.get(), queue, &setup.seq, share, batch, std::max(2, 8 / conns));
      } else {
        ProduceSingle(stub.get(), queue, &setup.seq, share, std::max(4, setup.window / conns));
      }
    });
  }
  for (auto& t : producers) t.join();
  completed.Wait();
  double seconds = std::chrono::duration<double>(Steady::now() - start).count();
  stop = true;
  for (auto& w : workers) w->Join();
  EngineStats after = setup.engine->Stats();
  uint64_t commits = after.commits - before.commits;
  std::printf("      [%llu group commits, %.0f operations each, %.2f ms per synced write]\n",
              static_cast<unsigned long long>(commits),
              commits ? double(after.operations - before.operations) / commits : 0.0,
              commits ? (after.commit_micros - before.commit_micros) / 1e3 / commits : 0.0);
  return jobs / seconds;
}

// Enqueues at `rate` jobs/s for `seconds` (open loop) and reports the
// enqueue-to-start latency percentiles.
void RunLatency(Setup& setup, double rate, double seconds) {
  std::string queue = "lat" + std::to_string(setup.queue_id++);
  auto wchan = Connect(setup.port, 9000 + setup.queue_id);
  auto pchan = Connect(setup.port, 9500 + setup.queue_id);
  auto wstub = v1::WorkerService::NewStub(wchan);
  auto pstub = v1::JobService::NewStub(pchan);
  int64_t total = static_cast<int64_t>(rate * seconds);
  Latch completed(total);
  std::atomic<bool> stop{false};
  std::vector<int64_t> lat;
  std::mutex lat_mu;
  WorkerChains workers{wstub.get(), queue, 1, &completed, &stop, &lat, &lat_mu};
  workers.Start(32);
  std::this_thread::sleep_for(Millis(300));  // workers parked in long polls

  struct Call {
    grpc::ClientContext ctx;
    v1::EnqueueRequest req;
    v1::EnqueueResponse resp;
  };
  Latch answered(total);
  auto start = Steady::now();
  for (int64_t i = 0; i < total; ++i) {
    auto due = start + std::chrono::nanoseconds(static_cast<int64_t>(i * 1e9 / rate));
    std::this_thread::sleep_until(due);
    auto* call = new Call;
    v1::JobSpec job;
    job.set_queue(queue);
    job.set_job_type("lat");
    job.set_payload(std::string(100, 'x'));
    job.set_idempotency_key("t" + std::to_string(NowNs()));  // the send time, ns
    *call->req.mutable_job() = std::move(job);
    pstub->async()->Enqueue(&call->ctx, &call->req, &call->resp, [call, &answered](grpc::Status) {
      delete call;
      answered.CountDown();
    });
  }
  answered.Wait();
  completed.Wait();
  stop = true;
  workers.Join();
  std::sort(lat.begin(), lat.end());
  auto pct = [&](double p) {
    return lat.empty() ? 0.0
                       : lat[std::min(lat.size() - 1, static_cast<size_t>(p * lat.size()))] / 1e6;
  };
  std::printf("  %8.0f jobs/s offered, %zu samples: p50 %.2f ms  p99 %.2f ms  p999 %.2f ms\n", rate,
              lat.size(), pct(0.50), pct(0.99), pct(0.999));
}

}  // namespace
}  // namespace ratchet::bench

int main(int argc, char** argv) {
  using namespace ratchet;
  using namespace ratchet::bench;
  std::string dir = "./grpc-bench-data";
  int64_t single_jobs = 60000, batched_jobs = 300000;
  int batch = 500;
  double latency_seconds = 5;
  int window = 256;
  CLI::App app("gRPC end-to-end benchmark of ratchetd");
  app.add_option("--dir", dir, "data directory (on a real disk; removed first)");
  app.add_option("--single-jobs", single_jobs, "jobs per one-per-call run");
  app.add_option("--batched-jobs", batched_jobs, "jobs per batched run");
  app.add_option("--batch", batch, "jobs per EnqueueBatch/Lease call");
  app.add_option("--latency-seconds", latency_seconds, "duration of each latency run");
  app.add_option("--window", window, "one-per-call runs: calls in flight per side");
  CLI11_PARSE(app, argc, argv);
  spdlog::set_level(spdlog::level::warn);
  // As ratchetd does: Debian's Abseil checks every lock order (gRPC's too).
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  std::filesystem::remove_all(dir);
  EngineOptions options;
  options.data_dir = dir;
  auto engine = Engine::Open(options);
  if (!engine.ok()) return std::fprintf(stderr, "%s\n", engine.status().ToString().c_str()), 1;
  server::ServerOptions server_options;
  server_options.listen = "127.0.0.1:0";
  server_options.max_message_bytes = 64 << 20;
  auto srv = server::Server::Start(server_options, engine->get());
  if (!srv.ok()) return std::fprintf(stderr, "%s\n", srv.status().ToString().c_str()), 1;
  Setup setup{.port = (*srv)->port(), .engine = engine->get(), .window = window};

  std::printf(
      "gRPC end to end over loopback (server in-process, synced group commit), "
      "enqueue -> lease -> complete, 100-byte payloads\n");
  double best_single = 0;
  for (int conns : {1, 4, 16}) {
    double single = RunThroughput(setup, conns, single_jobs, false, 1);
    best_single = std::max(best_single, single);
    std::printf("  %2d+%-2d connections  one job per call: %8.0f jobs/s\n", conns, conns, single);
  }
  for (int conns : {1, 4, 16}) {
    double batched = RunThroughput(setup, conns, batched_jobs, true, batch);
    std::printf("  %2d+%-2d connections  batched (%d):     %8.0f jobs/s\n", conns, conns, batch,
                batched);
  }
  std::printf("enqueue-to-start latency (Enqueue sent -> Lease answer received)\n");
  RunLatency(setup, 200, latency_seconds);
  RunLatency(setup, best_single / 2, latency_seconds);
  (*srv)->Shutdown(Millis(1000));
  srv->reset();
  engine->reset();
  std::filesystem::remove_all(dir);
  return 0;
}
