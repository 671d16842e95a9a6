// Engine::Salvage: moves corrupt records, and what depends on them, into the
// quarantine column family so the engine can open again. Offline: it runs on
// a Store of its own, before any Engine opens the directory.
//
// What moves, each unit in one atomic write (docs/consistency.md, "Salvage"):
//   - a record CheckStoredValue rejects (record_check.h), on its own;
//   - a workflow with a rejected 'w', 's' or 'c' record, whole: every key it
//     owns, its 'k' and 'f' entries and its jobs. Half a workflow would fail
//     every later write of its steps; a code-first main job leased without its
//     journal would replay its steps;
//   - a job whose state record or payload record (job_payloads) is rejected
//     or missing, whole: both records (a state without its payload cannot
//     run; a payload without its state is unreachable);
//   - job_index and dead_letters entries whose job is not stored (a
//     quarantined job's), which redrive and listing would trip over.
// A crash between units leaves each unit whole; a second run finds what is
// left and moves it.
#include <map>
#include <set>

#include "absl/strings/escaping.h"
#include "absl/strings/strip.h"
#include "job_migration.h"
#include "ratchet/base/status.h"
#include "ratchet/engine/engine.h"
#include "ratchet/storage/keys.h"
#include "record_check.h"
#include "schema.h"
#include "spdlog/spdlog.h"
#include "start_logs.h"
#include "validation.h"

namespace ratchet::internal {

namespace {

using storage::Cf;

class Salvager {
 public:
  explicit Salvager(storage::Store* store) : store_(store) {}

  absl::StatusOr<SalvageReport> Run() {
    RATCHET_RETURN_IF_ERROR(FindCorrupt());
    for (WorkflowId id : corrupt_workflows_) RATCHET_RETURN_IF_ERROR(MoveWorkflow(id));
    for (const auto& [cf, key] : corrupt_) {
      if (cf == Cf::kWorkflows && corrupt_workflows_.count(WorkflowIdOfKey(key)) > 0) continue;
      storage::Batch batch(store_);
      std::vector<QuarantinedRecord> moved;
      if (IsJobCf(cf)) {
        RATCHET_RETURN_IF_ERROR(QuarantineJob(
            batch, key, absl::StrCat("belongs to corrupt job ", JobIdFromKey(key)), &moved));
      } else {
        RATCHET_RETURN_IF_ERROR(Quarantine(batch, cf, key, "", &moved));
      }
      RATCHET_RETURN_IF_ERROR(Commit(batch, moved));
    }
    RATCHET_RETURN_IF_ERROR(MoveHalfJobs());
    RATCHET_RETURN_IF_ERROR(MoveOrphanIndexEntries(Cf::kJobIndex));
    RATCHET_RETURN_IF_ERROR(MoveOrphanIndexEntries(Cf::kDeadLetters));
    // Index entries moved aside: the stored finished counts follow them.
    storage::Batch counts(store_);
    RATCHET_RETURN_IF_ERROR(RecountFinished(*store_, counts));
    RATCHET_RETURN_IF_ERROR(store_->Commit(counts));
    RATCHET_RETURN_IF_ERROR(ListQuarantine());
    return std::move(report_);
  }

 private:
  // Scans every record column family for values CheckStoredValue rejects.
  absl::Status FindCorrupt() {
    for (Cf cf : kRecordCfs) {
      RATCHET_RETURN_IF_ERROR(
          store_->ForEach(cf, "", "", [&](std::string_view key, std::string_view value) {
            absl::Status s = CheckStoredValue(cf, key, value);
            if (s.ok()) return true;
            corrupt_.emplace(cf, std::string(key));
            // The problem alone: the log line and the report name cf and key.
            absl::string_view message = s.message();
            message = message.substr(0, message.find(". See "));
            absl::ConsumePrefix(&message,
                                absl::StrCat("corrupt record in ", DescribeKey(cf, key), ": "));
            reasons_[QuarantineKey(cf, key)] = std::string(message);
            if (cf == Cf::kWorkflows && WorkflowIdOfKey(key) != 0) {
              corrupt_workflows_.insert(WorkflowIdOfKey(key));
            }
            return true;
          }));
    }
    // The rate-limit clock (meta CF): one that does not parse stops the
    // open. Moved aside, the clock resumes from the newest stored start.
    RATCHET_ASSIGN_OR_RETURN(auto clock, store_->Get(Cf::kMeta, StartLogs::kClockKey));
    if (clock && clock->size() != 8) {
      const std::string key(StartLogs::kClockKey);
      corrupt_.emplace(Cf::kMeta, key);
      reasons_[QuarantineKey(Cf::kMeta, key)] = "rate-limit clock does not parse";
    }
    // Rate-limit starts (meta CF): one that does not parse stops the open.
    // Moved aside, the window forgets that one start.
    const std::string prefix = StartLogs::Prefix();
    return store_->ForEach(Cf::kMeta, prefix, storage::PrefixSuccessor(prefix),
                           [&](std::string_view key, std::string_view value) {
                             if (StartLogs::ParseEntry(key, value)) return true;
                             corrupt_.emplace(Cf::kMeta, std::string(key));
                             reasons_[QuarantineKey(Cf::kMeta, key)] =
                                 "rate-limit start does not parse";
                             return true;
                           });
  }

