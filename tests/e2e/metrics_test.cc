// ratchetd's /metrics against the real tools (docs/operations.md,
// "Metrics"): the real ratchetd binary serves metrics that `promtool check
// metrics` accepts, and a real Prometheus server, started here with a
// scrape config pointing at it, sees a series move.
#include <gtest/gtest.h>
#include <httplib.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <iterator>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <thread>

#include "ratchet/client/client.h"
#include "ratchetd_process.h"
#include "run_command.h"
#include "temp_dir.h"

namespace ratchet::testing {
namespace {

std::string Get(int port, const std::string& path, int* status = nullptr) {
  httplib::Client http("127.0.0.1", port);
  http.set_read_timeout(5, 0);
  auto res = http.Get(path);
  if (status) *status = res ? res->status : -1;
  return res ? res->body : "";
}

void Enqueue(Client& client, const std::string& queue, int n) {
  for (int i = 0; i < n; ++i) {
    v1::JobSpec job;
    job.set_queue(queue);
    job.set_job_type("t");
    auto r = client.Enqueue(job);
    ASSERT_TRUE(r.ok()) << r.status();
  }
}

// ratchetd on free ports with its HTTP listener, and a client of it.
struct Served {
  TempDir dir;
  const int port = FreePort(), http_port = FreePort();
  RatchetdProcess server{
      RATCHETD_PATH,
      dir.Sub("data"),
      port,
      {"--http-listen", "127.0.0.1:" + std::to_string(http_port), "--shutdown-grace-ms", "300"}};
  std::unique_ptr<Client> client;
  bool Start() {
    if (!server.Start()) return false;
    auto c = Client::Connect({.target = "127.0.0.1:" + std::to_string(port)});
    if (!c.ok()) return false;
    client = std::move(*c);
    return true;
  }
};

TEST(MetricsTest, RatchetdServesMetricsThatPromtoolAccepts) {
  Served s;
  ASSERT_TRUE(s.Start());
  const int http_port = s.http_port;
  TempDir& dir = s.dir;
  Enqueue(*s.client, "m", 5);

  int status = 0;
  const std::string text = Get(http_port, "/metrics", &status);
  EXPECT_EQ(status, 200);
  EXPECT_NE(text.find("ratchet_job_events_total{event=\"enqueued\",queue=\"m\"} 5"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("ratchet_grpc_requests_total{code=\"OK\",method=\"/ratchet.v1.JobService/"
                      "Enqueue\"} 5"),
            std::string::npos);
  const std::string file = dir.Sub("metrics.txt");
  std::ofstream(file) << text;
  CommandResult check = RunCommand("promtool check metrics < " + file);
  EXPECT_EQ(check.exit_code, 0) << check.output;

  // Every metric the example alert rules use is one ratchetd serves.
  std::ifstream rules_file(std::string(RATCHET_SOURCE_DIR) +
                           "/deploy/prometheus/ratchet-alerts.yml");
  const std::string rules((std::istreambuf_iterator<char>(rules_file)),
                          std::istreambuf_iterator<char>());
  ASSERT_FALSE(rules.empty());
  const std::regex metric(R"(ratchet_[a-z_]+)");
  int used = 0;
  for (auto it = std::sregex_iterator(rules.begin(), rules.end(), metric);
       it != std::sregex_iterator(); ++it) {
    ++used;
    const bool served = text.find("\n" + it->str() + " ") != std::string::npos ||
                        text.find("\n" + it->str() + "{") != std::string::npos;
    EXPECT_TRUE(served) << "the alert rules use " << it->str() << ", which ratchetd does not serve";
  }
  EXPECT_GE(used, 5);

  Get(http_port, "/nothing-here", &status);
  EXPECT_EQ(status, 404);
  httplib::Client http("127.0.0.1", http_port);
  auto post = http.Post("/metrics", "x", "text/plain");
  ASSERT_TRUE(post);
  EXPECT_EQ(post->status, 405);
  s.server.Stop(SIGTERM);
}

// A child process (prometheus), killed when this goes out of scope.
class Child {
 public:
  Child(std::vector<std::string> args, const std::string& log) {
    pid_ = fork();
    if (pid_ == 0) {
      int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(fd, 1);
      dup2(fd, 2);
      std::vector<char*> argv;
      for (auto& a : args) argv.push_back(a.data());
      argv.push_back(nullptr);
      execvp(argv[0], argv.data());
      _exit(127);
    }
  }
  ~Child() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

 private:
  pid_t pid_ = -1;
};

// The value of an instant query's first sample, if any.
std::optional<std::string> Query(int port, const std::string& promql) {
  httplib::Client http("127.0.0.1", port);
  http.set_read_timeout(5, 0);
  auto res = http.Get("/api/v1/query", httplib::Params{{"query", promql}}, httplib::Headers{});
  if (!res || res->status != 200) return std::nullopt;
  auto j = nlohmann::json::parse(res->body, nullptr, false);
  if (j.is_discarded() || j["status"] != "success") return std::nullopt;
  const auto& result = j["data"]["result"];
  if (!result.is_array() || result.empty()) return std::nullopt;
  return result[0]["value"][1].get<std::string>();
}

bool WaitForValue(int port, const std::string& promql, const std::string& want, std::string* last) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto v = Query(port, promql)) {
      *last = *v;
      if (*v == want) return true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  return false;
}

TEST(MetricsTest, ARealPrometheusScrapesRatchetdAndSeesASeriesMove) {
  Served s;
  ASSERT_TRUE(s.Start());
  const int http_port = s.http_port, prom_port = FreePort();
  TempDir& dir = s.dir;
  Enqueue(*s.client, "scraped", 2);

  const std::string config = dir.Sub("prometheus.yml");
  std::ofstream(config) << "global:\n  scrape_interval: 1s\n"
                        << "scrape_configs:\n  - job_name: ratchetd\n    static_configs:\n"
                        << "      - targets: ['127.0.0.1:" << http_port << "']\n";
  Child prometheus(
      {"prometheus", "--config.file=" + config, "--storage.tsdb.path=" + dir.Sub("tsdb"),
       "--web.listen-address=127.0.0.1:" + std::to_string(prom_port)},
      dir.Sub("prometheus.log"));
  const std::string promql = R"(ratchet_job_events_total{queue="scraped",event="enqueued"})";
  std::string last;
  ASSERT_TRUE(WaitForValue(prom_port, promql, "2", &last))
      << "last value: " << last << "; see " << dir.Sub("prometheus.log");
  Enqueue(*s.client, "scraped", 3);
  EXPECT_TRUE(WaitForValue(prom_port, promql, "5", &last)) << "last value: " << last;
  // The scrape itself is healthy.
  EXPECT_TRUE(WaitForValue(prom_port, R"(up{job="ratchetd"})", "1", &last));
  s.server.Stop(SIGTERM);
}

}  // namespace
}  // namespace ratchet::testing
