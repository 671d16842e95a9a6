// Output of the `ratchet` CLI: aligned tables for people, protobuf JSON
// (--json) for scripts, and error lines on stderr.
#ifndef RATCHET_CLIENT_CLI_OUTPUT_H_
#define RATCHET_CLIENT_CLI_OUTPUT_H_

#include <string>
#include <vector>

#include "absl/status/status.h"
#include "google/protobuf/message.h"

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
std::string FormatTime(int64_t seconds, int32_t nanos);

}  // namespace ratchet::cli

#endif  // RATCHET_CLIENT_CLI_OUTPUT_H_
