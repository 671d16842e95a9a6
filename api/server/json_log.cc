#include "json_log.h"

#include <spdlog/details/log_msg.h>

#include <cctype>
#include <chrono>
#include <nlohmann/json.hpp>
#include <set>

namespace ratchet::server {
namespace {

bool IsKeyChar(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }

// Reads a quoted value at s[*i] == '"'; advances past the closing quote.
std::string Quoted(std::string_view s, size_t* i) {
  std::string out;
  for (++*i; *i < s.size(); ++*i) {
    char c = s[*i];
    if (c == '"') {
      ++*i;
      return out;
    }
    if (c == '\\' && *i + 1 < s.size()) {
      char e = s[++*i];
      out += e == 'n' ? '\n' : e == 't' ? '\t' : e == 'r' ? '\r' : e;
    } else {
      out += c;
    }
  }
  return out;  // unterminated: the rest
}

// Keys whose values are names (a queue "007", a schedule "2026"): always
// strings, so a log store that types fields by their first value never
// sees a number there.
bool NameKey(std::string_view key) {
  for (std::string_view k : {"queue", "queues", "name", "schedule_id", "worker_id", "principal",
                             "trace_id", "subject", "job_type", "event", "rpc", "ids"}) {
    if (key == k) return true;
  }
  return false;
}

// An integer without leading zeros ("0" itself is one), or the text.
nlohmann::ordered_json Value(std::string_view key, std::string_view bare) {
  const size_t digits_at = !bare.empty() && bare[0] == '-' ? 1 : 0;
  const bool leading_zero = bare.size() > digits_at + 1 && bare[digits_at] == '0';
  if (!NameKey(key) && !leading_zero && !bare.empty() && bare.size() < 19 &&
      std::all_of(bare.begin() + (bare[0] == '-' ? 1 : 0), bare.end(),
                  [](char c) { return std::isdigit(static_cast<unsigned char>(c)); }) &&
      bare != "-") {
    return std::stoll(std::string(bare));
  }
  return std::string(bare);
}

}  // namespace

std::string LogLineToJson(std::string_view time, std::string_view level, std::string_view payload) {
  nlohmann::ordered_json j;
  j["time"] = std::string(time);
  j["level"] = std::string(level);
  j["event"] = "log";
  std::string message;
  // The first value of a key wins, and time and level are the line's own:
  // a value an attacker controls cannot override a field before or after it.
  std::set<std::string> seen = {"time", "level"};
  auto put = [&](const std::string& key, nlohmann::ordered_json value) {
    if (seen.insert(key).second) j[key] = std::move(value);
  };
  size_t i = 0;
  while (i < payload.size()) {
    while (i < payload.size() && payload[i] == ' ') ++i;
    size_t k = i;
    while (k < payload.size() && IsKeyChar(payload[k])) ++k;
    if (k > i && k < payload.size() && payload[k] == '=') {
      std::string key(payload.substr(i, k - i));
      i = k + 1;
      if (i < payload.size() && payload[i] == '"') {
        put(key, Quoted(payload, &i));
      } else {
        size_t end = payload.find(' ', i);
        if (end == std::string_view::npos) end = payload.size();
        put(key, Value(key, payload.substr(i, end - i)));
        i = end;
      }
    } else {
      size_t end = payload.find(' ', i);
      if (end == std::string_view::npos) end = payload.size();
      if (end > i)
        message += (message.empty() ? "" : " ") + std::string(payload.substr(i, end - i));
      i = end;
    }
  }
  if (!message.empty()) put("message", message);
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

void JsonLogFormatter::format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) {
  using std::chrono::duration_cast;
  using std::chrono::milliseconds;
  const auto ms = duration_cast<milliseconds>(msg.time.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char time[64];
  std::snprintf(time, sizeof(time), "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  const auto level = spdlog::level::to_string_view(msg.level);
  std::string line = LogLineToJson(time, std::string_view(level.data(), level.size()),
                                   std::string_view(msg.payload.data(), msg.payload.size()));
  line += '\n';
  dest.append(line.data(), line.data() + line.size());
}

std::unique_ptr<spdlog::formatter> JsonLogFormatter::clone() const {
  return std::make_unique<JsonLogFormatter>();
}

}  // namespace ratchet::server
