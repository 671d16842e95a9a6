#include "job_store.h"

#include "absl/strings/str_cat.h"
#include "ratchet/base/saturating.h"
#include "ratchet/base/status.h"
#include "ratchet/storage/keys.h"
#include "record_io.h"
#include "spdlog/spdlog.h"

namespace ratchet::internal {

using storage::Cf;

JobStore::JobStore(storage::Store* store, const EngineOptions& options)
    : store_(store), options_(options), cache_(options.record_cache_bytes) {}

absl::StatusOr<JobRecord> JobStore::LoadState(storage::Batch& batch, JobId id) {
  if (const RecordCache::Entry* cached = cache_.Get(id)) {
    JobRecord r;
    if (r.ParseFromString(cached->state)) return r;
  }
  const std::string key = JobKey(id);
  RATCHET_ASSIGN_OR_RETURN(std::optional<JobRecord> live,
                           FindRecord<JobRecord>(batch, Cf::kJobs, key, absl::StrCat("job ", id)));
  if (live) return std::move(*live);
  RATCHET_ASSIGN_OR_RETURN(JobRecord finished, ReadRecord<JobRecord>(batch, Cf::kFinishedJobs, key,
                                                                     absl::StrCat("job ", id)));
  loaded_finished_.insert(id);
  return finished;
}

absl::StatusOr<JobRecord> JobStore::Load(storage::Batch& batch, JobId id) {
  RATCHET_ASSIGN_OR_RETURN(JobRecord r, LoadState(batch, id));
  if (!r.payload_split()) return r;
  const std::string key = JobKey(id);
  if (const RecordCache::Entry* cached = cache_.Get(id)) {
    if (MergeJobPayload(r, key, cached->payload).ok()) return r;
  }
  RATCHET_ASSIGN_OR_RETURN(std::optional<std::string> payload, batch.Get(Cf::kJobPayloads, key));
  RATCHET_RETURN_IF_ERROR(MergeJobPayload(r, key, payload));
  return r;
}

void JobStore::Save(storage::Batch& batch, JobRecord& r) {
  const std::string key = JobKey(r.id());
  const bool live = !IsTerminal(StateOf(r));
  // The payload part leaves `r` while its state is serialized (swaps, not
  // copies), and comes back after.
  JobPayloadRecord payload;
  payload.mutable_payload()->swap(*r.mutable_payload());
  payload.mutable_inputs()->Swap(r.mutable_inputs());
  const bool has_payload = !payload.payload().empty() || payload.inputs_size() > 0;
  const bool first_split = !r.payload_split() && has_payload;
  // Split with nothing in hand: a record from LoadState. Its payload record
  // stays as it is, and only a cached entry's state is replaced.
  const bool state_only = r.payload_split() && !has_payload;
  std::string payload_value;
  if (first_split || (live && r.payload_split() && !state_only && cache_.Get(r.id()) == nullptr)) {
    payload_value = payload.SerializeAsString();
  }
  if (first_split) {
    batch.Put(Cf::kJobPayloads, key, payload_value);
    r.set_payload_split(true);
  }
  std::string value = r.SerializeAsString();
  r.mutable_payload()->swap(*payload.mutable_payload());
  r.mutable_inputs()->Swap(payload.mutable_inputs());
  if (!live) {
    batch.Put(Cf::kFinishedJobs, key, value);
    if (indexes_.Find(r.id()) != nullptr) batch.Delete(Cf::kJobs, key);  // it was live
    cache_.Erase(r.id());  // finished jobs are rarely read again
    return;
  }
  batch.Put(Cf::kJobs, key, value);
  if (loaded_finished_.erase(r.id()) > 0) batch.Delete(Cf::kFinishedJobs, key);
  if (state_only) {
    cache_.PutState(r.id(), std::move(value));  // not cached: stays so
  } else if (first_split || !r.payload_split() || !cache_.PutState(r.id(), value)) {
    cache_.Put(r.id(), std::move(value), std::move(payload_value));
  }
}

void JobStore::DeleteFinished(storage::Batch& batch, JobId id) {
  const std::string key = JobKey(id);
  batch.Delete(Cf::kFinishedJobs, key);
  batch.Delete(Cf::kJobPayloads, key);
  cache_.Erase(id);
}

void JobStore::CountFinished(storage::Batch& batch, QueueState* q, JobState state,
                             int64_t finished_at_ms) {
  indexes_.CountFinished(q, state, 1);
  q->FinishedSweep(state).Added(finished_at_ms, indexes_.building_group());
  const RetentionClass c = RetentionClassOf(state);
  indexes_.AdvanceRetentionDue(q, c, AddSaturating(finished_at_ms, q->Retention(c).count()));
  SaveFinishedCounts(batch, *q);
}

void JobStore::UncountFinished(storage::Batch& batch, QueueState* q, JobState state, int64_t n) {
  if (n == 0) return;
  const int64_t count = q->FinishedCount(state);
  if (count < n) {
    // The stored count was short of the index (it is a cache of it): the
    // engine goes on, and `ratchetd --salvage` recounts every queue.
    spdlog::error("event=finished_count_short queue={} state={} count={} removed={}", q->name,
                  static_cast<int>(state), count, n);
    n = count;
  }
  indexes_.CountFinished(q, state, -n);
  SaveFinishedCounts(batch, *q);
}

void JobStore::SaveFinishedCounts(storage::Batch& batch, const QueueState& q) {
  const std::string key = FinishedCountKey(q.name);
  if (q.completed == 0 && q.cancelled == 0 && q.dead == 0) {
    batch.Delete(Cf::kMeta, key);
    return;
  }
  batch.Put(Cf::kMeta, key,
            storage::KeyBuilder()
                .U64(static_cast<uint64_t>(q.completed))
                .U64(static_cast<uint64_t>(q.cancelled))
                .U64(static_cast<uint64_t>(q.dead))
                .Build());
}

QueueState* JobStore::EnsureQueue(storage::Batch& batch, const std::string& name) {
  if (QueueState* q = indexes_.FindQueue(name)) return q;
  batch.Put(Cf::kQueues, name, ToRecord(options_.default_queue_settings).SerializeAsString());
  return indexes_.AddQueue(name, options_.default_queue_settings);
}

QueueSettings JobStore::SettingsOf(const std::string& name) const {
  const QueueState* q = indexes_.FindQueue(name);
  return q ? q->settings : options_.default_queue_settings;
}

JobId JobStore::NextJobId() {
  counters_dirty_ = true;
  return next_job_id_++;
}

FencingToken JobStore::NextToken() {
  counters_dirty_ = true;
  return next_token_++;
}

void JobStore::FinishBatch(storage::Batch& batch) {
  loaded_finished_.clear();
  if (!counters_dirty_) return;
  batch.Put(Cf::kMeta, kMetaNextJobId, EncodeU64(next_job_id_));
  batch.Put(Cf::kMeta, kMetaNextToken, EncodeU64(next_token_));
  counters_dirty_ = false;
}

}  // namespace ratchet::internal
