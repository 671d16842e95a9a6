#include "job_service.h"

#include <spdlog/spdlog.h>

#include "absl/strings/str_cat.h"
#include "convert.h"
#include "ratchet/base/status.h"
#include "ratchet/base/traceparent.h"
#include "trace_context.h"

namespace ratchet::server {

namespace {

// Debug: one line per stored job, with the trace it belongs to.
void LogEnqueued(const EnqueueResult& r, const std::string& queue, const std::string& trace_id) {
  if (r.duplicate || r.unique_match || !spdlog::should_log(spdlog::level::debug)) return;
  spdlog::debug("event=job_enqueued job_id={} queue={} trace_id={}", r.id, queue, trace_id);
}

}  // namespace

JobService::JobService(ServiceContext* ctx)
    : ParseGuarded(&ctx->gate(), &ctx->methods()), ctx_(ctx) {
  GuardParse("Enqueue", &JobService::Enqueue);
  GuardParse("EnqueueBatch", &JobService::EnqueueBatch);
  GuardParse("GetJob", &JobService::GetJob);
  GuardParse("ListJobs", &JobService::ListJobs);
  GuardParse("CancelJob", &JobService::CancelJob);
  GuardParse("ExplainJob", &JobService::ExplainJob);
  GuardParse("CancelJobs", &JobService::CancelJobs);
  GuardParse("RetryJob", &JobService::RetryJob);
}

grpc::ServerUnaryReactor* JobService::Enqueue(const CallInfo& call_info,
                                              const v1::EnqueueRequest* req,
                                              v1::EnqueueResponse* resp) {
  UnaryCall* call = ctx_->StartCall(call_info);
  auto job = FromProto(req->job(), "job");
  if (!job.ok()) return call->Reject(job.status());
  if (job->traceparent.empty()) job->traceparent = call_info.traceparent;
  std::string trace_id(TraceIdOf(job->traceparent));
  ctx_->engine().EnqueueAsync(
      std::move(*job), [call, resp, queue = req->job().queue(),
                        trace = std::move(trace_id)](absl::StatusOr<EnqueueResult> r) {
        if (r.ok()) LogEnqueued(*r, queue, trace);
        // The engine names the fields of the job ("queue"); the API, of the request.
        call->Reply(PrefixField(r.status(), "job."), [&] { ToProto(*r, resp); });
      });
  return call;
}

grpc::ServerUnaryReactor* JobService::EnqueueBatch(const CallInfo& call_info,
                                                   const v1::EnqueueBatchRequest* req,
                                                   v1::EnqueueBatchResponse* resp) {
  UnaryCall* call = ctx_->StartCall(call_info);
  std::vector<EnqueueRequest> jobs;
  jobs.reserve(req->jobs_size());
  const std::string traceparent = call_info.traceparent;
  for (int i = 0; i < req->jobs_size(); ++i) {
    auto job = FromProto(req->jobs(i), absl::StrCat("jobs[", i, "]"));
    if (!job.ok()) return call->Reject(job.status());
    if (job->traceparent.empty()) job->traceparent = traceparent;
    jobs.push_back(std::move(*job));
  }
  std::vector<std::pair<std::string, std::string>> logged;  // queue, trace_id
  if (spdlog::should_log(spdlog::level::debug)) {
    for (const EnqueueRequest& j : jobs) {
      logged.emplace_back(j.queue, std::string(TraceIdOf(j.traceparent)));
    }
  }
  ctx_->engine().EnqueueBatchAsync(
      std::move(jobs),
      [call, resp, logged = std::move(logged)](absl::StatusOr<std::vector<EnqueueResult>> r) {
        call->Reply(r.status(), [&] {
          for (size_t i = 0; i < r->size(); ++i) {
            if (i < logged.size()) LogEnqueued((*r)[i], logged[i].first, logged[i].second);
            ToProto((*r)[i], resp->add_results());
          }
        });
      });
  return call;
}

grpc::ServerUnaryReactor* JobService::GetJob(const CallInfo& call_info,
                                             const v1::GetJobRequest* req, v1::Job* resp) {
  UnaryCall* call = ctx_->StartCall(call_info);
  ctx_->RunBlocking([this, call, resp, id = req->job_id(), access = call_info.access] {
    absl::StatusOr<Job> job = ctx_->engine().Get(id);
    absl::Status s = job.ok() ? access.CheckLookedUp(job->queue) : job.status();
    call->Reply(s, [&] { ToProto(*job, resp); });
  });
  return call;
}

grpc::ServerUnaryReactor* JobService::ExplainJob(const CallInfo& call_info,
                                                 const v1::ExplainJobRequest* req,
                                                 v1::ExplainJobResponse* resp) {
  UnaryCall* call = ctx_->StartCall(call_info);
  ctx_->RunBlocking([this, call, resp, id = req->job_id(), access = call_info.access] {
    absl::StatusOr<JobExplanation> e = ctx_->engine().ExplainJob(id);
    absl::Status s = e.ok() ? access.CheckLookedUp(e->queue) : e.status();
    call->Reply(s, [&] { ToProto(*e, resp); });
  });
  return call;
}

grpc::ServerUnaryReactor* JobService::ListJobs(const CallInfo& call_info,
                                               const v1::ListJobsRequest* req,
                                               v1::ListJobsResponse* resp) {
  UnaryCall* call = ctx_->StartCall(call_info);
  auto state = FromProto(req->state(), "state");
  if (!state.ok()) return call->Reject(state.status());
  ListRequest list{.queue = req->queue(),
                   .state = *state,
                   .limit = req->limit() == 0 ? 100 : req->limit(),
                   .cursor = req->cursor(),
                   .job_type = req->job_type(),
                   .concurrency_key = req->concurrency_key(),
                   .max_bytes = ctx_->limits().max_lease_bytes};
  ctx_->RunBlocking([this, call, resp, list = std::move(list)] {
    absl::StatusOr<ListResult> r = ctx_->engine().List(list);
    call->Reply(r.status(), [&] { ToProto(*r, resp); });
  });
  return call;
}

grpc::ServerUnaryReactor* JobService::CancelJob(const CallInfo& call_info,
                                                const v1::CancelJobRequest* req,
                                                v1::CancelJobResponse* resp) {
  UnaryCall* call = ctx_->StartCall(call_info);
  const JobId id = req->job_id();
  const auth::CallAccess& access = call_info.access;
  auto cancel = [this, call, resp, id, principal = access.principal()] {
    ctx_->engine().CancelAsync(id, [call, resp, id, principal](absl::StatusOr<JobState> r) {
      if (r.ok()) {
        spdlog::info("event=job_cancel job_id={} state={} principal={:?}", id, JobStateName(*r),
                     principal);
      }
      call->Reply(r.status(), [&] { resp->set_state(ToProto(*r)); });
    });
  };
  if (access.unrestricted()) {
    cancel();
    return call;
  }
  // A workflow's job: its cancel reaches the workflow's other queues.
  ctx_->RunBlocking([this, call, access, id, cancel = std::move(cancel)] {
    absl::Status s =
        CheckLookedUpQueue(access, [&] { return QueuesCancellingJob(ctx_->engine(), id); });
    if (!s.ok()) return call->Reply(s, [] {});
    cancel();
  });
  return call;
}

grpc::ServerUnaryReactor* JobService::RetryJob(const CallInfo& call_info,
                                               const v1::RetryJobRequest* req,
                                               v1::RetryJobResponse* resp) {
  UnaryCall* call = ctx_->StartCall(call_info);
  const JobId id = req->job_id();
  const auth::CallAccess& access = call_info.access;
  return ctx_->AfterQueueCheck(
      call, access, [this, id] { return QueueOfJob(ctx_->engine(), id); },
      [this, call, resp, id, principal = access.principal()] {
        ctx_->engine().RetryJobAsync(id, [call, resp, id, principal](absl::StatusOr<JobState> r) {
          if (r.ok()) spdlog::info("event=job_retry_now job_id={} principal={:?}", id, principal);
          call->Reply(r.status(), [&] { resp->set_state(ToProto(*r)); });
        });
      });
}

grpc::ServerUnaryReactor* JobService::CancelJobs(const CallInfo& call_info,
                                                 const v1::CancelJobsRequest* req,
                                                 v1::CancelJobsResponse* resp) {
  UnaryCall* call = ctx_->StartCall(call_info);
  // The guard reaches what a workflow's job cancels in other queues.
  CancelJobsRequest cancel{.queue = req->queue(),
                           .job_type = req->job_type(),
                           .concurrency_key = req->concurrency_key(),
                           .guard = call_info.access.Guard()};
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
