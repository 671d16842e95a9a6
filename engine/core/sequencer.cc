#include "sequencer.h"

#include <pthread.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "ratchet/base/invariant.h"
#include "ratchet/base/status.h"
#include "spdlog/spdlog.h"
#include "validation.h"

namespace ratchet {

namespace {
constexpr int kMaxExpiriesPerGroup = 1000;
constexpr int kMaxSchedulesPerGroup = 1000;
// Parked long polls checked per group for callers that left (round robin).
constexpr int kAbandonChecksPerGroup = 64;
constexpr absl::Duration kMaxIdleWait = absl::Seconds(1);
constexpr absl::Duration kMaintenanceFirstRetry = absl::Seconds(1);
constexpr absl::Duration kMaintenanceMaxRetry = absl::Minutes(1);
}  // namespace

absl::StatusOr<std::unique_ptr<Engine::Impl>> Engine::Impl::Open(const EngineOptions& options) {
  RATCHET_RETURN_IF_ERROR(internal::ValidateOptions(options));
  storage::StoreOptions store_options;
  store_options.path = options.data_dir;
  store_options.block_cache_bytes = options.block_cache_bytes;
  store_options.file_system = options.file_system;
  store_options.read_fault = options.read_fault;
  RATCHET_ASSIGN_OR_RETURN(auto store, storage::Store::Open(store_options));
  std::unique_ptr<Impl> impl(new Impl(options, std::move(store)));
  auto started = std::chrono::steady_clock::now();
  RATCHET_RETURN_IF_ERROR(impl->machines_->Recover());
  spdlog::info(
      "event=engine_opened data_dir={:?} live_jobs={} recovery_ms={}", options.data_dir,
      impl->machines_->store.indexes().live_jobs(),
      std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - started).count());
  impl->live_jobs_.store(impl->machines_->store.indexes().live_jobs());
  impl->rate_limit_starts_.store(impl->machines_->store.indexes().start_logs().starts());
  impl->recovered_job_records_.store(
      static_cast<uint64_t>(impl->machines_->store.recovered_records()));
  impl->callbacks_ = std::thread([raw = impl.get()] { raw->CallbackLoop(); });
  impl->writer_ = std::thread([raw = impl.get()] { raw->WriterLoop(); });
  impl->thread_ = std::thread([raw = impl.get()] { raw->Loop(); });
  return impl;
}

Engine::Impl::Impl(const EngineOptions& options, std::unique_ptr<storage::Store> store)
    : options_(options),
      clock_(options.clock ? options.clock : SystemClock::Default()),
      random_(options.random ? options.random : std::shared_ptr<Random>(NewDefaultRandom())),
      store_(std::move(store)),
      metrics_(options.metrics_registry ? std::make_unique<internal::EngineMetrics>(
                                              *options.metrics_registry, options.metrics_max_queues)
                                        : nullptr),
      machines_(std::make_unique<internal::Machines>(store_.get(), options_, random_.get(),
                                                     metrics_.get())),
      building_(std::make_unique<Group>(store_.get())),
      previous_(std::make_unique<Group>(store_.get())),
      next_sweep_(clock_->Now()) {}

Engine::Impl::~Impl() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
  {
    absl::MutexLock lock(&writer_mu_);
    writer_stopping_ = true;
  }
  if (writer_.joinable()) writer_.join();
  {
    absl::MutexLock lock(&callbacks_mu_);
    callbacks_stopping_ = true;
  }
  if (callbacks_.joinable()) callbacks_.join();  // after running every posted callback
}

void Engine::Impl::PostCompletions(std::vector<Completion> done, const absl::Status& status) {
  absl::MutexLock lock(&callbacks_mu_);
  posted_.push_back({std::move(done), status});
}

