// Engine::GetStats: the counts from one bounded sequencer step
// (QueueAdmin::Stats), the column families' sizes from RocksDB's
// properties on the calling thread. docs/operations.md#stats.
#include "engine_calls.h"
#include "ratchet/engine/engine.h"

namespace ratchet {
namespace {

using storage::Cf;

// Every column family's sizes, from RocksDB's in-memory bookkeeping.
std::vector<ColumnFamilyStats> ColumnFamiliesOf(const storage::Store& store) {
  std::vector<ColumnFamilyStats> out;
  for (int i = 0; i < static_cast<int>(Cf::kCount); ++i) {
    const Cf cf = static_cast<Cf>(i);
    ColumnFamilyStats s;
    s.name = std::string(storage::CfName(cf));
    s.sst_bytes = store.CfIntProperty(cf, "rocksdb.total-sst-files-size");
    s.live_sst_bytes = store.CfIntProperty(cf, "rocksdb.live-sst-files-size");
    s.memtable_bytes = store.CfIntProperty(cf, "rocksdb.cur-size-all-mem-tables");
    s.pending_compaction_bytes =
        store.CfIntProperty(cf, "rocksdb.estimate-pending-compaction-bytes");
    s.estimated_keys = store.CfIntProperty(cf, "rocksdb.estimate-num-keys");
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace

absl::StatusOr<StatsResult> Engine::GetStats(StatsRequest req) {
  RATCHET_ASSIGN_OR_RETURN(
      StatsResult out,
      internal::Call<StatsResult>(
          *impl_, Reads::kThroughGroup,
          [req = std::move(req)](internal::Machines& m, storage::Batch&, TimePoint now) {
            return m.queues.Stats(now, req);
          }));
  out.column_families = ColumnFamiliesOf(impl_->store());
  return out;
}

}  // namespace ratchet
