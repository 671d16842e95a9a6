// Fuzz target: records.proto as recovery reads it. The input is the content
// of a store: entries [column family byte][key length, 1 byte][key]
// [value length, 2 bytes LE][value], the column family taken modulo
// storage::Cf::kCount (the last entry may be cut short). They are written
// into a store on an in-memory file system, then the engine's recovery
// (Machines::Recover, what Engine::Open runs) rebuilds its state from them,
// followed by a retention pass over what it recovered.
//
// The store lives across inputs (each input's entries replace the last
// one's) and starts over, as a copy of an empty store made once
// (mem_store_dirs.h), every kReopenEvery inputs. Default flags:
// -detect_leaks=0 -entropic=0 (LLVMFuzzerInitialize says why).
//
// Oracle: besides ASan/UBSan and the RATCHET_INVARIANTs, recovery answers OK
// or DATA_LOSS (a record that does not parse or holds an impossible state);
// it never crashes on what it finds on disk.
//
// Seeds: RATCHET_FUZZ_WRITE_SEEDS=<dir> makes the binary run a small scenario
// through a real engine (jobs in every state, a DAG and a code-first
// workflow, a schedule), dump its store in the input format into <dir> and
// exit; tests/fuzz/corpus/recovery holds that output.
#include <rocksdb/env.h>
#include <spdlog/spdlog.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "fuzz_check.h"
#include "fuzz_flags.h"
#include "google/protobuf/stubs/logging.h"
#include "machines.h"
#include "mem_store_dirs.h"
#include "ratchet/base/clock.h"
#include "ratchet/engine/engine.h"
#include "ratchet/storage/store.h"

namespace ratchet {
namespace {

using storage::Cf;

constexpr int64_t kStartMs = 1767225600000;  // 2026-01-01T00:00:00Z
// A fresh store (and file system) after this many inputs, so deletes do not
// pile up as tombstones.
constexpr int kReopenEvery = 500;

struct Entry {
  Cf cf;
  std::string key, value;
};

std::vector<Entry> Decode(std::string_view in) {
  std::vector<Entry> out;
  while (!in.empty()) {
    Entry e;
    e.cf = static_cast<Cf>(static_cast<uint8_t>(in[0]) % static_cast<int>(Cf::kCount));
    in.remove_prefix(1);
    size_t klen = in.empty() ? 0 : static_cast<uint8_t>(in[0]);
    in.remove_prefix(std::min<size_t>(in.size(), 1));
    e.key = std::string(in.substr(0, klen));
    in.remove_prefix(std::min(klen, in.size()));
    size_t vlen =
        in.size() >= 2 ? static_cast<uint8_t>(in[0]) | static_cast<uint8_t>(in[1]) << 8 : 0;
    in.remove_prefix(std::min<size_t>(in.size(), 2));
    e.value = std::string(in.substr(0, vlen));
    in.remove_prefix(std::min(vlen, in.size()));
    out.push_back(std::move(e));
  }
  return out;
}

void Encode(const Entry& e, std::string* out) {
  FUZZ_CHECK(e.key.size() < 256 && e.value.size() < 65536);
  out->push_back(static_cast<char>(e.cf));
  out->push_back(static_cast<char>(e.key.size()));
  out->append(e.key);
  out->push_back(static_cast<char>(e.value.size() & 0xFF));
  out->push_back(static_cast<char>(e.value.size() >> 8));
  out->append(e.value);
}

// The empty store every Scratch starts from: made once, then copied.
MemStoreDirs& Dirs() {
  static MemStoreDirs* dirs = new MemStoreDirs(
      [](std::shared_ptr<rocksdb::FileSystem> file_system, const std::string& dir) {
        FUZZ_CHECK(storage::Store::Open({.path = dir, .file_system = std::move(file_system)}).ok());
      });
  return *dirs;
}

// A store on an in-memory file system, with the keys the last input wrote.
struct Scratch {
  Scratch() {
    auto opened = storage::Store::Open({.path = Dirs().Fresh(),
                                        .block_cache_bytes = 1 << 20,
                                        .file_system = Dirs().file_system()});
    FUZZ_CHECK(opened.ok());
    store = std::move(*opened);
  }

