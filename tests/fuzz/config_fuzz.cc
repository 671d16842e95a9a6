// Fuzz target: ratchetd's TOML configuration (api/server/config.h), through
// LoadConfig as ratchetd calls it: `--config <file>`, no environment. The
// input is the file's text. Whatever it holds, LoadConfig answers OK, or
// INVALID_ARGUMENT naming a setting (no exception escapes, nothing else).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include "config.h"
#include "fuzz_check.h"

namespace {

// The scratch file the input is written to: one per process, in tmpfs when
// there is one.
const std::string& ConfigPath() {
  static const std::string path = [] {
    std::string dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    std::string p = dir + "/ratchet-config-fuzz-" + std::to_string(getpid()) + ".toml";
    return p;
  }();
  return path;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FILE* f = std::fopen(ConfigPath().c_str(), "wb");
  FUZZ_CHECK(f != nullptr);
  FUZZ_CHECK(std::fwrite(data, 1, size, f) == size);
  std::fclose(f);
  auto config = ratchet::server::LoadConfig({"--config", ConfigPath()},
                                            [](const char*) -> const char* { return nullptr; });
  FUZZ_CHECK(config.ok() || config.status().code() == absl::StatusCode::kInvalidArgument);
  return 0;
}
