// HttpServer: ratchetd's HTTP listener (cpp-httplib, Debian's
// libcpp-httplib-dev; docs/architecture.md says why). It serves
//   GET /metrics  the registry in Prometheus text format 0.0.4;
//   GET /healthz  "ok" while the listener runs;
// and, given the services (HttpOptions::api), the HTTP/JSON API and the
// dashboard (http/dashboard_routes.h). Anything else is 404; a method
// other than GET (or HEAD) on /metrics or /healthz is 405.
//
// Thread safety: Start and Stop from one thread; requests are served on
// the listener's own threads (scrapes read the thread-safe registry).
#ifndef RATCHET_API_SERVER_HTTP_SERVER_H_
#define RATCHET_API_SERVER_HTTP_SERVER_H_

#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "prometheus/registry.h"

namespace httplib {
class Server;
}

namespace ratchet::server {

class ServiceContext;
namespace http {
class DashboardRoutes;
}

struct HttpOptions {
  // "host:port"; port 0 picks a free one.
  std::string listen;
  // Served on /metrics (shared).
  std::shared_ptr<prometheus::Registry> registry;
  // The services the JSON API and the dashboard call (not owned; must
  // outlive the listener). Null: /metrics and /healthz only.
  ServiceContext* api = nullptr;
  bool auth_enabled = false;
  // Development only (RATCHET_DASHBOARD_DIR): serve the dashboard's files
  // from this directory instead of the embedded ones.
  std::string dashboard_dir;
  // Largest request body, bytes (a JSON request with a payload of the
  // message limit, base64-encoded, fits).
  size_t max_body_bytes = 24 << 20;
  // Threads serving requests. A JSON API call holds one until it is
  // answered (a Lease's long poll included).
  int threads = 64;
};

class HttpServer {
 public:
  // Listens on options.listen and serves on its own threads.
  // Errors: INVALID_ARGUMENT naming http_listen if it is not host:port;
  // UNAVAILABLE if the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(HttpOptions options);
  ~HttpServer();  // stops

  int port() const { return port_; }
  void Stop();

 private:
  HttpServer();
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<http::DashboardRoutes> routes_;  // outlives server_'s requests
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace ratchet::server

#endif  // RATCHET_API_SERVER_HTTP_SERVER_H_
