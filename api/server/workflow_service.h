// WorkflowService (ratchet.v1): DAG and code-first workflows. Every call
// runs the engine's blocking API on the context's blocking pool.
#ifndef RATCHET_API_SERVER_WORKFLOW_SERVICE_H_
#define RATCHET_API_SERVER_WORKFLOW_SERVICE_H_

#include "parse_guard.h"
#include "ratchet/v1/workflow_service.grpc.pb.h"
#include "service_context.h"

namespace ratchet::server {

// Its methods take CallInfo (call_info.h), not gRPC's context, and so hide
// the generated service's virtuals of the same names on purpose: those are
// never called (ParseGuarded installs the handlers that call these).
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Woverloaded-virtual"
#endif
class WorkflowService final : public ParseGuarded<ratchet::v1::WorkflowService> {
 public:
  // `ctx` is not owned and must outlive the service.
  explicit WorkflowService(ServiceContext* ctx);

  grpc::ServerUnaryReactor* SubmitWorkflow(const CallInfo&, const v1::SubmitWorkflowRequest* req,
                                           v1::SubmitWorkflowResponse* resp);
  grpc::ServerUnaryReactor* StartWorkflow(const CallInfo&, const v1::StartWorkflowRequest* req,
                                          v1::SubmitWorkflowResponse* resp);
  grpc::ServerUnaryReactor* GetWorkflow(const CallInfo&, const v1::GetWorkflowRequest* req,
                                        v1::Workflow* resp);
  grpc::ServerUnaryReactor* ListWorkflows(const CallInfo&, const v1::ListWorkflowsRequest* req,
                                          v1::ListWorkflowsResponse* resp);
  grpc::ServerUnaryReactor* CancelWorkflow(const CallInfo&, const v1::CancelWorkflowRequest* req,
                                           v1::CancelWorkflowResponse* resp);
  grpc::ServerUnaryReactor* SendEvent(const CallInfo&, const v1::SendEventRequest* req,
                                      v1::SendEventResponse* resp);
  grpc::ServerUnaryReactor* RecordStep(const CallInfo&, const v1::RecordStepRequest* req,
                                       v1::RecordStepResponse* resp);
  grpc::ServerUnaryReactor* SuspendWorkflow(const CallInfo&, const v1::SuspendWorkflowRequest* req,
                                            v1::SuspendWorkflowResponse* resp);

 private:
  ServiceContext* const ctx_;
};
#if defined(__clang__)
#pragma clang diagnostic pop
#endif

}  // namespace ratchet::server

#endif  // RATCHET_API_SERVER_WORKFLOW_SERVICE_H_
