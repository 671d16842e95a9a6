#include "job_store.h"

#include "absl/strings/str_cat.h"
#include "record_io.h"

namespace ratchet::internal {

using storage::Cf;

JobStore::JobStore(storage::Store* store, const EngineOptions& options)
    : store_(store), options_(options), cache_(options.record_cache_bytes) {}

absl::StatusOr<JobRecord> JobStore::Load(storage::Batch& batch, JobId id) {
  if (const std::string* cached = cache_.Get(id)) {
    JobRecord r;
    if (r.ParseFromString(*cached)) return r;
  }
  return ReadRecord<JobRecord>(batch, Cf::kJobs, JobKey(id), absl::StrCat("job ", id));
}

void JobStore::Save(storage::Batch& batch, const JobRecord& r) {
  std::string value = r.SerializeAsString();
  batch.Put(Cf::kJobs, JobKey(r.id()), value);
  if (IsTerminal(StateOf(r))) {
    cache_.Erase(r.id());  // finished jobs are rarely read again
  } else {
    cache_.Put(r.id(), std::move(value));
  }
}

void JobStore::Delete(storage::Batch& batch, JobId id) {
  batch.Delete(Cf::kJobs, JobKey(id));
  cache_.Erase(id);
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
  if (!counters_dirty_) return;
  batch.Put(Cf::kMeta, kMetaNextJobId, EncodeU64(next_job_id_));
  batch.Put(Cf::kMeta, kMetaNextToken, EncodeU64(next_token_));
  counters_dirty_ = false;
}

}  // namespace ratchet::internal