void Engine::Impl::CallbackLoop() {
  pthread_setname_np(pthread_self(), "ratchet-cb");
  while (true) {
    Posted next;
    {
      absl::MutexLock lock(&callbacks_mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(callbacks_mu_) {
        return !posted_.empty() || callbacks_stopping_;
      };
      callbacks_mu_.Await(absl::Condition(&ready));
      if (posted_.empty()) return;  // stopping, and everything has run
      next = std::move(posted_.front());
      posted_.pop_front();
    }
    for (Completion& c : next.done) c(next.status);
    operations_.fetch_add(next.done.size(), std::memory_order_relaxed);
  }
}

void Engine::Impl::Push(Op op) {
  {
    absl::MutexLock lock(&mu_);
    if (!closed_) {
      inbox_.push_back(std::move(op));
      return;
    }
  }
  op.apply(nullptr, clock_->Now())(
      WithReason(absl::UnavailableError("the engine is shutting down"), kReasonEngineClosed));
}

absl::Duration Engine::Impl::TimeToNextMaintenance() {
  TimePoint now = clock_->Now();
  TimePoint next = next_sweep_;
  if (auto timer = machines_->NextTimer()) {
    // While lease expiry and schedule firing back off, their timers wait.
    next = std::min(next, std::max(FromUnixMs(*timer), maintenance_retry_.retry_at));
  }
  if (auto deadline = waiters_.NextDeadline()) next = std::min(next, *deadline);
  if (auto due = waiters_.NextDue()) next = std::min(next, FromUnixMs(*due));
  if (auto due = machines_->retention.NextDue(now)) {
    next = std::min(next, std::max(*due, retention_retry_.retry_at));
  }
  auto wait = absl::FromChrono(next - now);
  return std::clamp(wait, absl::Milliseconds(1), kMaxIdleWait);
}

void Engine::Impl::Loop() {
  pthread_setname_np(pthread_self(), "ratchet-seq");
  while (true) {
    std::deque<Op> ops;
    absl::Duration wait = TimeToNextMaintenance();
    {
      absl::MutexLock lock(&mu_);
      auto has_work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return !inbox_.empty() || stopping_;
      };
      mu_.AwaitWithTimeout(absl::Condition(&has_work), wait);
      if (inbox_.empty() && stopping_) {
        closed_ = true;
        break;
      }
      size_t n = std::min(inbox_.size(), static_cast<size_t>(options_.max_group_ops));
      std::move(inbox_.begin(), inbox_.begin() + n, std::back_inserter(ops));
      inbox_.erase(inbox_.begin(), inbox_.begin() + n);
    }
    RunGroup(ops);
  }
  DropWaiters(
      WithReason(absl::UnavailableError("the engine is shutting down"), kReasonEngineClosed));
  HandOff();
  WaitWriterIdle().IgnoreError();  // the failure, if any, was delivered to callers
}

absl::Status Engine::Impl::RunMaintenance(storage::Batch& batch, TimePoint now) {
  RATCHET_RETURN_IF_ERROR(ExpireAndFire(batch, now));
  next_sweep_ = now + options_.sweep_interval;
  RATCHET_RETURN_IF_ERROR(SweepRetention(batch, now, /*always=*/true));
  return AtomicallyStatus(batch, [&] {
    return machines_->workflows.Sweep(batch, now, options_.sweep_batch_keys).status();
  });
}

absl::Status Engine::Impl::SweepRetention(storage::Batch& batch, TimePoint now, bool always) {
  if (now < retention_retry_.retry_at || rebuild_needed_) return absl::OkStatus();
  internal::JobRetention& retention = machines_->retention;
  if (!always) {
    std::optional<TimePoint> due = retention.NextDue(now);
    if (!due || *due > now) return absl::OkStatus();
  }
  const uint64_t passes = retention.passes(), visited = retention.queues_visited(),
                 deleted = retention.keys_deleted();
  absl::Status s = AtomicallyStatus(
      batch, [&] { return retention.Sweep(batch, now, options_.sweep_batch_keys).status(); });
  sweeper_passes_.fetch_add(retention.passes() - passes, std::memory_order_relaxed);
  sweeper_queues_visited_.fetch_add(retention.queues_visited() - visited,
                                    std::memory_order_relaxed);
  sweeper_keys_deleted_.fetch_add(retention.keys_deleted() - deleted, std::memory_order_relaxed);
  if (retention.largest_pass_keys() > sweeper_largest_pass_keys_.load()) {
    sweeper_largest_pass_keys_.store(retention.largest_pass_keys(), std::memory_order_relaxed);
  }
  retention_retry_.Record(s, now, "retention sweep");
  return s;
}

void Engine::Impl::RetryBackoff::Record(const absl::Status& s, TimePoint now, const char* task) {
  if (s.ok()) {
    wait = absl::ZeroDuration();
    return;
  }
  wait = std::clamp(wait * 2, kMaintenanceFirstRetry, kMaintenanceMaxRetry);
  retry_at = now + absl::ToChronoMilliseconds(wait);
  spdlog::error("event=maintenance_failed task=\"{}\" retry_in=\"{}\" error={:?}", task,
                absl::FormatDuration(wait), s.ToString());
}

