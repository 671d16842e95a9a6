// The HTTP/JSON API and the dashboard's routes (api/server/http/): the same
// errors as gRPC for the same requests, sessions, CSRF, the read-only role,
// cross-site checks and the static files.
#include "http/json_api.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "auth/auth_file.h"
#include "http/samples.h"
#include "http_server.h"
#include "ratchet/api/status_codec.h"
#include "server_fixture.h"

namespace ratchet::testing {
namespace {

using nlohmann::json;

constexpr char kAdminToken[] = "admin-token-0123456789";
constexpr char kViewerToken[] = "viewer-token-0123456789";
constexpr char kEmailOpToken[] = "emailop-token-0123456789";

std::string Principal(const std::string& name, const std::string& token, const std::string& role,
                      const std::string& queues = "*") {
  return "[[principal]]\nname = \"" + name + "\"\ntoken_sha256 = [\"" +
         server::auth::Sha256Hex(token) + "\"]\ngrants = [{ role = \"" + role + "\", queues = \"" +
         queues + "\" }]\n";
}

class JsonApiTest : public ServerFixture {
 protected:
  void SetUp() override {
    auth_path_ = dir_.Sub("auth.toml");
    std::ofstream(auth_path_) << Principal("admin", kAdminToken, "admin")
                              << Principal("viewer", kViewerToken, "viewer")
                              << Principal("emailop", kEmailOpToken, "operator", "emails");
    server_options_.auth_file = auth_path_;
    Start();
    auto client = Client::Connect({.target = "127.0.0.1:" + std::to_string(port()),
                                   .deadline = Millis(5000),
                                   .token = kAdminToken});
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = std::move(*client);
    auto http = server::HttpServer::Start(
        server::HttpOptions{.listen = "127.0.0.1:0",
                            .registry = std::make_shared<prometheus::Registry>(),
                            .api = server_->service_context(),
                            .auth_enabled = true});
    ASSERT_TRUE(http.ok()) << http.status();
    http_ = std::move(*http);
  }
  void TearDown() override {
    http_.reset();
    Stop();
  }

  httplib::Client Http() {
    httplib::Client c("127.0.0.1", http_->port());
    c.set_read_timeout(10, 0);
    return c;
  }

  // POSTs `body` to /v1/<path> with `headers`; the HTTP status and JSON.
  std::pair<int, json> Post(const std::string& path, const std::string& body,
                            httplib::Headers headers) {
    auto res = Http().Post("/v1/" + path, headers, body, "application/json");
    if (!res) return {0, json()};
    return {res->status, json::parse(res->body, nullptr, false)};
  }
  std::pair<int, json> AsAdmin(const std::string& path, const std::string& body) {
    return Post(path, body, {{"Authorization", std::string("Bearer ") + kAdminToken}});
  }

  // Signs in with `token`: the cookie header and the CSRF token.
  std::pair<std::string, std::string> SignIn(const std::string& token) {
    auto res = Http().Post("/ui/session", json{{"token", token}}.dump(), "application/json");
    EXPECT_TRUE(res && res->status == 200) << (res ? res->body : "no answer");
    if (!res || res->status != 200) return {};
    std::string cookie = res->get_header_value("Set-Cookie");
    EXPECT_NE(cookie.find("HttpOnly"), std::string::npos);
    EXPECT_NE(cookie.find("SameSite=Strict"), std::string::npos);
    return {cookie.substr(0, cookie.find(';')), json::parse(res->body)["csrfToken"]};
  }

  bool Paused(const std::string& queue) {
    auto q = client().GetQueue(queue);
    return q.ok() && q->settings().paused();
  }

