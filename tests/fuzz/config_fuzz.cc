// Fuzz target: ratchetd's TOML configuration (api/server/config.h), through
// ApplyConfigToml, what LoadConfig runs on the `--config` file's contents
// once it has read them. The input is the file's text, parsed from memory
// (going through LoadConfig wrote a scratch file and built CLI11's flag
// parser per input, which cost more than the TOML). Whatever it holds, the
// answer is OK or INVALID_ARGUMENT naming a setting (no exception escapes,
// nothing else).
#include <cstdint>
#include <string_view>

#include "config.h"
#include "fuzz_check.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  ratchet::server::Config config;
  absl::Status status = ratchet::server::ApplyConfigToml(
      std::string_view(reinterpret_cast<const char*>(data), size), "fuzz.toml", &config);
  FUZZ_CHECK(status.ok() || status.code() == absl::StatusCode::kInvalidArgument);
  return 0;
}
