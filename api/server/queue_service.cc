#include "queue_service.h"

#include <spdlog/spdlog.h>

#include "convert.h"
#include "ratchet/base/status.h"

namespace ratchet::server {

QueueService::QueueService(ServiceContext* ctx)
    : ParseGuarded(&ctx->gate(), &ctx->methods()), ctx_(ctx) {
  GuardParse("ListQueues", &QueueService::ListQueues);
  GuardParse("GetQueue", &QueueService::GetQueue);
  GuardParse("UpdateQueue", &QueueService::UpdateQueue);
  GuardParse("PauseQueue", &QueueService::PauseQueue);
  GuardParse("ResumeQueue", &QueueService::ResumeQueue);
  GuardParse("ListDeadLetters", &QueueService::ListDeadLetters);
  GuardParse("RedriveDeadLetters", &QueueService::RedriveDeadLetters);
  GuardParse("PurgeDeadLetters", &QueueService::PurgeDeadLetters);
}

grpc::ServerUnaryReactor* QueueService::ListQueues(const CallInfo& call_info,
                                                   const v1::ListQueuesRequest* req,
                                                   v1::ListQueuesResponse* resp) {
  UnaryCall* call = ctx_->StartCall(call_info);
  // A caller who may not read every queue gets sealed cursors: the engine's
  // name the page's last queue, which the filter may hide (page_cursor.h).
  const bool sealed = !call_info.access.unrestricted() && !call_info.access.Covers("*");
  absl::StatusOr<std::string> cursor = sealed ? ctx_->cursors().Open(req->cursor()) : req->cursor();
  if (!cursor.ok()) return call->Reject(cursor.status());
  QueueListRequest list{.limit = req->limit() == 0 ? 100 : req->limit(),
                        .cursor = *std::move(cursor)};
  ctx_->RunBlocking([this, call, resp, sealed, access = call_info.access, list = std::move(list)] {
    auto r = ctx_->engine().ListQueues(list);
    call->Reply(r.status(), [&] {
      // Filtered after the page: a page may hold fewer queues than the
      // limit, even none, and still carry a next_cursor.
      for (const QueueInfo& q : r->queues) {
        if (access.Covers(q.name)) ToProto(q, resp->add_queues());
      }
      resp->set_next_cursor(sealed ? ctx_->cursors().Seal(r->next_cursor) : r->next_cursor);
    });
  });
  return call;
}

grpc::ServerUnaryReactor* QueueService::GetQueue(const CallInfo& call_info,
                                                 const v1::GetQueueRequest* req,
                                                 v1::QueueInfo* resp) {
  UnaryCall* call = ctx_->StartCall(call_info);
  ctx_->RunBlocking([this, call, resp, queue = req->queue()] {
    auto r = ctx_->engine().GetQueue(queue);
    call->Reply(r.status(), [&] { ToProto(*r, resp); });
  });
  return call;
}

grpc::ServerUnaryReactor* QueueService::UpdateQueue(const CallInfo& call_info,
                                                    const v1::UpdateQueueRequest* req,
                                                    v1::QueueInfo* resp) {
  UnaryCall* call = ctx_->StartCall(call_info);
  auto update = FromProto(*req);
  if (!update.ok()) return call->Reject(update.status());
  ctx_->RunBlocking([this, call, resp, queue = req->queue(), update = *std::move(update)] {
    // One partial update in the engine: no read-modify-write here, so
    // concurrent updates of different settings all take effect.
    absl::Status s = ctx_->engine().UpdateQueue(queue, update);
    if (!s.ok()) return call->Reply(s, [] {});
    spdlog::info("event=queue_updated queue={}", queue);
    absl::StatusOr<QueueInfo> info = ctx_->engine().GetQueue(queue);
    call->Reply(info.status(), [&] { ToProto(*info, resp); });
  });
  return call;
}

grpc::ServerUnaryReactor* QueueService::SetPaused(const CallInfo& call_info,
                                                  const std::string& queue, bool paused,
                                                  v1::QueueInfo* resp) {
  UnaryCall* call = ctx_->StartCall(call_info);
  ctx_->RunBlocking([this, call, resp, queue, paused] {
    absl::Status s = paused ? ctx_->engine().PauseQueue(queue) : ctx_->engine().ResumeQueue(queue);
    if (!s.ok()) return call->Reply(s, [] {});
    spdlog::info("event={} queue={}", paused ? "queue_paused" : "queue_resumed", queue);
    absl::StatusOr<QueueInfo> info = ctx_->engine().GetQueue(queue);
    call->Reply(info.status(), [&] { ToProto(*info, resp); });
  });
  return call;
}

grpc::ServerUnaryReactor* QueueService::PauseQueue(const CallInfo& call_info,
                                                   const v1::PauseQueueRequest* req,
                                                   v1::QueueInfo* resp) {
  return SetPaused(call_info, req->queue(), true, resp);
}

grpc::ServerUnaryReactor* QueueService::ResumeQueue(const CallInfo& call_info,
                                                    const v1::ResumeQueueRequest* req,
                                                    v1::QueueInfo* resp) {
  return SetPaused(call_info, req->queue(), false, resp);
}

grpc::ServerUnaryReactor* QueueService::ListDeadLetters(const CallInfo& call_info,
                                                        const v1::ListDeadLettersRequest* req,
                                                        v1::ListJobsResponse* resp) {
  UnaryCall* call = ctx_->StartCall(call_info);
  ListRequest list{.queue = req->queue(),
                   .state = JobState::kDead,
                   .limit = req->limit() == 0 ? 100 : req->limit(),
                   .cursor = req->cursor(),
                   .max_bytes = ctx_->limits().max_lease_bytes};
  ctx_->RunBlocking([this, call, resp, list = std::move(list)] {
    auto r = ctx_->engine().List(list);
    call->Reply(r.status(), [&] { ToProto(*r, resp); });
  });
  return call;
}

grpc::ServerUnaryReactor* QueueService::RedriveDeadLetters(const CallInfo& call_info,
                                                           const v1::RedriveDeadLettersRequest* req,
                                                           v1::BulkResponse* resp) {
  UnaryCall* call = ctx_->StartCall(call_info);
  RedriveRequest redrive{.filter = FromProto(req->filter()),
                         .reset_attempts = req->reset_attempts()};
  if (req->has_pace()) {
    auto pace = FromProto(req->pace(), "pace");
    if (!pace.ok()) return call->Reject(pace.status());
    redrive.pace = *pace;
  }
  ctx_->RunBlocking([this, call, resp, redrive = std::move(redrive)] {
    auto r = ctx_->engine().Redrive(redrive);
    if (r.ok()) spdlog::info("event=dlq_redrive queue={} count={}", redrive.filter.queue, r->count);
    call->Reply(r.status(), [&] {
      resp->set_count(r->count);
      resp->set_more(r->more);
    });
  });
  return call;
}

grpc::ServerUnaryReactor* QueueService::PurgeDeadLetters(const CallInfo& call_info,
                                                         const v1::PurgeDeadLettersRequest* req,
                                                         v1::BulkResponse* resp) {
  UnaryCall* call = ctx_->StartCall(call_info);
  ctx_->RunBlocking([this, call, resp, filter = FromProto(req->filter())] {
    auto r = ctx_->engine().Purge(filter);
    if (r.ok()) spdlog::info("event=dlq_purge queue={} count={}", filter.queue, r->count);
    call->Reply(r.status(), [&] {
      resp->set_count(r->count);
      resp->set_more(r->more);
    });
  });
  return call;
}

}  // namespace ratchet::server