absl::Status Engine::Impl::ExpireAndFire(storage::Batch& batch, TimePoint now) {
  // Each is its own operation: a failure writes nothing of it. After a
  // failure that wrote, nothing more runs on the stale in-memory state; the
  // caller rebuilds it (RebuildIfNeeded) once it holds no batch.
  // A failing pass backs off (1 s doubling to 1 min), so a fault that
  // persists costs one rebuild per retry, not one per group.
  if (now < maintenance_retry_.retry_at) return absl::OkStatus();
  absl::Status expired = AtomicallyStatus(
      batch, [&] { return machines_->jobs.ExpireLeases(batch, now, kMaxExpiriesPerGroup); });
  absl::Status fired;
  if (!rebuild_needed_) {
    fired = AtomicallyStatus(batch, [&] {
      return machines_->schedules.FireDueSchedules(batch, now, kMaxSchedulesPerGroup);
    });
  }
  absl::Status s = expired.ok() ? fired : expired;
  maintenance_retry_.Record(s, now, "lease expiry or schedule firing");
  return s;
}

void Engine::Impl::EndOperation(storage::Batch& batch, const absl::Status& status) {
  // A failed operation's events are dropped whether or not it wrote: what
  // it counted did not happen.
  if (metrics_) metrics_->EndOperation(status.ok());
  if (status.ok() || batch.CountSinceSavePoint() == 0) {
    absl::Status popped = batch.PopSavePoint();
    RATCHET_INVARIANT(popped.ok(), "every operation runs under its own savepoint");
    return;
  }
  absl::Status rolled = batch.RollbackToSavePoint();
  RATCHET_INVARIANT(rolled.ok(), "every operation runs under its own savepoint");
  spdlog::error(
      "event=operation_rolled_back error={:?} message=\"the operation failed after writing; its "
      "writes are rolled back and the in-memory state is rebuilt from the store\"",
      status.ToString());
  rebuild_needed_ = true;
}

void Engine::Impl::RebuildIfNeeded() {
  if (!rebuild_needed_) return;
  rebuild_needed_ = false;
  HandOff();  // the group's earlier operations, built on the current state
  absl::Status s = WaitWriterIdle();
  if (!s.ok()) return;  // the engine has failed already
  auto started = std::chrono::steady_clock::now();
  auto rebuilt =
      std::make_unique<internal::Machines>(store_.get(), options_, random_.get(), metrics_.get());
  s = rebuilt->Recover();
  spdlog::warn(
      "event=state_rebuilt ms={} status={:?}",
      std::chrono::duration_cast<Millis>(std::chrono::steady_clock::now() - started).count(),
      s.ToString());
  if (s.ok()) {
    // Expiries published so far were committed; the new machines count on.
    expired_jobs_base_ = expired_jobs_.load(std::memory_order_relaxed);
    machines_ = std::move(rebuilt);
    recheck_all_waiters_ = true;
  } else {
    // The old state stays in place (stale, but whole) for the reads that
    // still run; every operation now gets the failure.
    if (metrics_) metrics_->SetStorageFailed();
    absl::MutexLock lock(&writer_mu_);
    failed_ = WithReason(
        absl::UnavailableError(absl::StrCat(
            "the engine stopped: its in-memory state could not be rebuilt from the store after "
            "an operation failed (",
            s.message(), "); reopen the engine (docs/consistency.md)")),
        kReasonStorageFailed);
  }
}

