#include "dashboard_routes.h"

#include <httplib.h>
#include <spdlog/spdlog.h>

#include <nlohmann/json.hpp>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
#include "auth/method_rules.h"
#include "ratchet/base/status.h"
#include "ratchet/base/traceparent.h"
#include "ratchet/v1/queue_service.pb.h"

namespace ratchet::server::http {

namespace {

constexpr char kCookie[] = "ratchet_session";
constexpr char kCsrfHeader[] = "X-CSRF-Token";
constexpr char kReasonCsrf[] = "CSRF_TOKEN_MISMATCH";
constexpr char kReasonCrossSite[] = "CROSS_SITE_REQUEST";
constexpr size_t kMaxTokenBytes = 4096;
constexpr size_t kMaxSignInBytes = 8192;

constexpr char kContentSecurityPolicy[] =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; font-src 'self'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

void Answer(httplib::Response& res, const JsonAnswer& a) {
  res.status = a.http_status;
  res.set_header("Cache-Control", "no-store");
  res.set_content(a.body, "application/json");
}

void AnswerError(httplib::Response& res, const absl::Status& s) { Answer(res, JsonApi::Error(s)); }

// The value of cookie `name` in the request's Cookie headers, or "".
std::string CookieOf(const httplib::Request& req, absl::string_view name) {
  const size_t n = req.get_header_value_count("Cookie");
  for (size_t i = 0; i < n; ++i) {
    for (absl::string_view part : absl::StrSplit(req.get_header_value("Cookie", i), ';')) {
      part = absl::StripAsciiWhitespace(part);
      if (absl::StartsWith(part, name) && part.size() > name.size() && part[name.size()] == '=') {
        return std::string(part.substr(name.size() + 1));
      }
    }
  }
  return "";
}

// "host" of a Host header "host:port" or "[v6]:port".
std::string HostName(absl::string_view host) {
  if (absl::StartsWith(host, "[")) {
    size_t close = host.find(']');
    return std::string(host.substr(1, close == absl::string_view::npos ? 0 : close - 1));
  }
  return std::string(host.substr(0, host.rfind(':')));
}

bool IsJson(const httplib::Request& req) {
  std::string type = absl::AsciiStrToLower(req.get_header_value("Content-Type"));
  return absl::StartsWith(type, "application/json");
}

std::string PeerOf(const httplib::Request& req) {
  return absl::StrCat(absl::StrContains(req.remote_addr, ':') ? "ipv6:[" : "ipv4:", req.remote_addr,
                      absl::StrContains(req.remote_addr, ':') ? "]:" : ":", req.remote_port);
}

nlohmann::json SessionJson(const Session& s, const auth::Principal& who) {
  nlohmann::json permissions = nlohmann::json::array();
  for (auth::Permission p : auth::kAllPermissions) {
    if (who.AllowsAnywhere(p)) permissions.push_back(std::string(auth::PermissionName(p)));
  }
  // Per grant: its queue pattern and the permissions its role gives, so
  // the page shows an action only where the principal may take it.
  nlohmann::json grants = nlohmann::json::array();
  for (const auth::Grant& g : who.grants) {
    nlohmann::json given = nlohmann::json::array();
    for (auth::Permission p : auth::kAllPermissions) {
      if (auth::RoleHas(g.role, p)) given.push_back(std::string(auth::PermissionName(p)));
    }
    grants.push_back({{"queues", g.queues}, {"permissions", std::move(given)}});
  }
  return {{"principal", who.name},
          {"csrfToken", s.csrf_token},
          {"permissions", permissions},
          {"grants", std::move(grants)}};
}

std::string Rfc3339(std::chrono::system_clock::time_point t) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%E3SZ", absl::FromChrono(t), absl::UTCTimeZone());
}

}  // namespace

DashboardRoutes::DashboardRoutes(DashboardOptions options)
    : options_(std::move(options)),
      api_(&options_.api->methods(), &options_.api->gate()),
      samples_(options_.registry, options_.sample_interval),
      files_(options_.dashboard_dir),
      sign_ins_(kSignInsPerSecond, kSignInBurst) {
  if (options_.registry) {
    requests_ = &prometheus::BuildCounter()
                     .Name("ratchet_http_requests_total")
                     .Help("HTTP/JSON API calls by method and status code")
                     .Register(*options_.registry);
  }
}

