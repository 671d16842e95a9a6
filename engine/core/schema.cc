#include "schema.h"

#include <openssl/evp.h>

#include <algorithm>

#include "ratchet/base/saturating.h"
#include "ratchet/storage/keys.h"

namespace ratchet::internal {

using storage::KeyBuilder;
using storage::KeyReader;

std::string JobKey(JobId id) { return KeyBuilder().U64(id).Build(); }

JobId JobIdFromKey(std::string_view key) {
  uint64_t id = 0;
  KeyReader(key).U64(&id);
  return id;
}

std::string FinishedKey(const JobRecord& r) {
  return KeyBuilder()
      .Str(r.queue())
      .U8(static_cast<uint8_t>(StateOf(r)))
      .I64(r.finished_at_ms())
      .U64(r.id())
      .Build();
}

std::string FinishedPrefix(std::string_view queue, JobState state) {
  return KeyBuilder().Str(queue).U8(static_cast<uint8_t>(state)).Build();
}

std::string DeadKey(const JobRecord& r) {
  return KeyBuilder().Str(r.queue()).I64(r.finished_at_ms()).U64(r.id()).Build();
}

std::string DeadPrefix(std::string_view queue) { return KeyBuilder().Str(queue).Build(); }

bool FinishedAtOfIndexKey(std::string_view key, size_t prefix_size, int64_t* finished_at_ms) {
  if (key.size() < prefix_size) return false;
  return KeyReader(key.substr(prefix_size)).I64(finished_at_ms);
}

std::string FinishedCountPrefix() { return KeyBuilder().Str("finished_count").Build(); }

std::string FinishedCountKey(std::string_view queue) {
  return KeyBuilder().Str("finished_count").Raw(queue).Build();
}

std::string_view QueueOfFinishedCountKey(std::string_view key) {
  return key.substr(std::min(key.size(), FinishedCountPrefix().size()));
}

JobId JobIdFromIndexKey(std::string_view key) {
  if (key.size() < 8) return 0;
  return JobIdFromKey(key.substr(key.size() - 8));
}

std::string IdempotencyKey(std::string_view queue, std::string_view key) {
  return KeyBuilder().U8('k').Str(queue).Raw(key).Build();
}

std::string IdempotencyExpiryKey(int64_t expires_at_ms, std::string_view queue,
                                 std::string_view key) {
  return KeyBuilder().U8('e').I64(expires_at_ms).Str(queue).Raw(key).Build();
}

std::string IdempotencyExpiryPrefix() { return KeyBuilder().U8('e').Build(); }

std::string UniqueKey(std::string_view queue, char by, std::string_view digest) {
  return KeyBuilder().U8('u').Str(queue).U8(static_cast<uint8_t>(by)).Raw(digest).Build();
}

std::string UniqueCleanupKey(int64_t due_at_ms, std::string_view unique_key) {
  return KeyBuilder().U8('x').I64(due_at_ms).Raw(unique_key).Build();
}

std::string UniqueCleanupPrefix() { return KeyBuilder().U8('x').Build(); }

std::string WorkflowKey(WorkflowId id) { return KeyBuilder().U8('w').U64(id).Build(); }

std::string StepKey(WorkflowId id, int index) {
  return KeyBuilder().U8('s').U64(id).U64(static_cast<uint64_t>(index)).Build();
}

std::string JournalKey(WorkflowId id, int seq) {
  return KeyBuilder().U8('c').U64(id).U64(static_cast<uint64_t>(seq)).Build();
}

std::string EventKey(WorkflowId id, std::string_view name) {
  return KeyBuilder().U8('e').U64(id).Raw(name).Build();
}

std::string WorkflowIdempotencyKey(std::string_view key) {
  return KeyBuilder().U8('k').Raw(key).Build();
}

std::string WorkflowExpiryKey(int64_t expires_at_ms, WorkflowId id) {
  return KeyBuilder().U8('f').I64(expires_at_ms).U64(id).Build();
}

std::vector<std::string> WorkflowOwnedPrefixes(WorkflowId id) {
  std::vector<std::string> prefixes;
  for (char tag : {'w', 's', 'c', 'e'}) prefixes.push_back(KeyBuilder().U8(tag).U64(id).Build());
  return prefixes;
}

WorkflowId WorkflowIdOfKey(std::string_view key) {
  if (key.empty() || std::string_view("wsce").find(key[0]) == std::string_view::npos) return 0;
  uint64_t id = 0;
  return KeyReader(key.substr(1)).U64(&id) ? id : 0;
}

std::string QuarantineKey(storage::Cf cf, std::string_view key) {
  return KeyBuilder().Str(storage::CfName(cf)).Raw(key).Build();
}

std::string ContentFingerprint(std::string_view job_type, std::string_view payload) {
  // Length-prefixed so ("ab", "c") and ("a", "bc") differ.
  std::string input = EncodeU64(job_type.size());
  input.append(job_type);
  input.append(payload);
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(input.data(), input.size(), digest, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(digest), len);
}

std::string EncodeU64(uint64_t v) { return KeyBuilder().U64(v).Build(); }

uint64_t DecodeU64(std::string_view s) {
  uint64_t v = 0;
  KeyReader(s).U64(&v);
  return v;
}

void ToRecord(const RetryPolicy& p, records::RetryPolicyRecord* r) {
  r->set_initial_backoff_ms(p.initial_backoff.count());
  r->set_max_backoff_ms(p.max_backoff.count());
  r->set_multiplier(p.multiplier);
  r->set_jitter(static_cast<int>(p.jitter));
}

RetryPolicy FromRecord(const records::RetryPolicyRecord& r) {
  RetryPolicy p;
  p.initial_backoff = Millis(r.initial_backoff_ms());
  p.max_backoff = Millis(r.max_backoff_ms());
  p.multiplier = r.multiplier();
  p.jitter = static_cast<JitterMode>(r.jitter());
  return p;
}

QueueRecord ToRecord(const QueueSettings& s) {
  QueueRecord r;
  r.set_concurrency_limit(s.concurrency_limit);
  ToRecord(s.retry_policy, r.mutable_retry());
  r.set_max_attempts(s.max_attempts);
  r.set_visibility_timeout_ms(s.visibility_timeout.count());
  r.set_completed_retention_ms(s.completed_retention.count());
  r.set_dead_retention_ms(s.dead_retention.count());
  r.set_paused(s.paused);
  r.set_key_concurrency_limit(s.key_concurrency_limit);
  for (const auto& [key, limit] : s.key_limits) (*r.mutable_key_limits())[key] = limit;
  if (s.rate_limit) {
    r.mutable_rate_limit()->set_limit(s.rate_limit->limit);
    r.mutable_rate_limit()->set_period_ms(s.rate_limit->period.count());
  }
  if (s.key_rate_limit) {
    r.mutable_key_rate_limit()->set_limit(s.key_rate_limit->limit);
    r.mutable_key_rate_limit()->set_period_ms(s.key_rate_limit->period.count());
  }
  return r;
}

QueueSettings FromRecord(const QueueRecord& r) {
  QueueSettings s;
  s.concurrency_limit = r.concurrency_limit();
  s.retry_policy = FromRecord(r.retry());
  s.max_attempts = r.max_attempts();
  s.visibility_timeout = Millis(r.visibility_timeout_ms());
  s.completed_retention = Millis(r.completed_retention_ms());
  s.dead_retention = Millis(r.dead_retention_ms());
  s.paused = r.paused();
  s.key_concurrency_limit = r.key_concurrency_limit();
  for (const auto& [key, limit] : r.key_limits()) s.key_limits[key] = limit;
  if (r.has_rate_limit()) {
    s.rate_limit = RateLimit{r.rate_limit().limit(), Millis(r.rate_limit().period_ms())};
  }
  if (r.has_key_rate_limit()) {
    s.key_rate_limit =
        RateLimit{r.key_rate_limit().limit(), Millis(r.key_rate_limit().period_ms())};
  }
  return s;
}

JobState VisibleState(const JobRecord& r, TimePoint now) {
  const JobState state = StateOf(r);
  if (state == JobState::kScheduled && r.run_at_ms() <= ToUnixMs(now)) {
    return JobState::kAvailable;
  }
  return state;
}

Job ToJob(const JobRecord& r, TimePoint now) {
  Job j;
  j.id = r.id();
  j.queue = r.queue();
  j.job_type = r.job_type();
  j.payload = r.payload();
  j.idempotency_key = r.idempotency_key();
  j.state = VisibleState(r, now);
  j.priority = r.priority();
  j.attempts = r.attempts();
  j.max_attempts = r.max_attempts();
  j.retry_policy = FromRecord(r.retry());
  j.visibility_timeout = Millis(r.visibility_timeout_ms());
  j.created_at = FromUnixMs(r.created_at_ms());
  j.run_at = FromUnixMs(r.run_at_ms());
  j.lease_deadline = FromUnixMs(r.lease_deadline_ms());
  j.token = r.token();
  j.worker_id = r.worker_id();
  j.cancel_requested = r.cancel_requested();
  j.finished_at = FromUnixMs(r.finished_at_ms());
  j.result = r.result();
  for (const auto& e : r.errors()) {
    j.errors.push_back({e.attempt(), FromUnixMs(e.at_ms()), e.message()});
  }
  j.workflow_id = r.workflow_id();
  j.schedule_id = r.schedule_id();
  j.concurrency_key = r.concurrency_key();
  j.traceparent = r.traceparent();
  j.unique_key = r.unique_key();
  j.attempt_timeout = Millis(r.attempt_timeout_ms());
  if (r.expires_at_ms() > 0) j.expires_at = FromUnixMs(r.expires_at_ms());
  if (r.token() != 0) j.attempt_started_at = FromUnixMs(r.attempt_started_at_ms());
  j.cancel_reason = r.cancel_reason();
  if (r.has_progress()) j.progress = r.progress();
  j.progress_message = r.progress_message();
  j.progress_updated_at = FromUnixMs(r.progress_updated_at_ms());
  return j;
}

LeasedJob ToLeasedJob(const JobRecord& r) {
  LeasedJob l;
  l.id = r.id();
  l.queue = r.queue();
  l.job_type = r.job_type();
  l.payload = r.payload();
  l.idempotency_key = r.idempotency_key();
  l.attempt = r.attempts();
  l.max_attempts = r.max_attempts();
  l.lease_deadline = FromUnixMs(r.lease_deadline_ms());
  l.lease_duration = Millis(r.lease_length_ms());
  l.token = r.token();
  l.workflow_id = r.workflow_id();
  l.step_name = r.step_name();
  for (const auto& in : r.inputs()) {
    l.inputs.push_back({in.step(), StateOf(in), in.result()});
  }
  l.schedule_id = r.schedule_id();
  l.concurrency_key = r.concurrency_key();
  l.traceparent = r.traceparent();
  l.attempt_timeout = Millis(r.attempt_timeout_ms());
  if (r.attempt_timeout_ms() > 0) {
    l.attempt_deadline =
        FromUnixMs(AddSaturating(r.attempt_started_at_ms(), r.attempt_timeout_ms()));
  }
  return l;
}

}  // namespace ratchet::internal
