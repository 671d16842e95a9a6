// ParseGuarded: a request body that does not parse answers INVALID_ARGUMENT,
// and every request passes the auth gate (auth/gate.h) before its method.
//
// gRPC C++ 1.51's callback API answers a unary request it cannot deserialize
// (garbage bytes, or a proto3 `string` field that is not valid UTF-8) with
// UNIMPLEMENTED and an empty message (CallbackUnaryHandler::RunHandler in
// grpcpp/impl/codegen/server_callback_handlers.h), which a client reads as
// "this method does not exist". A service derives from
// ParseGuarded<v1::XService> and calls GuardParse once per method in its
// constructor: that replaces the generated handler with one that keeps the
// parse outcome in the call's message holder (a MessageAllocator), tells
// gRPC the parse succeeded, and then finishes the call with
// INVALID_ARGUMENT/INVALID_ARGUMENT instead of calling the method. Interceptors
// and SerializationTraits cannot do this: the callback handler discards the
// deserialization status before any user code runs.
//
// Thread safety: handlers are installed before the server starts; a handler
// keeps no per-call state of its own (that lives in the holder), so it is
// safe for concurrent calls.
#ifndef RATCHET_API_SERVER_PARSE_GUARD_H_
#define RATCHET_API_SERVER_PARSE_GUARD_H_

#include <cstdlib>
#include <functional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "auth/gate.h"
#include "call_info.h"
#include "google/protobuf/descriptor.h"
#include "grpcpp/impl/codegen/server_callback_handlers.h"
#include "grpcpp/support/message_allocator.h"
#include "grpcpp/support/server_callback.h"
#include "method_table.h"
#include "trace_context.h"

namespace ratchet::server {

// The status a request that does not parse as `message_type` gets:
// INVALID_ARGUMENT, reason INVALID_ARGUMENT, naming the field `request`.
absl::Status RequestDidNotParse(const std::string& message_type);

namespace internal {

// ToGrpcStatus(RequestDidNotParse(message_type)).
grpc::Status RequestDidNotParseGrpc(const std::string& message_type);
// ToGrpcStatus(status), for the gate's refusals.
grpc::Status ToGrpcStatusForGate(const absl::Status& status);
// The access of a call that did not come through a guarded handler (a
// method called directly, as the fuzz harness does): refuses everything,
// unless AllowUngatedCallsForTesting() was called.
const auth::CallAccess& UngatedAccess();

// One call's request and response, plus whether the request parsed.
template <class Req, class Resp>
class GuardedHolder final : public grpc::MessageHolder<Req, Resp> {
 public:
  GuardedHolder() {
    this->set_request(&request_);
    this->set_response(&response_);
  }
  void Release() override { delete this; }

  bool parse_failed = false;

