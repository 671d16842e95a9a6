#include "work_stream.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "auth/method_rules.h"
#include "convert.h"
#include "grpcpp/impl/codegen/proto_utils.h"
#include "parse_guard.h"
#include "ratchet/api/status_codec.h"
#include "ratchet/base/status.h"
#include "work_items.h"
#include "worker_logs.h"

namespace ratchet::server {
namespace {

// Parses one message of the stream (gRPC's own codec, as the generated
// handlers use; it consumes `bytes`); false if the bytes are not one.
bool Parse(grpc::ByteBuffer& bytes, v1::WorkStreamRequest* msg) {
  return grpc::SerializationTraits<v1::WorkStreamRequest>::Deserialize(&bytes, msg).ok();
}

const auth::MethodRule* StreamRule() {
  static const auth::MethodRule* rule = auth::FindRule("ratchet.v1.WorkerService", "WorkStream");
  return rule;
}

constexpr Millis kLeaseWait{5000};

absl::Status CheckItems(const char* field, int n, int max) {
  if (n <= max) return absl::OkStatus();
  return InvalidArgument(field, absl::StrCat(n, " items exceed the limit of ", max,
                                             " per message (send them in several)"));
}

}  // namespace

WorkStreamReactor::WorkStreamReactor(ServiceContext* ctx, grpc::CallbackServerContext* context)
    : ctx_(ctx), context_(context) {
  ctx_->RegisterStream(this);
  Pump();  // the first read
}

void WorkStreamReactor::Drain(const absl::Status& why) {
  {
    absl::MutexLock lock(&mu_);
    if (!draining_) draining_ = why;
    StopLeasing();
  }
  Pump();
}

void WorkStreamReactor::Unref() {
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
}

void WorkStreamReactor::OnDone() {
  ctx_->UnregisterStream(this);
  Unref();
}

void WorkStreamReactor::OnCancel() {
  {
    absl::MutexLock lock(&mu_);
    Fail(absl::CancelledError("the worker's stream was cancelled"));
  }
  Pump();
}

void WorkStreamReactor::Fail(absl::Status status) {
  if (!error_) error_ = std::move(status);
  StopLeasing();
  // What is queued will not be sent (the message being written stays until
  // its write ends).
  while (out_.size() > (writing_ ? 1 : 0)) out_.pop_back();
}

void WorkStreamReactor::StopLeasing() {
  if (stop_leasing_) return;
  stop_leasing_ = true;
  abandoned_->store(true);
  // A parked lease ends at the engine's next pass, not within its sweep's
  // second: leasing_stopped (and a stopping worker) need not wait.
  if (leasing_) ctx_->engine().ReleaseAbandonedLeases();
}

absl::StatusOr<bool> WorkStreamReactor::Accept(const v1::WorkStreamRequest& msg) {
  const ServiceLimits& limits = ctx_->limits();
  if (!lease_) {
    if (!msg.has_open()) {
      return InvalidArgument("open", "the first message of a WorkStream must open it");
    }
    RATCHET_ASSIGN_OR_RETURN(access_, ctx_->gate().Admit(*context_, StreamRule(), msg));
    v1::LeaseRequest lease;
    lease.set_queue(msg.open().queue());
    lease.set_worker_id(msg.open().worker_id());
    if (msg.open().has_visibility_timeout()) {
      *lease.mutable_visibility_timeout() = msg.open().visibility_timeout();
    }
    RATCHET_ASSIGN_OR_RETURN(lease_, FromProto(lease, "open"));
    if (lease_->queue.empty()) return InvalidArgument("open.queue", "is required");
    lease_->abandoned = abandoned_;
    lease_->max_bytes = limits.max_lease_bytes;
    lease_->max_job_bytes = limits.max_lease_bytes;
    // Re-armed inside the server whenever it ends empty; short enough that
    // an abandoned one does not linger, long enough to cost nothing idle.
    lease_->wait =
        std::min({limits.max_lease_wait, ctx_->engine().options().max_lease_wait, kLeaseWait});
    spdlog::debug("event=work_stream_opened principal={:?} queue={} worker_id={:?} peer={:?}",
                  access_.principal(), lease_->queue, lease_->worker_id, context_->peer());
  } else if (msg.has_open()) {
    return InvalidArgument("open", "only the first message of a WorkStream may open it");
  }
  if (msg.credits() < 0 || credits_ + msg.credits() > limits.max_stream_credits) {
    return InvalidArgument(
        "credits",
        absl::StrCat(msg.credits(), " more would leave ", credits_ + msg.credits(),
                     " unused credits; they must stay in 0..", limits.max_stream_credits));
  }
  RATCHET_RETURN_IF_ERROR(
      CheckItems("completions", msg.completions_size(), limits.max_batch_items));
  RATCHET_RETURN_IF_ERROR(CheckItems("failures", msg.failures_size(), limits.max_batch_items));
  RATCHET_RETURN_IF_ERROR(CheckItems("heartbeats", msg.heartbeats_size(), limits.max_batch_items));
  credits_ += msg.credits();
  if (msg.stop_leasing()) {
    stop_asked_ = true;
    StopLeasing();
  }
  return msg.completions_size() + msg.failures_size() + msg.heartbeats_size() > 0;
}

void WorkStreamReactor::OnReadDone(bool ok) {
  v1::WorkStreamRequest msg;
  auth::CallAccess access;
  bool apply = false;
  uint64_t order = 0;
  {
    absl::MutexLock lock(&mu_);
    reading_ = false;
    if (ok && !Parse(incoming_, &msg)) {
      Fail(RequestDidNotParse(v1::WorkStreamRequest::descriptor()->full_name()));
    } else if (!ok) {
      // The worker half-closed (or the stream broke): lease no more, answer
      // what is in flight, then finish.
      reads_done_ = true;
      StopLeasing();
    } else if (!finished_ && !error_) {
      absl::StatusOr<bool> items = Accept(msg);
      if (!items.ok()) {
        Fail(items.status());
      } else if (*items) {
        ++applying_;
        apply = true;
        access = access_;
        order = next_apply_++;
      }
      lease_idle_ = false;  // a message re-arms a lease that found nothing
    }
  }
  if (apply) {
    Ref();
    ApplyWorkItems(
        ctx_->engine(), access, msg, [this, order](absl::StatusOr<v1::WorkStreamAck> ack) {
          {
            absl::MutexLock lock(&mu_);
            --applying_;
            if (!ack.ok()) {
              Fail(ack.status());
            } else if (!finished_ && !error_) {
              // Sent in message order: one answered early waits for the
              // earlier ones.
              early_acks_[order] = *std::move(ack);
              for (auto it = early_acks_.begin(); it != early_acks_.end() && it->first == next_ack_;
                   it = early_acks_.erase(it), ++next_ack_) {
                v1::WorkStreamResponse resp;
                *resp.add_acks() = std::move(it->second);
                Enqueue(std::move(resp));
              }
            }
          }
          Pump();
          Unref();
        });
  }
  Pump();
}

void WorkStreamReactor::Lease(LeaseRequest req) {
  Ref();
  std::string worker = req.worker_id;
  ctx_->engine().LeaseAsync(std::move(req), [this,
                                             worker](absl::StatusOr<std::vector<LeasedJob>> r) {
    if (r.ok()) LogLeased(*r, worker);
    {
      absl::MutexLock lock(&mu_);
      leasing_ = false;
      if (!r.ok()) {
        Fail(PrefixField(r.status(), "open."));
      } else if (!r->empty()) {
        credits_ -= static_cast<int64_t>(r->size());
        if (!error_) {
          v1::WorkStreamResponse resp;
          for (const LeasedJob& j : *r) ToProto(j, resp.add_jobs());
          Enqueue(std::move(resp));
        } else {
          // Leased just as the stream ended: the jobs run again after
          // their visibility timeout.
          spdlog::info("event=work_stream_lease_dropped jobs={} worker_id={:?}", r->size(), worker);
        }
      }
    }
    Pump();
    Unref();
  });
}

void WorkStreamReactor::Enqueue(v1::WorkStreamResponse resp) {
  const bool back_in_flight = writing_ && out_.size() == 1;
  if (!out_.empty() && !back_in_flight &&
      out_.back().ByteSizeLong() + resp.ByteSizeLong() <= ctx_->limits().max_lease_bytes) {
    out_.back().MergeFrom(resp);
    return;
  }
  out_.push_back(std::move(resp));
}

void WorkStreamReactor::OnWriteDone(bool ok) {
  {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    out_.pop_front();
    if (!ok) Fail(absl::UnavailableError("the worker's stream broke"));
  }
  Pump();
}

void WorkStreamReactor::Pump() {
  const grpc::ByteBuffer* write = nullptr;
  grpc::ByteBuffer* read = nullptr;
  std::optional<LeaseRequest> lease;
  std::optional<grpc::Status> finish;
  {
    absl::MutexLock lock(&mu_);
    if (finished_) return;
    if (error_) {
      if (!writing_ && starting_ == 0) {
        finished_ = true;
        finish = ToGrpcStatus(*error_);
      }
    } else {
      if (stop_asked_ && !leasing_ && !stopped_sent_) {
        stopped_sent_ = true;
        v1::WorkStreamResponse stopped;
        stopped.set_leasing_stopped(true);
        Enqueue(std::move(stopped));
      }
      if (lease_ && !limits_sent_) {
        limits_sent_ = true;
        v1::WorkStreamResponse limits;
        limits.set_max_items(ctx_->limits().max_batch_items);
        Enqueue(std::move(limits));
      }
      if (lease_ && !leasing_ && !lease_idle_ && !stop_leasing_ && credits_ > 0 &&
          out_.size() <= 1) {
        leasing_ = true;
        lease = *lease_;
        lease->max_jobs =
            static_cast<int>(std::min<int64_t>(credits_, ctx_->limits().max_batch_items));
      }
      if (!writing_ && !out_.empty()) {
        writing_ = true;
        bool own_buffer = false;
        write_buf_.Clear();  // the codec writes into an empty buffer
        if (!grpc::SerializationTraits<v1::WorkStreamResponse>::Serialize(out_.front(), &write_buf_,
                                                                          &own_buffer)
                 .ok()) {
          writing_ = false;
          Fail(absl::InternalError("an answer did not serialize"));
        } else {
          write = &write_buf_;
        }
      }
      if (!reading_ && !reads_done_ && !draining_ && applying_ + out_.size() < kWindow) {
        reading_ = true;
        read = &incoming_;
      }
      starting_ += (write != nullptr) + (read != nullptr);
      if ((reads_done_ || draining_) && applying_ == 0 && !leasing_ && out_.empty() && !writing_ &&
          starting_ == 0) {
        finished_ = true;
        finish = draining_ ? ToGrpcStatus(*draining_) : grpc::Status::OK;
      }
    }
  }
  if (write != nullptr) StartWrite(write);
  if (read != nullptr) StartRead(read);
  if (write != nullptr || read != nullptr) {
    bool again;
    {
      absl::MutexLock lock(&mu_);
      starting_ -= (write != nullptr) + (read != nullptr);
      // A finish deferred for these starts happens now.
      again = !finished_ && starting_ == 0 && (error_ || reads_done_ || draining_);
    }
    if (again) {
      if (lease) Lease(*std::move(lease));
      lease.reset();
      Pump();
    }
  }
  if (lease) Lease(*std::move(lease));
  if (finish) Finish(*finish);
}

}  // namespace ratchet::server
