// gRPC request metrics: a server interceptor that counts every call by
// method and status code (ratchet_grpc_requests_total) and times it
// (ratchet_grpc_request_duration_seconds, from the call's start to its
// status). The method label is the full gRPC method name
// ("/ratchet.v1.JobService/Enqueue") when it is a method compiled into
// ratchetd, else "unknown": a client cannot grow the label set.
//
// Thread safety: the factory and its interceptors are used by gRPC from any
// thread; prometheus-cpp's metrics are thread-safe.
#ifndef RATCHET_API_SERVER_GRPC_METRICS_H_
#define RATCHET_API_SERVER_GRPC_METRICS_H_

#include <memory>

#include "grpcpp/support/server_interceptor.h"
#include "prometheus/registry.h"

namespace ratchet::server {

// Registers the two families in `registry` (which must outlive the server).
std::unique_ptr<grpc::experimental::ServerInterceptorFactoryInterface> NewGrpcMetricsInterceptor(
    prometheus::Registry& registry);

}  // namespace ratchet::server

#endif  // RATCHET_API_SERVER_GRPC_METRICS_H_