  std::string auth_path_;
  std::unique_ptr<server::HttpServer> http_;
};

// The code, message and reason gRPC gives `status`, as the JSON API must.
void ExpectSameError(const absl::Status& grpc, const std::pair<int, json>& http) {
  ASSERT_FALSE(grpc.ok());
  EXPECT_EQ(http.second["code"], static_cast<int>(grpc.code())) << http.second.dump();
  EXPECT_EQ(http.second["message"], std::string(grpc.message()));
  EXPECT_EQ(http.second["details"][0]["reason"], ReasonOf(grpc)) << http.second.dump();
}

TEST_F(JsonApiTest, ErrorsAreGrpcsWithTheirHttpStatus) {
  // INVALID_ARGUMENT -> 400.
  v1::JobSpec empty_queue;
  empty_queue.set_job_type("t");
  auto http = AsAdmin("JobService/Enqueue", R"({"job":{"jobType":"t"}})");
  EXPECT_EQ(http.first, 400);
  ExpectSameError(client().Enqueue(empty_queue).status(), http);
  // NOT_FOUND -> 404.
  http = AsAdmin("JobService/GetJob", R"({"jobId":"404"})");
  EXPECT_EQ(http.first, 404);
  ExpectSameError(client().GetJob(404).status(), http);
  // FAILED_PRECONDITION/LEASE_LOST -> 400.
  v1::JobSpec enqueue;
  enqueue.set_queue("q");
  enqueue.set_job_type("t");
  ASSERT_TRUE(client().Enqueue(enqueue).ok());
  v1::LeasedJob leased = LeaseOne("q");
  v1::CompleteRequest stale;
  stale.set_job_id(leased.job_id());
  stale.set_fencing_token(leased.fencing_token() + 1);
  http = AsAdmin("WorkerService/Complete",
                 json{{"jobId", std::to_string(leased.job_id())},
                      {"fencingToken", std::to_string(leased.fencing_token() + 1)}}
                     .dump());
  EXPECT_EQ(http.first, 400);
  ExpectSameError(client().Complete(stale), http);
  // UNAUTHENTICATED -> 401; PERMISSION_DENIED -> 403.
  http = Post("QueueService/ListQueues", "{}", {});
  EXPECT_EQ(http.first, 401);
  EXPECT_EQ(http.second["code"], 16);
  http = Post("JobService/Enqueue", R"({"job":{"queue":"q","jobType":"t"}})",
              {{"Authorization", std::string("Bearer ") + kViewerToken}});
  EXPECT_EQ(http.first, 403);
  EXPECT_EQ(http.second["code"], 7);
  EXPECT_EQ(http.second["details"][0]["reason"], "PERMISSION_DENIED");
  // A body that is not the request: 400 naming `request`.
  for (const char* bad : {R"({"jobId":)", R"({"nope":1})", R"({"jobId":"x"})", "[1]"}) {
    http = AsAdmin("JobService/GetJob", bad);
    EXPECT_EQ(http.first, 400) << bad;
    EXPECT_EQ(http.second["code"], 3) << bad;
    EXPECT_EQ(http.second["message"].get<std::string>().rfind("request: ", 0), 0u) << bad;
  }
  // Invalid UTF-8 in a string field is refused before it reaches storage.
  http = AsAdmin("JobService/Enqueue", "{\"job\":{\"queue\":\"q\",\"jobType\":\"\xff\"}}");
  EXPECT_EQ(http.first, 400);
  EXPECT_EQ(http.second["code"], 3) << "the answer is not valid JSON (UTF-8)";
  // No such RPC, and the stream (not served over HTTP): 404.
  EXPECT_EQ(AsAdmin("JobService/Nope", "{}").first, 404);
  EXPECT_EQ(AsAdmin("WorkerService/WorkStream", "{}").first, 404);
}

TEST_F(JsonApiTest, CallsAreCountedByMethodAndCode) {
  auto registry = std::make_shared<prometheus::Registry>();
  auto counted = server::HttpServer::Start(server::HttpOptions{.listen = "127.0.0.1:0",
                                                               .registry = registry,
                                                               .api = server_->service_context(),
                                                               .auth_enabled = true});
  ASSERT_TRUE(counted.ok());
  httplib::Client c("127.0.0.1", (*counted)->port());
  const httplib::Headers admin = {{"Authorization", std::string("Bearer ") + kAdminToken}};
  ASSERT_TRUE(c.Post("/v1/QueueService/ListQueues", admin, "{}", "application/json"));
  ASSERT_TRUE(c.Post("/v1/JobService/GetJob", admin, R"({"jobId":"9"})", "application/json"));
  ASSERT_TRUE(c.Post("/v1/JobService/GetJob", "{}", "application/json"));  // no credentials
  std::map<std::string, double> seen;
  for (const auto& f : registry->Collect()) {
    if (f.name != "ratchet_http_requests_total") continue;
    for (const auto& m : f.metric) {
      std::string key;
      for (const auto& l : m.label) key += l.name + "=" + l.value + ",";
      seen[key] = m.counter.value;
    }
  }
  EXPECT_EQ((seen["code=OK,method=/ratchet.v1.QueueService/ListQueues,"]), 1);
  EXPECT_EQ((seen["code=NOT_FOUND,method=/ratchet.v1.JobService/GetJob,"]), 1);
  EXPECT_EQ((seen["code=UNAUTHENTICATED,method=/ratchet.v1.JobService/GetJob,"]), 1);
}

TEST_F(JsonApiTest, AnswersAreProto3Json) {
  auto http = AsAdmin("ratchet.v1.JobService/Enqueue",
                      R"({"job":{"queue":"q","job_type":"t","payload":"aGk="}})");
  ASSERT_EQ(http.first, 200) << http.second.dump();
  const std::string id = http.second["jobId"];
  http = AsAdmin("JobService/GetJob", json{{"jobId", id}}.dump());
  ASSERT_EQ(http.first, 200);
  EXPECT_EQ(http.second["payload"], "aGk=");
  EXPECT_EQ(http.second["state"], "JOB_STATE_AVAILABLE");
  EXPECT_EQ(http.second["attempts"], 0);  // defaults are printed
}

TEST_F(JsonApiTest, ACookieMutationNeedsTheCsrfTokenAndChangesNothingWithout) {
  auto [cookie, csrf] = SignIn(kAdminToken);
  ASSERT_FALSE(cookie.empty());
  const std::string body = R"({"queue":"q"})";
  for (const std::string& token : {std::string(), std::string(64, '0')}) {
    httplib::Headers h = {{"Cookie", cookie}};
    if (!token.empty()) h.emplace("X-CSRF-Token", token);
    auto http = Post("QueueService/PauseQueue", body, h);
    EXPECT_EQ(http.first, 403) << http.second.dump();
    EXPECT_EQ(http.second["details"][0]["reason"], "CSRF_TOKEN_MISMATCH");
  }
  EXPECT_FALSE(Paused("q"));
  auto http = Post("QueueService/PauseQueue", body, {{"Cookie", cookie}, {"X-CSRF-Token", csrf}});
  EXPECT_EQ(http.first, 200) << http.second.dump();
  EXPECT_TRUE(Paused("q"));
  // A form post (not JSON) is refused even with the token.
  auto form =
      Http().Post("/v1/QueueService/ResumeQueue", {{"Cookie", cookie}, {"X-CSRF-Token", csrf}},
                  "queue=q", "application/x-www-form-urlencoded");
  ASSERT_TRUE(form);
  EXPECT_EQ(form->status, 400);
  EXPECT_TRUE(Paused("q"));
  // Another site's origin is refused.
  http = Post("QueueService/ResumeQueue", body,
              {{"Cookie", cookie}, {"X-CSRF-Token", csrf}, {"Origin", "http://evil.example"}});
  EXPECT_EQ(http.first, 403);
  EXPECT_TRUE(Paused("q"));
}

TEST_F(JsonApiTest, TheViewerReadsAndCannotMutate) {
  auto [cookie, csrf] = SignIn(kViewerToken);
  auto who = Http().Get("/ui/session", {{"Cookie", cookie}});
  ASSERT_TRUE(who && who->status == 200);
  EXPECT_EQ(json::parse(who->body)["permissions"], json::array({"read"}));
  httplib::Headers h = {{"Cookie", cookie}, {"X-CSRF-Token", csrf}};
  EXPECT_EQ(Post("QueueService/ListQueues", "{}", h).first, 200);
  auto http = Post("QueueService/PauseQueue", R"({"queue":"q"})", h);
  EXPECT_EQ(http.first, 403);
  EXPECT_EQ(http.second["code"], 7);
  EXPECT_FALSE(Paused("q"));
}

TEST_F(JsonApiTest, SignInRefusesBadTokensAndSessionsEndWhenTheTokenIsRemoved) {
  auto bad = Http().Post("/ui/session", R"({"token":"wrong"})", "application/json");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->status, 401);
  EXPECT_EQ(bad->body.find("wrong"), std::string::npos) << "echoes the token";
  auto [cookie, csrf] = SignIn(kViewerToken);
  ASSERT_EQ(Http().Get("/ui/session", {{"Cookie", cookie}})->status, 200);
  std::ofstream(auth_path_, std::ios::trunc) << Principal("admin", kAdminToken, "admin");
  ASSERT_TRUE(server_->ReloadAuth().ok());
  EXPECT_EQ(Http().Get("/ui/session", {{"Cookie", cookie}})->status, 401);
  auto http = Post("QueueService/ListQueues", "{}", {{"Cookie", cookie}, {"X-CSRF-Token", csrf}});
  EXPECT_EQ(http.first, 401);
  // Signing out ends the session.
  auto [admin_cookie, admin_csrf] = SignIn(kAdminToken);
  auto out = Http().Delete("/ui/session", {{"Cookie", admin_cookie}, {"X-CSRF-Token", admin_csrf}});
  ASSERT_TRUE(out);
  EXPECT_EQ(out->status, 204);
  EXPECT_EQ(Http().Get("/ui/session", {{"Cookie", admin_cookie}})->status, 401);
}

TEST_F(JsonApiTest, TheDashboardIsServedWithAStrictPolicy) {
  auto index = Http().Get("/ui/");
  ASSERT_TRUE(index);
  EXPECT_EQ(index->status, 200);
  EXPECT_NE(index->body.find("<html"), std::string::npos);
  const std::string csp = index->get_header_value("Content-Security-Policy");
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos);
  EXPECT_EQ(index->get_header_value("X-Content-Type-Options"), "nosniff");
  EXPECT_EQ(index->get_header_value("X-Frame-Options"), "DENY");
  auto app = Http().Get("/ui/app.js");
  ASSERT_TRUE(app);
  EXPECT_EQ(app->status, 200);
  EXPECT_EQ(app->get_header_value("Content-Type"), "text/javascript; charset=utf-8");
  for (const char* bad : {"/ui/../CMakeLists.txt", "/ui/%2e%2e/%2e%2e/etc/passwd", "/ui/nope.js"}) {
    auto res = Http().Get(bad);
    ASSERT_TRUE(res) << bad;
    EXPECT_EQ(res->status, 404) << bad;
  }
  EXPECT_EQ(Http().Get("/")->status, 302);
}

