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

absl::Status CheckQueueRecord(std::string_view key, const QueueRecord& r) {
  const auto bad = [&](std::string_view setting, int64_t value) {
    return CorruptRecord(
        Cf::kQueues, key,
        absl::StrCat("queue setting ", std::string(setting), " is out of range: ", value));
  };
  if (r.concurrency_limit() < 0) return bad("concurrency_limit", r.concurrency_limit());
  if (r.key_concurrency_limit() < 0) {
    return bad("key_concurrency_limit", r.key_concurrency_limit());
  }
  for (const auto& [k, limit] : r.key_limits()) {
    if (limit < 0) return bad("key_limits", limit);
  }
  if (r.max_attempts() < 0) return bad("max_attempts", r.max_attempts());
  if (r.visibility_timeout_ms() < 0) return bad("visibility_timeout_ms", r.visibility_timeout_ms());
  if (r.completed_retention_ms() < 0) {
    return bad("completed_retention_ms", r.completed_retention_ms());
  }
  if (r.dead_retention_ms() < 0) return bad("dead_retention_ms", r.dead_retention_ms());
  constexpr int64_t kDayMs = 24LL * 3600 * 1000;
  const auto check_rate = [&](std::string_view name, const records::RateLimitRecord& rate) {
    if (rate.limit() < 1) return bad(absl::StrCat(std::string(name), ".limit"), rate.limit());
    if (rate.period_ms() < 1 || rate.period_ms() > kDayMs) {
      return bad(absl::StrCat(std::string(name), ".period_ms"), rate.period_ms());
    }
    return absl::OkStatus();
  };
  if (r.has_rate_limit()) RATCHET_RETURN_IF_ERROR(check_rate("rate_limit", r.rate_limit()));
  if (r.has_key_rate_limit()) {
    RATCHET_RETURN_IF_ERROR(check_rate("key_rate_limit", r.key_rate_limit()));
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
      RATCHET_RETURN_IF_ERROR(ParseStored(cf, key, value, &r));
      return CheckQueueRecord(key, r);
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
