#include "gate.h"

#include <spdlog/spdlog.h>

#include <cctype>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "denial_log.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/security/auth_context.h"
#include "grpcpp/server_context.h"
#include "ratchet/base/status.h"
#include "ratchet/base/traceparent.h"
#include "trace_context.h"

namespace ratchet::server::auth {
namespace {

constexpr int kMaxDepth = 8;

// A non-empty string field called `queue` and its path in the request
// ("job.queue", "jobs[2].queue", "steps[0].options.queue").
struct NamedQueue {
  std::string path, name;
};

// Every non-empty string field called `queue` in `m`, at any depth.
void CollectQueues(const google::protobuf::Message& m, const std::string& prefix, int depth,
                   std::vector<NamedQueue>* out) {
  if (depth > kMaxDepth) return;
  const google::protobuf::Reflection* r = m.GetReflection();
  std::vector<const google::protobuf::FieldDescriptor*> fields;
  r->ListFields(m, &fields);
  for (const google::protobuf::FieldDescriptor* f : fields) {
    using FD = google::protobuf::FieldDescriptor;
    const std::string path = prefix + f->name();
    if (f->cpp_type() == FD::CPPTYPE_STRING && !f->is_repeated() && f->name() == "queue") {
      std::string q = r->GetString(m, f);
      if (!q.empty()) out->push_back({path, std::move(q)});
    } else if (f->cpp_type() == FD::CPPTYPE_MESSAGE && f->is_repeated()) {
      for (int i = 0; i < r->FieldSize(m, f); ++i) {
        CollectQueues(r->GetRepeatedMessage(m, f, i), absl::StrCat(path, "[", i, "]."), depth + 1,
                      out);
      }
    } else if (f->cpp_type() == FD::CPPTYPE_MESSAGE) {
      CollectQueues(r->GetMessage(m, f), path + ".", depth + 1, out);
    }
  }
}

std::string RpcName(const MethodRule& rule) {
  absl::string_view service = rule.service.substr(rule.service.rfind('.') + 1);
  return absl::StrCat(service, ".", rule.method);
}

// The refusal; `queue_text` says where ("on queue 'x'"). Logged (unless
// `log` is false) with `logged_queue`, which the answer may not name.
absl::Status Denied(const std::string& principal, const MethodRule* rule,
                    absl::string_view queue_text, absl::string_view logged_queue = "",
                    bool log = true) {
  const std::string rpc = rule ? RpcName(*rule) : "this RPC";
  std::string what =
      rule ? absl::StrCat("permission '", PermissionName(rule->permission), "' ", queue_text)
           : std::string("a rule (the RPC has none: refused to everyone)");
  std::optional<int64_t> suppressed;
  if (log) suppressed = DenialLog::Instance().Admit(principal, std::chrono::steady_clock::now());
  if (suppressed) {
    spdlog::warn("event=access_denied principal={:?} rpc={} permission={} queue={:?} suppressed={}",
                 principal, rpc, rule ? std::string(PermissionName(rule->permission)) : "none",
                 std::string(logged_queue), *suppressed);
  }
  return WithReason(absl::PermissionDeniedError(
                        absl::StrCat("principal '", principal, "' lacks ", what, " needed by ", rpc,
                                     " (docs/operations.md, \"Authorization\")")),
                    kReasonPermissionDenied);
}

// A queue name as the engine accepts them (1..128 bytes of
// [A-Za-z0-9_.:-]): checked before a name reaches a log line or an answer.
absl::Status ValidQueueName(const std::string& path, absl::string_view q) {
  constexpr size_t kMaxQueueBytes = 128;
  bool ok = !q.empty() && q.size() <= kMaxQueueBytes;
  for (char c : q) {
    ok = ok && (std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == ':' ||
                c == '-');
  }
  if (ok) return absl::OkStatus();
  return InvalidArgument(path, "must be 1..128 bytes of [A-Za-z0-9_.:-]");
}

// The ids a request names (job_id, workflow_id, schedule id), for the
// audit log.
std::string RequestIds(const google::protobuf::Message& m) {
  const google::protobuf::Reflection* r = m.GetReflection();
  const google::protobuf::Descriptor* d = m.GetDescriptor();
  std::string out;
  for (const char* name : {"job_id", "workflow_id", "id"}) {
    const google::protobuf::FieldDescriptor* f = d->FindFieldByName(name);
    if (f == nullptr || f->is_repeated()) continue;
    using FD = google::protobuf::FieldDescriptor;
    if (f->cpp_type() == FD::CPPTYPE_UINT64 && r->GetUInt64(m, f) != 0) {
      absl::StrAppend(&out, out.empty() ? "" : ",", name, "=", r->GetUInt64(m, f));
    } else if (f->cpp_type() == FD::CPPTYPE_STRING && !r->GetString(m, f).empty()) {
      std::string v = r->GetString(m, f).substr(0, 256);
      absl::StrAppend(&out, out.empty() ? "" : ",", name, "=", v);
    }
  }
  return out;
}

std::optional<absl::string_view> Authorization(const grpc::CallbackServerContext& context) {
  const auto& md = context.client_metadata();
  auto it = md.find("authorization");
  if (it == md.end()) return std::nullopt;
  return absl::string_view(it->second.data(), it->second.size());
}

std::vector<std::string> CertificateNames(const grpc::CallbackServerContext& context) {
  std::vector<std::string> names;
  std::shared_ptr<const grpc::AuthContext> auth = context.auth_context();
  if (auth == nullptr || !auth->IsPeerAuthenticated()) return names;
  for (const char* property : {"x509_common_name", "x509_subject_alternative_name"}) {
    for (const grpc::string_ref& v : auth->FindPropertyValues(property)) {
      names.emplace_back(v.data(), v.size());
    }
  }
  return names;
}

class AccessGuard final : public QueueGuard {
 public:
  explicit AccessGuard(CallAccess access) : access_(std::move(access)) {}
  absl::Status Check(std::string_view queue) const override {
    // On the engine's sequencer: no logging here (the handler logs).
    return access_.CheckLookedUp(absl::string_view(queue.data(), queue.size()), /*log=*/false);
  }

