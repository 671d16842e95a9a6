// ratchetd: serves one Ratchet engine over gRPC until SIGTERM or SIGINT.
// See config.h for the settings and docs/api.md for the API.
#include <signal.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/synchronization/mutex.h"
#include "config.h"
#include "grpc/support/log.h"
#include "http_server.h"
#include "json_log.h"
#include "prometheus/registry.h"
#include "ratchet/engine/engine.h"
#include "server.h"

namespace {

// Blocks SIGTERM, SIGINT and SIGHUP in this thread and every thread it
// starts, so that only the sigwait below receives them.
sigset_t BlockSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGHUP);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

// The host of "host:port" (for the dashboard's address in the log): a
// wildcard listen address is reached on localhost.
std::string HostOf(const std::string& listen) {
  std::string host = listen.substr(0, listen.rfind(':'));
  if (host.empty() || host == "0.0.0.0" || host == "[::]") return "localhost";
  return host;
}

bool WritePortFile(const std::string& path, int port) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << port << "\n";
    if (!out.flush()) return false;
  }
  return std::rename(tmp.c_str(), path.c_str()) == 0;  // readers never see a partial file
}

// --salvage: quarantines what does not parse and logs the quarantine (each
// move is also logged as it happens, "salvage_quarantined").
bool Salvage(const ratchet::EngineOptions& options) {
  auto report = ratchet::Engine::Salvage(options);
  if (!report.ok()) {
    spdlog::error("event=salvage_failed data_dir={:?} error={:?}", options.data_dir,
                  std::string(report.status().message()));
    return false;
  }
  for (const ratchet::QuarantinedRecord& r : report->quarantine) {
    spdlog::warn("event=quarantine_entry cf={} key=\"{}\" bytes={}", r.column_family,
                 absl::CHexEscape(r.key), r.value_bytes);
  }
  spdlog::warn("event=salvage_done data_dir={:?} moved={} in_quarantine={}", options.data_dir,
               report->moved.size(), report->quarantine.size());
  return true;
}

// --restore-from: copies the backup into the (absent or empty) data dir.
bool Restore(const std::string& backup, const ratchet::EngineOptions& options) {
  auto info = ratchet::Engine::RestoreBackup(backup, options);
  if (!info.ok()) {
    spdlog::error("event=restore_failed backup={:?} data_dir={:?} error={:?}", backup,
                  options.data_dir, std::string(info.status().message()));
    return false;
  }
  spdlog::warn("event=restore_done backup={:?} data_dir={:?} files={} bytes={} ms={}", backup,
               options.data_dir, info->files, info->bytes, info->duration.count());
  return true;
}

// gRPC's own log lines (errors by default; GRPC_VERBOSITY raises it) go
// through spdlog, so --log-format json covers them too.
void RouteGrpcLogs() {
  gpr_set_log_function([](gpr_log_func_args* args) {
    const spdlog::level::level_enum level =
        args->severity == GPR_LOG_SEVERITY_ERROR  ? spdlog::level::err
        : args->severity == GPR_LOG_SEVERITY_INFO ? spdlog::level::info
                                                  : spdlog::level::debug;
    const std::string_view file = args->file != nullptr ? args->file : "";
    spdlog::log(level, "event=grpc_log source={}:{} message={:?}",
                file.substr(file.find_last_of('/') + 1), args->line,
                std::string_view(args->message != nullptr ? args->message : ""));
  });
}

}  // namespace

