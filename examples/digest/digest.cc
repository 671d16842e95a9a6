// digest: the main job on real input, through ratchetd.
//
// A producer enqueues one job per file of real directories (default
// /usr/share/doc and /usr/share/common-licenses); a pool of workers computes
// each file's SHA-256 and size and records them as the job's result. A file
// that cannot be read is a non-retryable failure and lands in the dead-letter
// queue (--vanished N adds N files that disappear before they are read, so
// this shows on any machine); --transient-error-rate injects retryable
// failures to show retries with backoff. Prints a summary: files, jobs/s,
// retries, dead letters.
//
// Re-running is safe: each run has its own id, and every job's idempotency
// key is (run id, SHA-256 of the path), so a retried enqueue never doubles a
// file within a run.
#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "file_digest.h"
#include "ratchet/api/time_codec.h"
#include "ratchet/base/status.h"
#include "ratchet/client/client.h"
#include "ratchet/client/worker.h"

namespace fs = std::filesystem;
using ratchet::Millis;

namespace {

struct Flags {
  std::string server = "127.0.0.1:7070";
  std::vector<std::string> dirs = {"/usr/share/doc", "/usr/share/common-licenses"};
  std::string queue = "digest";
  int workers = 8;
  double transient_error_rate = 0.0;
  int vanished = 0;
  size_t max_files = 0;
  std::string scratch_dir = "./digest-scratch";
};

constexpr char kJobType[] = "digest.file";

// Every non-directory entry under the directories (symlinks included; a
// dangling one fails when read).
std::vector<std::string> ListFiles(const Flags& flags) {
  std::vector<std::string> files;
  for (const std::string& dir : flags.dirs) {
    std::error_code ec;
    fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec);
    if (ec) {
      std::fprintf(stderr, "digest: skipping %s: %s\n", dir.c_str(), ec.message().c_str());
      continue;
    }
    for (; it != fs::recursive_directory_iterator(); it.increment(ec)) {
      if (ec) break;
      std::error_code type_ec;
      if (it->is_directory(type_ec)) continue;
      files.push_back(it->path().string());
      if (flags.max_files > 0 && files.size() >= flags.max_files) return files;
    }
  }
  return files;
}

// Files that exist when listed and are gone when a worker reads them.
std::vector<std::string> MakeVanishedFiles(const Flags& flags, const std::string& run_id) {
  std::vector<std::string> out;
  fs::create_directories(flags.scratch_dir);
  for (int i = 0; i < flags.vanished; ++i) {
    std::string path = absl::StrCat(flags.scratch_dir, "/vanished-", run_id, "-", i);
    std::ofstream(path) << "soon gone\n";
    out.push_back(fs::absolute(path).string());
  }
  return out;
}

absl::Status ConfigureQueue(ratchet::Client& client, const std::string& queue) {
  ratchet::v1::UpdateQueueRequest req;
  req.set_queue(queue);
  req.set_max_attempts(5);
  ratchet::v1::RetryPolicy* retry = req.mutable_retry_policy();
  *retry->mutable_initial_backoff() = ratchet::ToProtoDuration(Millis(100));
  *retry->mutable_max_backoff() = ratchet::ToProtoDuration(Millis(2000));
  retry->set_multiplier(2.0);
  retry->set_jitter(ratchet::v1::JITTER_FULL);
  return client.UpdateQueue(req).status();
}

// Enqueues in batches; returns how many jobs were new.
absl::StatusOr<size_t> Produce(ratchet::Client& client, const Flags& flags,
                               const std::string& run_id, const std::vector<std::string>& files) {
  size_t added = 0;
  constexpr size_t kBatch = 500;
  for (size_t start = 0; start < files.size(); start += kBatch) {
    std::vector<ratchet::v1::JobSpec> jobs;
    for (size_t i = start; i < std::min(files.size(), start + kBatch); ++i) {
      ratchet::v1::JobSpec job;
      job.set_queue(flags.queue);
      job.set_job_type(kJobType);
      job.set_payload(files[i]);
      job.set_idempotency_key(
          absl::StrCat(run_id, ":", ratchet::digest::Sha256Hex(files[i]).substr(0, 32)));
      jobs.push_back(std::move(job));
    }
    RATCHET_ASSIGN_OR_RETURN(auto r, client.EnqueueBatch(std::move(jobs)));
    for (const auto& result : r.results()) added += result.duplicate() ? 0 : 1;
  }
  return added;
}

}  // namespace

