#include "grpc_metrics.h"

#include <chrono>
#include <string>

#include "absl/container/node_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "google/protobuf/descriptor.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/histogram.h"

namespace ratchet::server {
namespace {

using grpc::experimental::InterceptionHookPoints;

constexpr const char* kCodeNames[] = {
    "OK",        "CANCELLED",      "UNKNOWN",           "INVALID_ARGUMENT",   "DEADLINE_EXCEEDED",
    "NOT_FOUND", "ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION",
    "ABORTED",   "OUT_OF_RANGE",   "UNIMPLEMENTED",     "INTERNAL",           "UNAVAILABLE",
    "DATA_LOSS", "UNAUTHENTICATED"};
constexpr int kCodes = 17;

// Whether "/pkg.Service/Method" names a method in the generated descriptor
// pool (every service compiled into this binary).
bool IsKnownMethod(const std::string& path) {
  // gRPC's own services may be built without generated C++ descriptors.
  for (const char* builtin : {"/grpc.health.v1.Health/Check", "/grpc.health.v1.Health/Watch",
                              "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"}) {
    if (path == builtin) return true;
  }
  if (path.size() < 4 || path[0] != '/') return false;
  const size_t slash = path.find('/', 1);
  if (slash == std::string::npos) return false;
  const std::string full = path.substr(1, slash - 1) + "." + path.substr(slash + 1);
  return google::protobuf::DescriptorPool::generated_pool()->FindMethodByName(full) != nullptr;
}

class Metrics {
 public:
  explicit Metrics(prometheus::Registry& r)
      : requests_(prometheus::BuildCounter()
                      .Name("ratchet_grpc_requests_total")
                      .Help("gRPC calls by method and status code")
                      .Register(r)),
        durations_(prometheus::BuildHistogram()
                       .Name("ratchet_grpc_request_duration_seconds")
                       .Help("gRPC call duration, from its start to its status (long polls "
                             "included)")
                       .Register(r)) {}

  struct Series {
    prometheus::Counter* codes[kCodes];
    prometheus::Histogram* duration;
  };

  // The series of `method` (or of "unknown"), created on first use.
  Series* Of(const std::string& method) {
    absl::MutexLock lock(&mu_);
    auto it = series_.find(method);
    if (it != series_.end()) return &it->second;
    const std::string label = IsKnownMethod(method) ? method : "unknown";
    if (label != method) {
      if (auto unknown = series_.find(label); unknown != series_.end()) return &unknown->second;
    }
    Series s;
    for (int i = 0; i < kCodes; ++i) {
      s.codes[i] = &requests_.Add({{"method", label}, {"code", kCodeNames[i]}});
    }
    s.duration = &durations_.Add(
        {{"method", label}},
        prometheus::Histogram::BucketBoundaries{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
                                                0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60});
    return &series_.emplace(label, s).first->second;
  }

 private:
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Histogram>& durations_;
  absl::Mutex mu_;
  // Node-based: Series pointers stay valid as it grows.
  absl::node_hash_map<std::string, Series> series_ ABSL_GUARDED_BY(mu_);
};

class Interceptor final : public grpc::experimental::Interceptor {
 public:
  explicit Interceptor(Metrics::Series* series)
      : series_(series), started_(std::chrono::steady_clock::now()) {}

  void Intercept(grpc::experimental::InterceptorBatchMethods* methods) override {
    if (methods->QueryInterceptionHookPoint(InterceptionHookPoints::PRE_SEND_STATUS)) {
      const int code = static_cast<int>(methods->GetSendStatus().error_code());
      series_->codes[code >= 0 && code < kCodes ? code : 2]->Increment();  // else UNKNOWN
      series_->duration->Observe(
          std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count());
    }
    methods->Proceed();
  }

 private:
  Metrics::Series* const series_;
  const std::chrono::steady_clock::time_point started_;
};

class Factory final : public grpc::experimental::ServerInterceptorFactoryInterface {
 public:
  explicit Factory(prometheus::Registry& r) : metrics_(r) {}
  grpc::experimental::Interceptor* CreateServerInterceptor(
      grpc::experimental::ServerRpcInfo* info) override {
    return new Interceptor(metrics_.Of(info->method() ? info->method() : ""));
  }

 private:
  Metrics metrics_;
};

}  // namespace

std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewGrpcMetricsInterceptor(
    prometheus::Registry& registry) {
  return std::make_unique<Factory>(registry);
}

}  // namespace ratchet::server
