// WorkflowService (ratchet.v1): DAG and code-first workflows. Every call
// runs the engine's blocking API on the context's blocking pool.
#ifndef RATCHET_API_SERVER_WORKFLOW_SERVICE_H_
#define RATCHET_API_SERVER_WORKFLOW_SERVICE_H_

#include "parse_guard.h"
#include "ratchet/v1/workflow_service.grpc.pb.h"
#include "service_context.h"

namespace ratchet::server {

class WorkflowService final : public ParseGuarded<ratchet::v1::WorkflowService> {
 public:
  // `ctx` is not owned and must outlive the service.
  explicit WorkflowService(ServiceContext* ctx);

  grpc::ServerUnaryReactor* SubmitWorkflow(grpc::CallbackServerContext*,
                                           const v1::SubmitWorkflowRequest* req,
                                           v1::SubmitWorkflowResponse* resp) override;
  grpc::ServerUnaryReactor* StartWorkflow(grpc::CallbackServerContext*,
                                          const v1::StartWorkflowRequest* req,
                                          v1::SubmitWorkflowResponse* resp) override;
  grpc::ServerUnaryReactor* GetWorkflow(grpc::CallbackServerContext*,
                                        const v1::GetWorkflowRequest* req,
                                        v1::Workflow* resp) override;
  grpc::ServerUnaryReactor* ListWorkflows(grpc::CallbackServerContext*,
                                          const v1::ListWorkflowsRequest* req,
                                          v1::ListWorkflowsResponse* resp) override;
  grpc::ServerUnaryReactor* CancelWorkflow(grpc::CallbackServerContext*,
                                           const v1::CancelWorkflowRequest* req,
                                           v1::CancelWorkflowResponse* resp) override;
  grpc::ServerUnaryReactor* SendEvent(grpc::CallbackServerContext*, const v1::SendEventRequest* req,
                                      v1::SendEventResponse* resp) override;
  grpc::ServerUnaryReactor* RecordStep(grpc::CallbackServerContext*,
                                       const v1::RecordStepRequest* req,
                                       v1::RecordStepResponse* resp) override;
  grpc::ServerUnaryReactor* SuspendWorkflow(grpc::CallbackServerContext*,
                                            const v1::SuspendWorkflowRequest* req,
                                            v1::SuspendWorkflowResponse* resp) override;

 private:
  ServiceContext* const ctx_;
};

}  // namespace ratchet::server

#endif  // RATCHET_API_SERVER_WORKFLOW_SERVICE_H_