int main(int argc, char** argv) {
  // Debian's Abseil is built with lock-order (deadlock) detection on: every
  // absl::Mutex acquisition, gRPC's included, updates a global graph. It was
  // several percent of ratchetd's CPU; turn it off in the daemon.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  std::vector<std::string> args(argv + 1, argv + argc);
  auto config =
      ratchet::server::LoadConfig(args, [](const char* name) { return std::getenv(name); });
  if (!config.ok()) {
    if (config.status().code() == absl::StatusCode::kCancelled) {  // --help
      std::printf("%s", std::string(config.status().message()).c_str());
      return 0;
    }
    std::fprintf(stderr, "ratchetd: %s\n", std::string(config.status().message()).c_str());
    return 2;
  }
  if (config->print_config) {
    std::printf("%s", ratchet::server::PrintConfig(*config).c_str());
    return 0;
  }
  spdlog::set_level(spdlog::level::from_str(config->log_level));
  if (config->log_format == "json") {
    spdlog::set_formatter(std::make_unique<ratchet::server::JsonLogFormatter>());
  } else {
    spdlog::set_pattern("%Y-%m-%dT%H:%M:%S.%e%z %l %v");
  }
  RouteGrpcLogs();
  if (absl::Status exposed = ratchet::server::CheckExposure(*config); !exposed.ok()) {
    spdlog::error("event=start_refused error={:?}", std::string(exposed.message()));
    return 2;
  }
  if (config->insecure) {
    spdlog::warn(
        "event=insecure_start listen={} http_listen={} message=\"--insecure: anyone who reaches "
        "these addresses may use every RPC (without auth_file) and read /metrics\"",
        config->server.listen, config->http_listen);
  }
  sigset_t signals = BlockSignals();

  ratchet::EngineOptions engine_options = config->engine;
  engine_options.data_dir = config->data_dir;
  engine_options.max_payload_bytes = config->max_payload_bytes;
  engine_options.max_lease_wait = config->server.max_lease_wait;
  auto registry = std::make_shared<prometheus::Registry>();
  engine_options.metrics_registry = registry;
  engine_options.metrics_max_queues = config->metrics_max_queues;
  config->server.metrics_registry = registry;
  if (!config->restore_from.empty() && !Restore(config->restore_from, engine_options)) return 1;
  if (config->salvage && !Salvage(engine_options)) return 1;
  auto engine = ratchet::Engine::Open(engine_options);
  if (!engine.ok()) {
    spdlog::error("event=start_failed data_dir={:?} error={:?}", config->data_dir,
                  std::string(engine.status().message()));
    return 1;
  }
  auto server = ratchet::server::Server::Start(config->server, engine->get());
  if (!server.ok()) {
    spdlog::error("event=start_failed listen={} error={:?}", config->server.listen,
                  std::string(server.status().message()));
    return 1;
  }
  std::unique_ptr<ratchet::server::HttpServer> http;
  if (!config->http_listen.empty()) {
    const char* dashboard_dir = std::getenv("RATCHET_DASHBOARD_DIR");
    auto started = ratchet::server::HttpServer::Start(ratchet::server::HttpOptions{
        .listen = config->http_listen,
        .registry = registry,
        .api = (*server)->service_context(),
        .auth_enabled = !config->server.auth_file.empty(),
        .dashboard_dir = dashboard_dir == nullptr ? "" : dashboard_dir});
    if (!started.ok()) {
      spdlog::error("event=start_failed http_listen={} error={:?}", config->http_listen,
                    std::string(started.status().message()));
      return 1;
    }
    http = std::move(*started);
    spdlog::info(
        "event=http_serving http_listen={} port={} paths=/metrics,/healthz,/v1/,/ui/ "
        "dashboard=http://{}:{}/ui/",
        config->http_listen, http->port(), HostOf(config->http_listen), http->port());
  }
  int port = (*server)->port();
  if (!config->port_file.empty() && !WritePortFile(config->port_file, port)) {
    spdlog::error("event=start_failed port_file={} error=\"cannot write\"", config->port_file);
    return 1;
  }
  spdlog::info("event=serving listen={} port={} data_dir={:?} live_jobs={}", config->server.listen,
               port, config->data_dir, (*engine)->Stats().live_jobs);

  if (!config->server.auth_file.empty()) {
    spdlog::info("event=auth_loaded auth_file={:?} principals={}", config->server.auth_file,
                 (*server)->principal_count());
  }
  int sig = 0;
  while (sigwait(&signals, &sig) == 0 && sig == SIGHUP) {
    // SIGHUP: re-read the TLS files (served within a second if valid; the
    // old certificate stays otherwise) and the auth file (removed tokens
    // stop working now).
    (*server)->ReloadTls();
    absl::Status reloaded = (*server)->ReloadAuth();
    if (reloaded.ok()) {
      spdlog::info("event=auth_reloaded principals={}", (*server)->principal_count());
    } else {
      spdlog::error("event=auth_reload_failed error={:?} message=\"the previous principals stay\"",
                    std::string(reloaded.message()));
    }
  }
  spdlog::info("event=shutdown_started signal={} grace_ms={}",
               sig == SIGTERM ? "SIGTERM" : "SIGINT", config->shutdown_grace.count());
  (*server)->Shutdown(config->shutdown_grace);
  if (http) http->Stop();
  server->reset();
  spdlog::info("event=server_stopped");
  engine->reset();  // finishes in-flight writes, closes the store
  spdlog::info("event=shutdown_complete");
  return 0;
}
