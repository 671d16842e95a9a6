// The JSON form of `ratchet workflows submit`: a SubmitWorkflowRequest in
// protobuf's JSON mapping. Its own file so the fuzz target
// (tests/fuzz/workflow_json_fuzz.cc) can call the parser without the CLI.
#ifndef RATCHET_CLIENT_CLI_WORKFLOW_JSON_H_
#define RATCHET_CLIENT_CLI_WORKFLOW_JSON_H_

#include <string>

#include "absl/status/statusor.h"
#include "ratchet/v1/workflow_service.pb.h"

namespace ratchet::cli {

// Parses `json` (any bytes); `source` names it in errors (the file name).
// Errors: INVALID_ARGUMENT naming "file", `source` and the parser's message.
absl::StatusOr<v1::SubmitWorkflowRequest> ParseSubmitRequest(const std::string& json,
                                                             const std::string& source);

}  // namespace ratchet::cli

#endif  // RATCHET_CLIENT_CLI_WORKFLOW_JSON_H_