  // Adds the move of (cf, key) to `batch`: the original value under its
  // QuarantineKey, the source deleted. The reason is the one FindCorrupt
  // found, else `reason`.
  absl::Status Quarantine(storage::Batch& batch, Cf cf, std::string_view key,
                          std::string_view reason, std::vector<QuarantinedRecord>* moved) {
    RATCHET_ASSIGN_OR_RETURN(std::optional<std::string> value, store_->Get(cf, key));
    if (!value) return absl::OkStatus();
    batch.Put(Cf::kQuarantine, QuarantineKey(cf, key), *value);
    batch.Delete(cf, key);
    auto found = reasons_.find(QuarantineKey(cf, key));
    moved->push_back({std::string(storage::CfName(cf)), std::string(key), value->size(),
                      found != reasons_.end() ? found->second : std::string(reason)});
    return absl::OkStatus();
  }

  absl::Status Commit(storage::Batch& batch, std::vector<QuarantinedRecord>& moved) {
    if (batch.Count() == 0) return absl::OkStatus();
    RATCHET_RETURN_IF_ERROR(store_->Commit(batch));
    for (QuarantinedRecord& r : moved) {
      spdlog::warn("event=salvage_quarantined cf={} key=\"{}\" bytes={} reason=\"{}\"",
                   r.column_family, absl::CHexEscape(r.key), r.value_bytes, r.reason);
      report_.moved.push_back(std::move(r));
    }
    return absl::OkStatus();
  }

  // Keys of `cf` under `prefix` for which `pick(key, value)` is true.
  absl::StatusOr<std::vector<std::string>> Keys(
      Cf cf, std::string_view prefix,
      const std::function<bool(std::string_view, std::string_view)>& pick) {
    std::vector<std::string> keys;
    RATCHET_RETURN_IF_ERROR(store_->ForEach(cf, prefix, storage::PrefixSuccessor(prefix),
                                            [&](std::string_view key, std::string_view value) {
                                              if (pick(key, value)) keys.emplace_back(key);
                                              return true;
                                            }));
    return keys;
  }

  // Moves workflow `id` whole, in one write.
  absl::Status MoveWorkflow(WorkflowId id) {
    auto all = [](std::string_view, std::string_view) { return true; };
    std::vector<std::pair<Cf, std::string>> keys;
    for (const std::string& prefix : WorkflowOwnedPrefixes(id)) {
      RATCHET_ASSIGN_OR_RETURN(auto owned, Keys(Cf::kWorkflows, prefix, all));
      for (auto& k : owned) keys.emplace_back(Cf::kWorkflows, std::move(k));
    }
    RATCHET_ASSIGN_OR_RETURN(
        auto expiry, Keys(Cf::kWorkflows, kWorkflowExpiryPrefix, [&](std::string_view key, auto) {
          return key.size() >= 8 && DecodeU64(key.substr(key.size() - 8)) == id;
        }));
    RATCHET_ASSIGN_OR_RETURN(
        auto idempotency,
        Keys(Cf::kWorkflows, kWorkflowIdempotencyPrefix, [&](auto, std::string_view value) {
          IdempotencyRecord r;
          return r.ParseFromArray(value.data(), static_cast<int>(value.size())) && r.job_id() == id;
        }));
    for (auto* group : {&expiry, &idempotency}) {
      for (auto& k : *group) keys.emplace_back(Cf::kWorkflows, std::move(k));
    }
    for (Cf cf : {Cf::kJobs, Cf::kFinishedJobs}) {
      RATCHET_ASSIGN_OR_RETURN(auto jobs, Keys(cf, "", [&](auto, std::string_view value) {
                                 JobRecord r;
                                 return r.ParseFromArray(value.data(),
                                                         static_cast<int>(value.size())) &&
                                        r.workflow_id() == id;
                               }));
      for (auto& k : jobs) {
        keys.emplace_back(Cf::kJobPayloads, k);
        keys.emplace_back(cf, std::move(k));
      }
    }
    const std::string reason = absl::StrCat("belongs to corrupt workflow ", id);
    storage::Batch batch(store_);
    std::vector<QuarantinedRecord> moved;
    for (const auto& [cf, key] : keys) {
      RATCHET_RETURN_IF_ERROR(Quarantine(batch, cf, key, reason, &moved));
    }
    return Commit(batch, moved);
  }

  static bool IsJobCf(Cf cf) {
    return cf == Cf::kJobs || cf == Cf::kFinishedJobs || cf == Cf::kJobPayloads;
  }