 private:
  const CallAccess access_;
};

}  // namespace

const std::string& CallAccess::principal() const {
  static const std::string kNobody = "(unauthenticated)";
  return caller_ ? caller_->principal.name : kNobody;
}

bool CallAccess::unrestricted() const {
  return caller_ && rule_ && caller_->principal.AllowsEverywhere(rule_->permission);
}

bool CallAccess::Covers(absl::string_view queue) const {
  return caller_ && rule_ && caller_->principal.Allows(rule_->permission, queue);
}

absl::Status CallAccess::Check(absl::string_view queue) const {
  if (Covers(queue)) return absl::OkStatus();
  return Denied(principal(), rule_, absl::StrCat("on queue '", queue, "'"), queue);
}

absl::Status CallAccess::CheckLookedUp(absl::string_view queue, bool log) const {
  if (Covers(queue)) return absl::OkStatus();
  return Denied(principal(), rule_, "on the queue of what the request names", queue, log);
}

std::shared_ptr<const QueueGuard> CallAccess::Guard() const {
  if (unrestricted()) return nullptr;
  return std::make_shared<AccessGuard>(*this);
}

absl::StatusOr<CallAccess> Gate::Admit(const grpc::CallbackServerContext& context,
                                       const MethodRule* rule,
                                       const google::protobuf::Message& request) const {
  CallCredentials credentials;
  if (std::optional<absl::string_view> bearer = Authorization(context)) {
    credentials.authorization = std::string(*bearer);
  } else if (authenticator_->enabled()) {
    credentials.certificate_names = CertificateNames(context);
  }
  credentials.peer = context.peer();
  credentials.traceparent = TraceparentOf(context);
  return Admit(credentials, rule, request);
}

absl::StatusOr<std::shared_ptr<const Caller>> Gate::Authenticate(
    const CallCredentials& credentials) const {
  std::optional<absl::string_view> bearer;
  if (credentials.authorization) bearer = *credentials.authorization;
  absl::StatusOr<std::shared_ptr<const Caller>> caller =
      authenticator_->Authenticate(bearer, credentials.certificate_names);
  if (!caller.ok()) return WithReason(caller.status(), kReasonUnauthenticated);
  return caller;
}

absl::StatusOr<CallAccess> Gate::Admit(const CallCredentials& credentials, const MethodRule* rule,
                                       const google::protobuf::Message& request) const {
  absl::StatusOr<std::shared_ptr<const Caller>> caller = Authenticate(credentials);
  if (!caller.ok()) {
    spdlog::debug("event=unauthenticated rpc={} peer={}", rule ? RpcName(*rule) : "?",
                  credentials.peer);
    return caller.status();
  }
  return Admit(*std::move(caller), credentials, rule, request);
}

absl::StatusOr<CallAccess> Gate::Admit(std::shared_ptr<const Caller> caller,
                                       const CallCredentials& credentials, const MethodRule* rule,
                                       const google::protobuf::Message& request) const {
  const Principal& who = caller->principal;
  if (auto wait = caller->bucket.Take(std::chrono::steady_clock::now())) {
    return WithRetryDelay(WithReason(absl::ResourceExhaustedError(absl::StrCat(
                                         "principal '", who.name, "' is over its rate limit of ",
                                         who.requests_per_second, " requests per second; retry in ",
                                         wait->count(), " ms")),
                                     kReasonRateLimited),
                          *wait);
  }
  if (rule == nullptr) return Denied(who.name, nullptr, "");
  CallAccess access(caller, rule);
  if (!who.AllowsAnywhere(rule->permission)) return Denied(who.name, rule, "on any queue");
  const bool audit =
      rule->permission == Permission::kManage || rule->permission == Permission::kAdmin;
  std::vector<NamedQueue> named;
  if (rule->resource != Resource::kListing && (audit || !access.unrestricted())) {
    CollectQueues(request, "", 0, &named);
  }
  std::vector<std::string> queues;
  for (const NamedQueue& q : named) {
    RATCHET_RETURN_IF_ERROR(ValidQueueName(q.path, q.name));
    queues.push_back(q.name);
  }
  if (!access.unrestricted()) {
    if (rule->resource == Resource::kServer) return Denied(who.name, rule, "on every queue ('*')");
    for (const std::string& q : queues) RATCHET_RETURN_IF_ERROR(access.Check(q));
    if (rule->resource == Resource::kQueues && queues.empty()) {
      return Denied(who.name, rule, "on every queue ('*'): the request names no queue");
    }
  }
  if (audit) {
    spdlog::info("event=audit principal={:?} rpc={} queues={:?} ids={:?} peer={:?} trace_id={}",
                 who.name, RpcName(*rule), absl::StrJoin(queues, ","), RequestIds(request),
                 credentials.peer, TraceIdOf(credentials.traceparent));
  }
  return access;
}

}  // namespace ratchet::server::auth