absl::Status DashboardRoutes::CheckCrossSite(const httplib::Request& req) const {
  const std::string origin = req.get_header_value("Origin");
  const std::string host = req.get_header_value("Host");
  if (!origin.empty() && origin != absl::StrCat("http://", host) &&
      origin != absl::StrCat("https://", host)) {
    return WithReason(absl::PermissionDeniedError(absl::StrCat(
                          "the Origin header is not this server's (", host.substr(0, 200),
                          "): cross-site requests are refused; behind a proxy, pass the "
                          "Host header on")),
                      kReasonCrossSite);
  }
  if (!options_.auth_enabled) {
    const std::string name = absl::AsciiStrToLower(HostName(host));
    if (name != "localhost" && name != "127.0.0.1" && name != "::1" &&
        name != absl::AsciiStrToLower(options_.listen_host)) {
      return WithReason(absl::PermissionDeniedError(
                            "without an auth file the HTTP API answers only requests whose Host "
                            "is localhost, a loopback address or the listen host"),
                        kReasonCrossSite);
    }
  }
  if (req.method == "POST" && !req.body.empty() && !IsJson(req)) {
    return InvalidArgument("Content-Type", "must be application/json");
  }
  return absl::OkStatus();
}

absl::StatusOr<auth::CallCredentials> DashboardRoutes::CredentialsOf(const httplib::Request& req,
                                                                     bool mutation) {
  RATCHET_RETURN_IF_ERROR(CheckCrossSite(req));
  auth::CallCredentials c;
  c.peer = PeerOf(req);
  if (req.get_header_value_count("traceparent") == 1) {
    c.traceparent = TraceparentFromHeader(req.get_header_value("traceparent"));
  }
  if (req.has_header("Authorization")) {
    // Only a bearer token: a browser never attaches one on its own (it may
    // a Basic one, which is refused), so no CSRF check is needed.
    std::string authorization = req.get_header_value("Authorization");
    if (!absl::StartsWithIgnoreCase(authorization, "Bearer ")) {
      return WithReason(
          absl::UnauthenticatedError("the Authorization header must be \"Bearer <token>\""),
          kReasonUnauthenticated);
    }
    c.authorization = std::move(authorization);
    return c;
  }
  const std::string cookie = CookieOf(req, kCookie);
  if (cookie.empty()) return c;
  std::optional<Session> session = sessions_.Find(cookie);  // marks it used
  if (!session) {
    return WithReason(absl::UnauthenticatedError("the session ended; sign in again"),
                      kReasonUnauthenticated);
  }
  if (mutation && !SecretsEqual(req.get_header_value(kCsrfHeader), session->csrf_token)) {
    return WithReason(absl::PermissionDeniedError(absl::StrCat(
                          "a request made with the session cookie must carry the session's ",
                          kCsrfHeader, " header")),
                      kReasonCsrf);
  }
  c.authorization = session->authorization;
  return c;
}

