// HttpServer: ratchetd's HTTP listener (cpp-httplib, Debian's
// libcpp-httplib-dev; docs/architecture.md says why). It serves
//   GET /metrics  the registry in Prometheus text format 0.0.4;
//   GET /healthz  "ok" while the listener runs.
// Anything else is 404; a method other than GET (or HEAD) is 405.
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

class HttpServer {
 public:
  // Listens on `listen` ("host:port"; port 0 picks a free one) and serves
  // `registry` (shared) on its own thread.
  // Errors: INVALID_ARGUMENT naming http_listen if it is not host:port;
  // UNAVAILABLE if the address cannot be bound.
  static absl::StatusOr<std::unique_ptr<HttpServer>> Start(
      const std::string& listen, std::shared_ptr<prometheus::Registry> registry);
  ~HttpServer();  // stops

  int port() const { return port_; }
  void Stop();

 private:
  HttpServer() = default;
  std::shared_ptr<prometheus::Registry> registry_;
  std::unique_ptr<httplib::Server> server_;
  std::thread thread_;
  int port_ = 0;
};

}  // namespace ratchet::server

#endif  // RATCHET_API_SERVER_HTTP_SERVER_H_
