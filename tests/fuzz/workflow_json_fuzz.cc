// Fuzz target: the CLI's workflow JSON (`ratchet workflows submit FILE`,
// client/cli/workflow_json.h). Any bytes parse to a request or give
// INVALID_ARGUMENT; a request that parses survives a JSON round trip.
#include <cstdint>
#include <string>

#include "fuzz_check.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "workflow_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string json(reinterpret_cast<const char*>(data), size);
  auto req = ratchet::cli::ParseSubmitRequest(json, "fuzz.json");
  if (!req.ok()) {
    FUZZ_CHECK(req.status().code() == absl::StatusCode::kInvalidArgument);
    return 0;
  }
  std::string printed;
  FUZZ_CHECK(google::protobuf::util::MessageToJsonString(*req, &printed).ok());
  auto again = ratchet::cli::ParseSubmitRequest(printed, "printed.json");
  FUZZ_CHECK(again.ok());
  FUZZ_CHECK(google::protobuf::util::MessageDifferencer::Equals(*req, *again));
  return 0;
}