void DashboardRoutes::SignIn(const httplib::Request& req, httplib::Response& res) {
  // A stale cookie (a restart, an idle session) does not stand in the way.
  if (absl::Status s = CheckCrossSite(req); !s.ok()) return AnswerError(res, s);
  if (!IsJson(req)) {
    return AnswerError(res, InvalidArgument("Content-Type", "must be application/json"));
  }
  if (req.body.size() > kMaxSignInBytes || NestingDepth(req.body) > 2) {
    return AnswerError(res, InvalidArgument("request", "the body must be {\"token\": \"...\"}"));
  }
  if (auto wait = sign_ins_.Take(req.remote_addr, std::chrono::steady_clock::now())) {
    return AnswerError(
        res, WithRetryDelay(WithReason(absl::ResourceExhaustedError(absl::StrCat(
                                           "too many sign-ins; retry in ", wait->count(), " ms")),
                                       kReasonRateLimited),
                            *wait));
  }
  nlohmann::json body = nlohmann::json::parse(req.body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object() || !body.contains("token") || !body["token"].is_string()) {
    return AnswerError(res, InvalidArgument("token", "the body must be {\"token\": \"...\"}"));
  }
  const std::string token = body["token"].get<std::string>();
  if (token.size() > kMaxTokenBytes) {
    return AnswerError(res, InvalidArgument("token", "is over 4096 bytes"));
  }
  for (char ch : token) {
    if (ch < 0x21 || ch > 0x7e) {
      return AnswerError(res, InvalidArgument("token", "must be printable ASCII"));
    }
  }
  auth::CallCredentials creds;
  creds.peer = PeerOf(req);
  if (!token.empty()) creds.authorization = absl::StrCat("Bearer ", token);
  auto caller = options_.api->gate().Authenticate(creds);
  if (!caller.ok()) {
    spdlog::debug("event=dashboard_sign_in_failed peer={}", creds.peer);
    return AnswerError(res, caller.status());
  }
  Session s = sessions_.Create((*caller)->principal.name, creds.authorization);
  spdlog::info("event=dashboard_sign_in principal={:?} peer={}", s.principal, creds.peer);
  res.set_header("Set-Cookie",
                 absl::StrCat(kCookie, "=", s.id, "; Path=/; HttpOnly; SameSite=Strict"));
  res.set_header("Cache-Control", "no-store");
  res.set_content(SessionJson(s, (*caller)->principal).dump(), "application/json");
}

void DashboardRoutes::WhoAmI(const httplib::Request& req, httplib::Response& res) {
  const std::string cookie = CookieOf(req, kCookie);
  std::optional<Session> s = cookie.empty() ? std::nullopt : sessions_.Find(cookie);
  if (!s) {
    return AnswerError(
        res, WithReason(absl::UnauthenticatedError("not signed in"), kReasonUnauthenticated));
  }
  auth::CallCredentials creds;
  creds.authorization = s->authorization;
  auto caller = options_.api->gate().Authenticate(creds);
  if (!caller.ok()) {  // the token was removed from the auth file
    sessions_.Remove(s->id);
    return AnswerError(res, caller.status());
  }
  res.set_header("Cache-Control", "no-store");
  res.set_content(SessionJson(*s, (*caller)->principal).dump(), "application/json");
}

void DashboardRoutes::SignOut(const httplib::Request& req, httplib::Response& res) {
  absl::StatusOr<auth::CallCredentials> c = CredentialsOf(req, /*mutation=*/true);
  // A session that already ended signs out too: the cookie is cleared.
  if (!c.ok() && c.status().code() != absl::StatusCode::kUnauthenticated) {
    return AnswerError(res, c.status());
  }
  sessions_.Remove(CookieOf(req, kCookie));
  res.status = 204;
  res.set_header("Set-Cookie",
                 absl::StrCat(kCookie, "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"));
}

void DashboardRoutes::Samples(const httplib::Request& req, httplib::Response& res) {
  absl::StatusOr<auth::CallCredentials> c = CredentialsOf(req, /*mutation=*/false);
  if (!c.ok()) return AnswerError(res, c.status());
  // Admitted as a ListQueues: read permission, the caller's rate limit.
  v1::ListQueuesRequest probe;
  absl::StatusOr<auth::CallAccess> access = options_.api->gate().Admit(
      *c, auth::FindRule("ratchet.v1.QueueService", "ListQueues"), probe);
  if (!access.ok()) return AnswerError(res, access.status());
  nlohmann::json samples = nlohmann::json::array();
  for (const Sample& s : samples_.Snapshot()) {
    nlohmann::json queues = nlohmann::json::object();
    for (const auto& [name, q] : s.queues) {
      if (!access->Covers(name)) continue;
      queues[name] = {{"completedPerSecond", q.completed_per_second},
                      {"failedPerSecond", q.failed_per_second},
                      {"enqueuedPerSecond", q.enqueued_per_second},
                      {"oldestAvailableAgeSeconds", q.oldest_available_age_seconds}};
    }
    samples.push_back({{"time", Rfc3339(s.time)},
                       {"startLatencyP50Seconds", s.start_latency_p50_seconds},
                       {"startLatencyP99Seconds", s.start_latency_p99_seconds},
                       {"queues", std::move(queues)}});
  }
  nlohmann::json body = {
      {"intervalSeconds", std::chrono::duration<double>(samples_.interval()).count()},
      {"samples", std::move(samples)}};
  res.set_header("Cache-Control", "no-store");
  // Queue names are the engine's ([A-Za-z0-9_.:-]): always valid UTF-8.
  res.set_content(body.dump(), "application/json");
}

