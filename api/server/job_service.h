// JobService (ratchet.v1): enqueue, get, list and cancel jobs. A thin
// adapter: each method converts the request, hands it to the engine and
// returns; the engine's callback finishes the call.
#ifndef RATCHET_API_SERVER_JOB_SERVICE_H_
#define RATCHET_API_SERVER_JOB_SERVICE_H_

#include "parse_guard.h"
#include "ratchet/v1/job_service.grpc.pb.h"
#include "service_context.h"

namespace ratchet::server {

// Its methods take CallInfo (call_info.h), not gRPC's context, and so hide
// the generated service's virtuals of the same names on purpose: those are
// never called (ParseGuarded installs the handlers that call these).
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Woverloaded-virtual"
#endif
class JobService final : public ParseGuarded<ratchet::v1::JobService> {
 public:
  // `ctx` is not owned and must outlive the service.
  explicit JobService(ServiceContext* ctx);

  grpc::ServerUnaryReactor* Enqueue(const CallInfo&, const v1::EnqueueRequest* req,
                                    v1::EnqueueResponse* resp);
  grpc::ServerUnaryReactor* EnqueueBatch(const CallInfo&, const v1::EnqueueBatchRequest* req,
                                         v1::EnqueueBatchResponse* resp);
  grpc::ServerUnaryReactor* RetryJob(const CallInfo& call_info, const v1::RetryJobRequest* req,
                                     v1::RetryJobResponse* resp);
  grpc::ServerUnaryReactor* CancelJobs(const CallInfo&, const v1::CancelJobsRequest* req,
                                       v1::CancelJobsResponse* resp);
  grpc::ServerUnaryReactor* ExplainJob(const CallInfo&, const v1::ExplainJobRequest* req,
                                       v1::ExplainJobResponse* resp);
  grpc::ServerUnaryReactor* GetJob(const CallInfo&, const v1::GetJobRequest* req, v1::Job* resp);
  grpc::ServerUnaryReactor* ListJobs(const CallInfo&, const v1::ListJobsRequest* req,
                                     v1::ListJobsResponse* resp);
  grpc::ServerUnaryReactor* CancelJob(const CallInfo&, const v1::CancelJobRequest* req,
                                      v1::CancelJobResponse* resp);

 private:
  ServiceContext* const ctx_;
};
#if defined(__clang__)
#pragma clang diagnostic pop
#endif

}  // namespace ratchet::server

#endif  // RATCHET_API_SERVER_JOB_SERVICE_H_