void Engine::Impl::RunGroup(std::deque<Op>& ops) {
  const auto started = std::chrono::steady_clock::now();
  const TimePoint now = clock_->Now();
  // Rate limits and expiry run on the latest time the engine has seen, by
  // any operation of any group (docs/consistency.md, "Clock steps").
  machines_->store.indexes().AdvanceRateClock(ToUnixMs(now));
  // Before this group's operations: the gauges show the state every
  // earlier, answered operation left.
  if (metrics_) RefreshMetrics(now);
  storage::Batch* batch = &building_->batch;
  if (now >= next_sweep_) {
    // The sweeper scans committed data: let everything in flight land first.
    HandOff();
    if (WaitWriterIdle().ok()) {
      machines_->store.indexes().AllCommitted();
      absl::Status s = RunMaintenance(building_->batch, now);
      if (!s.ok()) spdlog::warn("event=maintenance_failed error={:?}", s.ToString());
      HandOff();
    }
  } else if (!EngineFailed()) {
    // Expired leases end before any operation of this group looks at them.
    ExpireAndFire(*batch, now).IgnoreError();                     // logged
    SweepRetention(*batch, now, /*always=*/false).IgnoreError();  // logged
  }
  RebuildIfNeeded();
  for (Op& op : ops) {
    if (op.reads == Reads::kCommitted) {
      HandOff();
      // A failure is reported through apply(nullptr).
      if (WaitWriterIdle().ok()) machines_->store.indexes().AllCommitted();
    }
    bool failed;
    {
      absl::MutexLock lock(&writer_mu_);
      failed = !failed_.ok();
    }
    building_->completions.push_back(op.apply(failed ? nullptr : &building_->batch, now));
    RebuildIfNeeded();
    if (building_->batch.ByteSize() >= options_.max_group_bytes) HandOff();
  }
  ServeWaiters(now);
  HandOff();
  if (metrics_) {
    metrics_->ObserveHold(std::chrono::duration_cast<std::chrono::microseconds>(
        std::chrono::steady_clock::now() - started));
  }
}

void Engine::Impl::RefreshMetrics(TimePoint now) {
  // Once a second, and again at once after a clock step back.
  if (now < next_metrics_ && next_metrics_ - now <= Millis(1000)) return;
  next_metrics_ = now + Millis(1000);
  Millis overdue(0);
  if (auto due = machines_->retention.NextDue(now); due && *due < now) {
    overdue = std::chrono::duration_cast<Millis>(now - *due);
  }
  metrics_->Refresh(machines_->store.indexes(), *store_, ToUnixMs(now),
                    parked_leases_.load(std::memory_order_relaxed), overdue);
}

void Engine::Impl::SubmitLease(LeaseRequest req, Callback<std::vector<LeasedJob>> cb) {
  Push({[this, req = std::move(req), cb = std::move(cb)](storage::Batch* batch,
                                                         TimePoint now) mutable -> Completion {
          if (batch == nullptr) return [cb](const absl::Status& s) { cb(s); };
          return LeaseOrPark(*batch, now, std::move(req), std::move(cb));
        },
        Reads::kThroughGroup});
}

Engine::Impl::Completion Engine::Impl::LeaseOrPark(storage::Batch& batch, TimePoint now,
                                                   LeaseRequest req,
                                                   Callback<std::vector<LeasedJob>> cb) {
  auto result = Atomically<std::vector<LeasedJob>>(
      batch, [&] { return machines_->jobs.Lease(batch, now, req); });
  if (result.ok() && result->empty() && req.wait.count() > 0) {
    const TimePoint deadline = now + req.wait;
    const std::string queue = req.queue;
    waiters_.Park({std::move(req), deadline, std::move(cb)});
    waiters_.SetDueAt(queue, FutureRunAt(queue, now));
    PublishWaiterStats();
    return [](const absl::Status&) {};  // answered by ServeWaiters
  }
  return Deliver(std::move(cb), std::move(result));
}

void Engine::Impl::SubmitCompleteAndLease(CompleteRequest complete, LeaseRequest req,
                                          Callback<CompleteAndLeaseResult> cb) {
  Push({[this, complete = std::move(complete), req = std::move(req), cb = std::move(cb)](
            storage::Batch* batch, TimePoint now) mutable -> Completion {
          if (batch == nullptr) return [cb](const absl::Status& s) { cb(s); };
          // A rejected request writes nothing: the lease part is checked
          // before the completion is applied.
          if (absl::Status valid = internal::ValidateLease(req, options_); !valid.ok()) {
            return Deliver(std::move(cb), absl::StatusOr<CompleteAndLeaseResult>(valid));
          }
          absl::Status completion = AtomicallyStatus(
              *batch, [&] { return machines_->jobs.Complete(*batch, now, complete); });
          Callback<std::vector<LeasedJob>> leased(
              [cb = std::move(cb), completion](absl::StatusOr<std::vector<LeasedJob>> r) {
                // An error here is the group's commit failing (the outcome
                // of the completion is unknown), the engine closing, or a
                // read error of the lease; the caller retries, and a repeat
                // of a completion that did land is acknowledged.
                if (!r.ok()) {
                  cb(r.status());
                  return;
                }
                cb(CompleteAndLeaseResult{completion, std::move(*r)});
              });
          // After a completion that failed having written (rolled back), the
          // in-memory state is stale until rebuilt: no lease this time.
          if (rebuild_needed_) {
            return Deliver(std::move(leased),
                           absl::StatusOr<std::vector<LeasedJob>>(std::vector<LeasedJob>()));
          }
          return LeaseOrPark(*batch, now, std::move(req), std::move(leased));
        },
        Reads::kThroughGroup});
}

