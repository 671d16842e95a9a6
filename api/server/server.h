// Server: ratchetd's gRPC server over one Engine. It serves
// ratchet.v1.{JobService, WorkerService, QueueService, WorkflowService,
// ScheduleService, AdminService}, the standard
// grpc.health.v1.Health service and server reflection, on the callback API.
//
// Thread safety: Shutdown and port are safe from any thread; Shutdown is
// called once.
#ifndef RATCHET_API_SERVER_SERVER_H_
#define RATCHET_API_SERVER_SERVER_H_

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "ratchet/base/clock.h"
#include "ratchet/engine/engine.h"

namespace prometheus {
class Registry;
}

namespace ratchet::server {

class ServiceContext;

struct ServerOptions {
  // host:port to listen on; port 0 picks a free port (see Server::port).
  std::string listen = "127.0.0.1:7070";
  // Largest request or response message, bytes.
  int max_message_bytes = 16 << 20;
  // Server-side deadline of every call (a Lease's adds its wait).
  Millis call_timeout{10000};
  // Longest long-poll wait a Lease may ask for; longer asks are capped.
  Millis max_lease_wait{30000};
  // Threads that run the engine's blocking calls (reads, admin calls).
  int blocking_threads = 2;
  // TLS (docs/operations.md, "TLS"): with tls_cert_file and tls_key_file
  // (PEM) the server speaks TLS only; with tls_client_ca_file too, every
  // client must present a certificate signed by that CA (mTLS). The files
  // are re-read on SIGHUP (Server::ReloadTls) and every
  // tls_reload_interval, and served once they are valid (tls_stager.h):
  // replace them to rotate certificates, no restart needed; a bad
  // replacement is logged and the previous certificate keeps serving.
  // All empty: plaintext.
  std::string tls_cert_file, tls_key_file, tls_client_ca_file;
  Millis tls_reload_interval{10000};
  // Authentication and authorization (docs/operations.md,
  // "Authentication"): the auth file (auth/auth_file.h) naming principals,
  // the SHA-256 of their bearer tokens or their mTLS identities, their
  // grants and rate limits. Every call must then authenticate and is
  // refused what its grants do not give. "": no authentication, every call
  // is "anonymous" with every permission (loopback only; CheckExposure).
  std::string auth_file;
  // When set, every call is counted in ratchet_grpc_requests_total{method,
  // code} and timed in ratchet_grpc_request_duration_seconds{method}
  // (grpc_metrics.h). Shared with the caller.
  std::shared_ptr<prometheus::Registry> metrics_registry;
};

class Server {
 public:
  // Starts serving `engine` (not owned; must outlive the server).
  // Errors: UNAVAILABLE if the address cannot be bound; INVALID_ARGUMENT
  // for bad options or a bad auth file; NOT_FOUND for a missing auth file.
  static absl::StatusOr<std::unique_ptr<Server>> Start(const ServerOptions& options,
                                                       Engine* engine);
  // Shuts down (with a zero grace period) if Shutdown was not called.
  ~Server();

  // The bound port.
  int port() const;
  // Graceful shutdown: stops accepting calls, marks health NOT_SERVING, lets
  // calls in flight finish for up to `grace`, then cancels the rest (a
  // parked Lease ends empty) and waits until every call has finished. The
  // engine is untouched: close it afterwards to flush and close the store.
  void Shutdown(Millis grace);

  // Re-reads the auth file (ratchetd does on SIGHUP): removed tokens stop
  // working at once. On an error the principals in use stay.
  // Errors: those of auth::LoadAuthFile. Without an auth file: OK.
  absl::Status ReloadAuth();
  // Re-reads the TLS files (ratchetd does on SIGHUP) and serves them within
  // a second if they are valid; logs tls_checked (subject, expiry) or
  // tls_checked_failed (the certificate in use stays). Without TLS: nothing.
  void ReloadTls();
  // Principals in use (1, "anonymous", without an auth file).
  size_t principal_count() const;
  // The services' shared context (the HTTP/JSON API calls through it).
  // Owned by the server; valid until it is destroyed.
  ServiceContext* service_context();

  class Impl;

 private:
  explicit Server(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace ratchet::server

#endif  // RATCHET_API_SERVER_SERVER_H_
