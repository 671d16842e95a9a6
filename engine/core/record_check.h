// Corrupt records: what the engine expects to find at each key, and the one
// error it gives when a stored value is not that. Recovery at open, every
// record read (record_io.h) and salvage (engine/core/salvage.cc) use these,
// so they agree on what "corrupt" means. Pure functions: safe from any
// thread.
#ifndef RATCHET_ENGINE_CORE_RECORD_CHECK_H_
#define RATCHET_ENGINE_CORE_RECORD_CHECK_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "ratchet/storage/store.h"
#include "schema.h"

namespace ratchet::internal {

// Where the operator's instructions for a corrupt record are.
inline constexpr std::string_view kCorruptRecordRunbook = "docs/operations.md#corrupt-records";

// `column family 'jobs', key "\x00...\x07" (job 7)`: the key printable, with
// every non-printable byte escaped as \xNN (absl::CHexEscape), cut after 200
// bytes; a decoded id where the layout has one.
std::string DescribeKey(storage::Cf cf, std::string_view key);

// DATA_LOSS: "corrupt record in <DescribeKey>: <problem>", followed by the
// runbook section and the salvage command.
absl::Status CorruptRecord(storage::Cf cf, std::string_view key, std::string_view problem);

// Parses `value`, stored at (cf, key), into `*r`.
// Errors: CorruptRecord ("does not parse as <type>") if it does not parse.
template <typename Record>
absl::Status ParseStored(storage::Cf cf, std::string_view key, std::string_view value, Record* r) {
  if (r->ParseFromArray(value.data(), static_cast<int>(value.size()))) return absl::OkStatus();
  return CorruptRecord(cf, key, absl::StrCat("does not parse as ", r->GetTypeName()));
}

// The checks beyond parsing that recovery makes of a workflow record stored
// at `key`. Errors: CorruptRecord if its state is unknown.
absl::Status CheckWorkflowRecord(std::string_view key, const WorkflowRecord& r);
// Checks that a queue record's settings are in range: limits and times not
// negative, rate limits of at least 1 start per 1 ms..24 h. A damaged value
// that still parses must not reach the limit logic (a rate limit of 0 would
// read past the start log). Errors: CorruptRecord naming the setting.
absl::Status CheckQueueRecord(std::string_view key, const QueueRecord& r);

// OK if `value` is what the engine expects at (cf, key): a record of the type
// the key layout (docs/consistency.md, "Keys") puts there that passes the
// checks recovery makes. Values that are not records (counters, index
// entries, event payloads, application data) are always OK.
// Errors: the CorruptRecord status recovery or a read would give.
absl::Status CheckStoredValue(storage::Cf cf, std::string_view key, std::string_view value);

// Column families with records that CheckStoredValue checks.
inline constexpr storage::Cf kRecordCfs[] = {storage::Cf::kJobs,        storage::Cf::kFinishedJobs,
                                             storage::Cf::kJobPayloads, storage::Cf::kIdempotency,
                                             storage::Cf::kQueues,      storage::Cf::kWorkflows,
                                             storage::Cf::kSchedules};

}  // namespace ratchet::internal

#endif  // RATCHET_ENGINE_CORE_RECORD_CHECK_H_