void Engine::Impl::ServeWaiters(TimePoint now) {
  absl::Status failed;
  {
    absl::MutexLock lock(&writer_mu_);
    failed = failed_;
  }
  if (!failed.ok()) {
    DropWaiters(failed);
    return;
  }
  // Taken every group, waiters or not, so the list never grows.
  std::vector<internal::QueueState*> changed = machines_->store.indexes().TakeChanged();
  if (waiters_.empty()) return;
  for (auto& w : waiters_.TakeAbandoned(kAbandonChecksPerGroup)) AnswerEmpty(w);
  std::vector<std::string> queues = waiters_.TakeDue(ToUnixMs(now));
  for (internal::QueueState* q : changed) {
    if (waiters_.HasWaiters(q->name)) queues.push_back(q->name);
  }
  if (recheck_all_waiters_) {
    recheck_all_waiters_ = false;
    for (std::string& queue : waiters_.Queues()) queues.push_back(std::move(queue));
  }
  for (const std::string& queue : queues) ServeQueue(queue, now);
  // Waits that are over end empty, as a Lease with nothing to lease.
  for (auto& w : waiters_.TakeExpired(now)) AnswerEmpty(w);
  PublishWaiterStats();
}

void Engine::Impl::ServeQueue(const std::string& queue, TimePoint now) {
  while (const internal::LeaseWaiters::Waiter* front = waiters_.Front(queue)) {
    if (!front->Gone() && !machines_->jobs.CanLease(queue, now)) break;
    internal::LeaseWaiters::Waiter w = waiters_.PopFront(queue);
    if (w.Gone()) {
      AnswerEmpty(w);  // no job for a caller that left
      continue;
    }
    building_->completions.push_back(
        Deliver(std::move(w.cb), Atomically<std::vector<LeasedJob>>(building_->batch, [&] {
                  return machines_->jobs.Lease(building_->batch, now, w.req);
                })));
    RebuildIfNeeded();
  }
  // A job scheduled later wakes the queue then; one added or promoted
  // sooner marks the queue changed.
  waiters_.SetDueAt(queue, FutureRunAt(queue, now));
}

std::optional<int64_t> Engine::Impl::FutureRunAt(const std::string& queue, TimePoint now) {
  std::optional<int64_t> run_at = machines_->jobs.NextRunAt(queue);
  // A due job not yet leasable waits for a resume or a free slot, which
  // mark the queue changed: no timer, so a paused queue does not spin.
  if (run_at && *run_at <= ToUnixMs(now)) return std::nullopt;
  return run_at;
}

void Engine::Impl::AnswerEmpty(internal::LeaseWaiters::Waiter& w) {
  building_->completions.push_back(
      Deliver<std::vector<LeasedJob>>(std::move(w.cb), std::vector<LeasedJob>()));
}

void Engine::Impl::DropWaiters(const absl::Status& status) {
  for (auto& w : waiters_.TakeAll()) {
    building_->completions.push_back(
        [cb = std::move(w.cb), status](const absl::Status&) { cb(status); });
  }
  PublishWaiterStats();
}

void Engine::Impl::PublishWaiterStats() {
  parked_leases_.store(waiters_.size(), std::memory_order_relaxed);
  parked_lease_checks_.store(waiters_.checks(), std::memory_order_relaxed);
}

bool Engine::Impl::EngineFailed() {
  absl::MutexLock lock(&writer_mu_);
  return !failed_.ok();
}

absl::Status Engine::Impl::WaitWriterIdle() {
  absl::MutexLock lock(&writer_mu_);
  writer_mu_.Await(absl::Condition(
      +[](Group** in_flight) { return *in_flight == nullptr; }, &in_flight_));
  return failed_;
}