  // Adds the move of job `key`'s state record (live or finished) and payload
  // record to `batch`.
  absl::Status QuarantineJob(storage::Batch& batch, std::string_view key, std::string_view reason,
                             std::vector<QuarantinedRecord>* moved) {
    for (Cf cf : {Cf::kJobs, Cf::kFinishedJobs, Cf::kJobPayloads}) {
      RATCHET_RETURN_IF_ERROR(Quarantine(batch, cf, key, reason, moved));
    }
    return absl::OkStatus();
  }

  // Moves jobs with half their records (schema 3): a state record that
  // names a payload record which is not stored, and a payload record whose
  // state record is not stored. Reads every job key.
  absl::Status MoveHalfJobs() {
    std::vector<std::pair<std::string, std::string>> moves;  // key, reason
    absl::Status read_status;
    for (Cf cf : {Cf::kJobs, Cf::kFinishedJobs}) {
      RATCHET_RETURN_IF_ERROR(
          store_->ForEach(cf, "", "", [&](std::string_view key, std::string_view value) {
            JobRecord r;
            if (!r.ParseFromArray(value.data(), static_cast<int>(value.size())) ||
                !r.payload_split()) {
              return true;
            }
            auto payload = store_->Get(Cf::kJobPayloads, key);
            if (!payload.ok()) read_status.Update(payload.status());
            if (payload.ok() && !*payload) {
              moves.emplace_back(key, absl::StrCat("job ", JobIdFromKey(key),
                                                   "'s payload record (job_payloads) is missing"));
            }
            return payload.ok();
          }));
      RATCHET_RETURN_IF_ERROR(read_status);
    }
    RATCHET_RETURN_IF_ERROR(
        store_->ForEach(Cf::kJobPayloads, "", "", [&](std::string_view key, std::string_view) {
          auto state = store_->GetConsistent({{Cf::kJobs, key}, {Cf::kFinishedJobs, key}});
          if (!state.ok()) read_status.Update(state.status());
          if (state.ok() && !(*state)[0] && !(*state)[1]) {
            moves.emplace_back(key, absl::StrCat("payload record of job ", JobIdFromKey(key),
                                                 ", whose state record is not stored"));
          }
          return state.ok();
        }));
    RATCHET_RETURN_IF_ERROR(read_status);
    for (const auto& [key, reason] : moves) {
      storage::Batch batch(store_);
      std::vector<QuarantinedRecord> moved;
      RATCHET_RETURN_IF_ERROR(QuarantineJob(batch, key, reason, &moved));
      RATCHET_RETURN_IF_ERROR(Commit(batch, moved));
    }
    return absl::OkStatus();
  }

  // Moves the entries of an index of finished jobs whose job is not stored.
  absl::Status MoveOrphanIndexEntries(Cf cf) {
    absl::Status read_status;
    RATCHET_ASSIGN_OR_RETURN(
        auto orphans, Keys(cf, "", [&](std::string_view key, auto) {
          JobId id = JobIdFromIndexKey(key);
          const std::string job_key = JobKey(id);
          auto job = store_->GetConsistent({{Cf::kJobs, job_key}, {Cf::kFinishedJobs, job_key}});
          if (!job.ok()) read_status.Update(job.status());
          return job.ok() && !(*job)[0] && !(*job)[1];
        }));
    RATCHET_RETURN_IF_ERROR(read_status);
    for (const std::string& key : orphans) {
      storage::Batch batch(store_);
      std::vector<QuarantinedRecord> moved;
      RATCHET_RETURN_IF_ERROR(Quarantine(
          batch, cf, key,
          absl::StrCat("index entry of job ", JobIdFromIndexKey(key), ", which is not stored"),
          &moved));
      RATCHET_RETURN_IF_ERROR(Commit(batch, moved));
    }
    return absl::OkStatus();
  }

  absl::Status ListQuarantine() {
    return store_->ForEach(
        Cf::kQuarantine, "", "", [&](std::string_view key, std::string_view value) {
          size_t end = key.find('\0');
          if (end == std::string_view::npos) end = key.size();
          std::string_view rest = key.substr(std::min(key.size(), end + 1));
          report_.quarantine.push_back(
              {std::string(key.substr(0, end)), std::string(rest), value.size(), ""});
          return true;
        });
  }

  storage::Store* store_;
  std::set<std::pair<Cf, std::string>> corrupt_;
  std::set<WorkflowId> corrupt_workflows_;
  std::map<std::string, std::string> reasons_;  // by QuarantineKey
  SalvageReport report_;
};

}  // namespace

}  // namespace ratchet::internal

namespace ratchet {

absl::StatusOr<SalvageReport> Engine::Salvage(const EngineOptions& options) {
  RATCHET_RETURN_IF_ERROR(internal::ValidateOptions(options));
  storage::StoreOptions store_options;
  store_options.path = options.data_dir;
  store_options.block_cache_bytes = options.block_cache_bytes;
  store_options.file_system = options.file_system;
  RATCHET_ASSIGN_OR_RETURN(auto store, storage::Store::Open(store_options));
  return internal::Salvager(store.get()).Run();
}

}  // namespace ratchet
