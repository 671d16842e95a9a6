// QueueService (ratchet.v1): queue settings and counts, pause and resume,
// and the dead-letter queues. These are operator calls; they run on the
// context's blocking pool, never on a gRPC thread.
#ifndef RATCHET_API_SERVER_QUEUE_SERVICE_H_
#define RATCHET_API_SERVER_QUEUE_SERVICE_H_

#include "parse_guard.h"
#include "ratchet/v1/queue_service.grpc.pb.h"
#include "service_context.h"

namespace ratchet::server {

// Its methods take CallInfo (call_info.h), not gRPC's context, and so hide
// the generated service's virtuals of the same names on purpose: those are
// never called (ParseGuarded installs the handlers that call these).
#if defined(__clang__)
#pragma clang diagnostic push
#pragma clang diagnostic ignored "-Woverloaded-virtual"
#endif
class QueueService final : public ParseGuarded<ratchet::v1::QueueService> {
 public:
  // `ctx` is not owned and must outlive the service.
  explicit QueueService(ServiceContext* ctx);

  grpc::ServerUnaryReactor* ListQueues(const CallInfo&, const v1::ListQueuesRequest* req,
                                       v1::ListQueuesResponse* resp);
  grpc::ServerUnaryReactor* GetQueue(const CallInfo&, const v1::GetQueueRequest* req,
                                     v1::QueueInfo* resp);
  grpc::ServerUnaryReactor* UpdateQueue(const CallInfo&, const v1::UpdateQueueRequest* req,
                                        v1::QueueInfo* resp);
  grpc::ServerUnaryReactor* PauseQueue(const CallInfo&, const v1::PauseQueueRequest* req,
                                       v1::QueueInfo* resp);
  grpc::ServerUnaryReactor* ResumeQueue(const CallInfo&, const v1::ResumeQueueRequest* req,
                                        v1::QueueInfo* resp);
  grpc::ServerUnaryReactor* ListDeadLetters(const CallInfo&, const v1::ListDeadLettersRequest* req,
                                            v1::ListJobsResponse* resp);
  grpc::ServerUnaryReactor* RedriveDeadLetters(const CallInfo&,
                                               const v1::RedriveDeadLettersRequest* req,
                                               v1::BulkResponse* resp);
  grpc::ServerUnaryReactor* PurgeDeadLetters(const CallInfo&,
                                             const v1::PurgeDeadLettersRequest* req,
                                             v1::BulkResponse* resp);

 private:
  // Pause or resume, then answer with the queue's info.
  grpc::ServerUnaryReactor* SetPaused(const CallInfo& call_info, const std::string& queue,
                                      bool paused, v1::QueueInfo* resp);

  ServiceContext* const ctx_;
};
#if defined(__clang__)
#pragma clang diagnostic pop
#endif

}  // namespace ratchet::server

#endif  // RATCHET_API_SERVER_QUEUE_SERVICE_H_
