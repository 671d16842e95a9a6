// DenialLog: bounds the access_denied log lines one principal can cause.
// A denied principal could otherwise write a line per call, up to its rate
// limit (1,000 a second by default), and push other principals' audit
// lines past journald's per-service rate limit.
//
// Each principal gets at most kLinesPerWindow lines per kWindow; past that
// its refusals are counted, and the first line of its next window says how
// many were left out (`suppressed=N`). Refusals are still answered in full.
//
// Thread-safe. Bounded: principals come from the auth file (plus
// "anonymous"), and entries idle for a window are dropped.
#ifndef RATCHET_API_SERVER_AUTH_DENIAL_LOG_H_
#define RATCHET_API_SERVER_AUTH_DENIAL_LOG_H_

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"

namespace ratchet::server::auth {

class DenialLog {
 public:
  static constexpr int kLinesPerWindow = 20;
  static constexpr std::chrono::seconds kWindow{10};
  using Time = std::chrono::steady_clock::time_point;

  // Whether to log this refusal of `principal` at `now`: nullopt to stay
  // silent, else the refusals left out before it (0 if none).
  std::optional<int64_t> Admit(const std::string& principal, Time now);

  // The process-wide instance ratchetd logs through.
  static DenialLog& Instance();

 private:
  struct Window {
    Time start;
    int lines = 0;
    int64_t suppressed = 0;
  };
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Window> windows_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ratchet::server::auth

#endif  // RATCHET_API_SERVER_AUTH_DENIAL_LOG_H_
