// Fuzz target: every ratchet.v1 request, as ratchetd receives it, through the
// services of api/server (conversion, validation, the engine's answer) into
// an in-process engine on an in-memory RocksDB with a ManualClock. No network:
// each call goes through the services' method table (method_table.h), the
// path the HTTP/JSON API takes, which finishes it through a callback.
//
// Input: a sequence of requests, each [method byte][length, 2 bytes LE]
// [serialized request] (the last may be cut short). The method byte picks an
// RPC from kMethods modulo its size; one value past the RPCs advances the
// clock by the request bytes read as milliseconds. Bytes that do not parse as
// the request message are skipped, as gRPC would reject them.
//
// Oracle: besides ASan/UBSan and the engine's RATCHET_INVARIANTs, every
// answer is OK or a code a caller can react to (status.h); INTERNAL,
// DATA_LOSS, UNKNOWN, UNAVAILABLE and DEADLINE_EXCEEDED are failures.
//
// The engine lives across inputs (state builds up, ids stay small) and is
// replaced by a fresh one every RATCHET_FUZZ_RESET_EVERY inputs (default
// 200), opened on a copy of an empty store made once (mem_store_dirs.h).
// To replay a crash with nothing carried over, set it to 1. The target's
// default flags are -detect_leaks=0 -entropic=0 (LLVMFuzzerInitialize says
// why); flags on the command line win.
#include <spdlog/spdlog.h>

#include <condition_variable>
#include <cstdint>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "fuzz_flags.h"
#include "google/protobuf/stubs/logging.h"
#include "job_service.h"
#include "mem_store_dirs.h"
#include "queue_service.h"
#include "ratchet/base/clock.h"
#include "ratchet/engine/engine.h"
#include "schedule_service.h"
#include "service_context.h"
#include "worker_service.h"
#include "workflow_service.h"

