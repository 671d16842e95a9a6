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

class WorkerService final : public ParseGuarded<ratchet::v1::WorkerService> {
 public:
  // `ctx` is not owned and must outlive the service.
  explicit WorkerService(ServiceContext* ctx);

  grpc::ServerUnaryReactor* Lease(grpc::CallbackServerContext* context, const v1::LeaseRequest* req,
                                  v1::LeaseResponse* resp) override;
  grpc::ServerUnaryReactor* Heartbeat(grpc::CallbackServerContext*, const v1::HeartbeatRequest* req,
                                      v1::HeartbeatResponse* resp) override;
  grpc::ServerUnaryReactor* HeartbeatBatch(grpc::CallbackServerContext* context,
                                           const v1::HeartbeatBatchRequest* req,
                                           v1::HeartbeatBatchResponse* resp) override;
  grpc::ServerUnaryReactor* ListWorkers(grpc::CallbackServerContext* context,
                                        const v1::ListWorkersRequest* req,
                                        v1::ListWorkersResponse* resp) override;
  grpc::ServerUnaryReactor* Complete(grpc::CallbackServerContext*, const v1::CompleteRequest* req,
                                     v1::CompleteResponse* resp) override;
  grpc::ServerUnaryReactor* CompleteBatch(grpc::CallbackServerContext*,
                                          const v1::CompleteBatchRequest* req,
                                          v1::CompleteBatchResponse* resp) override;
  grpc::ServerUnaryReactor* Fail(grpc::CallbackServerContext*, const v1::FailRequest* req,
                                 v1::FailResponse* resp) override;
  grpc::ServerUnaryReactor* FailBatch(grpc::CallbackServerContext*, const v1::FailBatchRequest* req,
                                      v1::FailBatchResponse* resp) override;
  grpc::ServerUnaryReactor* CompleteAndLease(grpc::CallbackServerContext* context,
                                             const v1::CompleteAndLeaseRequest* req,
                                             v1::CompleteAndLeaseResponse* resp) override;

 private:
  // Starts a Lease call and readies `lease` for the engine: its wait capped
  // by the server's max_lease_wait and by the time left before the client's
  // deadline, and its abandoned flag tied to the call's cancellation.
  UnaryCall* StartLease(const grpc::CallbackServerContext& context, LeaseRequest* lease);

  ServiceContext* const ctx_;
};

}  // namespace ratchet::server

#endif  // RATCHET_API_SERVER_WORKER_SERVICE_H_
