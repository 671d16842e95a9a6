// The engine's record schema: key builders for each column family, typed
// access to the states stored in records (records.proto), and conversions
// between records and API types. docs/consistency.md lists which operation
// writes which key. Pure functions: safe from any thread.
#ifndef RATCHET_ENGINE_CORE_SCHEMA_H_
#define RATCHET_ENGINE_CORE_SCHEMA_H_

#include <string>
#include <string_view>
#include <vector>

#include "ratchet/engine/schedule_types.h"
#include "ratchet/engine/types.h"
#include "ratchet/engine/workflow_types.h"
#include "ratchet/storage/store.h"
#include "records.pb.h"

namespace ratchet::internal {

using records::IdempotencyRecord;
using records::JobPayloadRecord;
using records::JobRecord;
using records::JournalRecord;
using records::QueueRecord;
using records::ScheduleRecord;
using records::StepOutputRecord;
using records::StepRecord;
using records::UniqueRecord;
using records::WorkflowRecord;

// meta CF
inline constexpr std::string_view kMetaNextJobId = "next_job_id";
inline constexpr std::string_view kMetaNextToken = "next_token";
inline constexpr std::string_view kMetaNextWorkflowId = "next_workflow_id";

// workflows CF: 'w' be64(id) -> WorkflowRecord; 's' be64(id) be64(index) ->
// StepRecord; 'c' be64(id) be64(seq) -> JournalRecord; 'e' be64(id) name ->
// event payload; 'k' key -> IdempotencyRecord (the workflow's key); 'f'
// be64(expires_at) be64(id) -> "" (finished workflows, for retention).
std::string WorkflowKey(WorkflowId id);
inline constexpr std::string_view kWorkflowPrefix = "w";
std::string StepKey(WorkflowId id, int index);
std::string JournalKey(WorkflowId id, int seq);
std::string EventKey(WorkflowId id, std::string_view name);
std::string WorkflowIdempotencyKey(std::string_view key);
std::string WorkflowExpiryKey(int64_t expires_at_ms, WorkflowId id);
inline constexpr std::string_view kWorkflowExpiryPrefix = "f";
inline constexpr std::string_view kWorkflowIdempotencyPrefix = "k";
// The prefixes of every key one workflow owns by id: its 'w', 's', 'c' and
// 'e' keys (not its 'k' and 'f' index entries).
std::vector<std::string> WorkflowOwnedPrefixes(WorkflowId id);
// The workflow a 'w', 's', 'c' or 'e' key belongs to; 0 for other keys.
WorkflowId WorkflowIdOfKey(std::string_view key);

// jobs CF (live jobs) and finished_jobs CF (completed, cancelled and dead
// jobs within retention): be64(id) -> JobRecord, the job's state. A job's
// state record is in exactly one of them; recovery reads only `jobs`.
// job_payloads CF (schema 3): be64(id), the same key -> JobPayloadRecord,
// written once by the job's first write and deleted with its finished
// record; absent for a job without payload or inputs (payload_split false).
std::string JobKey(JobId id);
JobId JobIdFromKey(std::string_view key);
// job_index CF: queue 0x00 state be64(finished_at) be64(id), for completed
// and cancelled jobs; the retention sweeper walks it in time order.
std::string FinishedKey(const JobRecord& r);
std::string FinishedPrefix(std::string_view queue, JobState state);
// dead_letters CF: queue 0x00 be64(finished_at) be64(id).
std::string DeadKey(const JobRecord& r);
std::string DeadPrefix(std::string_view queue);
// The finish time in a FinishedKey or DeadKey after its `prefix`
// (FinishedPrefix or DeadPrefix); false if the key is too short.
bool FinishedAtOfIndexKey(std::string_view key, size_t prefix_size, int64_t* finished_at_ms);
// meta CF: "finished_count" 0x00 queue -> be64(completed) be64(cancelled)
// be64(dead), the queue's finished jobs within retention (schema 2).
std::string FinishedCountKey(std::string_view queue);
std::string FinishedCountPrefix();
// The queue of a FinishedCountKey.
std::string_view QueueOfFinishedCountKey(std::string_view key);
// The job id at the end of a FinishedKey or DeadKey.
JobId JobIdFromIndexKey(std::string_view key);
// idempotency CF: 'k' queue 0x00 key -> IdempotencyRecord, and the expiry
// index 'e' be64(expires_at) queue 0x00 key -> "".
std::string IdempotencyKey(std::string_view queue, std::string_view key);
std::string IdempotencyExpiryKey(int64_t expires_at_ms, std::string_view queue,
                                 std::string_view key);
std::string IdempotencyExpiryPrefix();
// idempotency CF, unique jobs: 'u' queue 0x00 by digest -> UniqueRecord,
// where `by` is 'a' (digest: ContentFingerprint(job_type, payload)) or 'k'
// (digest: ContentFingerprint("", unique key)); and the cleanup index 'x'
// be64(due_at) unique-key -> "" (engine/jobs/unique_jobs.h).
std::string UniqueKey(std::string_view queue, char by, std::string_view digest);
std::string UniqueCleanupKey(int64_t due_at_ms, std::string_view unique_key);
std::string UniqueCleanupPrefix();

// quarantine CF: cf name 0x00 original key -> the original value (salvage).
std::string QuarantineKey(storage::Cf cf, std::string_view key);

// SHA-256 of (job_type, payload): the content an idempotency key is bound to.
std::string ContentFingerprint(std::string_view job_type, std::string_view payload);

std::string EncodeU64(uint64_t v);
uint64_t DecodeU64(std::string_view s);

void ToRecord(const RetryPolicy& p, records::RetryPolicyRecord* r);
RetryPolicy FromRecord(const records::RetryPolicyRecord& r);
QueueRecord ToRecord(const QueueSettings& s);
QueueSettings FromRecord(const QueueRecord& r);

// Typed access to the enums that records store as int32: the rules read as
// states, and every cast lives here.
inline JobState StateOf(const JobRecord& r) { return static_cast<JobState>(r.state()); }
inline void SetState(JobRecord& r, JobState s) { r.set_state(static_cast<int32_t>(s)); }
inline StepState StateOf(const StepRecord& r) { return static_cast<StepState>(r.state()); }
inline void SetState(StepRecord& r, StepState s) { r.set_state(static_cast<int32_t>(s)); }
inline StepState StateOf(const StepOutputRecord& r) { return static_cast<StepState>(r.state()); }
inline void SetState(StepOutputRecord& r, StepState s) { r.set_state(static_cast<int32_t>(s)); }
inline WorkflowState StateOf(const WorkflowRecord& r) {
  return static_cast<WorkflowState>(r.state());
}
inline void SetState(WorkflowRecord& r, WorkflowState s) { r.set_state(static_cast<int32_t>(s)); }
inline WorkflowKind KindOf(const WorkflowRecord& r) { return static_cast<WorkflowKind>(r.kind()); }
inline void SetKind(WorkflowRecord& r, WorkflowKind k) { r.set_kind(static_cast<int32_t>(k)); }
inline MissedRunPolicy MissedOf(const ScheduleRecord& r) {
  return static_cast<MissedRunPolicy>(r.missed());
}
inline OverlapPolicy OverlapOf(const ScheduleRecord& r) {
  return static_cast<OverlapPolicy>(r.overlap());
}

// The job's state as callers see it: a stored kScheduled job whose run_at
// has passed is kAvailable.
JobState VisibleState(const JobRecord& r, TimePoint now);
Job ToJob(const JobRecord& r, TimePoint now);
LeasedJob ToLeasedJob(const JobRecord& r);

}  // namespace ratchet::internal

#endif  // RATCHET_ENGINE_CORE_SCHEMA_H_
