// Rewrites one stored record of a closed engine's data directory, as damage
// or a build with other limits would leave it: tests of how the engine reads
// back hostile stored values use it. The engine must be closed (the store
// holds RocksDB's lock); reopen it afterwards.
#ifndef RATCHET_TESTS_TESTING_RECORD_REWRITE_H_
#define RATCHET_TESTS_TESTING_RECORD_REWRITE_H_

#include <gtest/gtest.h>

#include <functional>
#include <string>

#include "engine_harness.h"
#include "ratchet/storage/store.h"

namespace ratchet::testing {

// Parses the `Record` at `key` in `cf`, applies `change` and writes it back.
// Fails the test if the record is missing or does not parse.
template <class Record>
void RewriteRecord(EngineHarness& h, storage::Cf cf, const std::string& key,
                   const std::function<void(Record&)>& change) {
  auto store = storage::Store::Open({.path = h.options().data_dir});
  ASSERT_TRUE(store.ok()) << store.status();
  auto value = (*store)->Get(cf, key);
  ASSERT_TRUE(value.ok() && value->has_value()) << value.status();
  Record r;
  ASSERT_TRUE(r.ParseFromString(**value));
  change(r);
  storage::Batch batch(store->get());
  batch.Put(cf, key, r.SerializeAsString());
  ASSERT_TRUE((*store)->Commit(batch).ok());
}

// Stores `value` at `key` in `cf` as is: bytes that do not parse stand for
// a record damaged on disk.
inline void OverwriteValue(EngineHarness& h, storage::Cf cf, const std::string& key,
                           const std::string& value) {
  auto store = storage::Store::Open({.path = h.options().data_dir});
  ASSERT_TRUE(store.ok()) << store.status();
  storage::Batch batch(store->get());
  batch.Put(cf, key, value);
  ASSERT_TRUE((*store)->Commit(batch).ok());
}

}  // namespace ratchet::testing

#endif  // RATCHET_TESTS_TESTING_RECORD_REWRITE_H_
