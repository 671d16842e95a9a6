#include "http_server.h"

#include <httplib.h>

#include <charconv>
#include <chrono>

#include "absl/strings/str_cat.h"
#include "http/dashboard_routes.h"
#include "prometheus/text_serializer.h"
#include "ratchet/base/status.h"

namespace ratchet::server {

namespace {

// "host:port" or "[v6]:port".
absl::Status SplitListen(const std::string& listen, std::string* host, int* port) {
  const size_t colon = listen.rfind(':');
  if (colon == std::string::npos || colon == 0) {
    return InvalidArgument("http_listen", absl::StrCat("'", listen, "' is not host:port"));
  }
  *host = listen.substr(0, colon);
  if (host->size() > 2 && host->front() == '[' && host->back() == ']') {
    *host = host->substr(1, host->size() - 2);
  }
  const std::string p = listen.substr(colon + 1);
  auto [end, ec] = std::from_chars(p.data(), p.data() + p.size(), *port);
  if (ec != std::errc() || end != p.data() + p.size() || *port < 0 || *port > 65535) {
    return InvalidArgument("http_listen", absl::StrCat("port '", p, "' is not in [0, 65535]"));
  }
  return absl::OkStatus();
}

}  // namespace

HttpServer::HttpServer() = default;

absl::StatusOr<std::unique_ptr<HttpServer>> HttpServer::Start(HttpOptions options) {
  const std::string& listen = options.listen;
  std::string host;
  int port = 0;
  RATCHET_RETURN_IF_ERROR(SplitListen(listen, &host, &port));
  std::unique_ptr<HttpServer> s(new HttpServer());
  s->registry_ = options.registry;
  s->server_ = std::make_unique<httplib::Server>();
  httplib::Server& http = *s->server_;
  http.new_task_queue = [n = options.threads] { return new httplib::ThreadPool(n); };
  http.set_payload_max_length(options.api != nullptr ? options.max_body_bytes : 64 << 10);
  // Answers go out at once: with Nagle's algorithm a keep-alive client
  // waited for the delayed ACK, about 40 ms per request.
  http.set_tcp_nodelay(true);
  http.set_read_timeout(10, 0);
  http.set_write_timeout(10, 0);
  // An idle keep-alive connection holds a thread until this passes, and
  // Stop waits for it: keep shutdown quick (a scrape reconnects cheaply).
  http.set_keep_alive_timeout(1);
  prometheus::Registry* reg = s->registry_.get();
  http.Get("/metrics", [reg](const httplib::Request&, httplib::Response& res) {
    res.set_content(prometheus::TextSerializer().Serialize(reg->Collect()),
                    "text/plain; version=0.0.4; charset=utf-8");
  });
  http.Get("/healthz", [](const httplib::Request&, httplib::Response& res) {
    res.set_content("ok\n", "text/plain; charset=utf-8");
  });
  if (options.api != nullptr) {
    s->routes_ = std::make_unique<http::DashboardRoutes>(
        http::DashboardOptions{.api = options.api,
                               .registry = options.registry,
                               .auth_enabled = options.auth_enabled,
                               .listen_host = host,
                               .dashboard_dir = options.dashboard_dir});
    s->routes_->Install(http);
  }
  for (const char* path : {"/metrics", "/healthz"}) {
    auto not_allowed = [](const httplib::Request&, httplib::Response& res) {
      res.status = 405;
      res.set_header("Allow", "GET, HEAD");
    };
    http.Post(path, not_allowed);
    http.Put(path, not_allowed);
    http.Delete(path, not_allowed);
    http.Patch(path, not_allowed);
  }
  if (port == 0) {
    s->port_ = http.bind_to_any_port(host);
  } else if (http.bind_to_port(host, port)) {
    s->port_ = port;
  }
  if (s->port_ <= 0) {
    return absl::UnavailableError(absl::StrCat("http_listen: cannot bind ", listen));
  }
  s->thread_ = std::thread([&http] { http.listen_after_bind(); });
  // cpp-httplib's stop() does nothing until the listener runs: a Stop right
  // after Start (a failed start-up, an early SIGTERM) would then wait for
  // ever. Start returns once it runs.
  while (!http.is_running()) std::this_thread::sleep_for(std::chrono::milliseconds(1));
  return s;
}

HttpServer::~HttpServer() {
  Stop();
  routes_.reset();
}

void HttpServer::Stop() {
  if (server_) server_->stop();
  if (thread_.joinable()) thread_.join();
}

}  // namespace ratchet::server
