// Input validation at the engine's edge. Every check returns INVALID_ARGUMENT
// naming the field (with `prefix`, e.g. "jobs[3].") and the limit, before any
// state is touched.
#ifndef RATCHET_ENGINE_JOBS_VALIDATION_H_
#define RATCHET_ENGINE_JOBS_VALIDATION_H_

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "ratchet/engine/engine_options.h"
#include "ratchet/engine/types.h"

namespace ratchet::internal {

inline constexpr size_t kMaxNameBytes = 128;
inline constexpr size_t kMaxIdempotencyKeyBytes = 256;
inline constexpr size_t kMaxAppKeyBytes = 1024;
inline constexpr int kMaxPriority = 1000;
inline constexpr int kMaxAttemptsLimit = 10000;
inline constexpr int kMaxListLimit = 1000;
inline constexpr int kMaxBulkLimit = 10000;
inline constexpr size_t kMaxConcurrencyKeyBytes = 256;
inline constexpr int kMaxConcurrency = 1000000;  // concurrency limits, queue and key
inline constexpr size_t kMaxKeyLimits = 1000;    // QueueSettings::key_limits entries
inline constexpr int kMaxRateLimit = 100000;     // RateLimit::limit
inline constexpr Millis kMaxRatePeriod{24 * 3600 * 1000};

// Queue and job-type names: 1..128 bytes of [A-Za-z0-9_.:-].
absl::Status ValidateName(absl::string_view field, absl::string_view name);
absl::Status ValidateRetryPolicy(absl::string_view field, const RetryPolicy& p);
absl::Status ValidateEnqueue(const std::string& prefix, const EnqueueRequest& r,
                             const EngineOptions& o, TimePoint now);
// EnqueueRequest::attempt_timeout (1 ms..kMaxAttemptTimeout) and
// expires_at (after now and after the job's run_at).
absl::Status ValidateTimeouts(const std::string& prefix, const EnqueueRequest& r, TimePoint now);
// "" or a W3C traceparent (ratchet/base/traceparent.h); INVALID_ARGUMENT naming
// `field` otherwise.
absl::Status ValidateTraceparent(const std::string& field, const std::string& traceparent);
// A concurrency key: at most 256 bytes of UTF-8 without NUL ("" is none).
absl::Status ValidateConcurrencyKey(absl::string_view field, absl::string_view key);
absl::Status ValidateAppWrite(const std::string& prefix, const AppWrite& w, const EngineOptions& o);
absl::Status ValidateLease(const LeaseRequest& r, const EngineOptions& o);
absl::Status ValidateDuration(absl::string_view field, Millis d, Millis max);
absl::Status ValidateQueueSettings(const QueueSettings& s, const EngineOptions& o);
absl::Status ValidateFilter(const DeadLetterFilter& f);
// The filter, and `pace` as a RateLimit.
absl::Status ValidateRedrive(const RedriveRequest& r);
// HeartbeatRequest's `progress` and `progress_message`.
absl::Status ValidateProgress(const HeartbeatRequest& r);
// The job_type and concurrency_key filters of List and CancelJobs ("": any).
absl::Status ValidateJobFilter(absl::string_view job_type, absl::string_view key);
absl::Status ValidateCancelJobs(const CancelJobsRequest& r);
// Rejects a request whose bytes (payloads, results, app values) exceed
// EngineOptions::max_request_bytes, naming `field`.
absl::Status ValidateRequestBytes(absl::string_view field, size_t bytes, const EngineOptions& o);
// INVALID_ARGUMENT naming `field` unless `text` is valid UTF-8 (RFC 3629:
// shortest form, no surrogates, at most U+10FFFF). Every string that reaches
// a proto3 `string` field of a record must pass, or the record stops parsing.
absl::Status ValidateUtf8(absl::string_view field, absl::string_view text);
// The longest prefix of the valid UTF-8 `text` with at most `max_bytes`
// bytes that ends on a character boundary.
absl::string_view TruncateUtf8(absl::string_view text, size_t max_bytes);

// Checks EngineOptions at Open; the field names are the option names.
absl::Status ValidateOptions(const EngineOptions& o);

}  // namespace ratchet::internal

#endif  // RATCHET_ENGINE_JOBS_VALIDATION_H_
