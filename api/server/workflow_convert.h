// Conversions between the ratchet.v1 workflow and schedule messages and the
// engine's types (see convert.h for the job and queue ones). Enum values the
// engine does not know are rejected here, naming the field.
//
// Thread safety: pure functions, safe from any thread.
#ifndef RATCHET_API_SERVER_WORKFLOW_CONVERT_H_
#define RATCHET_API_SERVER_WORKFLOW_CONVERT_H_

#include "absl/status/statusor.h"
#include "ratchet/engine/schedule_types.h"
#include "ratchet/engine/workflow_types.h"
#include "ratchet/v1/schedule_service.pb.h"
#include "ratchet/v1/workflow_service.pb.h"

namespace ratchet::server {

namespace pb = ::ratchet::v1;

absl::StatusOr<WorkflowSpec> FromProto(const pb::SubmitWorkflowRequest& req);
absl::StatusOr<StartWorkflowRequest> FromProto(const pb::StartWorkflowRequest& req);
absl::StatusOr<std::optional<WorkflowState>> FromProto(pb::WorkflowState state,
                                                       absl::string_view field);
absl::StatusOr<SuspendRequest> FromProto(const pb::SuspendWorkflowRequest& req);
absl::StatusOr<RecordStepRequest> FromProto(const pb::RecordStepRequest& req);
absl::StatusOr<ScheduleSpec> FromProto(const pb::ScheduleSpec& spec);

pb::WorkflowState ToProto(WorkflowState state);
void ToProto(const WorkflowSubmitResult& r, pb::SubmitWorkflowResponse* out);
void ToProto(const Workflow& w, pb::Workflow* out);
void ToProto(const ScheduleInfo& info, pb::ScheduleInfo* out);
// A leased main job's journal entry (name, result, at, kind, due).
void ToProto(const JournalEntry& e, pb::JournalEntry* out);

}  // namespace ratchet::server

#endif  // RATCHET_API_SERVER_WORKFLOW_CONVERT_H_
