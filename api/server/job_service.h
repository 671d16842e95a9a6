// JobService (ratchet.v1): enqueue, get, list and cancel jobs. A thin
// adapter: each method converts the request, hands it to the engine and
// returns; the engine's callback finishes the call.
#ifndef RATCHET_API_SERVER_JOB_SERVICE_H_
#define RATCHET_API_SERVER_JOB_SERVICE_H_

#include "parse_guard.h"
#include "ratchet/v1/job_service.grpc.pb.h"
#include "service_context.h"

namespace ratchet::server {

class JobService final : public ParseGuarded<ratchet::v1::JobService> {
 public:
  // `ctx` is not owned and must outlive the service.
  explicit JobService(ServiceContext* ctx);

  grpc::ServerUnaryReactor* Enqueue(grpc::CallbackServerContext*, const v1::EnqueueRequest* req,
                                    v1::EnqueueResponse* resp) override;
  grpc::ServerUnaryReactor* EnqueueBatch(grpc::CallbackServerContext*,
                                         const v1::EnqueueBatchRequest* req,
                                         v1::EnqueueBatchResponse* resp) override;
  grpc::ServerUnaryReactor* CancelJobs(grpc::CallbackServerContext*,
                                       const v1::CancelJobsRequest* req,
                                       v1::CancelJobsResponse* resp) override;
  grpc::ServerUnaryReactor* ExplainJob(grpc::CallbackServerContext*,
                                       const v1::ExplainJobRequest* req,
                                       v1::ExplainJobResponse* resp) override;
  grpc::ServerUnaryReactor* GetJob(grpc::CallbackServerContext*, const v1::GetJobRequest* req,
                                   v1::Job* resp) override;
  grpc::ServerUnaryReactor* ListJobs(grpc::CallbackServerContext*, const v1::ListJobsRequest* req,
                                     v1::ListJobsResponse* resp) override;
  grpc::ServerUnaryReactor* CancelJob(grpc::CallbackServerContext*, const v1::CancelJobRequest* req,
                                      v1::CancelJobResponse* resp) override;

 private:
  ServiceContext* const ctx_;
};

}  // namespace ratchet::server

#endif  // RATCHET_API_SERVER_JOB_SERVICE_H_
