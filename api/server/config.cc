#include "config.h"

#include <toml++/toml.h>

#include <CLI/CLI.hpp>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <limits>
#include <string_view>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "ratchet/base/status.h"

namespace ratchet::server {
namespace {

// One setting: its name in every source and how to apply a textual value.
struct Setting {
  std::string name;  // TOML key; flag and variable derive from it
  std::string help;
  std::function<absl::Status(const std::string& value)> set;
  std::function<std::string()> get;                       // the value now, as TOML
  std::map<std::string, std::string>* sources = nullptr;  // where each value came from
};

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

absl::StatusOr<int64_t> ParseInt(const std::string& text, int64_t min, int64_t max) {
  int64_t v = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) {
    return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not an integer"));
  }
  if (v < min || v > max) {
    return absl::InvalidArgumentError(absl::StrCat(v, " is out of range [", min, ", ", max, "]"));
  }
  return v;
}

template <typename T>
Setting IntSetting(std::string name, std::string help, T* field, int64_t min, int64_t max) {
  return {name, help,
          [=](const std::string& text) -> absl::Status {
            RATCHET_ASSIGN_OR_RETURN(int64_t v, ParseInt(text, min, max));
            *field = static_cast<T>(v);
            return absl::OkStatus();
          },
          [=] { return std::to_string(*field); }};
}

Setting MillisSetting(std::string name, std::string help, Millis* field, int64_t min, int64_t max) {
  return {name, help,
          [=](const std::string& text) -> absl::Status {
            RATCHET_ASSIGN_OR_RETURN(int64_t v, ParseInt(text, min, max));
            *field = Millis(v);
            return absl::OkStatus();
          },
          [=] { return std::to_string(field->count()); }};
}

Setting StringSetting(std::string name, std::string help, std::string* field, bool non_empty) {
  return {name, help,
          [=](const std::string& text) -> absl::Status {
            if (non_empty && text.empty()) return absl::InvalidArgumentError("must not be empty");
            *field = text;
            return absl::OkStatus();
          },
          [=] { return Quote(*field); }};
}

std::vector<Setting> AllSettings(Config* c);

std::vector<Setting> Settings(Config* c) {
  std::vector<Setting> settings = AllSettings(c);
  for (Setting& s : settings) s.sources = &c->sources;
  return settings;
}

std::vector<Setting> AllSettings(Config* c) {
  constexpr int64_t kDay = 24 * 3600 * 1000LL;
  return {
      StringSetting("listen", "host:port to serve gRPC on", &c->server.listen, true),
      StringSetting("data_dir", "RocksDB data directory", &c->data_dir, true),
      IntSetting("max_message_bytes", "largest gRPC message, bytes", &c->server.max_message_bytes,
                 1024, 1 << 30),
      IntSetting("max_payload_bytes", "largest job payload or result, bytes", &c->max_payload_bytes,
                 1, 64 << 20),
      MillisSetting("call_timeout_ms", "server-side deadline of every call, ms",
                    &c->server.call_timeout, 100, kDay),
      MillisSetting("max_lease_wait_ms", "longest Lease long-poll wait, ms",
                    &c->server.max_lease_wait, 0, 3600 * 1000),
      MillisSetting("shutdown_grace_ms", "time for calls in flight at shutdown, ms",
                    &c->shutdown_grace, 0, 3600 * 1000),
      IntSetting("blocking_threads", "threads for blocking engine calls",
                 &c->server.blocking_threads, 1, 64),
      {"log_level", "trace|debug|info|warn|error|off",
       [c](const std::string& text) -> absl::Status {
         static const char* kLevels[] = {"trace", "debug", "info", "warn", "error", "off"};
         for (const char* level : kLevels) {
           if (text == level) {
             c->log_level = text;
             return absl::OkStatus();
           }
         }
         return absl::InvalidArgumentError(
             absl::StrCat("'", text, "' is not one of trace|debug|info|warn|error|off"));
       },
       [c] { return Quote(c->log_level); }},
      {"log_format", "text|json (json: one object per line)",
       [c](const std::string& text) -> absl::Status {
         if (text != "text" && text != "json") {
           return absl::InvalidArgumentError(absl::StrCat("'", text, "' is not text or json"));
         }
         c->log_format = text;
         return absl::OkStatus();
       },
       [c] { return Quote(c->log_format); }},
      StringSetting("port_file", "write the bound port to this file", &c->port_file, false),
      StringSetting(
          "http_listen",
          "host:port to serve /metrics, the HTTP/JSON API and the dashboard on (\"\": off)",
          &c->http_listen, false),
      StringSetting("tls_cert_file", "server certificate chain, PEM (TLS)",
                    &c->server.tls_cert_file, false),
      StringSetting("tls_key_file", "server private key, PEM (TLS)", &c->server.tls_key_file,
                    false),
      StringSetting("tls_client_ca_file", "CA that signs client certificates, PEM (mTLS)",
                    &c->server.tls_client_ca_file, false),
      StringSetting("auth_file",
                    "principals, token hashes and grants, TOML (\"\": no authentication)",
                    &c->server.auth_file, false),
      MillisSetting("tls_reload_interval_ms",
                    "how often the TLS files are re-read (besides SIGHUP), ms",
                    &c->server.tls_reload_interval, 1000, 3600 * 1000),
      IntSetting("metrics_max_queues", "queues with their own metric series",
                 &c->metrics_max_queues, 1, 100000),
      // The engine's limits and tunables (EngineOptions; the engine checks
      // them again at open, naming the option).
      MillisSetting("idempotency_window_ms", "how long idempotency keys are remembered, ms",
                    &c->engine.idempotency_window, 1, 3650 * kDay),
      MillisSetting("max_schedule_ahead_ms", "furthest run_at from now, ms",
                    &c->engine.max_schedule_ahead, 1, 3650 * kDay),
      // At least the default queue's visibility timeout (30 s).
      MillisSetting("max_visibility_timeout_ms", "longest lease or extension, ms",
                    &c->engine.max_visibility_timeout, 30000, 365 * kDay),
      IntSetting("max_lease_jobs", "max_jobs limit per Lease", &c->engine.max_lease_jobs, 1,
                 100000),
      IntSetting("max_batch_jobs", "jobs per EnqueueBatch", &c->engine.max_batch_jobs, 1, 1000000),
      IntSetting("max_request_bytes", "payload, result and value bytes of one request",
                 &c->engine.max_request_bytes, 1024, int64_t{1} << 31),
      IntSetting("max_errors_kept", "attempt errors kept per job", &c->engine.max_errors_kept, 1,
                 1000),
      IntSetting("max_workflow_steps", "steps of a workflow, journal entries of a code-first one",
                 &c->engine.max_workflow_steps, 1, 100000),
      IntSetting("max_suspends_per_attempt", "suspensions of a code-first workflow per attempt",
                 &c->engine.max_suspends_per_attempt, 1, 1000000),
      MillisSetting("schedule_misfire_grace_ms", "a due tick older than this is missed, ms",
                    &c->engine.schedule_misfire_grace, 1000, 365 * kDay),
      IntSetting("max_fires_per_pass", "ticks one schedule fires per engine pass",
                 &c->engine.max_fires_per_pass, 1, 1000000),
      IntSetting("max_group_ops", "operations merged into one synced write",
                 &c->engine.max_group_ops, 1, 1000000),
      IntSetting("max_group_bytes", "bytes merged into one synced write",
                 &c->engine.max_group_bytes, 1024, int64_t{1} << 31),
      MillisSetting("sweep_interval_ms", "retention sweeper pass interval, ms",
                    &c->engine.sweep_interval, 1, kDay),
      IntSetting("sweep_batch_keys", "keys the retention sweeper deletes per pass",
                 &c->engine.sweep_batch_keys, 2, 1000000),
      IntSetting("dead_letter_slice_keys", "dead-letter keys per redrive or purge slice",
                 &c->engine.dead_letter_slice_keys, 1, 1000000),
      IntSetting("cancel_slice_jobs", "live jobs per CancelJobs slice",
                 &c->engine.cancel_slice_jobs, 1, 1000000),
      IntSetting("block_cache_bytes", "RocksDB block cache, bytes", &c->engine.block_cache_bytes, 0,
                 int64_t{1} << 40),
      IntSetting("record_cache_bytes", "cache of recently written live jobs, bytes (0: off)",
                 &c->engine.record_cache_bytes, 0, int64_t{1} << 40),
  };
}

std::string FlagName(const std::string& name) {
  return "--" + absl::StrReplaceAll(name, {{"_", "-"}});
}

std::string EnvName(const std::string& name) { return "RATCHET_" + absl::AsciiStrToUpper(name); }

absl::Status Apply(const Setting& s, const std::string& value, const std::string& source) {
  absl::Status st = s.set(value);
  if (st.ok()) {
    if (s.sources != nullptr) (*s.sources)[s.name] = source;
    return st;
  }
  return InvalidArgument(s.name, absl::StrCat("invalid value from ", source, ": ", st.message()));
}

// A string or integer node's value as text. Only those two types: toml++'s
// value<int64_t>() would also convert a float (UB when out of range) or a
// boolean.
std::optional<std::string> TomlText(const toml::node& node) {
  if (const auto* v = node.as_string()) return v->get();
  if (const auto* v = node.as_integer()) return std::to_string(v->get());
  return std::nullopt;
}

// The settings of a TOML document; `source` names it in errors.
absl::Status ApplyToml(std::string_view text, const std::string& source,
                       const std::vector<Setting>& settings) {
  toml::table table;
  try {
    table = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return InvalidArgument("config", absl::StrCat(source, " is not valid TOML: ", e.what()));
  }
  for (const auto& [key, node] : table) {
    const Setting* setting = nullptr;
    for (const Setting& s : settings) {
      if (s.name == key.str()) setting = &s;
    }
    if (setting == nullptr) {
      return InvalidArgument(std::string(key.str()), absl::StrCat("unknown setting in ", source));
    }
    auto text = TomlText(node);
    if (!text) {
      return InvalidArgument(setting->name,
                             absl::StrCat("in ", source, " must be a string or an integer"));
    }
    RATCHET_RETURN_IF_ERROR(Apply(*setting, *text, source));
  }
  return absl::OkStatus();
}

absl::Status ApplyFile(const std::string& path, const std::vector<Setting>& settings) {
  if (!std::filesystem::exists(path)) {
    return NotFound(absl::StrCat("config: file ", path, " does not exist"));
  }
  std::ifstream in(path, std::ios::binary);
  if (std::filesystem::is_directory(path) || !in) {
    return InvalidArgument("config", absl::StrCat(path, " could not be opened for reading"));
  }
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return InvalidArgument("config", absl::StrCat(path, " could not be read"));
  return ApplyToml(text, path, settings);
}

// The host of a gRPC or HTTP listen address ("host:port", "[v6]:port").
std::string HostOf(const std::string& listen) {
  const size_t colon = listen.rfind(':');
  std::string host = colon == std::string::npos ? listen : listen.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  return host;
}

}  // namespace

