// ratchetd's configuration: one struct, loaded from one place.
//
// Sources, applied in this order, each overriding the ones before it:
//   1. the TOML file given by --config (or RATCHET_CONFIG), if any;
//   2. command-line flags (--listen, --data-dir, ...);
//   3. RATCHET_* environment variables (RATCHET_LISTEN, RATCHET_DATA_DIR, ...).
// Every setting has the same name in all three: TOML key `max_lease_wait_ms`,
// flag `--max-lease-wait-ms`, variable `RATCHET_MAX_LEASE_WAIT_MS`.
//
// An unknown TOML key, an unparsable value or one out of range is an error
// naming the setting, its source and the limit; ratchetd then exits.
#ifndef RATCHET_API_SERVER_CONFIG_H_
#define RATCHET_API_SERVER_CONFIG_H_

#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "server.h"

namespace ratchet::server {

struct Config {
  std::string data_dir = "./ratchet-data";  // the embedded default
  ServerOptions server;                     // listen address, limits
  size_t max_payload_bytes = 1 << 20;       // payload and result limit, bytes
  Millis shutdown_grace{5000};              // time for calls in flight on SIGTERM/SIGINT
  std::string log_level = "info";           // trace|debug|info|warn|error|off
  // text: "time level event=... key=value"; json: one JSON object per line
  // with time, level, event and the line's fields (json_log.h).
  std::string log_format = "text";
  // host:port of the HTTP listener that serves /metrics (Prometheus text
  // format); "" turns it off. Loopback by default: metrics name queues.
  std::string http_listen = "127.0.0.1:7071";
  // Queues with their own metric series (EngineOptions::metrics_max_queues).
  int metrics_max_queues = 500;
  // --insecure: serve gRPC on an address other than loopback without
  // authentication, or /metrics on one at all (docs/operations.md,
  // "Exposing ratchetd"). A flag only, logged as a warning at every start.
  bool insecure = false;
  // When set, the bound port is written here once serving (for port 0).
  std::string port_file;
  // --salvage: run Engine::Salvage on data_dir before opening it
  // (docs/operations.md#corrupt-records). A one-off operator action, so a
  // flag only: no TOML key or environment variable can turn it on for every
  // start.
  bool salvage = false;
  // --restore-from BACKUP: before opening, make data_dir a copy of the
  // backup directory BACKUP (Engine::RestoreBackup; data_dir must be absent
  // or empty). A one-off operator action: a flag only, like --salvage.
  std::string restore_from;
  // The engine's limits and tunables that have settings of their own
  // (idempotency_window_ms, max_group_ops, ...; deploy/ratchetd.toml lists
  // them). data_dir, max_payload_bytes and max_lease_wait come from the
  // settings above; the rest of EngineOptions keeps its defaults.
  EngineOptions engine;
  // --print-config: print every setting's value and source, then exit.
  bool print_config = false;
  // Where each setting's value came from ("flag --listen", "environment
  // variable RATCHET_LISTEN", the config file's path); absent: default.
  std::map<std::string, std::string> sources;
};

// Loads the configuration from the TOML file, `args` (argv without argv[0])
// and `getenv`. `--help` is answered with code CANCELLED and the usage text
// as the message.
// Errors: INVALID_ARGUMENT naming the setting, its source and the problem;
// NOT_FOUND if the config file does not exist.
absl::StatusOr<Config> LoadConfig(const std::vector<std::string>& args,
                                  const std::function<const char*(const char*)>& getenv);

// Applies the settings of the TOML document `text` to `config`: what
// LoadConfig does with the --config file's contents. `source` (the file's
// path) names the document in errors.
// Errors: INVALID_ARGUMENT naming the setting (or "config" for text that is
// not TOML), `source` and the problem; `config` may then be partly updated.
absl::Status ApplyConfigToml(std::string_view text, std::string_view source, Config* config);

// Every setting as `name = value  # source`, one per line, in TOML syntax
// (the output of --print-config).
std::string PrintConfig(const Config& config);

// Whether a listen address ("host:port", "[::1]:port", "unix:path") is
// loopback-only: 127.0.0.0/8, ::1, localhost or a Unix socket.
bool IsLoopbackAddress(const std::string& listen);

// The safe default, unless --insecure was given: `listen` must be a
// loopback address unless an auth_file and TLS are both set, and
// `http_listen` (plain HTTP; /metrics has no authentication) always.
// Errors: INVALID_ARGUMENT naming the setting.
absl::Status CheckExposure(const Config& config);

}  // namespace ratchet::server

#endif  // RATCHET_API_SERVER_CONFIG_H_
