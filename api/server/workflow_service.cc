#include "workflow_service.h"

#include <spdlog/spdlog.h>

#include "ratchet/base/status.h"
#include "ratchet/base/traceparent.h"
#include "trace_context.h"
#include "workflow_convert.h"

namespace ratchet::server {

WorkflowService::WorkflowService(ServiceContext* ctx)
    : ParseGuarded(&ctx->gate(), &ctx->methods()), ctx_(ctx) {
  GuardParse("SubmitWorkflow", &WorkflowService::SubmitWorkflow);
  GuardParse("StartWorkflow", &WorkflowService::StartWorkflow);
  GuardParse("GetWorkflow", &WorkflowService::GetWorkflow);
  GuardParse("ListWorkflows", &WorkflowService::ListWorkflows);
  GuardParse("CancelWorkflow", &WorkflowService::CancelWorkflow);
  GuardParse("SendEvent", &WorkflowService::SendEvent);
  GuardParse("RecordStep", &WorkflowService::RecordStep);
  GuardParse("SuspendWorkflow", &WorkflowService::SuspendWorkflow);
}

namespace {
struct Done {};
absl::StatusOr<Done> AsDone(const absl::Status& s) {
  if (!s.ok()) return s;
  return Done{};
}
void Nothing(const Done&) {}
}  // namespace

// Submit and Start convert the request before it goes to the blocking pool,
// so the pool gets the engine's request (moved), not a copy of the proto.
grpc::ServerUnaryReactor* WorkflowService::SubmitWorkflow(const CallInfo& call_info,
                                                          const v1::SubmitWorkflowRequest* req,
                                                          v1::SubmitWorkflowResponse* resp) {
  auto spec = FromProto(*req);
  if (!spec.ok()) return ctx_->StartCall(call_info)->Reject(spec.status());
  if (spec->traceparent.empty()) spec->traceparent = call_info.traceparent;
  return ctx_->Blocking(
      call_info,
      [this, spec = *std::move(spec)]() mutable {
        std::string name = spec.name;
        size_t steps = spec.steps.size();
        std::string trace_id(TraceIdOf(spec.traceparent));
        auto r = ctx_->engine().SubmitWorkflow(std::move(spec));
        if (r.ok() && !r->duplicate) {
          spdlog::info("event=workflow_submitted workflow_id={} name={} steps={} trace_id={}",
                       r->id, name, steps, trace_id);
        }
        return r;
      },
      [resp](const WorkflowSubmitResult& r) { ToProto(r, resp); });
}

grpc::ServerUnaryReactor* WorkflowService::StartWorkflow(const CallInfo& call_info,
                                                         const v1::StartWorkflowRequest* req,
                                                         v1::SubmitWorkflowResponse* resp) {
  auto start = FromProto(*req);
  if (!start.ok()) return ctx_->StartCall(call_info)->Reject(start.status());
  if (start->traceparent.empty()) start->traceparent = call_info.traceparent;
  return ctx_->Blocking(
      call_info,
      [this, start = *std::move(start)]() mutable {
        return ctx_->engine().StartWorkflow(std::move(start));
      },
      [resp](const WorkflowSubmitResult& r) { ToProto(r, resp); });
}

grpc::ServerUnaryReactor* WorkflowService::GetWorkflow(const CallInfo& call_info,
                                                       const v1::GetWorkflowRequest* req,
                                                       v1::Workflow* resp) {
  return ctx_->Blocking(
      call_info,
      [this, id = req->workflow_id(), access = call_info.access]() -> absl::StatusOr<Workflow> {
        absl::StatusOr<Workflow> w = ctx_->engine().GetWorkflow(id, ctx_->limits().max_lease_bytes);
        if (w.ok()) {
          RATCHET_RETURN_IF_ERROR(CheckLookedUpQueue(access, [&] { return QueuesOfWorkflow(*w); }));
        }
        return w;
      },
      [resp](const Workflow& w) { ToProto(w, resp); });
}

grpc::ServerUnaryReactor* WorkflowService::ListWorkflows(const CallInfo& call_info,
                                                         const v1::ListWorkflowsRequest* req,
                                                         v1::ListWorkflowsResponse* resp) {
  return ctx_->Blocking(
      call_info,
      [this, req = *req]() -> absl::StatusOr<WorkflowListResult> {
        WorkflowListRequest list;
        auto state = FromProto(req.state(), "state");
        if (!state.ok()) return state.status();
        list.state = *state;
        list.limit = req.limit() == 0 ? 100 : req.limit();
        list.cursor = req.cursor();
        list.max_bytes = ctx_->limits().max_lease_bytes;
        return ctx_->engine().ListWorkflows(std::move(list));
      },
      [resp, access = call_info.access](const WorkflowListResult& r) {
        for (const Workflow& w : r.workflows) {
          auto queues = QueuesOfWorkflow(w);
          if (std::all_of(queues->begin(), queues->end(),
                          [&](const std::string& q) { return access.Covers(q); })) {
            v1::Workflow* out = resp->add_workflows();
            ToProto(w, out);
            // A list shows headers, without the steps, so it cannot tell
            // whether a step ran in a queue the caller may not read; the
            // error may name such a step and its job (GetWorkflow, which
            // checks every step's queue, shows it).
            if (!access.unrestricted() && !access.Covers("*")) out->clear_error();
          }
        }
        resp->set_next_cursor(r.next_cursor);
      });
}

grpc::ServerUnaryReactor* WorkflowService::CancelWorkflow(const CallInfo& call_info,
                                                          const v1::CancelWorkflowRequest* req,
                                                          v1::CancelWorkflowResponse* resp) {
  return ctx_->Blocking(
      call_info,
      [this, id = req->workflow_id(),
       access = call_info.access]() -> absl::StatusOr<WorkflowState> {
        RATCHET_RETURN_IF_ERROR(
            CheckLookedUpQueue(access, [&] { return QueuesOfWorkflow(ctx_->engine(), id); }));
        absl::StatusOr<WorkflowState> s = ctx_->engine().CancelWorkflow(id);
        if (s.ok()) {
          spdlog::info("event=workflow_cancel workflow_id={} principal={:?}", id,
                       access.principal());
        }
        return s;
      },
      [resp](WorkflowState s) { resp->set_state(ToProto(s)); });
}

grpc::ServerUnaryReactor* WorkflowService::SendEvent(const CallInfo& call_info,
                                                     const v1::SendEventRequest* req,
                                                     v1::SendEventResponse* resp) {
  return ctx_->Blocking(
      call_info,
      [this, send = SendEventRequest{req->workflow_id(), req->name(), req->payload()},
       access = call_info.access]() mutable {
        const WorkflowId id = send.workflow_id;
        absl::Status allowed =
            CheckLookedUpQueue(access, [&] { return QueuesOfWorkflow(ctx_->engine(), id); });
        if (!allowed.ok()) return AsDone(allowed);
        return AsDone(ctx_->engine().SendEvent(std::move(send)));
      },
      Nothing);
}

grpc::ServerUnaryReactor* WorkflowService::RecordStep(const CallInfo& call_info,
                                                      const v1::RecordStepRequest* req,
                                                      v1::RecordStepResponse* resp) {
  auto record = FromProto(*req);
  if (!record.ok()) return ctx_->StartCall(call_info)->Reject(record.status());
  return ctx_->Blocking(
      call_info,
      [this, record = *std::move(record), id = req->job_id(), access = call_info.access]() mutable {
        absl::Status allowed =
            CheckLookedUpQueue(access, [&] { return QueueOfJob(ctx_->engine(), id); });
        if (!allowed.ok()) return AsDone(allowed);
        return AsDone(ctx_->engine().RecordStep(std::move(record)));
      },
      Nothing);
}

grpc::ServerUnaryReactor* WorkflowService::SuspendWorkflow(const CallInfo& call_info,
                                                           const v1::SuspendWorkflowRequest* req,
                                                           v1::SuspendWorkflowResponse* resp) {
  auto suspend = FromProto(*req);
  if (!suspend.ok()) return ctx_->StartCall(call_info)->Reject(suspend.status());
  return ctx_->Blocking(
      call_info,
      [this, suspend = *std::move(suspend), id = req->job_id(),
       access = call_info.access]() mutable {
        absl::Status allowed =
            CheckLookedUpQueue(access, [&] { return QueueOfJob(ctx_->engine(), id); });
        if (!allowed.ok()) return AsDone(allowed);
        return AsDone(ctx_->engine().Suspend(std::move(suspend)));
      },
      Nothing);
}

}  // namespace ratchet::server
