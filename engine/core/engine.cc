// The public Engine API for jobs, queues and dead letters: each call is one
// sequencer operation (engine_calls.h), answered after it is durable.
#include "ratchet/engine/engine.h"

#include <algorithm>

#include "bulk_cancel.h"
#include "engine_calls.h"
#include "explain.h"
#include "listing.h"
#include "record_io.h"
#include "schema.h"
#include "validation.h"

namespace ratchet {

using internal::Call;
using internal::CallStatus;
using internal::Machines;
using internal::Start;
using internal::StartStatus;
using storage::Batch;

namespace {

absl::StatusOr<EnqueueResult> First(absl::StatusOr<std::vector<EnqueueResult>> r) {
  if (!r.ok()) return r.status();
  return r->front();
}

// Checks the item count and bytes of a CompleteBatch / FailBatch.
absl::Status ValidateBatch(absl::string_view field, size_t items, size_t bytes,
                           const EngineOptions& o) {
  if (items == 0 || items > static_cast<size_t>(o.max_lease_jobs)) {
    return InvalidArgument(field, absl::StrCat("must hold 1..", o.max_lease_jobs, " items"));
  }
  return internal::ValidateRequestBytes(field, bytes, o);
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
  Start<EnqueueResult>(
      *impl_, Reads::kThroughGroup,
      [reqs = std::move(reqs)](Machines& m, Batch& b, TimePoint now) {
        return First(m.jobs.Enqueue(b, now, reqs, {}, internal::FieldNames::kPlain));
      },
      std::move(cb));
}

void Engine::EnqueueBatchAsync(std::vector<EnqueueRequest> reqs,
                               Callback<std::vector<EnqueueResult>> cb) {
  Start<std::vector<EnqueueResult>>(
      *impl_, Reads::kThroughGroup,
      [reqs = std::move(reqs)](Machines& m, Batch& b,
                               TimePoint now) -> absl::StatusOr<std::vector<EnqueueResult>> {
        if (reqs.empty()) return InvalidArgument("jobs", "must hold at least one job");
        return m.jobs.Enqueue(b, now, reqs, {}, internal::FieldNames::kIndexed);
      },
      std::move(cb));
}

void Engine::LeaseAsync(LeaseRequest req, Callback<std::vector<LeasedJob>> cb) {
  cb = [workers = &impl_->workers(), worker = req.worker_id, queue = req.queue,
        cb = std::move(cb)](absl::StatusOr<std::vector<LeasedJob>> r) {
    if (r.ok()) workers->Leased(worker, queue, *r);
    cb(std::move(r));
  };
  if (internal::EngineMetrics* metrics = impl_->metrics()) {
    cb = [metrics, cb = std::move(cb),
          started = std::chrono::steady_clock::now()](absl::StatusOr<std::vector<LeasedJob>> r) {
      metrics->ObserveLeaseWait(std::chrono::duration_cast<std::chrono::microseconds>(
          std::chrono::steady_clock::now() - started));
      cb(std::move(r));
    };
  }
  impl_->SubmitLease(std::move(req), std::move(cb));
}

void Engine::CompleteAndLeaseAsync(CompleteRequest complete, LeaseRequest lease,
                                   Callback<CompleteAndLeaseResult> cb) {
  cb = [workers = &impl_->workers(), worker = lease.worker_id, queue = lease.queue,
        done = complete.id, token = complete.token,
        cb = std::move(cb)](absl::StatusOr<CompleteAndLeaseResult> r) {
    if (r.ok()) {
      if (r->completion.ok()) workers->Finished(done, token);
      workers->Leased(worker, queue, r->jobs);
    }
    cb(std::move(r));
  };
  impl_->SubmitCompleteAndLease(std::move(complete), std::move(lease), std::move(cb));
}

void Engine::HeartbeatAsync(HeartbeatRequest req, Callback<HeartbeatResult> cb) {
  Start<HeartbeatResult>(
      *impl_, Reads::kThroughGroup,
      [req](Machines& m, Batch& b, TimePoint now) { return m.jobs.Heartbeat(b, now, req); },
      [workers = &impl_->workers(), id = req.id,
       cb = std::move(cb)](absl::StatusOr<HeartbeatResult> r) {
        if (r.ok()) workers->Heartbeat(id, r->lease_deadline);
        cb(std::move(r));
      });
}

void Engine::HeartbeatBatchAsync(std::vector<HeartbeatRequest> reqs,
                                 Callback<std::vector<absl::StatusOr<HeartbeatResult>>> cb) {
  using Results = std::vector<absl::StatusOr<HeartbeatResult>>;
  std::vector<JobId> ids;
  ids.reserve(reqs.size());
  for (const HeartbeatRequest& r : reqs) ids.push_back(r.id);
  cb = [workers = &impl_->workers(), ids = std::move(ids),
        cb = std::move(cb)](absl::StatusOr<Results> r) {
    if (r.ok()) {
      for (size_t i = 0; i < r->size() && i < ids.size(); ++i) {
        if ((*r)[i].ok()) workers->Heartbeat(ids[i], (*r)[i]->lease_deadline);
      }
    }
    cb(std::move(r));
  };
  Start<Results>(
      *impl_, Reads::kThroughGroup,
      [reqs = std::move(reqs)](Machines& m, Batch& b, TimePoint now) -> absl::StatusOr<Results> {
        RATCHET_RETURN_IF_ERROR(ValidateBatch("heartbeats", reqs.size(), 0, m.store.options()));
        Results out;
        out.reserve(reqs.size());
        // As CompleteBatch: each item on its own, all in this one write; an
        // item that fails after writing fails the whole batch.
        for (const HeartbeatRequest& req : reqs) {
          const size_t before = b.Count();
          absl::StatusOr<HeartbeatResult> r = m.jobs.Heartbeat(b, now, req);
          if (!r.ok() && b.Count() != before) return r.status();
          out.push_back(std::move(r));
        }
        return out;
      },
      std::move(cb));
}

void Engine::ReleaseAbandonedLeases() {
  // An operation that writes nothing: its group's pass over the parked
  // leases ends the abandoned ones, without a write or an fsync.
  StartStatus(
      *impl_, Reads::kThroughGroup, [](Machines&, Batch&, TimePoint) { return absl::OkStatus(); },
      [](absl::Status) {});
}

void Engine::CompleteAsync(CompleteRequest req, StatusCallback cb) {
  cb = [workers = &impl_->workers(), id = req.id, token = req.token,
        cb = std::move(cb)](absl::Status s) {
    if (s.ok()) workers->Finished(id, token);
    cb(std::move(s));
  };
  StartStatus(
      *impl_, Reads::kThroughGroup,
      [req = std::move(req)](Machines& m, Batch& b, TimePoint now) {
        return m.jobs.Complete(b, now, req);
      },
      std::move(cb));
}

void Engine::CompleteBatchAsync(std::vector<CompleteRequest> reqs,
                                Callback<std::vector<absl::Status>> cb) {
  std::vector<std::pair<JobId, FencingToken>> ids;
  for (const CompleteRequest& r : reqs) ids.emplace_back(r.id, r.token);
  cb = [workers = &impl_->workers(), ids = std::move(ids),
        cb = std::move(cb)](absl::StatusOr<std::vector<absl::Status>> r) {
    if (r.ok()) {
      for (size_t i = 0; i < r->size() && i < ids.size(); ++i) {
        if ((*r)[i].ok()) workers->Finished(ids[i].first, ids[i].second);
      }
    }
    cb(std::move(r));
  };
  Start<std::vector<absl::Status>>(
      *impl_, Reads::kThroughGroup,
      [reqs = std::move(reqs)](Machines& m, Batch& b,
                               TimePoint now) -> absl::StatusOr<std::vector<absl::Status>> {
        size_t bytes = 0;
        for (const CompleteRequest& r : reqs) {
          bytes += r.result.size();
          for (const AppWrite& w : r.effects) bytes += w.value ? w.value->size() : 0;
        }
        RATCHET_RETURN_IF_ERROR(
            ValidateBatch("completions", reqs.size(), bytes, m.store.options()));
        std::vector<absl::Status> out;
        out.reserve(reqs.size());
        // Each item is all-or-nothing on its own (Complete checks before it
        // writes), and all successful items share this operation's write.
        // An item that fails after writing (an owner's read error) fails the
        // whole batch, which the sequencer then rolls back.
        for (const CompleteRequest& req : reqs) {
          const size_t before = b.Count();
          absl::Status s = m.jobs.Complete(b, now, req);
          if (!s.ok() && b.Count() != before) return s;
          out.push_back(std::move(s));
        }
        return out;
      },
      std::move(cb));
}

void Engine::FailAsync(FailRequest req, Callback<FailResult> cb) {
  cb = [workers = &impl_->workers(), id = req.id, token = req.token,
        cb = std::move(cb)](absl::StatusOr<FailResult> r) {
    if (r.ok()) workers->Finished(id, token);
    cb(std::move(r));
  };
  Start<FailResult>(
      *impl_, Reads::kThroughGroup,
      [req = std::move(req)](Machines& m, Batch& b, TimePoint now) {
        return m.jobs.Fail(b, now, req);
      },
      std::move(cb));
}

void Engine::FailBatchAsync(std::vector<FailRequest> reqs,
                            Callback<std::vector<absl::StatusOr<FailResult>>> cb) {
  std::vector<std::pair<JobId, FencingToken>> ids;
  for (const FailRequest& r : reqs) ids.emplace_back(r.id, r.token);
  cb = [workers = &impl_->workers(), ids = std::move(ids),
        cb = std::move(cb)](absl::StatusOr<std::vector<absl::StatusOr<FailResult>>> r) {
    if (r.ok()) {
      for (size_t i = 0; i < r->size() && i < ids.size(); ++i) {
        if ((*r)[i].ok()) workers->Finished(ids[i].first, ids[i].second);
      }
    }
    cb(std::move(r));
  };
  Start<std::vector<absl::StatusOr<FailResult>>>(
      *impl_, Reads::kThroughGroup,
      [reqs = std::move(reqs)](Machines& m, Batch& b, TimePoint now)
          -> absl::StatusOr<std::vector<absl::StatusOr<FailResult>>> {
        RATCHET_RETURN_IF_ERROR(ValidateBatch("failures", reqs.size(), 0, m.store.options()));
        std::vector<absl::StatusOr<FailResult>> out;
        out.reserve(reqs.size());
        for (const FailRequest& req : reqs) {
          const size_t before = b.Count();
          absl::StatusOr<FailResult> r = m.jobs.Fail(b, now, req);
          if (!r.ok() && b.Count() != before) return r.status();  // as in CompleteBatch
          out.push_back(std::move(r));
        }
        return out;
      },
      std::move(cb));
}

void Engine::CancelAsync(JobId id, Callback<JobState> cb) {
  Start<JobState>(
      *impl_, Reads::kThroughGroup,
      [id](Machines& m, Batch& b, TimePoint now) { return m.jobs.Cancel(b, now, id); },
      std::move(cb));
}

void Engine::RetryJobAsync(JobId id, Callback<JobState> cb) {
  Start<JobState>(
      *impl_, Reads::kThroughGroup,
      [id](Machines& m, Batch& b, TimePoint now) { return m.jobs.RetryNow(b, now, id); },
      std::move(cb));
}

void Engine::CancelJobsAsync(CancelJobsRequest req, Callback<CancelJobsResult> cb) {
  const int max_jobs = impl_->options().cancel_slice_jobs;
  internal::StartSlicedRun<CancelJobsResult, internal::CancelRun>(
      *impl_, Reads::kThroughGroup,
      [req = std::move(req), max_jobs](Machines& m, Batch& b, TimePoint now,
                                       internal::CancelRun& run) {
        return internal::CancelSlice(m.jobs, m.store, b, now, req, run, max_jobs);
      },
      [](const internal::CancelRun& run) { return run.result; }, std::move(cb));
}

// ---- Blocking API ----

absl::StatusOr<EnqueueResult> Engine::Enqueue(EnqueueRequest req) {
  return internal::Await<EnqueueResult>([&](auto cb) { EnqueueAsync(std::move(req), cb); });
}

absl::StatusOr<std::vector<EnqueueResult>> Engine::EnqueueBatch(std::vector<EnqueueRequest> reqs) {
  return internal::Await<std::vector<EnqueueResult>>(
      [&](auto cb) { EnqueueBatchAsync(std::move(reqs), cb); });
}

absl::StatusOr<CompleteAndLeaseResult> Engine::CompleteAndLease(CompleteRequest complete,
                                                                LeaseRequest lease) {
  return internal::Await<CompleteAndLeaseResult>(
      [&](auto cb) { CompleteAndLeaseAsync(std::move(complete), std::move(lease), cb); });
}

absl::StatusOr<std::vector<LeasedJob>> Engine::Lease(LeaseRequest req) {
  return internal::Await<std::vector<LeasedJob>>([&](auto cb) { LeaseAsync(std::move(req), cb); });
}

absl::StatusOr<HeartbeatResult> Engine::Heartbeat(HeartbeatRequest req) {
  return internal::Await<HeartbeatResult>([&](auto cb) { HeartbeatAsync(req, cb); });
}

absl::StatusOr<std::vector<absl::StatusOr<HeartbeatResult>>> Engine::HeartbeatBatch(
    std::vector<HeartbeatRequest> reqs) {
  return internal::Await<std::vector<absl::StatusOr<HeartbeatResult>>>(
      [&](auto cb) { HeartbeatBatchAsync(std::move(reqs), cb); });
}

absl::Status Engine::Complete(CompleteRequest req) {
  const JobId id = req.id;
  const FencingToken token = req.token;
  absl::Status s = CallStatus(*impl_, Reads::kThroughGroup,
                              [req = std::move(req)](Machines& m, Batch& b, TimePoint now) {
                                return m.jobs.Complete(b, now, req);
                              });
  if (s.ok()) impl_->workers().Finished(id, token);
  return s;
}

absl::StatusOr<std::vector<absl::Status>> Engine::CompleteBatch(std::vector<CompleteRequest> reqs) {
  return internal::Await<std::vector<absl::Status>>(
      [&](auto cb) { CompleteBatchAsync(std::move(reqs), cb); });
}

absl::StatusOr<FailResult> Engine::Fail(FailRequest req) {
  return internal::Await<FailResult>([&](auto cb) { FailAsync(std::move(req), cb); });
}

absl::StatusOr<std::vector<absl::StatusOr<FailResult>>> Engine::FailBatch(
    std::vector<FailRequest> reqs) {
  return internal::Await<std::vector<absl::StatusOr<FailResult>>>(
      [&](auto cb) { FailBatchAsync(std::move(reqs), cb); });
}

const EngineOptions& Engine::options() const { return impl_->options(); }

std::vector<WorkerInfo> Engine::ListWorkers(size_t max) {
  return impl_->workers().List(std::clamp<size_t>(max, 1, kMaxTrackedWorkers));
}

absl::StatusOr<JobState> Engine::Cancel(JobId id) {
  return internal::Await<JobState>([&](auto cb) { CancelAsync(id, cb); });
}

absl::StatusOr<JobState> Engine::RetryJob(JobId id) {
  return internal::Await<JobState>([&](auto cb) { RetryJobAsync(id, cb); });
}

absl::StatusOr<CancelJobsResult> Engine::CancelJobs(CancelJobsRequest req) {
  return internal::Await<CancelJobsResult>([&](auto cb) { CancelJobsAsync(std::move(req), cb); });
}

absl::StatusOr<Job> Engine::Get(JobId id) {
  RATCHET_ASSIGN_OR_RETURN(std::optional<internal::JobRecord> r,
                           internal::FindCommittedJob(impl_->store(), id));
  if (!r) return NotFound(absl::StrCat("job ", id, " not found"));
  return internal::ToJob(*r, impl_->clock()->Now());
}

absl::StatusOr<JobExplanation> Engine::ExplainJob(JobId id) {
  return Call<JobExplanation>(*impl_, Reads::kThroughGroup,
                              [id](Machines& m, Batch& b, TimePoint now) {
                                return internal::ExplainJob(m.store, b, now, id);
                              });
}

absl::StatusOr<ListResult> Engine::List(ListRequest req) {
  if (req.max_bytes == 0) req.max_bytes = impl_->options().max_lease_bytes;
  if (IsTerminal(req.state)) {
    return internal::ListFinished(impl_->store(), req, impl_->clock()->Now());
  }
  return Call<ListResult>(*impl_, Reads::kThroughGroup,
                          [req](Machines& m, Batch& b, TimePoint now) {
                            return internal::ListLive(m.store, b, now, req);
                          });
}

namespace {

// Runs a redrive or purge (`slice`: one DeadLetters::*Slice call) in slices
// of at most dead_letter_slice_keys dead-letter keys, one write each, with
// other operations in between (docs/consistency.md, "Redrive and purge").
template <typename Slice>
absl::StatusOr<BulkResult> RunDeadLetterSlices(Engine::Impl& impl, Slice slice) {
  const int max_keys = impl.options().dead_letter_slice_keys;
  return internal::Await<BulkResult>([&](Callback<BulkResult> cb) {
    internal::StartSlicedRun<BulkResult, internal::DeadLetterRun>(
        impl, Reads::kCommitted,
        [slice, max_keys](Machines& m, Batch& b, TimePoint now,
                          internal::DeadLetterRun& run) -> absl::StatusOr<bool> {
          RATCHET_RETURN_IF_ERROR(slice(m, b, now, run, max_keys).status());
          return run.done;
        },
        [](const internal::DeadLetterRun& run) {
          return BulkResult{run.count, run.more};
        },
        std::move(cb));
  });
}

}  // namespace

absl::StatusOr<BulkResult> Engine::Redrive(RedriveRequest req) {
  return RunDeadLetterSlices(*impl_, [req](Machines& m, Batch& b, TimePoint now,
                                           internal::DeadLetterRun& run, int max_keys) {
    return m.dead_letters.RedriveSlice(b, now, req, run, max_keys);
  });
}

absl::StatusOr<BulkResult> Engine::Purge(DeadLetterFilter filter) {
  return RunDeadLetterSlices(*impl_, [filter](Machines& m, Batch& b, TimePoint now,
                                              internal::DeadLetterRun& run, int max_keys) {
    return m.dead_letters.PurgeSlice(b, filter, run, max_keys);
  });
}

absl::Status Engine::UpdateQueue(std::string queue, QueueSettings settings) {
  return CallStatus(*impl_, Reads::kThroughGroup,
                    [queue = std::move(queue), settings](Machines& m, Batch& b, TimePoint) {
                      return m.queues.UpdateQueue(b, queue, settings);
                    });
}

absl::Status Engine::UpdateQueue(std::string queue, QueueSettingsUpdate update) {
  return CallStatus(*impl_, Reads::kThroughGroup,
                    [queue = std::move(queue), update](Machines& m, Batch& b, TimePoint) {
                      return m.queues.UpdateQueue(b, queue, update);
                    });
}

absl::Status Engine::PauseQueue(std::string queue) {
  return CallStatus(*impl_, Reads::kThroughGroup,
                    [queue = std::move(queue)](Machines& m, Batch& b, TimePoint) {
                      return m.queues.SetPaused(b, queue, true);
                    });
}

absl::Status Engine::ResumeQueue(std::string queue) {
  return CallStatus(*impl_, Reads::kThroughGroup,
                    [queue = std::move(queue)](Machines& m, Batch& b, TimePoint) {
                      return m.queues.SetPaused(b, queue, false);
                    });
}

absl::StatusOr<QueueInfo> Engine::GetQueue(std::string queue) {
  return Call<QueueInfo>(*impl_, Reads::kThroughGroup,
                         [queue = std::move(queue)](Machines& m, Batch&, TimePoint now) {
                           return m.queues.GetQueue(now, queue);
                         });
}

absl::StatusOr<QueueListResult> Engine::ListQueues(QueueListRequest req) {
  return Call<QueueListResult>(*impl_, Reads::kThroughGroup,
                               [req = std::move(req)](Machines& m, Batch&, TimePoint now) {
                                 return m.queues.ListQueues(now, req);
                               });
}

absl::StatusOr<std::vector<EnqueueResult>> Engine::CommitOutbox(OutboxTxn txn) {
  return Call<std::vector<EnqueueResult>>(
      *impl_, Reads::kThroughGroup, [txn = std::move(txn)](Machines& m, Batch& b, TimePoint now) {
        return m.jobs.Enqueue(b, now, txn.enqueues, txn.writes, internal::FieldNames::kIndexed);
      });
}

absl::StatusOr<std::optional<std::string>> Engine::ReadApp(std::string key) {
  if (key.empty() || key.size() > internal::kMaxAppKeyBytes) {
    return InvalidArgument("key", "must be 1..1024 bytes");
  }
  return impl_->store().Get(storage::Cf::kApp, key);
}

absl::Status Engine::RunMaintenance() {
  return CallStatus(*impl_, Reads::kCommitted,
                    [impl = impl_.get()](Machines&, Batch& b, TimePoint now) {
                      return impl->RunMaintenance(b, now);
                    });
}

EngineStats Engine::Stats() const { return impl_->Stats(); }

}  // namespace ratchet
