// StateMachine: construction, record access, enqueue and queue settings.
// Leasing lives in lease_ops.cc, dead letters in dead_letters.cc, listing in
// listing.cc, retention in sweeper.cc and index rebuild in recovery.cc.
#include "state_machine.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "ratchet/base/status.h"
#include "validation.h"

namespace ratchet::internal {

using storage::Cf;

StateMachine::StateMachine(storage::Store* store, const EngineOptions& options, Random* random)
    : store_(store), options_(options), random_(random), cache_(options.record_cache_bytes) {}

absl::StatusOr<JobRecord> StateMachine::Load(storage::Batch& batch, JobId id) {
  if (const std::string* cached = cache_.Get(id)) {
    JobRecord r;
    if (r.ParseFromString(*cached)) return r;
  }
  RATCHET_ASSIGN_OR_RETURN(auto value, batch.Get(Cf::kJobs, JobKey(id)));
  if (!value) return NotFound(absl::StrCat("job ", id, " not found"));
  JobRecord r;
  if (!r.ParseFromString(*value)) {
    return absl::DataLossError(absl::StrCat("job ", id, ": stored record does not parse"));
  }
  return r;
}

void StateMachine::Save(storage::Batch& batch, const JobRecord& r) {
  std::string value = r.SerializeAsString();
  batch.Put(Cf::kJobs, JobKey(r.id()), value);
  if (IsTerminal(static_cast<JobState>(r.state()))) {
    cache_.Erase(r.id());  // finished jobs are rarely read again
  } else {
    cache_.Put(r.id(), std::move(value));
  }
}

void StateMachine::Delete(storage::Batch& batch, JobId id) {
  batch.Delete(Cf::kJobs, JobKey(id));
  cache_.Erase(id);
}

QueueState* StateMachine::EnsureQueue(storage::Batch& batch, const std::string& name) {
  if (QueueState* q = indexes_.FindQueue(name)) return q;
  batch.Put(Cf::kQueues, name, ToRecord(options_.default_queue_settings).SerializeAsString());
  return indexes_.AddQueue(name, options_.default_queue_settings);
}

void StateMachine::FinishBatch(storage::Batch& batch) {
  if (!counters_dirty_) return;
  batch.Put(Cf::kMeta, kMetaNextJobId, EncodeU64(next_job_id_));
  batch.Put(Cf::kMeta, kMetaNextToken, EncodeU64(next_token_));
  batch.Put(Cf::kMeta, kMetaNextWorkflowId, EncodeU64(next_workflow_id_));
  counters_dirty_ = false;
}

absl::StatusOr<std::vector<StateMachine::EnqueuePlan>> StateMachine::PlanEnqueue(
    storage::Batch& batch, TimePoint now, const std::vector<EnqueueRequest>& reqs,
    bool indexed_fields) {
  std::vector<EnqueuePlan> plans(reqs.size());
  // (queue, key) -> (request index, fingerprint) for keys earlier in this call.
  absl::flat_hash_map<std::string, std::pair<int, std::string>> seen;
  for (size_t i = 0; i < reqs.size(); ++i) {
    const EnqueueRequest& req = reqs[i];
    std::string prefix = indexed_fields ? absl::StrCat("jobs[", i, "].") : "";
    RATCHET_RETURN_IF_ERROR(ValidateEnqueue(prefix, req, options_, now));
    if (req.idempotency_key.empty()) continue;
    std::string fingerprint = ContentFingerprint(req.job_type, req.payload);
    std::string ikey = IdempotencyKey(req.queue, req.idempotency_key);
    auto conflict = [&](std::string existing) {
      return WithReason(
          absl::AlreadyExistsError(absl::StrCat(prefix, "idempotency_key: '", req.idempotency_key,
                                                "' in queue '", req.queue, "' already belongs to ",
                                                existing, " with a different job_type or payload")),
          kReasonIdempotencyConflict);
    };
    if (auto it = seen.find(ikey); it != seen.end()) {
      if (it->second.second != fingerprint) {
        return conflict(absl::StrCat("jobs[", it->second.first, "]"));
      }
      plans[i].duplicate_of = it->second.first;
      continue;
    }
    RATCHET_ASSIGN_OR_RETURN(auto stored, batch.Get(Cf::kIdempotency, ikey));
    IdempotencyRecord rec;
    if (stored && rec.ParseFromString(*stored) && rec.expires_at_ms() > ToUnixMs(now)) {
      if (rec.fingerprint() != fingerprint) return conflict(absl::StrCat("job ", rec.job_id()));
      plans[i].existing = rec.job_id();
      continue;
    }
    seen[ikey] = {static_cast<int>(i), fingerprint};
    plans[i].fingerprint = std::move(fingerprint);
  }
  return plans;
}

JobId StateMachine::Insert(storage::Batch& batch, TimePoint now, const EnqueueRequest& req,
                           const std::string& fingerprint, const JobOrigin* origin) {
  QueueState* q = EnsureQueue(batch, req.queue);
  const JobId id = next_job_id_++;
  counters_dirty_ = true;
  TimePoint run_at = req.run_at ? *req.run_at : now + req.delay.value_or(Millis(0));
  JobRecord r;
  r.set_id(id);
  r.set_queue(req.queue);
  r.set_job_type(req.job_type);
  r.set_payload(req.payload);
  r.set_idempotency_key(req.idempotency_key);
  r.set_state(static_cast<int>(JobState::kScheduled));
  r.set_priority(req.priority);
  r.set_max_attempts(req.max_attempts.value_or(q->settings.max_attempts));
  ToRecord(req.retry_policy.value_or(q->settings.retry_policy), r.mutable_retry());
  r.set_visibility_timeout_ms(req.visibility_timeout ? req.visibility_timeout->count() : 0);
  r.set_created_at_ms(ToUnixMs(now));
  r.set_run_at_ms(ToUnixMs(run_at));
  if (origin) {
    r.set_workflow_id(origin->workflow_id);
    r.set_step_index(origin->step_index);
    r.set_step_name(origin->step_name);
    for (const StepOutputRecord& in : origin->inputs) *r.add_inputs() = in;
    r.set_schedule_id(origin->schedule_id);
    r.set_schedule_tick_ms(origin->schedule_tick_ms);
  }
  Save(batch, r);
  if (!req.idempotency_key.empty()) {
    IdempotencyRecord rec;
    rec.set_job_id(id);
    rec.set_fingerprint(fingerprint);
    rec.set_expires_at_ms(ToUnixMs(now + options_.idempotency_window));
    batch.Put(Cf::kIdempotency, IdempotencyKey(req.queue, req.idempotency_key),
              rec.SerializeAsString());
    batch.Put(Cf::kIdempotency,
              IdempotencyExpiryKey(rec.expires_at_ms(), req.queue, req.idempotency_key), "");
  }
  indexes_.AddWaiting(id, q, req.priority, r.run_at_ms());
  return id;
}

absl::StatusOr<std::vector<EnqueueResult>> StateMachine::Enqueue(
    storage::Batch& batch, TimePoint now, const std::vector<EnqueueRequest>& reqs,
    const std::vector<AppWrite>& app_writes, bool indexed_fields) {
  if (reqs.size() > static_cast<size_t>(options_.max_batch_jobs)) {
    return InvalidArgument(
        "jobs", absl::StrCat(reqs.size(), " jobs exceeds the limit of ", options_.max_batch_jobs));
  }
  size_t bytes = 0;
  for (const EnqueueRequest& r : reqs) bytes += r.payload.size();
  for (size_t i = 0; i < app_writes.size(); ++i) {
    RATCHET_RETURN_IF_ERROR(
        ValidateAppWrite(absl::StrCat("writes[", i, "]."), app_writes[i], options_));
    bytes += app_writes[i].value ? app_writes[i].value->size() : 0;
  }
  RATCHET_RETURN_IF_ERROR(ValidateRequestBytes("jobs", bytes, options_));
  RATCHET_ASSIGN_OR_RETURN(auto plans, PlanEnqueue(batch, now, reqs, indexed_fields));
  // Everything is checked; from here on the operation cannot fail.
  std::vector<EnqueueResult> results(reqs.size());
  for (size_t i = 0; i < reqs.size(); ++i) {
    if (plans[i].existing != 0) {
      results[i] = {plans[i].existing, true};
    } else if (plans[i].duplicate_of >= 0) {
      results[i] = {results[plans[i].duplicate_of].id, true};
    } else {
      results[i] = {Insert(batch, now, reqs[i], plans[i].fingerprint), false};
    }
  }
  for (const AppWrite& w : app_writes) {
    if (w.value) {
      batch.Put(Cf::kApp, w.key, *w.value);
    } else {
      batch.Delete(Cf::kApp, w.key);
    }
  }
  return results;
}

absl::Status StateMachine::UpdateQueue(storage::Batch& batch, const std::string& name,
                                       const QueueSettings& settings) {
  RATCHET_RETURN_IF_ERROR(ValidateName("queue", name));
  RATCHET_RETURN_IF_ERROR(ValidateQueueSettings(settings, options_));
  QueueState* q = EnsureQueue(batch, name);
  q->settings = settings;
  batch.Put(Cf::kQueues, name, ToRecord(settings).SerializeAsString());
  return absl::OkStatus();
}

absl::Status StateMachine::SetPaused(storage::Batch& batch, const std::string& name, bool paused) {
  RATCHET_RETURN_IF_ERROR(ValidateName("queue", name));
  QueueState* q = EnsureQueue(batch, name);
  q->settings.paused = paused;
  batch.Put(Cf::kQueues, name, ToRecord(q->settings).SerializeAsString());
  return absl::OkStatus();
}

namespace {

QueueInfo InfoOf(QueueState* q, int64_t now_ms) {
  QueueInfo info;
  info.name = q->name;
  info.settings = q->settings;
  info.scheduled = static_cast<int64_t>(q->scheduled.size());
  info.available = static_cast<int64_t>(q->ready.size());
  info.running = static_cast<int64_t>(q->running.size());
  info.completed = q->completed;
  info.cancelled = q->cancelled;
  info.dead = q->dead;
  return info;
}

}  // namespace

absl::StatusOr<QueueInfo> StateMachine::GetQueue(TimePoint now, const std::string& name) {
  RATCHET_RETURN_IF_ERROR(ValidateName("queue", name));
  QueueState* q = indexes_.FindQueue(name);
  if (!q) return NotFound(absl::StrCat("queue '", name, "' not found"));
  indexes_.PromoteDue(q, ToUnixMs(now));
  return InfoOf(q, ToUnixMs(now));
}

std::vector<QueueInfo> StateMachine::ListQueues(TimePoint now) {
  std::vector<QueueInfo> out;
  for (QueueState* q : indexes_.Queues()) {
    indexes_.PromoteDue(q, ToUnixMs(now));
    out.push_back(InfoOf(q, ToUnixMs(now)));
  }
  return out;
}

}  // namespace ratchet::internal
