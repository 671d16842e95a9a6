#include "workflow_json.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"
#include "ratchet/base/status.h"

namespace ratchet::cli {

absl::StatusOr<v1::SubmitWorkflowRequest> ParseSubmitRequest(const std::string& json,
                                                             const std::string& source) {
  v1::SubmitWorkflowRequest req;
  auto parsed = google::protobuf::util::JsonStringToMessage(json, &req);
  if (!parsed.ok()) {
    return InvalidArgument("file", absl::StrCat(source, ": ", parsed.message().as_string()));
  }
  return req;
}

}  // namespace ratchet::cli