  std::unique_ptr<storage::Store> store;
  std::vector<Entry> written;
};

Scratch* g_scratch = nullptr;  // deliberately never freed at exit
int g_inputs = 0;

// The seed scenario: a real engine's store, dumped in the input format.
void WriteSeeds(const char* dir) {
  std::unique_ptr<rocksdb::Env> env(rocksdb::NewMemEnv(rocksdb::Env::Default()));
  ManualClock clock(FromUnixMs(kStartMs));
  EngineOptions options;
  options.data_dir = "/seed/db";
  options.file_system = env->GetFileSystem();
  options.clock = &clock;
  options.random = std::make_shared<SeededRandom>(1);
  {
    auto engine = std::move(Engine::Open(options).value());
    auto enqueue = [&](std::string queue, std::string key) {
      return engine
          ->Enqueue({.queue = queue, .job_type = "t", .payload = "p", .idempotency_key = key})
          .value()
          .id;
    };
    enqueue("q", "k1");
    enqueue("q", "");
    enqueue("other", "k2");
    (void)engine->Enqueue(
        {.queue = "q", .job_type = "later", .payload = "x", .run_at = clock.Now() + Millis(60000)});
    auto leased = engine->Lease({.queue = "q", .max_jobs = 2, .worker_id = "w"}).value();
    FUZZ_CHECK(leased.size() == 2);
    FUZZ_CHECK(
        engine->Complete({.id = leased[0].id, .token = leased[0].token, .result = "r"}).ok());
    FUZZ_CHECK(
        engine
            ->Fail({.id = leased[1].id, .token = leased[1].token, .error = "e", .retryable = false})
            .ok());
    FUZZ_CHECK(engine->UpdateQueue("q", QueueSettings{.concurrency_limit = 3}).ok());
    FUZZ_CHECK(
        engine
            ->SubmitWorkflow(
                {.name = "wf",
                 .queue = "q",
                 .idempotency_key = "wk",
                 .steps = {{.name = "a", .job_type = "t", .payload = "1"},
                           {.name = "b", .job_type = "t", .payload = "2", .depends_on = {"a"}}}})
            .ok());
    FUZZ_CHECK(engine
                   ->StartWorkflow({.name = "code",
                                    .queue = "q",
                                    .job_type = "code",
                                    .payload = "in",
                                    .events = {"go"}})
                   .ok());
    FUZZ_CHECK(engine
                   ->CreateSchedule({.id = "s1",
                                     .spec = "*/5 * * * *",
                                     .time_zone = "Europe/Berlin",
                                     .queue = "q",
                                     .job_type = "tick"})
                   .ok());
    clock.Advance(Millis(600000));
    FUZZ_CHECK(engine->RunMaintenance().ok());
  }
  auto store = std::move(
      storage::Store::Open({.path = options.data_dir, .file_system = env->GetFileSystem()})
          .value());
  // One seed per column family, and one with everything.
  std::string all;
  for (int cf = 0; cf < static_cast<int>(Cf::kCount); ++cf) {
    std::string one;
    FUZZ_CHECK(store
                   ->ForEach(static_cast<Cf>(cf), "", "",
                             [&](std::string_view k, std::string_view v) {
                               Encode({static_cast<Cf>(cf), std::string(k), std::string(v)}, &one);
                               return true;
                             })
                   .ok());
    all += one;
    if (one.empty()) continue;
    std::string path = std::string(dir) + "/cf" + std::to_string(cf);
    FILE* f = std::fopen(path.c_str(), "wb");
    FUZZ_CHECK(f != nullptr && std::fwrite(one.data(), 1, one.size(), f) == one.size());
    std::fclose(f);
  }
  std::string path = std::string(dir) + "/all";
  FILE* f = std::fopen(path.c_str(), "wb");
  FUZZ_CHECK(f != nullptr && std::fwrite(all.data(), 1, all.size(), f) == all.size());
  std::fclose(f);
}

}  // namespace
}  // namespace ratchet

extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  // The store outlives each input, so libFuzzer's per-input leak check (run
  // whenever an input allocated more than it freed) would scan the heap
  // after most inputs; LSan still checks at exit. Entropic scheduling's
  // per-feature bookkeeping cost about a quarter of the time.
  PrependFuzzerFlags(argc, argv, {"-detect_leaks=0", "-entropic=0"});
  spdlog::set_level(spdlog::level::off);
  google::protobuf::SetLogHandler(
      [](google::protobuf::LogLevel, const char*, int, const std::string&) {});
  if (const char* dir = std::getenv("RATCHET_FUZZ_WRITE_SEEDS")) {
    ratchet::WriteSeeds(dir);
    std::exit(0);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace ratchet;
  if (g_scratch == nullptr || g_inputs++ % kReopenEvery == 0) {
    delete g_scratch;
    g_scratch = new Scratch();
  }
  Scratch& s = *g_scratch;
  std::vector<Entry> entries = Decode(std::string_view(reinterpret_cast<const char*>(data), size));
  {
    storage::Batch batch(s.store.get());
    for (const Entry& e : s.written) batch.Delete(e.cf, e.key);
    for (const Entry& e : entries) batch.Put(e.cf, e.key, e.value);
    FUZZ_CHECK(s.store->Commit(batch).ok());
  }
  s.written = std::move(entries);

  ManualClock clock(FromUnixMs(kStartMs));
  EngineOptions options;
  options.clock = &clock;
  SeededRandom random(7);
  internal::Machines machines(s.store.get(), options, &random);
  absl::Status recovered = machines.Recover();
  if (!recovered.ok()) {
    if (!absl::IsDataLoss(recovered))
      std::fprintf(stderr, "recovery: %s\n", recovered.ToString().c_str());
    FUZZ_CHECK(absl::IsDataLoss(recovered));
    return 0;
  }
  (void)machines.NextTimer();
  storage::Batch batch(s.store.get());
  const TimePoint later = clock.Now() + Millis(400LL * 24 * 3600000);
  (void)machines.retention.Sweep(batch, later, 1000);
  (void)machines.workflows.Sweep(batch, later, 1000);
  return 0;
}
