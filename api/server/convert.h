// Conversions between the ratchet.v1 messages and the engine's types, and
// the edge checks only the transport can make (enum values, required
// messages). Everything else is validated by the engine, whose errors name
// the field and the limit.
//
// Thread safety: pure functions, safe from any thread.
#ifndef RATCHET_API_SERVER_CONVERT_H_
#define RATCHET_API_SERVER_CONVERT_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "ratchet/engine/explain.h"
#include "ratchet/engine/types.h"
#include "ratchet/v1/job_service.pb.h"
#include "ratchet/v1/queue_service.pb.h"
#include "ratchet/v1/types.pb.h"
#include "ratchet/v1/worker_service.pb.h"

namespace ratchet::server {

namespace pb = ::ratchet::v1;

// The path of `name` inside `field`: "jobs[3]" + "queue" -> "jobs[3].queue";
// "" + "queue" -> "queue".
std::string Sub(absl::string_view field, absl::string_view name);

// `s` with `prefix` before its message if it is INVALID_ARGUMENT (reason
// kept): the engine names "queue", the API "job.queue".
absl::Status PrefixField(const absl::Status& s, absl::string_view prefix);

// `field` prefixes error messages, e.g. "jobs[3]". Times and durations out
// of protobuf's range are INVALID_ARGUMENT naming the field.
absl::StatusOr<EnqueueRequest> FromProto(const pb::JobSpec& spec, absl::string_view field);
// Checks enum values only; the engine checks the rest (ValidateUnique).
absl::StatusOr<UniqueOptions> FromProto(const pb::UniqueOptions& u, absl::string_view field);
absl::StatusOr<RetryPolicy> FromProto(const pb::RetryPolicy& policy, absl::string_view field);
// UNSPECIFIED and unknown values are INVALID_ARGUMENT naming `field`.
absl::StatusOr<JobState> FromProto(pb::JobState state, absl::string_view field);
// The lease request with `wait` as given (the caller caps it).
absl::StatusOr<LeaseRequest> FromProto(const pb::LeaseRequest& req, absl::string_view field);
CompleteRequest FromProto(const pb::CompleteRequest& req);
FailRequest FromProto(const pb::FailRequest& req);
absl::StatusOr<HeartbeatRequest> FromProto(const pb::HeartbeatRequest& req);
DeadLetterFilter FromProto(const pb::DeadLetterFilter& filter);
// The settings set in `req`; the engine applies them in one write.
absl::StatusOr<QueueSettingsUpdate> FromProto(const pb::UpdateQueueRequest& req);
absl::StatusOr<RateLimit> FromProto(const pb::RateLimit& rate, absl::string_view field);
void ToProto(const JobExplanation& e, pb::ExplainJobResponse* out);

pb::JobState ToProto(JobState state);
pb::StepState ToProto(StepState state);
void ToProto(const RetryPolicy& policy, pb::RetryPolicy* out);
void ToProto(const QueueSettings& settings, pb::QueueSettings* out);
void ToProto(const QueueInfo& info, pb::QueueInfo* out);
void ToProto(const Job& job, pb::Job* out);
void ToProto(const EnqueueResult& result, pb::EnqueueResponse* out);
void ToProto(const LeasedJob& job, pb::LeasedJob* out);
void ToProto(const FailResult& result, pb::FailResponse* out);
void ToProto(const ListResult& result, pb::ListJobsResponse* out);

}  // namespace ratchet::server

#endif  // RATCHET_API_SERVER_CONVERT_H_