void DashboardRoutes::Count(absl::string_view rpc, absl::StatusCode code) {
  if (requests_ == nullptr) return;
  requests_
      ->Add({{"method", rpc.empty() ? std::string("unknown") : absl::StrCat("/", rpc)},
             {"code", absl::StatusCodeToString(code)}})
      .Increment();
}

void DashboardRoutes::Install(httplib::Server& http) {
  http.set_post_routing_handler([](const httplib::Request&, httplib::Response& res) {
    res.set_header("Content-Security-Policy", kContentSecurityPolicy);
    res.set_header("X-Content-Type-Options", "nosniff");
    res.set_header("X-Frame-Options", "DENY");
    res.set_header("Referrer-Policy", "no-referrer");
  });
  http.Post(R"(/v1/([A-Za-z0-9_.]+)/([A-Za-z0-9_]+))", [this](const httplib::Request& req,
                                                              httplib::Response& res) {
    const std::string service = req.matches[1].str(), method = req.matches[2].str();
    absl::StatusOr<auth::CallCredentials> c = CredentialsOf(req, /*mutation=*/true);
    if (!c.ok()) {
      const UnaryMethod* m = options_.api->methods().Find(service, method);
      Count(m == nullptr ? "" : absl::StrCat(m->rpc->service()->full_name(), "/", m->rpc->name()),
            c.status().code());
      return AnswerError(res, c.status());
    }
    JsonAnswer answer = api_.Call(service, method, req.body, *c);
    Count(answer.rpc, answer.code);
    Answer(res, answer);
  });
  http.Post("/ui/session",
            [this](const httplib::Request& req, httplib::Response& res) { SignIn(req, res); });
  http.Get("/ui/session",
           [this](const httplib::Request& req, httplib::Response& res) { WhoAmI(req, res); });
  http.Delete("/ui/session",
              [this](const httplib::Request& req, httplib::Response& res) { SignOut(req, res); });
  http.Get("/ui/samples",
           [this](const httplib::Request& req, httplib::Response& res) { Samples(req, res); });
  http.Get("/", [](const httplib::Request&, httplib::Response& res) { res.set_redirect("/ui/"); });
  http.Get("/ui",
           [](const httplib::Request&, httplib::Response& res) { res.set_redirect("/ui/"); });
  // What the library refuses itself (a POST without Content-Length, a body
  // over the limit) answers a google.rpc.Status too on the API's paths.
  http.set_error_handler([](const httplib::Request& req, httplib::Response& res) {
    if (!res.body.empty() || !absl::StartsWith(req.path, "/v1/")) return;
    const int http_status = res.status;
    absl::Status s =
        http_status == 413   ? InvalidArgument("request", "the body is over the server's limit")
        : http_status == 400 ? InvalidArgument("request",
                                               "malformed HTTP request (send a body, {} for the "
                                               "empty request, with Content-Length)")
        : http_status == 404
            ? absl::NotFoundError("no such route: the API is POST /v1/<Service>/<Method>")
            : absl::UnknownError(absl::StrCat("HTTP ", http_status));
    Answer(res, JsonApi::Error(s));
    res.status = http_status;
  });
  http.Get(R"(/ui/(.*))", [this](const httplib::Request& req, httplib::Response& res) {
    std::string path = req.matches[1].str();
    if (path.empty()) path = "index.html";
    std::optional<StaticFile> f = files_.Get(path);
    if (!f) {
      res.status = 404;
      res.set_content("not found\n", "text/plain; charset=utf-8");
      return;
    }
    res.set_header("Cache-Control", "no-cache");
    res.set_content(std::move(f->body), f->content_type);
  });
}

}  // namespace ratchet::server::http
