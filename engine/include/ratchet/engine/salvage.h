// What Engine::Salvage did to a data directory (see engine.h and
// docs/operations.md#corrupt-records). Plain values.
#ifndef RATCHET_ENGINE_SALVAGE_H_
#define RATCHET_ENGINE_SALVAGE_H_

#include <cstddef>
#include <string>
#include <vector>

namespace ratchet {

// One entry of the `quarantine` column family: a record moved out of its
// column family, with its original bytes kept under the key
// column_family 0x00 key.
struct QuarantinedRecord {
  std::string column_family;  // where it was: "jobs", "workflows", ...
  std::string key;            // its key there, raw bytes
  size_t value_bytes = 0;     // size of the original value
  // Why it was moved: "does not parse as ...", "belongs to corrupt workflow
  // 3", "index entry of job 7, which is not stored". Empty for entries
  // quarantined by an earlier salvage.
  std::string reason;
};

struct SalvageReport {
  // Moved by this run, in the order they were moved.
  std::vector<QuarantinedRecord> moved;
  // Everything in the quarantine after this run, earlier runs included, in
  // key order.
  std::vector<QuarantinedRecord> quarantine;
};

}  // namespace ratchet

#endif  // RATCHET_ENGINE_SALVAGE_H_
