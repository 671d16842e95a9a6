// The routes ratchetd's HTTP listener serves besides /metrics and /healthz
// (docs/api.md, "HTTP/JSON API"; docs/operations.md, "Dashboard"):
//   POST   /v1/<Service>/<Method>  the JSON API (json_api.h)
//   POST   /ui/session             sign in with a token: a session cookie
//   GET    /ui/session             who is signed in, the CSRF token
//   DELETE /ui/session             sign out
//   GET    /ui/samples             the overview charts' samples (samples.h)
//   GET    /ui/, /ui/<file>        the dashboard (static_files.h)
//   GET    /                       redirects to /ui/
//
// Credentials, in order: an `Authorization: Bearer` header (curl, scripts);
// else the session cookie, and then every POST and DELETE must carry the
// session's X-CSRF-Token; else none (the "anonymous" principal when there
// is no auth file; otherwise UNAUTHENTICATED).
//
// Cross-site requests: a POST must be Content-Type application/json (a
// form or a no-cors fetch from another site cannot send that without a
// CORS preflight, which is never granted); a request whose Origin header
// is not this listener's is refused; without an auth file, the Host header
// must name a loopback host or the listen host (DNS rebinding).
//
// Every answer carries a Content-Security-Policy without inline scripts or
// styles, X-Content-Type-Options: nosniff, X-Frame-Options: DENY and
// Referrer-Policy: no-referrer; API answers are Cache-Control: no-store.
//
// Thread safety: the routes run on the listener's threads; everything they
// share is thread-safe.
#ifndef RATCHET_API_SERVER_HTTP_DASHBOARD_ROUTES_H_
#define RATCHET_API_SERVER_HTTP_DASHBOARD_ROUTES_H_

#include <chrono>
#include <memory>
#include <string>

#include "auth/authenticator.h"
#include "json_api.h"
#include "limiter.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/registry.h"
#include "samples.h"
#include "service_context.h"
#include "sessions.h"
#include "static_files.h"

namespace httplib {
class Server;
struct Request;
struct Response;
}  // namespace httplib

namespace ratchet::server::http {

struct DashboardOptions {
  // The services (not owned; must outlive the listener).
  ServiceContext* api = nullptr;
  // The engine's metrics, sampled for the charts (shared).
  std::shared_ptr<prometheus::Registry> registry;
  // Whether an auth file is in use (else the Host check applies).
  bool auth_enabled = false;
  // The listen host, also accepted as a Host header.
  std::string listen_host;
  // Development only: serve the dashboard from this directory ("": the
  // embedded files). ratchetd sets it from RATCHET_DASHBOARD_DIR.
  std::string dashboard_dir;
  // How often the charts' samples are taken.
  std::chrono::milliseconds sample_interval{5000};
};

class DashboardRoutes {
 public:
  explicit DashboardRoutes(DashboardOptions options);
  // Installs the routes on `http`. This object must outlive the listener's
  // last request: stop the listener before destroying it.
  void Install(httplib::Server& http);

  // Sign-in attempts admitted per second per client address, and burst.
  static constexpr double kSignInsPerSecond = 5, kSignInBurst = 20;

 private:
  // OK, or why `req` is refused as cross-site: an Origin not this
  // listener's; without an auth file, a Host that is not loopback or the
  // listen host; a POST body that is not application/json.
  absl::Status CheckCrossSite(const httplib::Request& req) const;
  // The credentials of `req`, or why it is refused (cross-site checks, an
  // Authorization that is not Bearer, a session that ended, a wrong CSRF
  // token). `mutation`: a POST or DELETE.
  absl::StatusOr<auth::CallCredentials> CredentialsOf(const httplib::Request& req, bool mutation);
  void SignIn(const httplib::Request& req, httplib::Response& res);
  void WhoAmI(const httplib::Request& req, httplib::Response& res);
  void SignOut(const httplib::Request& req, httplib::Response& res);
  void Samples(const httplib::Request& req, httplib::Response& res);
  // Counts a JSON API call in ratchet_http_requests_total (rpc: its full
  // name, "" when there is no such RPC).
  void Count(absl::string_view rpc, absl::StatusCode code);

  const DashboardOptions options_;
  JsonApi api_;
  SessionStore sessions_;
  QueueSamples samples_;
  StaticFiles files_;
  PerAddressLimiter sign_ins_;
  prometheus::Family<prometheus::Counter>* requests_ = nullptr;  // in options_.registry
};

}  // namespace ratchet::server::http

#endif  // RATCHET_API_SERVER_HTTP_DASHBOARD_ROUTES_H_