bool IsLoopbackAddress(const std::string& listen) {
  if (listen.rfind("unix:", 0) == 0) return true;  // a local socket file
  const std::string host = HostOf(listen);
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

absl::Status CheckExposure(const Config& c) {
  if (c.insecure) return absl::OkStatus();
  // With authentication the gRPC listener may face the network; /metrics
  // has none of its own, so it stays on loopback.
  const bool authenticated = !c.server.auth_file.empty();
  for (const auto& [name, listen] :
       {std::pair{"listen", &c.server.listen}, std::pair{"http_listen", &c.http_listen}}) {
    if (listen->empty() || IsLoopbackAddress(*listen)) continue;
    if (authenticated && listen == &c.server.listen && !c.server.tls_cert_file.empty()) continue;
    if (listen == &c.http_listen) {
      return InvalidArgument(
          name, absl::StrCat("'", *listen,
                             "' is not a loopback address and /metrics has no authentication: "
                             "serve it on loopback (scrape through a proxy or an SSH tunnel), "
                             "or pass --insecure to accept that (docs/operations.md, "
                             "\"Exposing ratchetd\")"));
    }
    if (authenticated) {
      return InvalidArgument(
          name, absl::StrCat("'", *listen,
                             "' is not a loopback address and ratchetd has no TLS: bearer "
                             "tokens would cross the network in clear. Set tls_cert_file and "
                             "tls_key_file, or pass --insecure to accept that "
                             "(docs/operations.md, \"Exposing ratchetd\")"));
    }
    return InvalidArgument(
        name, absl::StrCat("'", *listen,
                           "' is not a loopback address and ratchetd has no authentication "
                           "configured: anyone who reaches it could enqueue, purge or back up. "
                           "Serve on loopback, or pass --insecure to accept that "
                           "(docs/operations.md, \"Exposing ratchetd\")"));
  }
  return absl::OkStatus();
}

absl::StatusOr<Config> LoadConfig(const std::vector<std::string>& args,
                                  const std::function<const char*(const char*)>& getenv) {
  Config config;
  std::vector<Setting> settings = Settings(&config);

  CLI::App app("ratchetd: the Ratchet job-queue server", "ratchetd");
  std::string config_path;
  app.add_option("--config", config_path, "TOML config file (also RATCHET_CONFIG)");
  app.add_flag("--salvage", config.salvage,
               "move records that do not parse to the quarantine column family, list them, "
               "then serve (docs/operations.md#corrupt-records; flag only)");
  app.add_flag("--print-config", config.print_config,
               "print every setting's effective value and where it came from, then exit "
               "(flag only)");
  app.add_flag("--insecure", config.insecure,
               "allow listen without auth_file, or http_listen, on an address other than "
               "loopback (logged as a warning at every start; flag only)");
  app.add_option("--restore-from", config.restore_from,
                 "before serving, copy this backup directory (ratchet admin backup) into the "
                 "data directory, which must be absent or empty "
                 "(docs/operations.md#backup-and-restore; flag only)");
  std::vector<std::string> flag_values(settings.size());
  for (size_t i = 0; i < settings.size(); ++i) {
    app.add_option(FlagName(settings[i].name), flag_values[i],
                   absl::StrCat(settings[i].help, " (", EnvName(settings[i].name), ")"));
  }
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    app.parse(reversed);
  } catch (const CLI::CallForHelp&) {
    return absl::CancelledError(app.help());
  } catch (const CLI::ParseError& e) {
    return absl::InvalidArgumentError(absl::StrCat("flags: ", e.what()));
  }

  if (config_path.empty()) {
    if (const char* env = getenv("RATCHET_CONFIG")) config_path = env;
  }
  if (!config_path.empty()) RATCHET_RETURN_IF_ERROR(ApplyFile(config_path, settings));
  for (size_t i = 0; i < settings.size(); ++i) {
    if (app.count(FlagName(settings[i].name)) > 0) {
      RATCHET_RETURN_IF_ERROR(
          Apply(settings[i], flag_values[i], "flag " + FlagName(settings[i].name)));
    }
  }
  for (const Setting& s : settings) {
    if (const char* env = getenv(EnvName(s.name).c_str())) {
      RATCHET_RETURN_IF_ERROR(Apply(s, env, "environment variable " + EnvName(s.name)));
    }
  }
  return config;
}

std::string PrintConfig(const Config& config) {
  Config copy = config;
  std::string out;
  for (const Setting& s : Settings(&copy)) {
    auto it = config.sources.find(s.name);
    absl::StrAppend(&out, s.name, " = ", s.get(), "  # ",
                    it == config.sources.end() ? "default" : it->second, "\n");
  }
  return out;
}

absl::Status ApplyConfigToml(std::string_view text, std::string_view source, Config* config) {
  return ApplyToml(text, std::string(source), Settings(config));
}

}  // namespace ratchet::server
