// JsonApi: ratchet.v1 over HTTP/JSON (docs/api.md, "HTTP/JSON API").
// `POST /v1/<Service>/<Method>` with the request in proto3's JSON mapping
// answers the response in the same mapping, the way grpc-gateway does. It
// runs the services' own methods (method_table.h) after the same gate as
// gRPC (auth/gate.h): the same authentication, authorization, rate limits,
// validation and errors. An error answers the HTTP status of its code
// (http_status.h) with a google.rpc.Status as JSON, its ErrorInfo reason and
// RetryInfo in `details`.
//
// JSON: lowerCamelCase names out, either spelling in; fields at their
// default value are printed; 64-bit integers are strings, bytes base64,
// enums their names. A body that is not the request message (bad JSON, an
// unknown field, invalid UTF-8, a wrong type) answers 400 INVALID_ARGUMENT
// naming `request`. Streaming RPCs (WorkerService.WorkStream) are not served.
//
// Thread safety: Call is safe from any thread; it blocks its thread until
// the method answers (at most the server's call deadline, plus a Lease's
// long-poll wait).
#ifndef RATCHET_API_SERVER_HTTP_JSON_API_H_
#define RATCHET_API_SERVER_HTTP_JSON_API_H_

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "auth/gate.h"
#include "grpcpp/support/status.h"
#include "method_table.h"

namespace ratchet::server::http {

struct JsonAnswer {
  int http_status = 200;
  std::string body;  // JSON
  absl::StatusCode code = absl::StatusCode::kOk;
  // The RPC's full name ("ratchet.v1.JobService/Enqueue"), "" when none.
  std::string rpc;
};

// The deepest nesting of JSON arrays and objects in `json` (brackets inside
// strings not counted). Used to refuse a hostile body before parsing it:
// protobuf's JSON parser allocates per level without a limit.
int NestingDepth(absl::string_view json);

class JsonApi {
 public:
  // Deepest JSON nesting a request may have (ratchet.v1's deepest request
  // nests far less).
  static constexpr int kMaxNesting = 32;
  // Longest long-poll `wait` a request over HTTP may ask for: a parked call
  // holds one of the listener's threads, and the listener's shutdown waits
  // for it.
  static constexpr int kMaxWaitSeconds = 5;

  // `methods` and `gate` (not owned) must outlive the API.
  JsonApi(const MethodTable* methods, const auth::Gate* gate) : methods_(methods), gate_(gate) {}

  // Runs `service`/`method` (service: "JobService" or "ratchet.v1.JobService")
  // with the JSON `body` ("" means {}) for the caller `credentials` name.
  JsonAnswer Call(absl::string_view service, absl::string_view method, absl::string_view body,
                  const auth::CallCredentials& credentials) const;

  // The answer for an error: its HTTP status and google.rpc.Status JSON.
  static JsonAnswer Error(const absl::Status& status);
  static JsonAnswer Error(const grpc::Status& status);

 private:
  JsonAnswer CallMethod(absl::string_view service, absl::string_view method, absl::string_view body,
                        const auth::CallCredentials& credentials, std::string* rpc) const;

  const MethodTable* const methods_;
  const auth::Gate* const gate_;
};

}  // namespace ratchet::server::http

#endif  // RATCHET_API_SERVER_HTTP_JSON_API_H_
