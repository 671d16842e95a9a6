// Status conventions shared by every Ratchet module.
//
// Ratchet uses absl::Status / absl::StatusOr everywhere; their codes are the
// canonical gRPC codes, so the server maps them one to one. A machine-readable
// reason (e.g. "LEASE_LOST") rides in a status payload, in the spirit of
// google.rpc.ErrorInfo, so callers can react without parsing messages.
//
// Codes a caller can react to (FoundationDB's rule: add a code only if a
// caller can react):
//   INVALID_ARGUMENT     bad input; the message names the field and the limit.
//   NOT_FOUND            unknown job / queue.               reason NOT_FOUND
//   ALREADY_EXISTS       idempotency key reused with other content.
//                                                      reason IDEMPOTENCY_CONFLICT
//   FAILED_PRECONDITION  stale or unknown fencing token.     reason LEASE_LOST
//                        operation not valid in the job's state.
//                                                     reason INVALID_STATE
//                        data directory too new.     reason SCHEMA_TOO_NEW
//   UNAVAILABLE          the store failed a write; reopen.  reason STORAGE_FAILED
//                        the engine is closed.              reason ENGINE_CLOSED
//
// Thread safety: all functions here are pure and safe from any thread.
#ifndef RATCHET_BASE_STATUS_H_
#define RATCHET_BASE_STATUS_H_

#include <chrono>
#include <optional>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace ratchet {

// Reasons carried in the status payload. Stable strings: clients match on them.
inline constexpr absl::string_view kReasonLeaseLost = "LEASE_LOST";
inline constexpr absl::string_view kReasonIdempotencyConflict = "IDEMPOTENCY_CONFLICT";
inline constexpr absl::string_view kReasonPayloadTooLarge = "PAYLOAD_TOO_LARGE";
inline constexpr absl::string_view kReasonNotFound = "NOT_FOUND";
inline constexpr absl::string_view kReasonInvalidState = "INVALID_STATE";
inline constexpr absl::string_view kReasonInvalidArgument = "INVALID_ARGUMENT";
inline constexpr absl::string_view kReasonSchemaTooNew = "SCHEMA_TOO_NEW";
inline constexpr absl::string_view kReasonStorageFailed = "STORAGE_FAILED";
inline constexpr absl::string_view kReasonEngineClosed = "ENGINE_CLOSED";
// ratchetd's authentication and authorization (docs/operations.md).
inline constexpr absl::string_view kReasonUnauthenticated = "UNAUTHENTICATED";
inline constexpr absl::string_view kReasonPermissionDenied = "PERMISSION_DENIED";
// RESOURCE_EXHAUSTED: the caller's rate limit; the status carries a retry
// delay (RetryDelayOf; google.rpc.RetryInfo over gRPC).
inline constexpr absl::string_view kReasonRateLimited = "RATE_LIMITED";

// The payload type URL under which the reason is stored.
inline constexpr absl::string_view kReasonPayloadUrl = "type.ratchet.dev/reason";

// Returns `status` with `reason` attached. An OK status is returned unchanged.
absl::Status WithReason(absl::Status status, absl::string_view reason);

// The reason attached to `status`, or "" if none (and for OK).
std::string ReasonOf(const absl::Status& status);

// The payload type URL of a retry delay (milliseconds, decimal).
inline constexpr absl::string_view kRetryDelayPayloadUrl = "type.ratchet.dev/retry_delay_ms";

// Returns `status` with a retry delay attached: when the caller may try
// again. An OK status is returned unchanged.
absl::Status WithRetryDelay(absl::Status status, std::chrono::milliseconds delay);
// The retry delay attached to `status`, if any.
std::optional<std::chrono::milliseconds> RetryDelayOf(const absl::Status& status);

// Shorthands that build a status with its canonical reason.
absl::Status InvalidArgument(absl::string_view field, absl::string_view problem);
// INVALID_ARGUMENT/PAYLOAD_TOO_LARGE naming `field` ("payload", "result",
// "jobs[2].payload") with its size and the limit, in bytes.
absl::Status PayloadTooLarge(size_t size_bytes, size_t limit_bytes);
absl::Status PayloadTooLarge(absl::string_view field, size_t size_bytes, size_t limit_bytes);
// ALREADY_EXISTS/IDEMPOTENCY_CONFLICT: a key reused with other content.
absl::Status IdempotencyConflict(absl::string_view message);
absl::Status LeaseLost(absl::string_view message);
absl::Status NotFound(absl::string_view message);
absl::Status InvalidState(absl::string_view message);

}  // namespace ratchet

// Propagates a non-OK absl::Status from `expr`.
#define RATCHET_RETURN_IF_ERROR(expr)                  \
  do {                                                 \
    ::absl::Status ratchet_status_ = (expr);           \
    if (!ratchet_status_.ok()) return ratchet_status_; \
  } while (0)

#define RATCHET_CONCAT_INNER_(a, b) a##b
#define RATCHET_CONCAT_(a, b) RATCHET_CONCAT_INNER_(a, b)

// Declares `lhs` from a StatusOr `expr`, or propagates its error.
#define RATCHET_ASSIGN_OR_RETURN(lhs, expr) \
  RATCHET_ASSIGN_OR_RETURN_IMPL_(RATCHET_CONCAT_(ratchet_statusor_, __LINE__), lhs, expr)
#define RATCHET_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.ok()) return tmp.status();                  \
  lhs = std::move(tmp).value()

#endif  // RATCHET_BASE_STATUS_H_