namespace ratchet::server {
namespace {

constexpr int64_t kStartMs = 1767225600000;  // 2026-01-01T00:00:00Z
constexpr int kMaxRequestsPerInput = 16;

using Method = std::function<std::optional<grpc::Status>(std::string_view request)>;

// One RPC from the services' method table (method_table.h, the path the
// HTTP/JSON API takes): parse, call, wait for the answer, serialize it.
Method Bind(const MethodTable& table, const char* service, const char* name) {
  const UnaryMethod* method = table.Find(service, name);
  FUZZ_CHECK(method != nullptr);
  return [method](std::string_view bytes) -> std::optional<grpc::Status> {
    std::unique_ptr<google::protobuf::Message> req = method->new_request();
    if (!req->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return std::nullopt;
    std::unique_ptr<google::protobuf::Message> resp = method->new_response();
    std::mutex mu;
    std::condition_variable cv;
    bool finished = false;
    grpc::Status status;
    CallInfo info{.access = UngatedAccess(),  // no client deadline
                  .finish = [&](const grpc::Status& s) {
                    std::lock_guard<std::mutex> lock(mu);
                    status = s;
                    finished = true;
                    cv.notify_all();  // under the lock: the waiter returns right after
                  }};
    method->run(info, *req, resp.get());
    {
      std::unique_lock<std::mutex> lock(mu);
      cv.wait(lock, [&] { return finished; });
    }
    if (status.ok()) (void)resp->SerializeAsString();
    return status;
  };
}

EngineOptions HarnessOptions(std::shared_ptr<rocksdb::FileSystem> file_system, std::string dir,
                             Clock* clock) {
  EngineOptions options;
  options.data_dir = std::move(dir);
  options.file_system = std::move(file_system);
  options.clock = clock;
  options.random = std::make_shared<SeededRandom>(42);
  options.block_cache_bytes = 1 << 20;
  return options;
}

// The empty engine every Harness starts from: made once, then copied.
MemStoreDirs& Dirs() {
  static MemStoreDirs* dirs = new MemStoreDirs([](auto file_system, const std::string& dir) {
    ManualClock clock(FromUnixMs(kStartMs));
    FUZZ_CHECK(Engine::Open(HarnessOptions(std::move(file_system), dir, &clock)).ok());
  });
  return *dirs;
}

// An engine on an in-memory file system and the five services over it.
struct Harness {
  Harness() : clock(FromUnixMs(kStartMs)) {
    auto opened = Engine::Open(HarnessOptions(Dirs().file_system(), Dirs().Fresh(), &clock));
    FUZZ_CHECK(opened.ok());
    engine = std::move(*opened);
    // No long polls (a Lease answers at once) and no server deadlines. The
    // methods are called directly (no gRPC, so no auth gate): they act with
    // every permission.
    AllowUngatedCallsForTesting();
    context = std::make_unique<ServiceContext>(
        engine.get(), ServiceLimits{.call_timeout = Millis(3600000), .max_lease_wait = Millis(0)},
        1, std::make_shared<auth::Authenticator>());
    jobs = std::make_unique<JobService>(context.get());
    workers = std::make_unique<WorkerService>(context.get());
    queues = std::make_unique<QueueService>(context.get());
    workflows = std::make_unique<WorkflowService>(context.get());
    schedules = std::make_unique<ScheduleService>(context.get());
    methods = {
        Bind(context->methods(), "JobService", "Enqueue"),
        Bind(context->methods(), "JobService", "EnqueueBatch"),
        Bind(context->methods(), "JobService", "GetJob"),
        Bind(context->methods(), "JobService", "ListJobs"),
        Bind(context->methods(), "JobService", "CancelJob"),
        Bind(context->methods(), "WorkerService", "Lease"),
        Bind(context->methods(), "WorkerService", "Heartbeat"),
        Bind(context->methods(), "WorkerService", "Complete"),
        Bind(context->methods(), "WorkerService", "CompleteBatch"),
        Bind(context->methods(), "WorkerService", "Fail"),
        Bind(context->methods(), "WorkerService", "FailBatch"),
        Bind(context->methods(), "WorkerService", "CompleteAndLease"),
        Bind(context->methods(), "QueueService", "ListQueues"),
        Bind(context->methods(), "QueueService", "GetQueue"),
        Bind(context->methods(), "QueueService", "UpdateQueue"),
        Bind(context->methods(), "QueueService", "PauseQueue"),
        Bind(context->methods(), "QueueService", "ResumeQueue"),
        Bind(context->methods(), "QueueService", "ListDeadLetters"),
        Bind(context->methods(), "QueueService", "RedriveDeadLetters"),
        Bind(context->methods(), "QueueService", "PurgeDeadLetters"),
        Bind(context->methods(), "WorkflowService", "SubmitWorkflow"),
        Bind(context->methods(), "WorkflowService", "StartWorkflow"),
        Bind(context->methods(), "WorkflowService", "GetWorkflow"),
        Bind(context->methods(), "WorkflowService", "ListWorkflows"),
        Bind(context->methods(), "WorkflowService", "CancelWorkflow"),
        Bind(context->methods(), "WorkflowService", "SendEvent"),
        Bind(context->methods(), "WorkflowService", "RecordStep"),
        Bind(context->methods(), "WorkflowService", "SuspendWorkflow"),
        Bind(context->methods(), "ScheduleService", "CreateSchedule"),
        Bind(context->methods(), "ScheduleService", "UpdateSchedule"),
        Bind(context->methods(), "ScheduleService", "DeleteSchedule"),
        Bind(context->methods(), "ScheduleService", "GetSchedule"),
        Bind(context->methods(), "ScheduleService", "ListSchedules"),
        Bind(context->methods(), "ScheduleService", "PauseSchedule"),
        Bind(context->methods(), "ScheduleService", "ResumeSchedule"),
        Bind(context->methods(), "ScheduleService", "TriggerSchedule"),
        Bind(context->methods(), "JobService", "ExplainJob"),
        Bind(context->methods(), "JobService", "CancelJobs"),
        // AdminService.Backup is not bound: it writes directories anywhere
        // on the host (its path validation is tests/engine/core/backup_test).
    };
  }
  ~Harness() {
    // Services first, then the context (joins its pool), then the engine.
    methods.clear();
    jobs.reset();
    workers.reset();
    queues.reset();
    workflows.reset();
    schedules.reset();
    context.reset();
    engine.reset();
  }

  ManualClock clock;
  std::unique_ptr<Engine> engine;
  std::unique_ptr<ServiceContext> context;
  std::unique_ptr<JobService> jobs;
  std::unique_ptr<WorkerService> workers;
  std::unique_ptr<QueueService> queues;
  std::unique_ptr<WorkflowService> workflows;
  std::unique_ptr<ScheduleService> schedules;
  std::vector<Method> methods;
};

bool Acceptable(grpc::StatusCode code) {
  switch (code) {
    case grpc::StatusCode::INTERNAL:
    case grpc::StatusCode::DATA_LOSS:
    case grpc::StatusCode::UNKNOWN:
    case grpc::StatusCode::UNAVAILABLE:
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      return false;
    default:
      return true;
  }
}

Harness* g_harness = nullptr;  // deliberately never freed at exit
int g_reset_every = 200;
int g_inputs = 0;

}  // namespace
}  // namespace ratchet::server

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  // The engine's memory outlives each input, so libFuzzer's per-input leak
  // check (run whenever an input allocated more than it freed) would scan
  // the heap after almost every input; LSan still checks at exit. Entropic
  // scheduling's per-feature bookkeeping cost more than the requests.
  PrependFuzzerFlags(argc, argv, {"-detect_leaks=0", "-entropic=0"});
  spdlog::set_level(spdlog::level::off);
  // Requests with invalid UTF-8 fail to parse; protobuf would log each one.
  google::protobuf::SetLogHandler(
      [](google::protobuf::LogLevel, const char*, int, const std::string&) {});
  if (const char* every = std::getenv("RATCHET_FUZZ_RESET_EVERY")) {
    ratchet::server::g_reset_every = std::max(1, std::atoi(every));
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ratchet::server;
  if (g_harness == nullptr || g_inputs++ % g_reset_every == 0) {
    delete g_harness;
    g_harness = new Harness();
  }
  Harness& h = *g_harness;
  std::string_view in(reinterpret_cast<const char*>(data), size);
  for (int i = 0; i < kMaxRequestsPerInput && !in.empty(); ++i) {
    const size_t pick = static_cast<uint8_t>(in[0]) % (h.methods.size() + 1);
    size_t len =
        in.size() >= 3 ? static_cast<uint8_t>(in[1]) | static_cast<uint8_t>(in[2]) << 8 : 0;
    in.remove_prefix(std::min<size_t>(in.size(), 3));
    len = std::min(len, in.size());
    std::string_view request = in.substr(0, len);
    in.remove_prefix(len);
    if (pick == h.methods.size()) {
      uint32_t ms = 0;
      for (size_t b = 0; b < std::min<size_t>(request.size(), 4); ++b) {
        ms |= static_cast<uint32_t>(static_cast<uint8_t>(request[b])) << (8 * b);
      }
      h.clock.Advance(ratchet::Millis(ms));
      continue;
    }
    std::optional<grpc::Status> status = h.methods[pick](request);
    if (status && !Acceptable(status->error_code())) {
      std::fprintf(stderr, "method %zu answered %d: %s\n", pick,
                   static_cast<int>(status->error_code()), status->error_message().c_str());
      FUZZ_CHECK(Acceptable(status->error_code()));
    }
  }
  return 0;
}
