#include "output.h"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/util/json_util.h"
#include "ratchet/base/status.h"

namespace ratchet::cli {

void Table::Print() const {
  std::vector<size_t> widths;
  for (const auto& row : rows_) {
    widths.resize(std::max(widths.size(), row.size()));
    for (size_t i = 0; i < row.size(); ++i) widths[i] = std::max(widths[i], row[i].size());
  }
  for (const auto& row : rows_) {
    std::string line;
    for (size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size()) line += std::string(widths[i] - row[i].size() + 2, ' ');
    }
    std::printf("%s\n", line.c_str());
  }
}

void PrintJson(const google::protobuf::Message& message) {
  std::string out;
  google::protobuf::util::JsonPrintOptions options;
  options.add_whitespace = true;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  if (!google::protobuf::util::MessageToJsonString(message, &out, options).ok()) {
    out = "{}";
  }
  std::printf("%s", out.c_str());
  if (out.empty() || out.back() != '\n') std::printf("\n");
}

void PrintError(const absl::Status& status) {
  std::string reason = ReasonOf(status);
  std::fprintf(stderr, "error: %s%s: %s\n", absl::StatusCodeToString(status.code()).c_str(),
               reason.empty() ? "" : absl::StrCat(" [", reason, "]").c_str(),
               std::string(status.message()).c_str());
}

std::string FormatTime(const google::protobuf::Timestamp& t) {
  if (t.seconds() == 0 && t.nanos() == 0) return "-";
  std::time_t seconds = static_cast<std::time_t>(t.seconds());
  std::tm tm{};
  gmtime_r(&seconds, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  return absl::StrCat(buf, ".", absl::StrFormat("%03d", t.nanos() / 1000000), "Z");
}

std::string EnumWord(const std::string& name, size_t prefix_len) {
  return absl::AsciiStrToLower(name.substr(prefix_len));
}

std::string JobStateName(v1::JobState s) {
  return EnumWord(v1::JobState_Name(s), sizeof("JOB_STATE_") - 1);
}

void PrintAccepted(const google::protobuf::Message& response, bool json, const char* verb,
                   const char* noun, bool duplicate, uint64_t id) {
  if (json) return PrintJson(response);
  std::printf("%s %s %llu\n", duplicate ? "duplicate of" : verb, noun,
              static_cast<unsigned long long>(id));
}

void PrintJobs(const v1::ListJobsResponse& page) {
  Table table({"ID", "TYPE", "STATE", "ATTEMPTS", "RUN_AT", "WORKER", "LAST_ERROR"});
  for (const v1::Job& j : page.jobs()) {
    table.Add({std::to_string(j.id()), j.job_type(), JobStateName(j.state()),
               absl::StrCat(j.attempts(), "/", j.max_attempts()), FormatTime(j.run_at()),
               j.worker_id().empty() ? "-" : j.worker_id(),
               j.errors().empty() ? "-" : j.errors().rbegin()->message().substr(0, 60)});
  }
  table.Print();
  if (!page.next_cursor().empty()) std::printf("next cursor: %s\n", page.next_cursor().c_str());
}

}  // namespace ratchet::cli
