#include "record_check.h"

#include "absl/strings/escaping.h"
#include "google/protobuf/unknown_field_set.h"
#include "ratchet/base/status.h"
#include "ratchet/storage/keys.h"

namespace ratchet::internal {

using storage::Cf;

namespace {

constexpr size_t kMaxKeyBytesShown = 200;

// " (job 7)" or " (workflow 3)" where the key layout has an id; else "".
std::string IdHint(Cf cf, std::string_view key) {
  if ((cf == Cf::kJobs || cf == Cf::kFinishedJobs || cf == Cf::kJobPayloads) && key.size() == 8)
    return absl::StrCat(" (job ", JobIdFromKey(key), ")");
  if (cf == Cf::kWorkflows) {
    if (WorkflowId id = WorkflowIdOfKey(key); id != 0) return absl::StrCat(" (workflow ", id, ")");
  }
  return "";
}

}  // namespace

std::string DescribeKey(Cf cf, std::string_view key) {
  std::string shown = absl::CHexEscape(std::string(key.substr(0, kMaxKeyBytesShown)));
  if (key.size() > kMaxKeyBytesShown) absl::StrAppend(&shown, "... (", key.size(), " bytes)");
  return absl::StrCat("column family '", std::string(storage::CfName(cf)), "', key \"", shown, "\"",
                      IdHint(cf, key));
}

absl::Status CorruptRecord(Cf cf, std::string_view key, std::string_view problem) {
  return absl::DataLossError(absl::StrCat(
      "corrupt record in ", DescribeKey(cf, key), ": ", std::string(problem), ". See ",
      std::string(kCorruptRecordRunbook),
      ": back up the data directory, then `ratchetd --salvage` (Engine::Salvage) moves "
      "records that do not parse to the quarantine column family"));
}

absl::Status CheckWorkflowRecord(std::string_view key, const WorkflowRecord& r) {
  if (r.state() < 0 || r.state() > static_cast<int>(WorkflowState::kCancelled)) {
    return CorruptRecord(Cf::kWorkflows, key,
                         absl::StrCat("workflow ", r.id(), " has an unknown state ", r.state()));
  }
  return absl::OkStatus();
}

absl::Status CheckStoredValue(Cf cf, std::string_view key, std::string_view value) {
  switch (cf) {
    case Cf::kJobs:
    case Cf::kFinishedJobs: {
      JobRecord r;
      return ParseStored(cf, key, value, &r);
    }
    case Cf::kJobPayloads: {
      JobPayloadRecord r;
      RATCHET_RETURN_IF_ERROR(ParseStored(cf, key, value, &r));
      if (r.GetReflection()->GetUnknownFields(r).empty()) return absl::OkStatus();
      return CorruptRecord(cf, key, "has fields a JobPayloadRecord does not have");
    }
    case Cf::kQueues: {
      QueueRecord r;
      return ParseStored(cf, key, value, &r);
    }
    case Cf::kSchedules: {
      ScheduleRecord r;
      return ParseStored(cf, key, value, &r);
    }
    case Cf::kIdempotency: {
      if (!key.empty() && key[0] == 'u') {  // a unique job's entry
        UniqueRecord r;
        return ParseStored(cf, key, value, &r);
      }
      if (key.empty() || key[0] != 'k') return absl::OkStatus();  // 'e', 'x': indexes
      IdempotencyRecord r;
      return ParseStored(cf, key, value, &r);
    }
    case Cf::kWorkflows: {
      switch (key.empty() ? '\0' : key[0]) {
        case 'w': {
          WorkflowRecord r;
          RATCHET_RETURN_IF_ERROR(ParseStored(cf, key, value, &r));
          return CheckWorkflowRecord(key, r);
        }
        case 's': {
          StepRecord r;
          return ParseStored(cf, key, value, &r);
        }
        case 'c': {
          JournalRecord r;
          return ParseStored(cf, key, value, &r);
        }
        case 'k': {
          IdempotencyRecord r;
          return ParseStored(cf, key, value, &r);
        }
        default:  // 'e' event payloads, 'f' expiry index
          return absl::OkStatus();
      }
    }
    default:
      return absl::OkStatus();
  }
}

}  // namespace ratchet::internal
