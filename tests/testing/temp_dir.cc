#include "temp_dir.h"

#include <stdlib.h>

#include <stdexcept>

namespace ratchet::testing {

TempDir::TempDir(bool in_memory) {
  std::string base = "/tmp";
  if (in_memory && std::filesystem::exists("/dev/shm")) base = "/dev/shm";
  std::string pattern = base + "/ratchet-test-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
  path_ = pattern;
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace ratchet::testing
