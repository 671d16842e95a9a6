// A scratch directory removed on destruction. Prefers /dev/shm (tmpfs) when
// `in_memory` is set, so logic tests do not pay for real fsyncs.
#ifndef RATCHET_TESTS_TESTING_TEMP_DIR_H_
#define RATCHET_TESTS_TESTING_TEMP_DIR_H_

#include <filesystem>
#include <string>

namespace ratchet::testing {

class TempDir {
 public:
  explicit TempDir(bool in_memory = false);
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  // A fresh subdirectory path (not created).
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

}  // namespace ratchet::testing

#endif  // RATCHET_TESTS_TESTING_TEMP_DIR_H_
