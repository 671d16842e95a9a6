#include "work_items.h"

#include <algorithm>
#include <atomic>

#include "absl/synchronization/mutex.h"
#include "convert.h"
#include "ratchet/api/status_codec.h"
#include "ratchet/api/time_codec.h"
#include "worker_logs.h"

namespace ratchet::server {

HeartbeatItems::HeartbeatItems(const Repeated<v1::HeartbeatRequest>& items,
                               const std::shared_ptr<const QueueGuard>& guard) {
  edge_.reserve(items.size());
  for (const v1::HeartbeatRequest& item : items) {
    absl::StatusOr<HeartbeatRequest> hb = FromProto(item);
    edge_.push_back(hb.status());
    if (!hb.ok()) continue;
    hb->guard = guard;
    valid_.push_back(*std::move(hb));
  }
}

void HeartbeatItems::Answer(const std::vector<absl::StatusOr<HeartbeatResult>>& results,
                            Repeated<v1::HeartbeatBatchItem>* out) const {
  size_t next = 0;
  for (const absl::Status& edge : edge_) {
    v1::HeartbeatBatchItem* item = out->Add();
    if (!edge.ok()) {
      *item->mutable_status() = ToRpcStatus(edge);
      continue;
    }
    const absl::StatusOr<HeartbeatResult>& r =
        next < results.size() ? results[next]
                              : absl::StatusOr<HeartbeatResult>(absl::InternalError("no result"));
    ++next;
    *item->mutable_status() = ToRpcStatus(r.status());
    if (!r.ok()) continue;
    *item->mutable_result()->mutable_lease_deadline() = ToProtoTime(r->lease_deadline);
    item->mutable_result()->set_cancel_requested(r->cancel_requested);
  }
}

namespace {

// The acknowledgement being assembled from up to three engine batches.
struct PendingAck {
  PendingAck(const v1::WorkStreamRequest& msg, const std::shared_ptr<const QueueGuard>& guard,
             std::function<void(absl::StatusOr<v1::WorkStreamAck>)> done)
      : heartbeats(msg.heartbeats(), guard), done(std::move(done)) {
    ack.set_seq(msg.seq());
  }
  // Records one batch's end; the last one answers.
  void Finish(const absl::Status& batch_status) {
    bool last = false;
    {
      absl::MutexLock lock(&mu);
      if (!batch_status.ok() && status.ok()) status = batch_status;
      last = --outstanding == 0;
    }
    if (!last) return;
    if (!status.ok()) return done(status);
    done(std::move(ack));
  }

  absl::Mutex mu;
  int outstanding = 0;  // set before the first batch is submitted
  absl::Status status;  // the first batch that failed whole
  v1::WorkStreamAck ack;
  HeartbeatItems heartbeats;
  std::function<void(absl::StatusOr<v1::WorkStreamAck>)> done;
};

// A batch refused whole for its content (INVALID_ARGUMENT: too many bytes)
// answers each item with the refusal; any other whole failure ends the
// stream.
bool PerItem(const absl::Status& s) { return s.code() == absl::StatusCode::kInvalidArgument; }

}  // namespace

void ApplyWorkItems(Engine& engine, const auth::CallAccess& access,
                    const v1::WorkStreamRequest& msg,
                    std::function<void(absl::StatusOr<v1::WorkStreamAck>)> done) {
  std::shared_ptr<const QueueGuard> guard = access.Guard();
  auto pending = std::make_shared<PendingAck>(msg, guard, std::move(done));
  std::vector<CompleteRequest> completions;
  std::vector<JobId> completion_ids;
  for (const v1::CompleteRequest& item : msg.completions()) {
    completions.push_back(FromProto(item));
    completions.back().guard = guard;
    completion_ids.push_back(item.job_id());
  }
  std::vector<FailRequest> failures;
  std::vector<JobId> failure_ids;
  for (const v1::FailRequest& item : msg.failures()) {
    failures.push_back(FromProto(item));
    failures.back().guard = guard;
    failure_ids.push_back(item.job_id());
  }
  const bool has_heartbeats = msg.heartbeats_size() > 0;
  const bool engine_heartbeats = pending->heartbeats.valid_count() > 0;
  pending->outstanding = 1 + !completions.empty() + !failures.empty() + engine_heartbeats;
  // Heartbeats all refused at the edge are answered now, before any engine
  // callback can touch the acknowledgement.
  if (has_heartbeats && !engine_heartbeats) {
    pending->heartbeats.Answer({}, pending->ack.mutable_heartbeats());
  }

  if (!completions.empty()) {
    const size_t n = completions.size();
    engine.CompleteBatchAsync(
        std::move(completions), [pending, access, n, ids = std::move(completion_ids)](
                                    absl::StatusOr<std::vector<absl::Status>> r) {
          if (!r.ok() && PerItem(r.status())) r = std::vector<absl::Status>(n, r.status());
          if (r.ok()) {
            LogGuardRefusals(access, "WorkStream", std::count_if(r->begin(), r->end(), Refused));
            for (size_t i = 0; i < r->size(); ++i) {
              LogStaleComplete(ids[i], (*r)[i]);
              *pending->ack.add_completions() = ToRpcStatus((*r)[i]);
            }
          }
          pending->Finish(r.status());
        });
  }
  if (!failures.empty()) {
    const size_t n = failures.size();
    engine.FailBatchAsync(
        std::move(failures), [pending, access, n, ids = std::move(failure_ids)](
                                 absl::StatusOr<std::vector<absl::StatusOr<FailResult>>> r) {
          if (!r.ok() && PerItem(r.status())) {
            r = std::vector<absl::StatusOr<FailResult>>(n, r.status());
          }
          if (r.ok()) {
            LogGuardRefusals(access, "WorkStream",
                             std::count_if(r->begin(), r->end(),
                                           [](const auto& i) { return Refused(i.status()); }));
            for (size_t i = 0; i < r->size(); ++i) {
              LogFail(ids[i], (*r)[i]);
              v1::FailBatchItem* out = pending->ack.add_failures();
              *out->mutable_status() = ToRpcStatus((*r)[i].status());
              if ((*r)[i].ok()) ToProto(*(*r)[i], out->mutable_result());
            }
          }
          pending->Finish(r.status());
        });
  }
  if (engine_heartbeats) {
    const size_t n = pending->heartbeats.valid_count();
    engine.HeartbeatBatchAsync(
        pending->heartbeats.TakeValid(),
        [pending, access, n](absl::StatusOr<std::vector<absl::StatusOr<HeartbeatResult>>> r) {
          if (!r.ok() && PerItem(r.status())) {
            r = std::vector<absl::StatusOr<HeartbeatResult>>(n, r.status());
          }
          if (r.ok()) {
            LogGuardRefusals(access, "WorkStream",
                             std::count_if(r->begin(), r->end(),
                                           [](const auto& i) { return Refused(i.status()); }));
            pending->heartbeats.Answer(*r, pending->ack.mutable_heartbeats());
          }
          pending->Finish(r.status());
        });
  }
  pending->Finish(absl::OkStatus());  // the submitter's own count
}

}  // namespace ratchet::server
