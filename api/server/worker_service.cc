#include "worker_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>

#include "convert.h"
#include "ratchet/api/status_codec.h"
#include "ratchet/api/time_codec.h"
#include "ratchet/base/status.h"
#include "ratchet/base/traceparent.h"
#include "work_items.h"
#include "work_stream.h"
#include "worker_logs.h"

namespace ratchet::server {
namespace {

// Answer a long poll this long before the client's deadline, so the empty
// answer reaches the client before it gives up.
constexpr Millis kDeadlineMargin{50};

}  // namespace

WorkerService::WorkerService(ServiceContext* ctx)
    : ParseGuarded(&ctx->gate(), &ctx->methods()), ctx_(ctx) {
  GuardParse("Lease", &WorkerService::Lease);
  GuardParse("Heartbeat", &WorkerService::Heartbeat);
  GuardParse("Complete", &WorkerService::Complete);
  GuardParse("CompleteBatch", &WorkerService::CompleteBatch);
  GuardParse("Fail", &WorkerService::Fail);
  GuardParse("FailBatch", &WorkerService::FailBatch);
  GuardParse("CompleteAndLease", &WorkerService::CompleteAndLease);
  GuardParse("ListWorkers", &WorkerService::ListWorkers);
  GuardParse("HeartbeatBatch", &WorkerService::HeartbeatBatch);
  // Raw bytes: the reactor parses each message (work_stream.h).
  const auto* stream = google::protobuf::DescriptorPool::generated_pool()
                           ->FindServiceByName(v1::WorkerService::service_full_name())
                           ->FindMethodByName("WorkStream");
  MarkMethodRawCallback(stream->index(),
                        new grpc::internal::CallbackBidiHandler<grpc::ByteBuffer, grpc::ByteBuffer>(
                            [ctx](grpc::CallbackServerContext* context) {
                              return new WorkStreamReactor(ctx, context);
                            }));
}

grpc::ServerUnaryReactor* WorkerService::HeartbeatBatch(const CallInfo& call_info,
                                                        const v1::HeartbeatBatchRequest* req,
                                                        v1::HeartbeatBatchResponse* resp) {
  UnaryCall* call = ctx_->StartCall(call_info);
  const int max_items = ctx_->limits().max_batch_items;
  if (req->items_size() == 0 || req->items_size() > max_items) {
    return call->Reject(
        InvalidArgument("items", absl::StrCat("must hold 1..", max_items, " items")));
  }
  const auth::CallAccess& access = call_info.access;
  HeartbeatItems items(req->items(), access.Guard());
  if (items.valid_count() == 0) {  // every item refused at the edge
    call->Reply(absl::OkStatus(), [&] { items.Answer({}, resp->mutable_items()); });
    return call;
  }
  std::vector<HeartbeatRequest> valid = items.TakeValid();  // before `items` moves
  ctx_->engine().HeartbeatBatchAsync(
      std::move(valid),
      [call, resp, access, items = std::move(items)](
          absl::StatusOr<std::vector<absl::StatusOr<HeartbeatResult>>> r) mutable {
        if (r.ok()) {
          LogGuardRefusals(access, "HeartbeatBatch",
                           std::count_if(r->begin(), r->end(),
                                         [](const auto& i) { return Refused(i.status()); }));
        }
        call->Reply(r.status(), [&] { items.Answer(*r, resp->mutable_items()); });
      });
  return call;
}

UnaryCall* WorkerService::StartLease(const CallInfo& call_info, LeaseRequest* lease) {
  Millis wait = std::clamp(lease->wait, Millis(0), ctx_->limits().max_lease_wait);
  UnaryCall* call = ctx_->StartCall(call_info, wait);  // the server deadline covers the wait
  auto deadline = call_info.deadline;
  if (deadline != std::chrono::system_clock::time_point::max()) {
    auto left = std::chrono::duration_cast<Millis>(deadline - std::chrono::system_clock::now());
    wait = std::max(std::min(wait, left - kDeadlineMargin), Millis(0));
  }
  lease->wait = wait;
  lease->abandoned = call->cancelled();
  lease->max_bytes = ctx_->limits().max_lease_bytes;
  lease->max_job_bytes = ctx_->limits().max_lease_bytes;
  return call;
}

grpc::ServerUnaryReactor* WorkerService::Lease(const CallInfo& call_info,
                                               const v1::LeaseRequest* req,
                                               v1::LeaseResponse* resp) {
  auto lease = FromProto(*req, "");
  if (!lease.ok()) return ctx_->StartCall(call_info)->Reject(lease.status());
  UnaryCall* call = StartLease(call_info, &*lease);
  ctx_->engine().LeaseAsync(*std::move(lease), [call, resp, worker = req->worker_id()](
                                                   absl::StatusOr<std::vector<LeasedJob>> r) {
    if (r.ok()) LogLeased(*r, worker);
    call->Reply(r.status(), [&] {
      for (const LeasedJob& j : *r) ToProto(j, resp->add_jobs());
    });
  });
  return call;
}

grpc::ServerUnaryReactor* WorkerService::Heartbeat(const CallInfo& call_info,
                                                   const v1::HeartbeatRequest* req,
                                                   v1::HeartbeatResponse* resp) {
  UnaryCall* call = ctx_->StartCall(call_info);
  auto heartbeat = FromProto(*req);
  if (!heartbeat.ok()) return call->Reject(heartbeat.status());
  const auth::CallAccess& access = call_info.access;
  heartbeat->guard = access.Guard();
  ctx_->engine().HeartbeatAsync(
      *std::move(heartbeat), [call, resp, access](absl::StatusOr<HeartbeatResult> r) {
        LogGuardRefusals(access, "Heartbeat", Refused(r.status()));
        call->Reply(r.status(), [&] {
          *resp->mutable_lease_deadline() = ToProtoTime(r->lease_deadline);
          resp->set_cancel_requested(r->cancel_requested);
        });
      });
  return call;
}

grpc::ServerUnaryReactor* WorkerService::Complete(const CallInfo& call_info,
                                                  const v1::CompleteRequest* req,
                                                  v1::CompleteResponse* resp) {
  UnaryCall* call = ctx_->StartCall(call_info);
  CompleteRequest complete = FromProto(*req);
  const auth::CallAccess& access = call_info.access;
  complete.guard = access.Guard();
  ctx_->engine().CompleteAsync(std::move(complete),
                               [call, id = req->job_id(), access](absl::Status s) {
                                 LogGuardRefusals(access, "Complete", Refused(s));
                                 LogStaleComplete(id, s);
                                 call->Reply(s, [] {});
                               });
  return call;
}

grpc::ServerUnaryReactor* WorkerService::CompleteBatch(const CallInfo& call_info,
                                                       const v1::CompleteBatchRequest* req,
                                                       v1::CompleteBatchResponse* resp) {
  UnaryCall* call = ctx_->StartCall(call_info);
  const auth::CallAccess& access = call_info.access;
  std::shared_ptr<const QueueGuard> guard = access.Guard();
  std::vector<CompleteRequest> items;
  items.reserve(req->items_size());
  for (const auto& item : req->items()) {
    items.push_back(FromProto(item));
    items.back().guard = guard;
  }
  ctx_->engine().CompleteBatchAsync(
      std::move(items), [call, resp, access](absl::StatusOr<std::vector<absl::Status>> r) {
        if (r.ok()) {
          LogGuardRefusals(access, "CompleteBatch", std::count_if(r->begin(), r->end(), Refused));
        }
        call->Reply(r.status(), [&] {
          for (const absl::Status& s : *r) *resp->add_statuses() = ToRpcStatus(s);
        });
      });
  return call;
}

grpc::ServerUnaryReactor* WorkerService::Fail(const CallInfo& call_info, const v1::FailRequest* req,
                                              v1::FailResponse* resp) {
  UnaryCall* call = ctx_->StartCall(call_info);
  FailRequest fail = FromProto(*req);
  const auth::CallAccess& access = call_info.access;
  fail.guard = access.Guard();
  ctx_->engine().FailAsync(std::move(fail),
                           [call, resp, id = req->job_id(), access](absl::StatusOr<FailResult> r) {
                             LogGuardRefusals(access, "Fail", Refused(r.status()));
                             LogFail(id, r);
                             call->Reply(r.status(), [&] { ToProto(*r, resp); });
                           });
  return call;
}

grpc::ServerUnaryReactor* WorkerService::FailBatch(const CallInfo& call_info,
                                                   const v1::FailBatchRequest* req,
                                                   v1::FailBatchResponse* resp) {
  UnaryCall* call = ctx_->StartCall(call_info);
  const auth::CallAccess& access = call_info.access;
  std::shared_ptr<const QueueGuard> guard = access.Guard();
  std::vector<FailRequest> items;
  std::vector<JobId> ids;
  for (const auto& item : req->items()) {
    items.push_back(FromProto(item));
    items.back().guard = guard;
    ids.push_back(item.job_id());
  }
  ctx_->engine().FailBatchAsync(
      std::move(items), [call, resp, ids = std::move(ids),
                         access](absl::StatusOr<std::vector<absl::StatusOr<FailResult>>> r) {
        if (r.ok()) {
          LogGuardRefusals(access, "FailBatch",
                           std::count_if(r->begin(), r->end(),
                                         [](const auto& i) { return Refused(i.status()); }));
          for (size_t i = 0; i < r->size(); ++i) LogFail(ids[i], (*r)[i]);
        }
        call->Reply(r.status(), [&] {
          for (const auto& item : *r) {
            v1::FailBatchItem* out = resp->add_items();
            *out->mutable_status() = ToRpcStatus(item.status());
            if (item.ok()) ToProto(*item, out->mutable_result());
          }
        });
      });
  return call;
}

grpc::ServerUnaryReactor* WorkerService::CompleteAndLease(const CallInfo& call_info,
                                                          const v1::CompleteAndLeaseRequest* req,
                                                          v1::CompleteAndLeaseResponse* resp) {
  auto parsed = FromProto(req->lease(), "lease");
  if (!parsed.ok()) return ctx_->StartCall(call_info)->Reject(parsed.status());
  LeaseRequest lease = *std::move(parsed);
  UnaryCall* call = StartLease(call_info, &lease);
  // One engine operation: an invalid lease part writes nothing; a failed
  // completion (e.g. LEASE_LOST) still leases, and is reported in
  // `completion`.
  std::string worker = lease.worker_id;
  CompleteRequest complete = FromProto(req->complete());
  const auth::CallAccess& access = call_info.access;
  complete.guard = access.Guard();
  ctx_->engine().CompleteAndLeaseAsync(
      std::move(complete), std::move(lease),
      [call, resp, worker, access](absl::StatusOr<CompleteAndLeaseResult> r) {
        if (r.ok()) LogGuardRefusals(access, "CompleteAndLease", Refused(r->completion));
        if (r.ok()) LogLeased(r->jobs, worker);
        call->Reply(r.status(), [&] {
          *resp->mutable_completion() = ToRpcStatus(r->completion);
          for (const LeasedJob& j : r->jobs) ToProto(j, resp->add_jobs());
        });
      });
  return call;
}

grpc::ServerUnaryReactor* WorkerService::ListWorkers(const CallInfo& call_info,
                                                     const v1::ListWorkersRequest* req,
                                                     v1::ListWorkersResponse* resp) {
  UnaryCall* call = ctx_->StartCall(call_info);
  if (req->limit() < 0 || req->limit() > static_cast<int>(kMaxTrackedWorkers)) {
    return call->Reject(InvalidArgument("limit", "must be 0..10000 (0 means 1000)"));
  }
  const size_t limit = req->limit() == 0 ? 1000 : static_cast<size_t>(req->limit());
  const auth::CallAccess& access = call_info.access;
  // In memory and bounded (no RocksDB): answered on this thread. Filtered
  // before the limit; a worker whose queues are not all known (none yet,
  // or past the per-worker cap) only to callers who may read every queue.
  size_t bytes = 0;
  for (const WorkerInfo& w : ctx_->engine().ListWorkers(kMaxTrackedWorkers)) {
    if (static_cast<size_t>(resp->workers_size()) == limit) break;
    const bool known = !w.queues.empty() && !w.more_queues;
    if (!access.unrestricted() &&
        (!known || !std::all_of(w.queues.begin(), w.queues.end(),
                                [&](const std::string& q) { return access.Covers(q); }))) {
      continue;
    }
    v1::WorkerInfo out;
    out.set_worker_id(w.worker_id);
    for (const std::string& q : w.queues) out.add_queues(q);
    for (uint64_t id : w.job_ids) out.add_job_ids(id);
    out.set_jobs_held(w.jobs_held);
    *out.mutable_last_seen() = ToProtoTime(w.last_seen);
    bytes += out.ByteSizeLong();
    if (bytes > ctx_->limits().max_lease_bytes / 2) break;  // the answer stays well under the limit
    *resp->add_workers() = std::move(out);
  }
  call->Reply(absl::OkStatus(), [] {});
  return call;
}

}  // namespace ratchet::server
