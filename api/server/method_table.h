// MethodTable: every unary RPC of the ratchet.v1 services, callable without
// gRPC. Each service registers its methods as it is built (ParseGuarded::
// GuardParse), so the HTTP/JSON API (http/json_api.h) and in-process
// harnesses run exactly the methods gRPC runs, after the same gate.
//
// Thread safety: filled while the services are built, before anything
// serves; read-only (and safe from any thread) afterwards.
#ifndef RATCHET_API_SERVER_METHOD_TABLE_H_
#define RATCHET_API_SERVER_METHOD_TABLE_H_

#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "auth/method_rules.h"
#include "call_info.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"

namespace ratchet::server {

struct UnaryMethod {
  const google::protobuf::MethodDescriptor* rpc = nullptr;
  // The gate's rule for the RPC (null: none; the gate refuses the call).
  const auth::MethodRule* rule = nullptr;
  // A new empty request and response of the RPC's types.
  std::function<std::unique_ptr<google::protobuf::Message>()> new_request, new_response;
  // Runs the method for a call the gate admitted (`info.access`).
  // `info.finish` must be set: it is called exactly once with the outcome,
  // after the response is written; `request` and `response` (of the RPC's
  // types) must stay alive until then.
  std::function<void(const CallInfo& info, const google::protobuf::Message& request,
                     google::protobuf::Message* response)>
      run;
};

class MethodTable {
 public:
  void Add(UnaryMethod method) {
    std::string key = absl::StrCat(method.rpc->service()->full_name(), "/", method.rpc->name());
    by_name_.insert_or_assign(std::move(key), std::move(method));
  }

  // The method `name` of `service`, which is a full name
  // ("ratchet.v1.JobService") or one in package ratchet.v1 ("JobService").
  // Null when there is none.
  const UnaryMethod* Find(absl::string_view service, absl::string_view name) const {
    auto it = by_name_.find(absl::StrCat(service, "/", name));
    if (it == by_name_.end()) it = by_name_.find(absl::StrCat("ratchet.v1.", service, "/", name));
    return it == by_name_.end() ? nullptr : &it->second;
  }

  // Every method, ordered by "service/method".
  std::vector<const UnaryMethod*> All() const {
    std::vector<const UnaryMethod*> out;
    out.reserve(by_name_.size());
    for (const auto& [key, m] : by_name_) out.push_back(&m);
    return out;
  }

 private:
  std::map<std::string, UnaryMethod, std::less<>> by_name_;
};

}  // namespace ratchet::server

#endif  // RATCHET_API_SERVER_METHOD_TABLE_H_