 private:
  Req request_;
  Resp response_;
};

// Answers INVALID_ARGUMENT (instead of gRPC's UNIMPLEMENTED) for a body that
// does not parse; otherwise runs the method as the generated handler does.
template <class Req, class Resp>
class ParseGuardedHandler final : public grpc::internal::MethodHandler,
                                  private grpc::MessageAllocator<Req, Resp> {
 public:
  using Method = std::function<grpc::ServerUnaryReactor*(const CallInfo&, const Req*, Resp*)>;

  // `gate` (not owned) must outlive the server; `rule` may be null (an RPC
  // without a rule: the gate refuses it).
  ParseGuardedHandler(Method method, const auth::Gate* gate, const auth::MethodRule* rule)
      : inner_([method = std::move(method), gate, rule](grpc::CallbackServerContext* ctx,
                                                        const Req* req,
                                                        Resp* resp) -> grpc::ServerUnaryReactor* {
          auto* holder = static_cast<GuardedHolder<Req, Resp>*>(ctx->GetRpcAllocatorState());
          grpc::Status refused;
          if (holder->parse_failed) {
            refused = RequestDidNotParseGrpc(Req::descriptor()->full_name());
          } else {
            absl::StatusOr<auth::CallAccess> access = gate->Admit(*ctx, rule, *req);
            if (access.ok()) {
              return method(CallInfo{.access = *std::move(access),
                                     .traceparent = TraceparentOf(*ctx),
                                     .deadline = ctx->deadline()},
                            req, resp);
            }
            refused = ToGrpcStatusForGate(access.status());
          }
          grpc::ServerUnaryReactor* reactor = ctx->DefaultReactor();
          reactor->Finish(refused);
          return reactor;
        }) {
    inner_.SetMessageAllocator(this);
  }

  void RunHandler(const HandlerParameter& param) override { inner_.RunHandler(param); }

  void* Deserialize(grpc_call* call, grpc_byte_buffer* req, grpc::Status* status,
                    void** handler_data) override {
    void* request = inner_.Deserialize(call, req, status, handler_data);
    if (status->ok()) return request;
    auto* holder = static_cast<GuardedHolder<Req, Resp>*>(*handler_data);
    holder->parse_failed = true;
    *status = grpc::Status::OK;  // so that RunHandler reaches our reactor
    return holder->request();
  }

 private:
  grpc::MessageHolder<Req, Resp>* AllocateMessages() override {
    return new GuardedHolder<Req, Resp>();
  }

  grpc::internal::CallbackUnaryHandler<Req, Resp> inner_;
};

}  // namespace internal

// The generated callback service of `Grpc` (e.g. v1::JobService) with
// GuardParse to install the guarded handler per method.
template <class Grpc>
class ParseGuarded : public Grpc::CallbackService {
 protected:
  // `gate` (not owned) admits every call; `methods` (not owned) gets every
  // guarded method; both must outlive the service.
  ParseGuarded(const auth::Gate* gate, MethodTable* methods) : gate_(gate), methods_(methods) {}

  // Guards `method` (of the derived service `Self`), which must be the
  // implementation of the unary RPC named `name` in the proto, and adds it
  // to the method table. A name or request type that does not match the
  // proto is a programming error and aborts at construction.
  template <class Self, class Req, class Resp>
  void GuardParse(const char* name,
                  grpc::ServerUnaryReactor* (Self::*method)(const CallInfo&, const Req*, Resp*)) {
    const auto* service = google::protobuf::DescriptorPool::generated_pool()->FindServiceByName(
        Grpc::service_full_name());
    const auto* rpc = service == nullptr ? nullptr : service->FindMethodByName(name);
    if (rpc == nullptr || rpc->input_type() != Req::descriptor() ||
        rpc->output_type() != Resp::descriptor()) {
      std::abort();
    }
    Self* self = static_cast<Self*>(this);
    const auth::MethodRule* rule = auth::FindRule(Grpc::service_full_name(), name);
    this->MarkMethodCallback(rpc->index(),
                             new internal::ParseGuardedHandler<Req, Resp>(
                                 [self, method](const CallInfo& info, const Req* req, Resp* resp) {
                                   return (self->*method)(info, req, resp);
                                 },
                                 gate_, rule));
    methods_->Add(UnaryMethod{
        .rpc = rpc,
        .rule = rule,
        .new_request = [] { return std::make_unique<Req>(); },
        .new_response = [] { return std::make_unique<Resp>(); },
        .run =
            [self, method](const CallInfo& info, const google::protobuf::Message& req,
                           google::protobuf::Message* resp) {
              // The call ends through info.finish; gRPC never sees the reactor.
              (void)(self->*method)(info, static_cast<const Req*>(&req), static_cast<Resp*>(resp));
            }});
  }

 private:
  const auth::Gate* const gate_;
  MethodTable* const methods_;
};

// Test-only: UngatedAccess() gives every permission instead of none. For
// in-process harnesses (tests/fuzz) that call the method table directly.
void AllowUngatedCallsForTesting();
// The access for such harnesses: everything after
// AllowUngatedCallsForTesting, else nothing.
inline const auth::CallAccess& UngatedAccess() { return internal::UngatedAccess(); }

}  // namespace ratchet::server

#endif  // RATCHET_API_SERVER_PARSE_GUARD_H_
