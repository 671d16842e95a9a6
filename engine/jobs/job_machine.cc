// JobMachine: enqueue. Leasing and the end of attempts live in
// job_lease.cc.
#include "job_machine.h"

#include "absl/container/flat_hash_map.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "ratchet/base/saturating.h"
#include "ratchet/base/status.h"
#include "record_io.h"
#include "validation.h"

namespace ratchet::internal {

using storage::Cf;

absl::StatusOr<std::vector<JobMachine::EnqueuePlan>> JobMachine::PlanEnqueue(
    storage::Batch& batch, TimePoint now, const std::vector<EnqueueRequest>& reqs,
    FieldNames names) {
  std::vector<EnqueuePlan> plans(reqs.size());
  // (queue, key) -> (request index, fingerprint) for keys earlier in this call.
  absl::flat_hash_map<std::string, std::pair<int, std::string>> seen;
  absl::flat_hash_map<std::string, int> unique_earlier;
  for (size_t i = 0; i < reqs.size(); ++i) {
    const EnqueueRequest& req = reqs[i];
    std::string prefix = names == FieldNames::kIndexed ? absl::StrCat("jobs[", i, "].") : "";
    RATCHET_RETURN_IF_ERROR(ValidateEnqueue(prefix, req, jobs_.options(), now));
    // Expiry runs on the expiry clock (the latest time seen): after a
    // backward clock step an expires_at past `now` may already be behind it.
    if (req.expires_at && ToUnixMs(*req.expires_at) <= ExpiryNowMs(now)) {
      return InvalidArgument(
          prefix + "expires_at",
          absl::StrCat(ToUnixMs(*req.expires_at), " ms is not after the engine's expiry clock (",
                       ExpiryNowMs(now),
                       " ms, the latest time it has seen): the job could never "
                       "start"));
    }
    if (req.unique) RATCHET_RETURN_IF_ERROR(ValidateUnique(prefix + "unique", *req.unique));
    if (req.idempotency_key.empty()) {
      RATCHET_RETURN_IF_ERROR(PlanUnique(batch, now, reqs, i, unique_earlier, plans));
      continue;
    }
    std::string fingerprint = ContentFingerprint(req.job_type, req.payload);
    std::string ikey = IdempotencyKey(req.queue, req.idempotency_key);
    auto conflict = [&](std::string existing) {
      return IdempotencyConflict(absl::StrCat(prefix, "idempotency_key: '", req.idempotency_key,
                                              "' in queue '", req.queue, "' already belongs to ",
                                              existing, " with a different job_type or payload"));
    };
    if (auto it = seen.find(ikey); it != seen.end()) {
      if (it->second.second != fingerprint) {
        return conflict(absl::StrCat("jobs[", it->second.first, "]"));
      }
      plans[i].duplicate_of = it->second.first;
      continue;
    }
    // A stored record that does not parse is corruption, not a free key:
    // DATA_LOSS, never a duplicate job under the key.
    RATCHET_ASSIGN_OR_RETURN(
        std::optional<IdempotencyRecord> rec,
        FindRecord<IdempotencyRecord>(batch, Cf::kIdempotency, ikey, "idempotency key"));
    if (rec && rec->expires_at_ms() > ToUnixMs(now)) {
      if (rec->fingerprint() != fingerprint) return conflict(absl::StrCat("job ", rec->job_id()));
      plans[i].existing = rec->job_id();
      continue;
    }
    seen[ikey] = {static_cast<int>(i), fingerprint};
    plans[i].fingerprint = std::move(fingerprint);
    RATCHET_RETURN_IF_ERROR(PlanUnique(batch, now, reqs, i, unique_earlier, plans));
  }
  return plans;
}

absl::Status JobMachine::PlanUnique(storage::Batch& batch, TimePoint now,
                                    const std::vector<EnqueueRequest>& reqs, size_t i,
                                    absl::flat_hash_map<std::string, int>& earlier,
                                    std::vector<EnqueuePlan>& plans) {
  const EnqueueRequest& req = reqs[i];
  if (!req.unique) return absl::OkStatus();
  std::string entry = UniqueJobs::EntryKey(req);
  EnqueuePlan& plan = plans[i];
  if (auto it = earlier.find(entry); it != earlier.end()) {
    // The entry will name that earlier job once this write lands.
    if (auto state = UniqueJobs::MatchesEarlier(reqs[it->second], req, now)) {
      plan.unique_match_of = it->second;
      plan.unique_match_state = *state;
      return absl::OkStatus();
    }
  } else {
    RATCHET_ASSIGN_OR_RETURN(auto match, unique_.Find(batch, now, req, entry));
    if (match) {
      plan.unique_match = match->id;
      plan.unique_match_state = match->state;
      return absl::OkStatus();
    }
  }
  earlier[std::move(entry)] = static_cast<int>(i);
  return absl::OkStatus();
}

JobId JobMachine::Insert(storage::Batch& batch, TimePoint now, const EnqueueRequest& req,
                         const std::string& fingerprint, const JobOrigin* origin) {
  QueueState* q = jobs_.EnsureQueue(batch, req.queue);
  const JobId id = jobs_.NextJobId();
  TimePoint run_at = req.run_at ? *req.run_at : now + req.delay.value_or(Millis(0));
  JobRecord r;
  r.set_id(id);
  r.set_queue(req.queue);
  r.set_job_type(req.job_type);
  r.set_payload(req.payload);
  r.set_idempotency_key(req.idempotency_key);
  r.set_concurrency_key(req.concurrency_key);
  r.set_traceparent(req.traceparent);
  SetState(r, JobState::kScheduled);
  r.set_priority(req.priority);
  r.set_max_attempts(req.max_attempts.value_or(q->settings.max_attempts));
  ToRecord(req.retry_policy.value_or(q->settings.retry_policy), r.mutable_retry());
  r.set_visibility_timeout_ms(req.visibility_timeout ? req.visibility_timeout->count() : 0);
  r.set_created_at_ms(ToUnixMs(now));
  r.set_run_at_ms(ToUnixMs(run_at));
  r.set_attempt_timeout_ms(req.attempt_timeout ? req.attempt_timeout->count() : 0);
  r.set_expires_at_ms(req.expires_at ? ToUnixMs(*req.expires_at) : 0);
  if (origin) {
    r.set_workflow_id(origin->workflow_id);
    r.set_step_index(origin->step_index);
    r.set_step_name(origin->step_name);
    for (const StepOutputRecord& in : origin->inputs) *r.add_inputs() = in;
    r.set_schedule_id(origin->schedule_id);
    r.set_schedule_tick_ms(origin->schedule_tick_ms);
  }
  if (req.unique) UniqueJobs::OnInsert(batch, req, r);
  jobs_.Save(batch, r);
  if (!req.idempotency_key.empty()) {
    IdempotencyRecord rec;
    rec.set_job_id(id);
    rec.set_fingerprint(fingerprint);
    rec.set_expires_at_ms(AddSaturating(ToUnixMs(now), jobs_.options().idempotency_window.count()));
    batch.Put(Cf::kIdempotency, IdempotencyKey(req.queue, req.idempotency_key),
              rec.SerializeAsString());
    batch.Put(Cf::kIdempotency,
              IdempotencyExpiryKey(rec.expires_at_ms(), req.queue, req.idempotency_key), "");
    jobs_.indexes().idempotency_sweep().Added(rec.expires_at_ms(),
                                              jobs_.indexes().building_group());
  }
  jobs_.indexes().AddWaiting(id, q, req.priority, r.run_at_ms(), req.concurrency_key);
  jobs_.events().Count(req.queue, JobEvent::kEnqueued);
  if (ExpiryApplies(r)) jobs_.indexes().SetExpiry(id, r.expires_at_ms());
  return id;
}

absl::StatusOr<std::vector<EnqueueResult>> JobMachine::Enqueue(
    storage::Batch& batch, TimePoint now, const std::vector<EnqueueRequest>& reqs,
    const std::vector<AppWrite>& app_writes, FieldNames names) {
  if (reqs.size() > static_cast<size_t>(jobs_.options().max_batch_jobs)) {
    return InvalidArgument("jobs", absl::StrCat(reqs.size(), " jobs exceeds the limit of ",
                                                jobs_.options().max_batch_jobs));
  }
  size_t bytes = 0;
  for (size_t i = 0; i < reqs.size(); ++i) {
    bytes += reqs[i].payload.size();
    // Schedule ticks key their jobs "schedule:<id>:<tick>": a caller's key
    // must never collide with (and so block or impersonate) a tick.
    if (absl::StartsWith(reqs[i].idempotency_key, kScheduleKeyPrefix)) {
      return InvalidArgument(
          absl::StrCat(names == FieldNames::kIndexed ? absl::StrCat("jobs[", i, "].") : "",
                       "idempotency_key"),
          absl::StrCat("the prefix '", kScheduleKeyPrefix, "' is reserved for schedule ticks"));
    }
  }
  for (size_t i = 0; i < app_writes.size(); ++i) {
    RATCHET_RETURN_IF_ERROR(
        ValidateAppWrite(absl::StrCat("writes[", i, "]."), app_writes[i], jobs_.options()));
    bytes += app_writes[i].value ? app_writes[i].value->size() : 0;
  }
  RATCHET_RETURN_IF_ERROR(ValidateRequestBytes("jobs", bytes, jobs_.options()));
  RATCHET_ASSIGN_OR_RETURN(auto plans, PlanEnqueue(batch, now, reqs, names));
  // Everything is checked; from here on the operation cannot fail.
  std::vector<EnqueueResult> results(reqs.size());
  for (size_t i = 0; i < reqs.size(); ++i) {
    if (plans[i].existing != 0) {
      results[i] = {plans[i].existing, true};
    } else if (plans[i].duplicate_of >= 0) {
      results[i] = {results[plans[i].duplicate_of].id, true};
    } else if (plans[i].unique_match != 0 || plans[i].unique_match_of >= 0) {
      const JobId id =
          plans[i].unique_match != 0 ? plans[i].unique_match : results[plans[i].unique_match_of].id;
      results[i] = {id, false, true, plans[i].unique_match_state};
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

}  // namespace ratchet::internal
