// ratchetd's configuration: defaults, the file < flags < environment order,
// and errors that name the setting and its source.
#include "config.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <fstream>
#include <iterator>
#include <map>
#include <sstream>

#include "engine_harness.h"
#include "temp_dir.h"

namespace ratchet::server {
namespace {

absl::StatusOr<Config> Load(std::vector<std::string> args,
                            std::map<std::string, std::string> env = {}) {
  return LoadConfig(args, [env](const char* name) -> const char* {
    auto it = env.find(name);
    return it == env.end() ? nullptr : it->second.c_str();
  });
}

// --print-config shows every setting's effective value and its source;
// the engine's settings reach EngineOptions.
TEST(ConfigTest, PrintConfigShowsValuesAndSources) {
  auto c = Load({"--print-config", "--max-group-ops", "77"},
                {{"RATCHET_IDEMPOTENCY_WINDOW_MS", "5000"}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->print_config);
  EXPECT_EQ(c->engine.max_group_ops, 77);
  EXPECT_EQ(c->engine.idempotency_window, Millis(5000));
  std::string printed = PrintConfig(*c);
  EXPECT_NE(printed.find("max_group_ops = 77  # flag --max-group-ops\n"), std::string::npos)
      << printed;
  EXPECT_NE(printed.find("idempotency_window_ms = 5000  # environment variable "
                         "RATCHET_IDEMPOTENCY_WINDOW_MS\n"),
            std::string::npos)
      << printed;
  EXPECT_NE(printed.find("listen = \"127.0.0.1:7070\"  # default\n"), std::string::npos) << printed;
  EXPECT_FALSE(Load({"--max-group-ops", "0"}, {}).ok());
}

TEST(ConfigTest, DefaultsMatchTheEmbeddedEngine) {
  auto c = Load({});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server.listen, "127.0.0.1:7070");
  EXPECT_EQ(c->data_dir, "./ratchet-data");
  EXPECT_EQ(c->server.max_lease_wait, Millis(30000));
}

// deploy/ratchetd.toml lists every setting with its default: it loads, and
// changes nothing from the built-in defaults.
TEST(ConfigTest, ShippedConfigFileLoadsAndHoldsTheDefaults) {
  std::ifstream in(std::string(RATCHET_SOURCE_DIR) + "/deploy/ratchetd.toml");
  ASSERT_TRUE(in.good());
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Config defaults, shipped;
  ASSERT_TRUE(ApplyConfigToml(text, "deploy/ratchetd.toml", &shipped).ok());
  EXPECT_EQ(shipped.server.listen, defaults.server.listen);
  EXPECT_EQ(shipped.data_dir, defaults.data_dir);
  EXPECT_EQ(shipped.server.max_message_bytes, defaults.server.max_message_bytes);
  EXPECT_EQ(shipped.max_payload_bytes, defaults.max_payload_bytes);
  EXPECT_EQ(shipped.server.call_timeout, defaults.server.call_timeout);
  EXPECT_EQ(shipped.server.max_lease_wait, defaults.server.max_lease_wait);
  EXPECT_EQ(shipped.shutdown_grace, defaults.shutdown_grace);
  EXPECT_EQ(shipped.server.blocking_threads, defaults.server.blocking_threads);
  EXPECT_EQ(shipped.log_level, defaults.log_level);
  EXPECT_EQ(shipped.port_file, defaults.port_file);
  EXPECT_EQ(shipped.http_listen, defaults.http_listen);
  EXPECT_EQ(shipped.metrics_max_queues, defaults.metrics_max_queues);
  EXPECT_EQ(shipped.server.tls_cert_file, defaults.server.tls_cert_file);
  EXPECT_EQ(shipped.server.tls_key_file, defaults.server.tls_key_file);
  EXPECT_EQ(shipped.server.tls_client_ca_file, defaults.server.tls_client_ca_file);
  EXPECT_EQ(shipped.server.tls_reload_interval, defaults.server.tls_reload_interval);
  // Every setting, the engine's included, holds its default.
  auto values = [](const Config& c) {
    std::string out;
    std::istringstream lines(PrintConfig(c));
    for (std::string line; std::getline(lines, line);)
      out += line.substr(0, line.find("  # ")) + "\n";
    return out;
  };
  EXPECT_EQ(values(shipped), values(defaults));
  // Every flag ratchetd has (but the one-off --config, --salvage and
  // --restore-from) is a key of the file.
  auto help = Load({"--help"});
  ASSERT_EQ(help.status().code(), absl::StatusCode::kCancelled);
  std::string usage(help.status().message());
  for (size_t at = usage.find("--"); at != std::string::npos; at = usage.find("--", at + 2)) {
    size_t end = usage.find_first_of(" ,=\n", at);
    std::string flag = usage.substr(at + 2, end - at - 2);
    if (flag == "help" || flag == "config" || flag == "salvage" || flag == "restore-from" ||
        flag == "insecure" || flag == "print-config") {
      continue;
    }
    std::string key = flag;
    std::replace(key.begin(), key.end(), '-', '_');
    EXPECT_NE(text.find("\n" + key + " = "), std::string::npos) << "missing setting " << key;
  }
}

TEST(ConfigTest, SalvageIsAnExplicitFlagOnly) {
  auto c = Load({}, {{"RATCHET_SALVAGE", "1"}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->salvage);
  c = Load({"--salvage", "--data-dir", "/d"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->salvage);
  ratchet::testing::TempDir dir;
  std::string path = dir.Sub("ratchetd.toml");
  std::ofstream(path) << "salvage = \"true\"\n";
  EXPECT_TRUE(absl::IsInvalidArgument(Load({"--config", path}).status()));
}

TEST(ConfigTest, FlagsOverrideFileAndEnvironmentOverridesFlags) {
  ratchet::testing::TempDir dir;
  std::string path = dir.Sub("ratchetd.toml");
  std::ofstream(path) << "listen = \"0.0.0.0:1\"\ndata_dir = \"/from/file\"\n"
                         "max_lease_wait_ms = 1000\ncall_timeout_ms = 2000\n";
  auto c = Load({"--config", path, "--data-dir", "/from/flag", "--max-lease-wait-ms", "500"},
                {{"RATCHET_MAX_LEASE_WAIT_MS", "700"}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server.listen, "0.0.0.0:1");          // file only
  EXPECT_EQ(c->data_dir, "/from/flag");              // flag beats file
  EXPECT_EQ(c->server.max_lease_wait, Millis(700));  // env beats flag
  EXPECT_EQ(c->server.call_timeout, Millis(2000));   // file only
}

TEST(ConfigTest, ConfigFileFromEnvironment) {
  ratchet::testing::TempDir dir;
  std::string path = dir.Sub("c.toml");
  std::ofstream(path) << "blocking_threads = 3\n";
  auto c = Load({}, {{"RATCHET_CONFIG", path}});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server.blocking_threads, 3);
}

TEST(ConfigTest, BadValuesNameTheSettingAndSource) {
  auto c = Load({"--call-timeout-ms", "5"});
  ASSERT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("call_timeout_ms"), std::string::npos);
  EXPECT_NE(c.status().message().find("--call-timeout-ms"), std::string::npos);
  EXPECT_NE(c.status().message().find("[100,"), std::string::npos) << c.status();

  c = Load({}, {{"RATCHET_LOG_LEVEL", "loud"}});
  ASSERT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("RATCHET_LOG_LEVEL"), std::string::npos) << c.status();

  c = Load({"--blocking-threads", "two"});
  EXPECT_NE(c.status().message().find("not an integer"), std::string::npos) << c.status();
}

TEST(ConfigTest, UnknownFileKeyAndMissingFileAreErrors) {
  ratchet::testing::TempDir dir;
  std::string path = dir.Sub("c.toml");
  std::ofstream(path) << "listne = \"x\"\n";
  auto c = Load({"--config", path});
  ASSERT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(c.status().message().find("listne"), std::string::npos) << c.status();
  EXPECT_EQ(Load({"--config", dir.Sub("missing.toml")}).status().code(),
            absl::StatusCode::kNotFound);
  EXPECT_EQ(Load({"--no-such-flag"}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ConfigTest, EmptyFileIsDefaultsAndDirectoryIsAnError) {
  ratchet::testing::TempDir dir;
  std::string path = dir.Sub("empty.toml");
  std::ofstream(path).flush();
  auto c = Load({"--config", path});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->data_dir, "./ratchet-data");
  EXPECT_EQ(Load({"--config", dir.path()}).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ConfigTest, TomlTextAppliesAsTheFileWould) {
  Config c;
  ASSERT_TRUE(ApplyConfigToml("data_dir = \"/t\"\nblocking_threads = 3\n", "mem.toml", &c).ok());
  EXPECT_EQ(c.data_dir, "/t");
  EXPECT_EQ(c.server.blocking_threads, 3);
  absl::Status s = ApplyConfigToml("listne = 1\n", "mem.toml", &c);
  ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("listne"), std::string::npos) << s;
  EXPECT_NE(s.message().find("mem.toml"), std::string::npos) << s;
  s = ApplyConfigToml("= = [", "mem.toml", &c);
  ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("not valid TOML"), std::string::npos) << s;
}

// A TOML float or boolean is not an integer setting. toml++'s value<int64_t>
// converted 3.0 to 3 and true to 1, and cast an out-of-range float to
// int64_t (undefined behaviour; found by tests/fuzz/config_fuzz).
TEST(ConfigTest, FloatsAndBooleansAreNotIntegers) {
  for (const char* text : {"blocking_threads = 3.0\n", "blocking_threads = true\n",
                           "max_payload_bytes = -2.9e70\n", "max_payload_bytes = nan\n"}) {
    Config c;
    absl::Status s = ApplyConfigToml(text, "mem.toml", &c);
    ASSERT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << text;
    EXPECT_NE(s.message().find("must be a string or an integer"), std::string::npos) << s;
  }
}

// The safe default: without authentication only loopback addresses serve,
// unless --insecure says otherwise.
TEST(ConfigTest, NonLoopbackAddressesNeedInsecure) {
  for (const char* ok : {"127.0.0.1:1", "127.5.0.1:1", "[::1]:1", "localhost:1", "unix:/tmp/r"}) {
    auto c = Load({"--listen", ok});
    ASSERT_TRUE(c.ok()) << c.status();
    EXPECT_TRUE(CheckExposure(*c).ok()) << ok;
  }
  for (const char* exposed : {"0.0.0.0:1", "[::]:1", "10.0.0.1:1", "example.com:1"}) {
    auto c = Load({"--listen", exposed});
    ASSERT_TRUE(c.ok()) << c.status();
    absl::Status s = CheckExposure(*c);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << exposed;
    EXPECT_EQ(testing::FieldOf(s), "listen");
    EXPECT_NE(s.message().find("--insecure"), std::string::npos);
    auto insecure = Load({"--listen", exposed, "--insecure"});
    ASSERT_TRUE(insecure.ok());
    EXPECT_TRUE(CheckExposure(*insecure).ok()) << exposed;
  }
  auto metrics = Load({"--http-listen", "0.0.0.0:9"});
  ASSERT_TRUE(metrics.ok());
  EXPECT_EQ(testing::FieldOf(CheckExposure(*metrics)), "http_listen");
  auto off = Load({"--http-listen", ""});
  ASSERT_TRUE(off.ok());
  EXPECT_TRUE(CheckExposure(*off).ok());
  // With an auth file and TLS, gRPC may face the network; without TLS the
  // tokens would travel in clear.
  auto plain = Load({"--listen", "0.0.0.0:1", "--auth-file", "/etc/ratchet/auth.toml"});
  ASSERT_TRUE(plain.ok()) << plain.status();
  EXPECT_EQ(plain->server.auth_file, "/etc/ratchet/auth.toml");
  EXPECT_EQ(testing::FieldOf(CheckExposure(*plain)), "listen");
  auto authed = Load({"--listen", "0.0.0.0:1", "--auth-file", "/a.toml", "--tls-cert-file",
                      "/c.pem", "--tls-key-file", "/k.pem"});
  ASSERT_TRUE(authed.ok()) << authed.status();
  EXPECT_TRUE(CheckExposure(*authed).ok());
  auto authed_metrics = Load({"--http-listen", "0.0.0.0:9", "--auth-file", "/a.toml"});
  ASSERT_TRUE(authed_metrics.ok());
  EXPECT_EQ(testing::FieldOf(CheckExposure(*authed_metrics)), "http_listen");
}

// Half a TLS setup is refused at start, naming the setting.
TEST(ConfigTest, TlsSettingsLoad) {
  auto c = Load({"--tls-cert-file", "/c.pem", "--tls-key-file", "/k.pem", "--tls-client-ca-file",
                 "/ca.pem", "--tls-reload-interval-ms", "5000"});
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->server.tls_cert_file, "/c.pem");
  EXPECT_EQ(c->server.tls_key_file, "/k.pem");
  EXPECT_EQ(c->server.tls_client_ca_file, "/ca.pem");
  EXPECT_EQ(c->server.tls_reload_interval, Millis(5000));
  EXPECT_FALSE(Load({"--tls-reload-interval-ms", "10"}).ok());
}

}  // namespace
}  // namespace ratchet::server