void Engine::Impl::HandOff() {
  Group& group = *building_;
  if (group.batch.Count() == 0 && group.completions.empty()) return;
  absl::Status failed = WaitWriterIdle();
  if (failed.ok()) machines_->store.indexes().AllCommitted();
  if (!failed.ok() || group.batch.Count() == 0) {
    // Nothing to write (reads, rejections), or the engine has failed: every
    // earlier group's callbacks are posted, so these answer in order.
    PostCompletions(std::move(group.completions), failed);
    group.completions.clear();
    group.batch.Clear();
    return;
  }
  machines_->FinishBatch(group.batch);
  machines_->store.indexes().GroupHandedOff();
  live_jobs_.store(machines_->store.indexes().live_jobs(), std::memory_order_relaxed);
  rate_limit_starts_.store(machines_->store.indexes().start_logs().starts(),
                           std::memory_order_relaxed);
  expired_jobs_.store(expired_jobs_base_ + machines_->jobs.expired_jobs(),
                      std::memory_order_relaxed);
  group.batch.set_base(nullptr);  // its base is durable: the writer was idle
  {
    absl::MutexLock lock(&writer_mu_);
    in_flight_ = building_.get();
  }
  std::swap(building_, previous_);
  building_->batch.Clear();
  building_->batch.set_base(&previous_->batch);
}

void Engine::Impl::WriterLoop() {
  pthread_setname_np(pthread_self(), "ratchet-wal");
  while (true) {
    Group* group;
    {
      absl::MutexLock lock(&writer_mu_);
      writer_mu_.Await(absl::Condition(
          +[](Impl* impl) ABSL_EXCLUSIVE_LOCKS_REQUIRED(impl->writer_mu_) {
            return impl->in_flight_ != nullptr || impl->writer_stopping_;
          },
          this));
      if (in_flight_ == nullptr) return;
      group = in_flight_;
    }
    Commit(*group);
    absl::MutexLock lock(&writer_mu_);
    in_flight_ = nullptr;
  }
}

void Engine::Impl::Commit(Group& group) {
  bytes_.fetch_add(group.batch.ByteSize(), std::memory_order_relaxed);
  entries_.fetch_add(group.batch.Count(), std::memory_order_relaxed);
  commits_.fetch_add(1, std::memory_order_relaxed);
  auto started = std::chrono::steady_clock::now();
  absl::Status commit = store_->Commit(group.batch);
  const auto took = std::chrono::duration_cast<std::chrono::microseconds>(
      std::chrono::steady_clock::now() - started);
  commit_micros_.fetch_add(took.count(), std::memory_order_relaxed);
  if (metrics_) metrics_->ObserveCommit(group.completions.size(), took);
  if (!commit.ok()) {
    spdlog::error(
        "event=storage_failed error={:?} message=\"refusing writes until the engine is reopened\"",
        commit.ToString());
    commit =
        WithReason(absl::UnavailableError(absl::StrCat(
                       "the engine stopped after a storage write failed (", commit.message(),
                       "); the outcome of operations in flight is unknown; reopen the engine")),
                   kReasonStorageFailed);
    if (metrics_) metrics_->SetStorageFailed();
    absl::MutexLock lock(&writer_mu_);
    failed_ = commit;
  }
  PostCompletions(std::move(group.completions), commit);
  group.completions.clear();
}

EngineStats Engine::Impl::Stats() const {
  EngineStats s;
  s.commits = commits_.load(std::memory_order_relaxed);
  s.operations = operations_.load(std::memory_order_relaxed);
  s.entries = entries_.load(std::memory_order_relaxed);
  s.bytes = bytes_.load(std::memory_order_relaxed);
  s.commit_micros = commit_micros_.load(std::memory_order_relaxed);
  s.live_jobs = live_jobs_.load(std::memory_order_relaxed);
  s.rate_limit_starts = rate_limit_starts_.load(std::memory_order_relaxed);
  s.expired_jobs = expired_jobs_.load(std::memory_order_relaxed);
  s.sweeper_passes = sweeper_passes_.load(std::memory_order_relaxed);
  s.sweeper_queues_visited = sweeper_queues_visited_.load(std::memory_order_relaxed);
  s.sweeper_keys_deleted = sweeper_keys_deleted_.load(std::memory_order_relaxed);
  s.sweeper_largest_pass_keys = sweeper_largest_pass_keys_.load(std::memory_order_relaxed);
  s.recovered_job_records = recovered_job_records_.load(std::memory_order_relaxed);
  s.rocksdb_memory_bytes = store_->MemoryUsageBytes();
  s.parked_leases = parked_leases_.load(std::memory_order_relaxed);
  s.parked_lease_checks = parked_lease_checks_.load(std::memory_order_relaxed);
  return s;
}

}  // namespace ratchet
