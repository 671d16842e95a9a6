// Reading engine records: one place for "load a record; NOT_FOUND if it is
// missing; DATA_LOSS if it does not parse". `Source` is a storage::Batch
// (reads through the pending group, sequencer thread only) or a
// storage::Store (committed data, any thread).
#ifndef RATCHET_ENGINE_CORE_RECORD_IO_H_
#define RATCHET_ENGINE_CORE_RECORD_IO_H_

#include <optional>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/unknown_field_set.h"
#include "ratchet/base/status.h"
#include "ratchet/storage/store.h"
#include "record_check.h"
#include "schema.h"

namespace ratchet::internal {

// The record of type `Record` at `key` of `cf`, or nullopt if absent.
// Errors: DATA_LOSS naming `what`, the column family and the key
// (CorruptRecord, record_check.h) if the value does not parse; UNAVAILABLE
// on a read error.
template <typename Record, typename Source>
absl::StatusOr<std::optional<Record>> FindRecord(Source& source, storage::Cf cf,
                                                 std::string_view key, absl::string_view what) {
  RATCHET_ASSIGN_OR_RETURN(std::optional<std::string> value, source.Get(cf, key));
  if (!value) return std::optional<Record>();
  Record r;
  if (!r.ParseFromString(*value)) {
    return CorruptRecord(cf, key, absl::StrCat(what, " does not parse as ", r.GetTypeName()));
  }
  return std::optional<Record>(std::move(r));
}

// As FindRecord, but NOT_FOUND ("<what> not found") if absent.
template <typename Record, typename Source>
absl::StatusOr<Record> ReadRecord(Source& source, storage::Cf cf, std::string_view key,
                                  absl::string_view what) {
  RATCHET_ASSIGN_OR_RETURN(std::optional<Record> r, FindRecord<Record>(source, cf, key, what));
  if (!r) return NotFound(absl::StrCat(what, " not found"));
  return std::move(*r);
}

// Parses job `id`'s payload record (key `key`, job_payloads CF) into `*p`.
// Errors: CorruptRecord naming job_payloads if it is missing, does not
// parse, or has fields a JobPayloadRecord does not have (a state record's
// fields there would overwrite the state when merged).
inline absl::Status CheckJobPayload(JobId id, std::string_view key,
                                    const std::optional<std::string>& payload,
                                    JobPayloadRecord* p) {
  if (!payload) {
    return CorruptRecord(storage::Cf::kJobPayloads, key,
                         absl::StrCat("job ", id, "'s payload record is missing"));
  }
  if (!p->ParseFromString(*payload) || !p->GetReflection()->GetUnknownFields(*p).empty()) {
    return CorruptRecord(
        storage::Cf::kJobPayloads, key,
        absl::StrCat("job ", id, "'s payload does not parse as ", p->GetTypeName()));
  }
  return absl::OkStatus();
}

// Completes the state record `r` (key `key`) with its payload record
// (schema 3), read as `payload` from the job_payloads CF: a no-op for a
// record that holds its payload inline (payload_split false).
// Errors: as CheckJobPayload.
inline absl::Status MergeJobPayload(JobRecord& r, std::string_view key,
                                    const std::optional<std::string>& payload) {
  if (!r.payload_split()) return absl::OkStatus();
  JobPayloadRecord p;
  RATCHET_RETURN_IF_ERROR(CheckJobPayload(r.id(), key, payload, &p));
  r.mutable_payload()->swap(*p.mutable_payload());
  r.mutable_inputs()->Swap(p.mutable_inputs());
  return absl::OkStatus();
}

// A job's committed record, live (`jobs`) or finished (`finished_jobs`),
// with its payload (job_payloads), all read from one snapshot, or nullopt.
// Errors: as FindRecord and MergeJobPayload.
inline absl::StatusOr<std::optional<JobRecord>> FindCommittedJob(const storage::Store& store,
                                                                 JobId id) {
  using storage::Cf;
  const std::string key = JobKey(id);
  RATCHET_ASSIGN_OR_RETURN(
      auto found,
      store.GetConsistent({{Cf::kJobs, key}, {Cf::kFinishedJobs, key}, {Cf::kJobPayloads, key}}));
  const Cf cf = found[0] ? Cf::kJobs : Cf::kFinishedJobs;
  const std::optional<std::string>& state = found[0] ? found[0] : found[1];
  if (!state) return std::optional<JobRecord>();
  JobRecord r;
  if (!r.ParseFromString(*state)) {
    return CorruptRecord(cf, key, absl::StrCat("job ", id, " does not parse as ", r.GetTypeName()));
  }
  RATCHET_RETURN_IF_ERROR(MergeJobPayload(r, key, found[2]));
  return std::optional<JobRecord>(std::move(r));
}

}  // namespace ratchet::internal

#endif  // RATCHET_ENGINE_CORE_RECORD_IO_H_
