// An Engine on a scratch directory with a ManualClock and a seeded Random,
// reopenable in place. The clock starts at 2026-01-01T00:00:00Z.
#ifndef RATCHET_TESTS_TESTING_ENGINE_HARNESS_H_
#define RATCHET_TESTS_TESTING_ENGINE_HARNESS_H_

#include <functional>
#include <memory>
#include <string>

#include "ratchet/engine/engine.h"
#include "temp_dir.h"

namespace ratchet::testing {

inline constexpr int64_t kStartMs = 1767225600000;  // 2026-01-01T00:00:00Z

// The field an INVALID_ARGUMENT names: its message is "field: problem".
inline std::string FieldOf(const absl::Status& s) {
  return std::string(s.message().substr(0, s.message().find(':')));
}

class EngineHarness {
 public:
  explicit EngineHarness(bool in_memory = true, uint64_t seed = 42,
                         const std::function<void(EngineOptions&)>& configure = nullptr);
  // Options used by Open; tests may edit them before (re)opening.
  EngineOptions& options() { return options_; }
  ManualClock& clock() { return clock_; }
  Engine& engine() { return *engine_; }
  Engine* operator->() { return engine_.get(); }
  // Opens (or closes and reopens) the engine. Aborts the test on error.
  void Reopen();
  // Closes and reopens, returning the status instead of aborting.
  absl::Status TryReopen();
  void Close() { engine_.reset(); }

  // Shorthands for common calls; they assert success.
  JobId Enqueue(const std::string& queue, const std::string& payload = "p",
                const std::string& key = "");
  LeasedJob LeaseOne(const std::string& queue, Millis visibility_timeout = Millis(30000));

 private:
  TempDir dir_;
  ManualClock clock_;
  EngineOptions options_;
  std::unique_ptr<Engine> engine_;
};

}  // namespace ratchet::testing

#endif  // RATCHET_TESTS_TESTING_ENGINE_HARNESS_H_
