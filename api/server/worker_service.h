// WorkerService (ratchet.v1): long-poll Lease, Heartbeat, Complete and Fail
// (single and batched), CompleteAndLease, HeartbeatBatch, and the
// WorkStream (work_stream.h). A thin adapter over the
// engine's asynchronous API; a parked Lease holds no thread.
#ifndef RATCHET_API_SERVER_WORKER_SERVICE_H_
#define RATCHET_API_SERVER_WORKER_SERVICE_H_

#include "parse_guard.h"
#include "ratchet/v1/worker_service.grpc.pb.h"
#include "service_context.h"

namespace ratchet::server {

// Its methods take CallInfo (call_info.h), not gRPC's context, and so hide
// the generated service's virtuals of the same names on purpose: those are
// never called (ParseGuarded installs the handlers that call these).
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Woverloaded-virtual"
#endif
class WorkerService final : public ParseGuarded<ratchet::v1::WorkerService> {
 public:
  // `ctx` is not owned and must outlive the service.
  explicit WorkerService(ServiceContext* ctx);

  grpc::ServerUnaryReactor* Lease(const CallInfo&, const v1::LeaseRequest* req,
                                  v1::LeaseResponse* resp);
  grpc::ServerUnaryReactor* Heartbeat(const CallInfo&, const v1::HeartbeatRequest* req,
                                      v1::HeartbeatResponse* resp);
  grpc::ServerUnaryReactor* HeartbeatBatch(const CallInfo&, const v1::HeartbeatBatchRequest* req,
                                           v1::HeartbeatBatchResponse* resp);
  grpc::ServerUnaryReactor* ListWorkers(const CallInfo&, const v1::ListWorkersRequest* req,
                                        v1::ListWorkersResponse* resp);
  grpc::ServerUnaryReactor* Complete(const CallInfo&, const v1::CompleteRequest* req,
                                     v1::CompleteResponse* resp);
  grpc::ServerUnaryReactor* CompleteBatch(const CallInfo&, const v1::CompleteBatchRequest* req,
                                          v1::CompleteBatchResponse* resp);
  grpc::ServerUnaryReactor* Fail(const CallInfo&, const v1::FailRequest* req,
                                 v1::FailResponse* resp);
  grpc::ServerUnaryReactor* FailBatch(const CallInfo&, const v1::FailBatchRequest* req,
                                      v1::FailBatchResponse* resp);
  grpc::ServerUnaryReactor* CompleteAndLease(const CallInfo&,
                                             const v1::CompleteAndLeaseRequest* req,
                                             v1::CompleteAndLeaseResponse* resp);

 private:
  // Starts a Lease call and readies `lease` for the engine: its wait capped
  // by the server's max_lease_wait and by the time left before the client's
  // deadline, and its abandoned flag tied to the call's cancellation.
  UnaryCall* StartLease(const CallInfo& call_info, LeaseRequest* lease);

  ServiceContext* const ctx_;
};
#if defined(__clang__)
#pragma clang diagnostic pop
#endif

}  // namespace ratchet::server

#endif  // RATCHET_API_SERVER_WORKER_SERVICE_H_