int main(int argc, char** argv) {
  Flags flags;
  CLI::App app("digest: SHA-256 of every file of real directories, through ratchetd", "digest");
  app.add_option("--server", flags.server, "ratchetd host:port");
  app.add_option("--dir", flags.dirs, "directories to digest (repeatable)");
  app.add_option("--queue", flags.queue, "queue name");
  app.add_option("--workers", flags.workers, "handlers running at once")->check(CLI::Range(1, 256));
  app.add_option("--transient-error-rate", flags.transient_error_rate,
                 "probability that an attempt fails retryably (injected)")
      ->check(CLI::Range(0.0, 0.9));
  app.add_option("--vanished", flags.vanished, "files that vanish before they are read")
      ->check(CLI::Range(0, 1000));
  app.add_option("--max-files", flags.max_files, "stop listing after this many files (0 = all)");
  app.add_option("--scratch-dir", flags.scratch_dir, "where --vanished files are made");
  CLI11_PARSE(app, argc, argv);

  auto client = ratchet::Client::Connect({.target = flags.server});
  if (!client.ok())
    return std::fprintf(stderr, "digest: %s\n", client.status().ToString().c_str()), 1;
  ratchet::Client& c = **client;
  if (absl::Status s = ConfigureQueue(c, flags.queue); !s.ok()) {
    std::fprintf(stderr, "digest: cannot reach ratchetd at %s: %s\n", flags.server.c_str(),
                 s.ToString().c_str());
    return 1;
  }
  auto before = c.GetQueue(flags.queue);
  if (!before.ok())
    return std::fprintf(stderr, "digest: %s\n", before.status().ToString().c_str()), 1;

  std::string run_id = std::to_string(
      std::chrono::duration_cast<Millis>(std::chrono::system_clock::now().time_since_epoch())
          .count());
  std::vector<std::string> vanished = MakeVanishedFiles(flags, run_id);
  std::vector<std::string> files = ListFiles(flags);
  files.insert(files.end(), vanished.begin(), vanished.end());
  for (const std::string& path : vanished) fs::remove(path);  // gone before any worker reads it

  std::atomic<uint64_t> retries{0}, bytes{0};
  ratchet::Worker worker(&c, {.queue = flags.queue,
                              .concurrency = flags.workers,
                              .lease_batch = 64,
                              .lease_wait = Millis(1000)});
  worker.Register(kJobType, [&](ratchet::JobContext& job) {
    thread_local std::mt19937_64 rng(std::random_device{}());
    if (std::uniform_real_distribution<double>(0, 1)(rng) < flags.transient_error_rate) {
      retries++;
      return ratchet::HandlerResult::RetryableError("injected transient error");
    }
    auto d = ratchet::digest::DigestFile(job.payload());
    if (!d.ok()) return ratchet::HandlerResult::NonRetryableError(d.status().ToString());
    bytes += d->size_bytes;
    return ratchet::HandlerResult::Success(
        absl::StrCat("sha256=", d->sha256_hex, " size=", d->size_bytes));
  });

  auto start = std::chrono::steady_clock::now();
  if (absl::Status s = worker.Start(); !s.ok())
    return std::fprintf(stderr, "digest: %s\n", s.ToString().c_str()), 1;
  auto added = Produce(c, flags, run_id, files);
  if (!added.ok()) {
    std::fprintf(stderr, "digest: enqueue failed: %s\n", added.status().ToString().c_str());
    return 1;
  }
  std::printf("digest: enqueued %zu files from %zu listed (run %s)\n", *added, files.size(),
              run_id.c_str());

  // Done when every new job is completed or dead.
  int64_t completed = 0, dead = 0;
  while (true) {
    auto q = c.GetQueue(flags.queue);
    if (q.ok()) {
      completed = q->completed() - before->completed();
      dead = q->dead() - before->dead();
      if (completed + dead >= static_cast<int64_t>(*added)) break;
    }
    std::this_thread::sleep_for(Millis(50));
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  worker.Stop();

  std::printf("\n== digest summary ==\n");
  std::printf("files:          %zu (%.1f MB read)\n", *added, bytes.load() / 1e6);
  std::printf("completed:      %lld\n", static_cast<long long>(completed));
  std::printf("elapsed:        %.2f s\n", seconds);
  std::printf("throughput:     %.0f jobs/s\n", *added / seconds);
  std::printf("retries:        %llu (injected transient errors, retried with backoff)\n",
              static_cast<unsigned long long>(retries.load()));
  std::printf("dead letters:   %lld (unreadable files; see `ratchet dlq list %s`)\n",
              static_cast<long long>(dead), flags.queue.c_str());
  std::printf("results:        `ratchet list %s --state completed`, `ratchet get <id>`\n",
              flags.queue.c_str());
  return 0;
}
