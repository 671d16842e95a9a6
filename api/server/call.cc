#include "call.h"

#include <vector>

#include "ratchet/api/status_codec.h"

namespace ratchet::server {

UnaryCall::UnaryCall(CallDeadlines* deadlines, SteadyTime deadline,
                     std::function<void(const grpc::Status&)> finish)
    : deadlines_(deadlines), finish_(std::move(finish)) {
  deadlines_->Add(this, deadline);
}

void UnaryCall::End(const grpc::Status& status) {
  if (!finish_) return Finish(status);
  // No gRPC call to end: what gRPC's reference stands for (the deadline
  // entry) is released first, since the caller may tear the services and
  // their CallDeadlines down as soon as it has the answer (the server fuzzer
  // found the entry removed from a destroyed map). The caller of End holds
  // its own reference, so OnDone does not delete this call.
  std::function<void(const grpc::Status&)> finish = std::move(finish_);
  OnDone();
  finish(status);
}

void UnaryCall::Reply(const absl::Status& status, absl::FunctionRef<void()> fill) {
  if (!finished_.exchange(true, std::memory_order_acq_rel)) {
    if (status.ok()) fill();
    End(ToGrpcStatus(status));
  }
  Unref();
}

UnaryCall* UnaryCall::Reject(const absl::Status& status) {
  Reply(status, [] {});
  return this;
}

void UnaryCall::Expire() {
  cancelled_->store(true);
  if (finished_.exchange(true, std::memory_order_acq_rel)) return;
  End(grpc::Status(grpc::StatusCode::DEADLINE_EXCEEDED,
                   "the server's deadline for this call passed; the "
                   "operation's outcome is unknown (retry it: it is idempotent)"));
}

void UnaryCall::Unref() {
  if (refs_.fetch_sub(1, std::memory_order_acq_rel) == 1) delete this;
}

void UnaryCall::OnCancel() { cancelled_->store(true); }

void UnaryCall::OnDone() {
  deadlines_->Remove(this);
  Unref();
}

CallDeadlines::CallDeadlines() : thread_([this] { Run(); }) {}

CallDeadlines::~CallDeadlines() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

void CallDeadlines::Add(UnaryCall* call, UnaryCall::SteadyTime deadline) {
  absl::MutexLock lock(&mu_);
  call->entry_ = calls_.emplace(deadline, call);
}

void CallDeadlines::Remove(UnaryCall* call) {
  absl::MutexLock lock(&mu_);
  calls_.erase(call->entry_);
}

void CallDeadlines::Run() {
  constexpr auto kMaxSleep = std::chrono::milliseconds(100);
  while (true) {
    std::vector<UnaryCall*> expired;
    {
      absl::MutexLock lock(&mu_);
      if (stop_) return;
      auto now = std::chrono::steady_clock::now();
      for (auto it = calls_.begin(); it != calls_.end() && it->first <= now; ++it) {
        it->second->Ref();  // keeps it alive past OnDone while we expire it
        expired.push_back(it->second);
      }
    }
    for (UnaryCall* call : expired) {
      call->Expire();
      call->Unref();
    }
    // Deadlines are at least tens of milliseconds out, so polling at 100 ms
    // bounds the overshoot without a wake-up per registration.
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stop_), absl::FromChrono(kMaxSleep));
  }
}

}  // namespace ratchet::server
