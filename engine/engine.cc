// The public Engine API: thin wrappers that hand each operation to the
// sequencer (engine_impl.h), plus the blocking forms built on the async ones.
#include "ratchet/engine/engine.h"

#include "await.h"
#include "engine_impl.h"
#include "listing.h"
#include "records.h"
#include "validation.h"

namespace ratchet {

using storage::Batch;

using internal::Await;
using internal::AwaitStatus;
using internal::Done;

namespace {

absl::StatusOr<EnqueueResult> First(absl::StatusOr<std::vector<EnqueueResult>> r) {
  if (!r.ok()) return r.status();
  return r->front();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Engine>> Engine::Open(const EngineOptions& options) {
  RATCHET_ASSIGN_OR_RETURN(auto impl, Impl::Open(options));
  return std::unique_ptr<Engine>(new Engine(std::move(impl)));
}

Engine::Engine(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Engine::~Engine() = default;

// ---- Asynchronous API ----

void Engine::EnqueueAsync(EnqueueRequest req, Callback<EnqueueResult> cb) {
  std::vector<EnqueueRequest> reqs;
  reqs.push_back(std::move(req));
  impl_->Submit<EnqueueResult>(
      false,
      [sm = &impl_->state_machine(), reqs = std::move(reqs)](Batch& b, TimePoint now) {
        return First(sm->Enqueue(b, now, reqs, {}, false));
      },
      std::move(cb));
}

void Engine::EnqueueBatchAsync(std::vector<EnqueueRequest> reqs,
                               Callback<std::vector<EnqueueResult>> cb) {
  impl_->Submit<std::vector<EnqueueResult>>(
      false,
      [sm = &impl_->state_machine(), reqs = std::move(reqs)](Batch& b, TimePoint now) {
        return sm->Enqueue(b, now, reqs, {}, true);
      },
      std::move(cb));
}

void Engine::LeaseAsync(LeaseRequest req, Callback<std::vector<LeasedJob>> cb) {
  impl_->SubmitLease(std::move(req), std::move(cb));
}

void Engine::HeartbeatAsync(HeartbeatRequest req, Callback<HeartbeatResult> cb) {
  impl_->Submit<HeartbeatResult>(
      false,
      [sm = &impl_->state_machine(), req](Batch& b, TimePoint now) {
        return sm->Heartbeat(b, now, req);
      },
      std::move(cb));
}

void Engine::CompleteAsync(CompleteRequest req, StatusCallback cb) {
  impl_->Submit<Done>(
      false,
      [sm = &impl_->state_machine(), req = std::move(req)](Batch& b,
                                                           TimePoint now) -> absl::StatusOr<Done> {
        RATCHET_RETURN_IF_ERROR(sm->Complete(b, now, req));
        return Done{};
      },
      [cb = std::move(cb)](absl::StatusOr<Done> r) { cb(r.status()); });
}

void Engine::CompleteBatchAsync(std::vector<CompleteRequest> reqs,
                                Callback<std::vector<absl::Status>> cb) {
  impl_->Submit<std::vector<absl::Status>>(
      false,
      [sm = &impl_->state_machine(), max = impl_->options().max_lease_jobs,
       options = &impl_->options(), reqs = std::move(reqs)](
          Batch& b, TimePoint now) -> absl::StatusOr<std::vector<absl::Status>> {
        if (reqs.empty() || reqs.size() > static_cast<size_t>(max)) {
          return InvalidArgument("completions", "must hold 1.." + std::to_string(max) + " items");
        }
        size_t bytes = 0;
        for (const CompleteRequest& r : reqs) {
          bytes += r.result.size();
          for (const AppWrite& w : r.effects) bytes += w.value ? w.value->size() : 0;
        }
        RATCHET_RETURN_IF_ERROR(internal::ValidateRequestBytes("completions", bytes, *options));
        std::vector<absl::Status> out;
        out.reserve(reqs.size());
        // Each item is all-or-nothing on its own (Complete checks before it
        // writes), and all successful items share this operation's write.
        for (const CompleteRequest& req : reqs) out.push_back(sm->Complete(b, now, req));
        return out;
      },
      std::move(cb));
}

void Engine::FailAsync(FailRequest req, Callback<FailResult> cb) {
  impl_->Submit<FailResult>(
      false,
      [sm = &impl_->state_machine(), req = std::move(req)](Batch& b, TimePoint now) {
        return sm->Fail(b, now, req);
      },
      std::move(cb));
}

void Engine::FailBatchAsync(std::vector<FailRequest> reqs,
                            Callback<std::vector<absl::StatusOr<FailResult>>> cb) {
  impl_->Submit<std::vector<absl::StatusOr<FailResult>>>(
      false,
      [sm = &impl_->state_machine(), max = impl_->options().max_lease_jobs, reqs = std::move(reqs)](
          Batch& b, TimePoint now) -> absl::StatusOr<std::vector<absl::StatusOr<FailResult>>> {
        if (reqs.empty() || reqs.size() > static_cast<size_t>(max)) {
          return InvalidArgument("failures", "must hold 1.." + std::to_string(max) + " items");
        }
        std::vector<absl::StatusOr<FailResult>> out;
        out.reserve(reqs.size());
        for (const FailRequest& req : reqs) out.push_back(sm->Fail(b, now, req));
        return out;
      },
      std::move(cb));
}

void Engine::CancelAsync(JobId id, Callback<JobState> cb) {
  impl_->Submit<JobState>(
      false,
      [sm = &impl_->state_machine(), id](Batch& b, TimePoint now) {
        return sm->Cancel(b, now, id);
      },
      std::move(cb));
}

// ---- Blocking API ----

absl::StatusOr<EnqueueResult> Engine::Enqueue(EnqueueRequest req) {
  return Await<EnqueueResult>([&](auto cb) { EnqueueAsync(std::move(req), cb); });
}

absl::StatusOr<std::vector<EnqueueResult>> Engine::EnqueueBatch(std::vector<EnqueueRequest> reqs) {
  return Await<std::vector<EnqueueResult>>(
      [&](auto cb) { EnqueueBatchAsync(std::move(reqs), cb); });
}

absl::StatusOr<std::vector<LeasedJob>> Engine::Lease(LeaseRequest req) {
  return Await<std::vector<LeasedJob>>([&](auto cb) { LeaseAsync(std::move(req), cb); });
}

absl::StatusOr<HeartbeatResult> Engine::Heartbeat(HeartbeatRequest req) {
  return Await<HeartbeatResult>([&](auto cb) { HeartbeatAsync(req, cb); });
}

absl::Status Engine::Complete(CompleteRequest req) {
  return AwaitStatus<Done>([&](Callback<Done> cb) {
    CompleteAsync(std::move(req), [cb](absl::Status s) {
      if (s.ok()) {
        cb(Done{});
      } else {
        cb(s);
      }
    });
  });
}

absl::StatusOr<std::vector<absl::Status>> Engine::CompleteBatch(std::vector<CompleteRequest> reqs) {
  return Await<std::vector<absl::Status>>(
      [&](auto cb) { CompleteBatchAsync(std::move(reqs), cb); });
}

absl::StatusOr<FailResult> Engine::Fail(FailRequest req) {
  return Await<FailResult>([&](auto cb) { FailAsync(std::move(req), cb); });
}

absl::StatusOr<std::vector<absl::StatusOr<FailResult>>> Engine::FailBatch(
    std::vector<FailRequest> reqs) {
  return Await<std::vector<absl::StatusOr<FailResult>>>(
      [&](auto cb) { FailBatchAsync(std::move(reqs), cb); });
}

absl::StatusOr<JobState> Engine::Cancel(JobId id) {
  return Await<JobState>([&](auto cb) { CancelAsync(id, cb); });
}

absl::StatusOr<Job> Engine::Get(JobId id) {
  RATCHET_ASSIGN_OR_RETURN(auto value,
                           impl_->store().Get(storage::Cf::kJobs, internal::JobKey(id)));
  internal::JobRecord r;
  if (!value) return NotFound("job " + std::to_string(id) + " not found");
  if (!r.ParseFromString(*value)) {
    return absl::DataLossError("job " + std::to_string(id) + ": stored record does not parse");
  }
  return internal::ToJob(r, impl_->clock()->Now());
}

absl::StatusOr<ListResult> Engine::List(ListRequest req) {
  if (IsTerminal(req.state)) {
    return internal::ListFinished(impl_->store(), req, impl_->clock()->Now());
  }
  return Await<ListResult>([&](Callback<ListResult> cb) {
    impl_->Submit<ListResult>(
        false,
        [sm = &impl_->state_machine(), req](Batch& b, TimePoint now) {
          return sm->ListLive(b, now, req);
        },
        cb);
  });
}

absl::StatusOr<BulkResult> Engine::Redrive(RedriveRequest req) {
  return Await<BulkResult>([&](Callback<BulkResult> cb) {
    impl_->Submit<BulkResult>(
        true,
        [sm = &impl_->state_machine(), req](Batch& b, TimePoint now) {
          return sm->Redrive(b, now, req);
        },
        cb);
  });
}

absl::StatusOr<BulkResult> Engine::Purge(DeadLetterFilter filter) {
  return Await<BulkResult>([&](Callback<BulkResult> cb) {
    impl_->Submit<BulkResult>(
        true,
        [sm = &impl_->state_machine(), filter](Batch& b, TimePoint) {
          return sm->Purge(b, filter);
        },
        cb);
  });
}

absl::Status Engine::UpdateQueue(std::string queue, QueueSettings settings) {
  return AwaitStatus<Done>([&](Callback<Done> cb) {
    impl_->Submit<Done>(
        false,
        [sm = &impl_->state_machine(), queue, settings](Batch& b,
                                                        TimePoint) -> absl::StatusOr<Done> {
          RATCHET_RETURN_IF_ERROR(sm->UpdateQueue(b, queue, settings));
          return Done{};
        },
        cb);
  });
}

namespace {
absl::Status SetPaused(Engine::Impl* impl, std::string queue, bool paused) {
  return AwaitStatus<Done>([&](Callback<Done> cb) {
    impl->Submit<Done>(
        false,
        [sm = &impl->state_machine(), queue, paused](Batch& b, TimePoint) -> absl::StatusOr<Done> {
          RATCHET_RETURN_IF_ERROR(sm->SetPaused(b, queue, paused));
          return Done{};
        },
        cb);
  });
}
}  // namespace

absl::Status Engine::PauseQueue(std::string queue) {
  return SetPaused(impl_.get(), std::move(queue), true);
}

absl::Status Engine::ResumeQueue(std::string queue) {
  return SetPaused(impl_.get(), std::move(queue), false);
}

absl::StatusOr<QueueInfo> Engine::GetQueue(std::string queue) {
  return Await<QueueInfo>([&](Callback<QueueInfo> cb) {
    impl_->Submit<QueueInfo>(
        false,
        [sm = &impl_->state_machine(), queue](Batch&, TimePoint now) {
          return sm->GetQueue(now, queue);
        },
        cb);
  });
}

absl::StatusOr<std::vector<QueueInfo>> Engine::ListQueues() {
  return Await<std::vector<QueueInfo>>([&](Callback<std::vector<QueueInfo>> cb) {
    impl_->Submit<std::vector<QueueInfo>>(
        false,
        [sm = &impl_->state_machine()](Batch&, TimePoint now)
            -> absl::StatusOr<std::vector<QueueInfo>> { return sm->ListQueues(now); },
        cb);
  });
}

absl::StatusOr<std::vector<EnqueueResult>> Engine::CommitOutbox(OutboxTxn txn) {
  return Await<std::vector<EnqueueResult>>([&](Callback<std::vector<EnqueueResult>> cb) {
    impl_->Submit<std::vector<EnqueueResult>>(
        false,
        [sm = &impl_->state_machine(), txn = std::move(txn)](Batch& b, TimePoint now) {
          return sm->Enqueue(b, now, txn.enqueues, txn.writes, true);
        },
        cb);
  });
}

absl::StatusOr<std::optional<std::string>> Engine::ReadApp(std::string key) {
  if (key.empty() || key.size() > internal::kMaxAppKeyBytes) {
    return InvalidArgument("key", "must be 1..1024 bytes");
  }
  return impl_->store().Get(storage::Cf::kApp, key);
}

absl::Status Engine::Tick() {
  return AwaitStatus<Done>([&](Callback<Done> cb) {
    impl_->Submit<Done>(
        true,
        [impl = impl_.get()](Batch& b, TimePoint now) -> absl::StatusOr<Done> {
          RATCHET_RETURN_IF_ERROR(impl->RunMaintenance(b, now));
          return Done{};
        },
        cb);
  });
}

EngineStats Engine::Stats() const { return impl_->Stats(); }

}  // namespace ratchet
