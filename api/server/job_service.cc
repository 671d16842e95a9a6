#include "job_service.h"

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "convert.h"
#include "ratchet/base/status.h"

namespace ratchet::server {

JobService::JobService(ServiceContext* ctx) : ParseGuarded(&ctx->gate()), ctx_(ctx) {
  GuardParse("Enqueue", &JobService::Enqueue);
  GuardParse("EnqueueBatch", &JobService::EnqueueBatch);
  GuardParse("GetJob", &JobService::GetJob);
  GuardParse("ListJobs", &JobService::ListJobs);
  GuardParse("CancelJob", &JobService::CancelJob);
  GuardParse("ExplainJob", &JobService::ExplainJob);
  GuardParse("CancelJobs", &JobService::CancelJobs);
}

grpc::ServerUnaryReactor* JobService::Enqueue(grpc::CallbackServerContext*,
                                              const v1::EnqueueRequest* req,
                                              v1::EnqueueResponse* resp) {
  UnaryCall* call = ctx_->StartCall();
  auto job = FromProto(req->job(), "job");
  if (!job.ok()) return call->Reject(job.status());
  ctx_->engine().EnqueueAsync(std::move(*job), [call, resp](absl::StatusOr<EnqueueResult> r) {
    // The engine names the fields of the job ("queue"); the API, of the request.
    call->Reply(PrefixField(r.status(), "job."), [&] { ToProto(*r, resp); });
  });
  return call;
}

grpc::ServerUnaryReactor* JobService::EnqueueBatch(grpc::CallbackServerContext*,
                                                   const v1::EnqueueBatchRequest* req,
                                                   v1::EnqueueBatchResponse* resp) {
  UnaryCall* call = ctx_->StartCall();
  std::vector<EnqueueRequest> jobs;
  jobs.reserve(req->jobs_size());
  for (int i = 0; i < req->jobs_size(); ++i) {
    auto job = FromProto(req->jobs(i), absl::StrCat("jobs[", i, "]"));
    if (!job.ok()) return call->Reject(job.status());
    jobs.push_back(std::move(*job));
  }
  ctx_->engine().EnqueueBatchAsync(std::move(jobs),
                                   [call, resp](absl::StatusOr<std::vector<EnqueueResult>> r) {
                                     call->Reply(r.status(), [&] {
                                       for (const EnqueueResult& e : *r) {
                                         ToProto(e, resp->add_results());
                                       }
                                     });
                                   });
  return call;
}

grpc::ServerUnaryReactor* JobService::GetJob(grpc::CallbackServerContext* context,
                                             const v1::GetJobRequest* req, v1::Job* resp) {
  UnaryCall* call = ctx_->StartCall();
  ctx_->RunBlocking([this, call, resp, id = req->job_id(), access = AccessOf(context, req, resp)] {
    absl::StatusOr<Job> job = ctx_->engine().Get(id);
    absl::Status s = job.ok() ? access.CheckLookedUp(job->queue) : job.status();
    call->Reply(s, [&] { ToProto(*job, resp); });
  });
  return call;
}

grpc::ServerUnaryReactor* JobService::ExplainJob(grpc::CallbackServerContext* context,
                                                 const v1::ExplainJobRequest* req,
                                                 v1::ExplainJobResponse* resp) {
  UnaryCall* call = ctx_->StartCall();
  ctx_->RunBlocking([this, call, resp, id = req->job_id(), access = AccessOf(context, req, resp)] {
    absl::StatusOr<JobExplanation> e = ctx_->engine().ExplainJob(id);
    absl::Status s = e.ok() ? access.CheckLookedUp(e->queue) : e.status();
    call->Reply(s, [&] { ToProto(*e, resp); });
  });
  return call;
}

grpc::ServerUnaryReactor* JobService::ListJobs(grpc::CallbackServerContext*,
                                               const v1::ListJobsRequest* req,
                                               v1::ListJobsResponse* resp) {
  UnaryCall* call = ctx_->StartCall();
  auto state = FromProto(req->state(), "state");
  if (!state.ok()) return call->Reject(state.status());
  ListRequest list{.queue = req->queue(),
                   .state = *state,
                   .limit = req->limit() == 0 ? 100 : req->limit(),
                   .cursor = req->cursor(),
                   .job_type = req->job_type(),
                   .concurrency_key = req->concurrency_key()};
  ctx_->RunBlocking([this, call, resp, list = std::move(list)] {
    absl::StatusOr<ListResult> r = ctx_->engine().List(list);
    call->Reply(r.status(), [&] { ToProto(*r, resp); });
  });
  return call;
}

grpc::ServerUnaryReactor* JobService::CancelJob(grpc::CallbackServerContext* context,
                                                const v1::CancelJobRequest* req,
                                                v1::CancelJobResponse* resp) {
  UnaryCall* call = ctx_->StartCall();
  const JobId id = req->job_id();
  const auth::CallAccess& access = AccessOf(context, req, resp);
  return ctx_->AfterQueueCheck(
      call, access, [this, id] { return QueueOfJob(ctx_->engine(), id); },
      [this, call, resp, id, principal = access.principal()] {
        ctx_->engine().CancelAsync(id, [call, resp, id, principal](absl::StatusOr<JobState> r) {
          if (r.ok()) {
            spdlog::info("event=job_cancel job_id={} state={} principal={:?}", id, JobStateName(*r),
                         principal);
          }
          call->Reply(r.status(), [&] { resp->set_state(ToProto(*r)); });
        });
      });
}

grpc::ServerUnaryReactor* JobService::CancelJobs(grpc::CallbackServerContext*,
                                                 const v1::CancelJobsRequest* req,
                                                 v1::CancelJobsResponse* resp) {
  UnaryCall* call = ctx_->StartCall();
  CancelJobsRequest cancel{.queue = req->queue(),
                           .job_type = req->job_type(),
                           .concurrency_key = req->concurrency_key()};
  if (req->state() != v1::JOB_STATE_UNSPECIFIED) {
    auto state = FromProto(req->state(), "state");
    if (!state.ok()) return call->Reject(state.status());
    cancel.state = *state;
  }
  ctx_->engine().CancelJobsAsync(
      cancel, [call, resp, queue = cancel.queue](absl::StatusOr<CancelJobsResult> r) {
        if (r.ok()) {
          spdlog::info("event=jobs_cancel queue={} cancelled={} cancel_requested={}", queue,
                       r->cancelled, r->cancel_requested);
        }
        call->Reply(r.status(), [&] {
          resp->set_cancelled(r->cancelled);
          resp->set_cancel_requested(r->cancel_requested);
        });
      });
  return call;
}

}  // namespace ratchet::server
