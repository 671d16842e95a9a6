// Output of the `ratchet` CLI: aligned tables for people, protobuf JSON
// (--json) for scripts, and error lines on stderr.
#ifndef RATCHET_CLIENT_CLI_OUTPUT_H_
#define RATCHET_CLIENT_CLI_OUTPUT_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "google/protobuf/message.h"
#include "google/protobuf/timestamp.pb.h"
#include "ratchet/v1/job_service.pb.h"

namespace ratchet::cli {

class Table {
 public:
  explicit Table(std::vector<std::string> header) { rows_.push_back(std::move(header)); }
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  // Prints the rows with columns padded to their widest cell.
  void Print() const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

// Prints `message` as JSON (proto3 JSON mapping, field names as in the
// .proto file) on stdout.
void PrintJson(const google::protobuf::Message& message);
// Prints "error: CODE [REASON]: message" on stderr.
void PrintError(const absl::Status& status);

// "2026-11-21T10:00:00.000Z", or "-" for a zero time.
std::string FormatTime(const google::protobuf::Timestamp& t);
// An enum value's name without its `prefix_len`-character prefix, in lower
// case: EnumWord("JOB_STATE_DEAD", 10) is "dead".
std::string EnumWord(const std::string& name, size_t prefix_len);
// "dead" for JOB_STATE_DEAD.
std::string JobStateName(v1::JobState s);
// The answer to an idempotent create: `response` as JSON, or e.g.
// "enqueued job 7", or "duplicate of job 7" when its idempotency key matched
// an earlier one.
void PrintAccepted(const google::protobuf::Message& response, bool json, const char* verb,
                   const char* noun, bool duplicate, uint64_t id);
// A page of jobs (of a state, or dead letters) and its next cursor.
void PrintJobs(const v1::ListJobsResponse& page);

}  // namespace ratchet::cli

#endif  // RATCHET_CLIENT_CLI_OUTPUT_H_