TEST_F(JsonApiTest, HostileRequestsAreRefusedCheaply) {
  // A bearer token does not skip the cross-site checks: without an auth
  // file (this listener believes so), a rebound Host is refused.
  auto open = server::HttpServer::Start(
      server::HttpOptions{.listen = "127.0.0.1:0",
                          .registry = std::make_shared<prometheus::Registry>(),
                          .api = server_->service_context(),
                          .auth_enabled = false});
  ASSERT_TRUE(open.ok());
  httplib::Client rebound("127.0.0.1", (*open)->port());
  auto res = rebound.Post(
      "/v1/QueueService/PauseQueue",
      {{"Authorization", std::string("Bearer ") + kAdminToken}, {"Host", "attacker.example:7071"}},
      R"({"queue":"q"})", "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 403) << res->body;
  EXPECT_FALSE(Paused("q"));
  // Only bearer credentials: a browser's Basic header is refused.
  auto http = Post("QueueService/ListQueues", "{}", {{"Authorization", "Basic YTpi"}});
  EXPECT_EQ(http.first, 401);
  // Deep nesting is refused before the parser sees it, and an
  // unauthenticated body is not parsed at all.
  const std::string deep = std::string(100000, '[') + std::string(100000, ']');
  http = AsAdmin("JobService/Enqueue", R"({"job":)" + deep + "}");
  EXPECT_EQ(http.first, 400);
  EXPECT_NE(http.second["message"].get<std::string>().find("nests deeper"), std::string::npos);
  EXPECT_EQ(Post("JobService/Enqueue", deep, {}).first, 401);
  // A bodyless POST (no Content-Length) still answers a google.rpc.Status.
  httplib::Client raw("127.0.0.1", http_->port());
  auto bodyless = raw.Post("/v1/QueueService/ListQueues");
  ASSERT_TRUE(bodyless);
  EXPECT_GE(bodyless->status, 400);
  EXPECT_TRUE(json::parse(bodyless->body, nullptr, false).contains("code")) << bodyless->body;
}

TEST_F(JsonApiTest, AStaleCookieDoesNotBlockSigningInOrOut) {
  const std::string stale = "ratchet_session=" + std::string(64, 'a');
  auto res = Http().Post("/ui/session", {{"Cookie", stale}}, json{{"token", kAdminToken}}.dump(),
                         "application/json");
  ASSERT_TRUE(res);
  EXPECT_EQ(res->status, 200) << res->body;
  auto out = Http().Delete("/ui/session", {{"Cookie", stale}});
  ASSERT_TRUE(out);
  EXPECT_EQ(out->status, 204);
  EXPECT_NE(out->get_header_value("Set-Cookie").find("Max-Age=0"), std::string::npos);
}

// Cancelling a workflow's job fails the workflow and cancels its other
// steps: it needs manage on every queue of the workflow, as CancelWorkflow.
TEST_F(JsonApiTest, CancellingAWorkflowsJobNeedsManageOnAllItsQueues) {
  v1::SubmitWorkflowRequest wf;
  wf.set_name("two-queues");
  wf.set_queue("emails");
  wf.add_steps()->set_name("mail");
  wf.mutable_steps(0)->set_job_type("t");
  wf.add_steps()->set_name("charge");
  wf.mutable_steps(1)->set_job_type("t");
  wf.mutable_steps(1)->mutable_options()->set_queue("billing");
  auto submitted = client().SubmitWorkflow(wf);
  ASSERT_TRUE(submitted.ok()) << submitted.status();
  auto got = client().GetWorkflow(submitted->workflow_id());
  ASSERT_TRUE(got.ok());
  const uint64_t mail_job = got->steps(0).job_id();
  ASSERT_NE(mail_job, 0u);
  auto http = Post("JobService/CancelJob", json{{"jobId", std::to_string(mail_job)}}.dump(),
                   {{"Authorization", std::string("Bearer ") + kEmailOpToken}});
  EXPECT_EQ(http.first, 403) << http.second.dump();
  EXPECT_EQ(client().GetWorkflow(submitted->workflow_id())->state(), v1::WORKFLOW_RUNNING);
  // A job of its own queue outside any workflow it may cancel.
  v1::JobSpec own;
  own.set_queue("emails");
  own.set_job_type("t");
  auto enq = client().Enqueue(own);
  ASSERT_TRUE(enq.ok());
  http = Post("JobService/CancelJob", json{{"jobId", std::to_string(enq->job_id())}}.dump(),
              {{"Authorization", std::string("Bearer ") + kEmailOpToken}});
  EXPECT_EQ(http.first, 200) << http.second.dump();
}

TEST(NestingDepthTest, CountsBracketsOutsideStrings) {
  EXPECT_EQ(server::http::NestingDepth("{}"), 1);
  EXPECT_EQ(server::http::NestingDepth(R"({"a":[{"b":"[[[["}]})"), 3);
  EXPECT_EQ(server::http::NestingDepth(R"({"a":"\"[[["})"), 1);
}

TEST(BucketQuantileTest, InterpolatesWithinTheBucketAsPrometheusDoes) {
  const double inf = std::numeric_limits<double>::infinity();
  // 10 observations in (0, 1], 10 in (1, 2]: the median is the top of the
  // first bucket; p75 is halfway through the second.
  EXPECT_DOUBLE_EQ(server::http::BucketQuantile(0.5, {1, 2, inf}, {10, 20, 20}), 1.0);
  EXPECT_DOUBLE_EQ(server::http::BucketQuantile(0.75, {1, 2, inf}, {10, 20, 20}), 1.5);
  // In the +Inf bucket: the largest finite bound.
  EXPECT_DOUBLE_EQ(server::http::BucketQuantile(0.99, {1, 2, inf}, {0, 0, 5}), 2.0);
  EXPECT_DOUBLE_EQ(server::http::BucketQuantile(0.5, {1, 2, inf}, {0, 0, 0}), 0.0);
}

}  // namespace
}  // namespace ratchet::testing
