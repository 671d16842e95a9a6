#include "denial_log.h"

namespace ratchet::server::auth {

std::optional<int64_t> DenialLog::Admit(const std::string& principal, Time now) {
  absl::MutexLock lock(&mu_);
  // Bounded by the principals, but drop idle entries once it grows.
  if (windows_.size() > 1024) {
    absl::erase_if(windows_, [&](const auto& e) { return now - e.second.start >= 2 * kWindow; });
  }
  Window& w = windows_[principal];
  int64_t left_out = 0;
  if (w.lines == 0 || now - w.start >= kWindow) {
    left_out = w.suppressed;
    w = Window{.start = now};
  }
  if (w.lines >= kLinesPerWindow) {
    ++w.suppressed;
    return std::nullopt;
  }
  ++w.lines;
  return left_out;
}

DenialLog& DenialLog::Instance() {
  static DenialLog* log = new DenialLog();
  return *log;
}

}  // namespace ratchet::server::auth
