// JsonLogFormatter: ratchetd's `--log-format json`: one JSON object per
// line (docs/operations.md, "Logs").
//
// ratchetd's log lines are logfmt: `event=job_dead_lettered job_id=42
// queue=emails error="..."`. This formatter turns each into
//   {"time":"2026-12-03T02:30:00.123Z","level":"info","event":"job_dead_lettered",
//    "job_id":42,"queue":"emails","error":"..."}
// Bare integer values become JSON numbers; quoted values are unescaped.
// Text that is not key=value goes to "message". A line without an event
// gets "event":"log". Invalid UTF-8 is replaced (U+FFFD), never emitted.
//
// Thread safety: as spdlog formatters: one instance per sink, called under
// the sink's lock; clone() makes another.
#ifndef RATCHET_API_SERVER_JSON_LOG_H_
#define RATCHET_API_SERVER_JSON_LOG_H_

#include <spdlog/formatter.h>

#include <memory>
#include <string>
#include <string_view>

namespace ratchet::server {

class JsonLogFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override;
  std::unique_ptr<spdlog::formatter> clone() const override;
};

// One log line's JSON (without the newline): what format() writes.
std::string LogLineToJson(std::string_view time, std::string_view level, std::string_view payload);

}  // namespace ratchet::server

#endif  // RATCHET_API_SERVER_JSON_LOG_H_
