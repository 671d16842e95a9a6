// MemStoreDirs: fresh RocksDB directories on one in-memory file system, for
// the fuzz targets that start over with an empty store every N inputs.
//
// Creating a store is what costs: RocksDB writes and re-reads its OPTIONS
// file once per column family it creates, about 0.1 s under ASan, more than
// a few hundred inputs. So `create` runs once, on a template directory (it
// must close what it opened there), and Fresh() copies the template's files
// (a few KiB) into a new directory. Opening the copy opens an existing
// store: the same empty state, at the cost of one OPTIONS file.
//
// Not thread-safe; one per fuzz target.
#ifndef RATCHET_TESTS_FUZZ_MEM_STORE_DIRS_H_
#define RATCHET_TESTS_FUZZ_MEM_STORE_DIRS_H_

#include <rocksdb/env.h>
#include <rocksdb/file_system.h>

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "fuzz_check.h"

class MemStoreDirs {
 public:
  // `create(file_system, dir)` makes the template store in `dir` and closes it.
  explicit MemStoreDirs(
      const std::function<void(std::shared_ptr<rocksdb::FileSystem>, const std::string&)>& create)
      : env_(rocksdb::NewMemEnv(rocksdb::Env::Default())) {
    create(file_system(), kTemplate);
  }

  std::shared_ptr<rocksdb::FileSystem> file_system() const { return env_->GetFileSystem(); }

  // A new directory holding a copy of the template store. The directory the
  // previous call returned is deleted: close what was open there first.
  std::string Fresh() {
    if (!current_.empty()) Delete(current_);
    current_ = "/fuzz/db" + std::to_string(++count_);
    FUZZ_CHECK(env_->CreateDirIfMissing(current_).ok());
    std::vector<std::string> names;
    FUZZ_CHECK(env_->GetChildren(kTemplate, &names).ok());
    for (const std::string& name : names) {
      if (name == "LOCK") continue;  // the opener takes its own
      std::string data;
      FUZZ_CHECK(rocksdb::ReadFileToString(env_.get(), kTemplate + ("/" + name), &data).ok());
      FUZZ_CHECK(
          rocksdb::WriteStringToFile(env_.get(), data, current_ + "/" + name, /*should_sync=*/false)
              .ok());
    }
    return current_;
  }

 private:
  static constexpr const char* kTemplate = "/fuzz/template";

  void Delete(const std::string& dir) {
    std::vector<std::string> names;
    FUZZ_CHECK(env_->GetChildren(dir, &names).ok());
    for (const std::string& name : names) FUZZ_CHECK(env_->DeleteFile(dir + "/" + name).ok());
    FUZZ_CHECK(env_->DeleteDir(dir).ok());
  }

  std::unique_ptr<rocksdb::Env> env_;
  std::string current_;
  int count_ = 0;
};

#endif  // RATCHET_TESTS_FUZZ_MEM_STORE_DIRS_H_
