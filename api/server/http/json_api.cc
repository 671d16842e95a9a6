#include "json_api.h"

#include <algorithm>
#include <future>
#include <memory>

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "google/rpc/status.pb.h"
#include "http_status.h"
#include "ratchet/api/status_codec.h"
#include "ratchet/base/status.h"

namespace ratchet::server::http {

namespace {

std::string ToJson(const google::protobuf::Message& m) {
  google::protobuf::util::JsonPrintOptions options;
  options.always_print_primitive_fields = true;
  std::string out;
  if (!google::protobuf::util::MessageToJsonString(m, &out, options).ok()) {
    // Only a message with an unresolvable Any gets here; ours have none.
    return R"({"code":13,"message":"the answer could not be written as JSON"})";
  }
  return out;
}

// Caps a Duration field named `wait` (LeaseRequest, CompleteAndLease's
// lease) at kMaxWaitSeconds, at any depth of the request.
void CapWait(google::protobuf::Message* m, int depth = 0) {
  if (depth > 4) return;
  const google::protobuf::Descriptor* d = m->GetDescriptor();
  const google::protobuf::Reflection* r = m->GetReflection();
  for (int i = 0; i < d->field_count(); ++i) {
    const google::protobuf::FieldDescriptor* f = d->field(i);
    if (f->cpp_type() != google::protobuf::FieldDescriptor::CPPTYPE_MESSAGE || f->is_repeated() ||
        !r->HasField(*m, f)) {
      continue;
    }
    google::protobuf::Message* sub = r->MutableMessage(m, f);
    if (f->name() == "wait" && f->message_type()->full_name() == "google.protobuf.Duration") {
      auto* seconds = sub->GetDescriptor()->FindFieldByName("seconds");
      auto* nanos = sub->GetDescriptor()->FindFieldByName("nanos");
      const google::protobuf::Reflection* sr = sub->GetReflection();
      if (sr->GetInt64(*sub, seconds) >= JsonApi::kMaxWaitSeconds) {
        sr->SetInt64(sub, seconds, JsonApi::kMaxWaitSeconds);
        sr->SetInt32(sub, nanos, 0);
      }
    } else {
      CapWait(sub, depth + 1);
    }
  }
}

}  // namespace

int NestingDepth(absl::string_view json) {
  int depth = 0, deepest = 0;
  bool in_string = false, escaped = false;
  for (char c : json) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      deepest = std::max(deepest, ++depth);
    } else if (c == ']' || c == '}') {
      --depth;
    }
  }
  return deepest;
}

JsonAnswer JsonApi::Error(const absl::Status& status) {
  return JsonAnswer{HttpStatusOf(status.code()), ToJson(ToRpcStatus(status)), status.code()};
}

JsonAnswer JsonApi::Error(const grpc::Status& status) {
  google::rpc::Status rpc;
  if (status.error_details().empty() || !rpc.ParseFromString(status.error_details())) {
    rpc.set_code(status.error_code());
    rpc.set_message(status.error_message());
  }
  const auto code = static_cast<absl::StatusCode>(status.error_code());
  return JsonAnswer{HttpStatusOf(code), ToJson(rpc), code};
}

JsonAnswer JsonApi::Call(absl::string_view service, absl::string_view method,
                         absl::string_view body, const auth::CallCredentials& credentials) const {
  std::string rpc;
  JsonAnswer answer = CallMethod(service, method, body, credentials, &rpc);
  answer.rpc = std::move(rpc);
  return answer;
}

JsonAnswer JsonApi::CallMethod(absl::string_view service, absl::string_view method,
                               absl::string_view body, const auth::CallCredentials& credentials,
                               std::string* rpc) const {
  const UnaryMethod* m = methods_->Find(service, method);
  if (m != nullptr) *rpc = absl::StrCat(m->rpc->service()->full_name(), "/", m->rpc->name());
  if (m == nullptr) {
    return Error(WithReason(
        absl::NotFoundError(absl::StrCat("no unary RPC ", service, "/", method,
                                         " in ratchet.v1 (docs/api.md, \"HTTP/JSON API\")")),
        kReasonNotFound));
  }
  // Who calls first, so that an unauthenticated caller costs no parse; the
  // gate then admits that caller for the request.
  absl::StatusOr<std::shared_ptr<const auth::Caller>> caller = gate_->Authenticate(credentials);
  if (!caller.ok()) return Error(caller.status());
  if (NestingDepth(body) > kMaxNesting) {
    return Error(InvalidArgument(
        "request", absl::StrCat("the body nests deeper than ", kMaxNesting, " levels")));
  }
  std::unique_ptr<google::protobuf::Message> request = m->new_request();
  google::protobuf::util::JsonParseOptions parse;
  parse.ignore_unknown_fields = false;
  const std::string json = body.empty() ? std::string("{}") : std::string(body);
  auto parsed = google::protobuf::util::JsonStringToMessage(json, request.get(), parse);
  if (!parsed.ok()) {
    // The parser's first line says what is wrong; the next lines quote the
    // body, which may be anything (invalid UTF-8 included): not echoed.
    std::string why(parsed.message().substr(0, parsed.message().find('\n')));
    for (char& c : why) {
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
    }
    return Error(InvalidArgument(
        "request", absl::StrCat("the body is not a ", m->rpc->input_type()->full_name(),
                                " in proto3 JSON: ", why)));
  }
  CapWait(request.get());
  absl::StatusOr<auth::CallAccess> access =
      gate_->Admit(*std::move(caller), credentials, m->rule, *request);
  if (!access.ok()) return Error(access.status());

  std::unique_ptr<google::protobuf::Message> response = m->new_response();
  auto done = std::make_shared<std::promise<grpc::Status>>();
  std::future<grpc::Status> outcome = done->get_future();
  m->run(CallInfo{.access = *std::move(access),
                  .traceparent = credentials.traceparent,
                  .finish = [done](const grpc::Status& s) { done->set_value(s); }},
         *request, response.get());
  // The call's server-side deadline (CallDeadlines) bounds this wait.
  grpc::Status status = outcome.get();
  if (!status.ok()) return Error(status);
  return JsonAnswer{200, ToJson(*response)};
}

}  // namespace ratchet::server::http
