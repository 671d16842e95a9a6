// `ratchet admin ...`: operations on the whole server (backup, stats), and
// `ratchet health`.
#include <cstdio>
#include <iterator>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_join.h"
#include "commands.h"
#include "output.h"
#include "ratchet/api/time_codec.h"
#include "ratchet/base/status.h"

namespace ratchet::cli {
namespace {

struct AdminOptions {
  std::string destination;
  int64_t deadline_ms = 3600000;
  int limit = 0;
  std::string cursor;
};

absl::Status Backup(Client& c, const AdminOptions& o, bool json) {
  RATCHET_ASSIGN_OR_RETURN(auto r,
                           c.Backup(o.destination, CallOptions{.deadline = Millis(o.deadline_ms)}));
  if (json) {
    PrintJson(r);
    return absl::OkStatus();
  }
  std::printf(
      "backup %s: %llu files, %llu bytes, in %lld ms\n", r.path().c_str(),
      static_cast<unsigned long long>(r.files()), static_cast<unsigned long long>(r.bytes()),
      static_cast<long long>(r.duration().seconds() * 1000 + r.duration().nanos() / 1000000));
  return absl::OkStatus();
}

// "512 B", "1.5 KiB", "12.0 MiB", ...
std::string Bytes(uint64_t n) {
  if (n < 1024) return absl::StrCat(n, " B");
  static constexpr const char* kUnits[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
  double v = static_cast<double>(n) / 1024;
  size_t u = 0;
  for (; v >= 1024 && u + 1 < std::size(kUnits); ++u) v /= 1024;
  return absl::StrFormat("%.1f %s", v, kUnits[u]);
}

// "850ms", "12.3s", "5m07s", "3h05m", "2d04h".
std::string Age(Millis age) {
  const int64_t ms = age.count(), s = ms / 1000, m = s / 60, h = m / 60;
  if (ms < 1000) return absl::StrCat(ms, "ms");
  if (s < 60) return absl::StrFormat("%.1fs", static_cast<double>(ms) / 1000);
  if (m < 60) return absl::StrFormat("%dm%02ds", m, s % 60);
  if (h < 48) return absl::StrFormat("%dh%02dm", h, m % 60);
  return absl::StrFormat("%dd%02dh", h / 24, h % 24);
}

void PrintStats(const v1::GetStatsResponse& r) {
  std::printf(
      "at %s: %lld queues, %lld live jobs; retained: %lld completed, %lld cancelled, "
      "%lld dead\n\n",
      FormatTime(r.at()).c_str(), static_cast<long long>(r.queue_count()),
      static_cast<long long>(r.live_jobs()), static_cast<long long>(r.completed()),
      static_cast<long long>(r.cancelled()), static_cast<long long>(r.dead()));
  Table cfs({"COLUMN FAMILY", "SST", "LIVE SST", "MEMTABLE", "PENDING COMPACTION", "KEYS (EST.)"});
  v1::ColumnFamilyStats total;
  for (const v1::ColumnFamilyStats& cf : r.column_families()) {
    cfs.Add({cf.name(), Bytes(cf.sst_bytes()), Bytes(cf.live_sst_bytes()),
             Bytes(cf.memtable_bytes()), Bytes(cf.pending_compaction_bytes()),
             std::to_string(cf.estimated_keys())});
    total.set_sst_bytes(total.sst_bytes() + cf.sst_bytes());
    total.set_live_sst_bytes(total.live_sst_bytes() + cf.live_sst_bytes());
    total.set_memtable_bytes(total.memtable_bytes() + cf.memtable_bytes());
    total.set_pending_compaction_bytes(total.pending_compaction_bytes() +
                                       cf.pending_compaction_bytes());
    total.set_estimated_keys(total.estimated_keys() + cf.estimated_keys());
  }
  cfs.Add({"(total)", Bytes(total.sst_bytes()), Bytes(total.live_sst_bytes()),
           Bytes(total.memtable_bytes()), Bytes(total.pending_compaction_bytes()),
           std::to_string(total.estimated_keys())});
  cfs.Print();
  std::printf("\n");
  Table queues(
      {"QUEUE", "LIVE", "RUNNING", "COMPLETED", "CANCELLED", "DEAD", "OLDEST AVAILABLE", "AGE"});
  for (const v1::QueueStats& q : r.queues()) {
    const bool any = q.has_oldest_available();
    queues.Add({q.name(), std::to_string(q.live()), std::to_string(q.running()),
                std::to_string(q.completed()), std::to_string(q.cancelled()),
                std::to_string(q.dead()), any ? FormatTime(q.oldest_available()) : "-",
                any ? Age(FromProtoDuration(q.oldest_available_age())) : "-"});
  }
  queues.Print();
  if (!r.next_cursor().empty()) std::printf("next cursor: %s\n", r.next_cursor().c_str());
}

absl::Status Stats(Client& c, const AdminOptions& o, bool json) {
  RATCHET_ASSIGN_OR_RETURN(auto r, c.GetStats(o.limit, o.cursor));
  if (json) {
    PrintJson(r);
  } else {
    PrintStats(r);
  }
  return absl::OkStatus();
}

// SERVING: exit 0; anything else, or no answer: exit 1 (a container or
// load-balancer health check).
absl::Status Health(Client& c, bool json) {
  RATCHET_ASSIGN_OR_RETURN(auto status, c.CheckHealth());
  const std::string name = grpc::health::v1::HealthCheckResponse::ServingStatus_Name(status);
  if (json) {
    std::printf("{\"status\":\"%s\"}\n", name.c_str());
  } else {
    std::printf("%s\n", name.c_str());
  }
  if (status != grpc::health::v1::HealthCheckResponse::SERVING) {
    return absl::UnavailableError(absl::StrCat("the server is ", name));
  }
  return absl::OkStatus();
}

// `ratchet workers`: the workers seen recently.
absl::Status Workers(Client& c, const AdminOptions& o, bool json) {
  RATCHET_ASSIGN_OR_RETURN(auto r, c.ListWorkers(o.limit));
  if (json) {
    PrintJson(r);
    return absl::OkStatus();
  }
  Table t({"WORKER", "QUEUES", "JOBS", "LAST SEEN", "JOB IDS"});
  for (const v1::WorkerInfo& w : r.workers()) {
    std::vector<std::string> ids;
    for (uint64_t id : w.job_ids()) ids.push_back(std::to_string(id));
    std::string shown = absl::StrJoin(ids, ",");
    if (w.jobs_held() > w.job_ids_size()) absl::StrAppend(&shown, ",...");
    t.Add({w.worker_id(), absl::StrJoin(w.queues(), ","), std::to_string(w.jobs_held()),
           FormatTime(w.last_seen()), shown.empty() ? "-" : shown});
  }
  t.Print();
  return absl::OkStatus();
}

}  // namespace

void RegisterAdminCommands(CLI::App& app, Runner& runner) {
  CLI::App* health = app.add_subcommand(
      "health", "the server's gRPC health: prints SERVING and exits 0, else exits 1");
  runner.Bind(health, Health);
  auto workers_options = std::make_shared<AdminOptions>();
  CLI::App* workers = app.add_subcommand(
      "workers",
      "the workers seen recently: their queues, the jobs they hold, their last lease or "
      "heartbeat (kept in ratchetd's memory)");
  workers->add_option("--limit", workers_options->limit,
                      "workers to list, 1..10000 (default 1000)");
  runner.Bind(workers, workers_options, Workers);
  auto o = std::make_shared<AdminOptions>();
  CLI::App* admin = AddFamily(app, "admin", "operations on the whole server");
  CLI::App* backup = admin->add_subcommand(
      "backup",
      "write an online backup of the server's data directory to DEST (an absolute path on the "
      "server's machine that does not exist yet); restore with ratchetd --restore-from DEST");
  backup->add_option("destination", o->destination, "backup directory on the server")->required();
  backup->add_option("--deadline-ms", o->deadline_ms, "deadline of the backup call, ms")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{24} * 3600 * 1000));
  runner.Bind(backup, o, Backup);
  CLI::App* stats = admin->add_subcommand(
      "stats",
      "storage and backlog: bytes per column family, live and retained jobs, and per queue the "
      "oldest available job (a page of queues by name)");
  stats->add_option("--limit", o->limit, "queues per page, 1..1000 (default 100)");
  stats->add_option("--cursor", o->cursor,
                    "next cursor of a previous page (a page may be short and still have one)");
  runner.Bind(stats, o, Stats);
}

}  // namespace ratchet::cli
