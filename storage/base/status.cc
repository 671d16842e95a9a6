#include "ratchet/base/status.h"

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace ratchet {

absl::Status WithReason(absl::Status status, absl::string_view reason) {
  if (!status.ok()) status.SetPayload(kReasonPayloadUrl, absl::Cord(reason));
  return status;
}

std::string ReasonOf(const absl::Status& status) {
  auto payload = status.GetPayload(kReasonPayloadUrl);
  return payload ? std::string(*payload) : std::string();
}

absl::Status WithRetryDelay(absl::Status status, std::chrono::milliseconds delay) {
  if (!status.ok()) {
    status.SetPayload(kRetryDelayPayloadUrl, absl::Cord(std::to_string(delay.count())));
  }
  return status;
}

std::optional<std::chrono::milliseconds> RetryDelayOf(const absl::Status& status) {
  auto payload = status.GetPayload(kRetryDelayPayloadUrl);
  int64_t ms = 0;
  if (!payload || !absl::SimpleAtoi(std::string(*payload), &ms) || ms < 0) return std::nullopt;
  return std::chrono::milliseconds(ms);
}

absl::Status InvalidArgument(absl::string_view field, absl::string_view problem) {
  return WithReason(absl::InvalidArgumentError(absl::StrCat(field, ": ", problem)),
                    kReasonInvalidArgument);
}

absl::Status PayloadTooLarge(size_t size_bytes, size_t limit_bytes) {
  return PayloadTooLarge("payload", size_bytes, limit_bytes);
}

absl::Status PayloadTooLarge(absl::string_view field, size_t size_bytes, size_t limit_bytes) {
  return WithReason(
      absl::InvalidArgumentError(absl::StrCat(
          field, ": ", size_bytes, " bytes exceeds the limit of ", limit_bytes, " bytes")),
      kReasonPayloadTooLarge);
}

absl::Status IdempotencyConflict(absl::string_view message) {
  return WithReason(absl::AlreadyExistsError(message), kReasonIdempotencyConflict);
}

absl::Status LeaseLost(absl::string_view message) {
  return WithReason(absl::FailedPreconditionError(message), kReasonLeaseLost);
}

absl::Status NotFound(absl::string_view message) {
  return WithReason(absl::NotFoundError(message), kReasonNotFound);
}

absl::Status InvalidState(absl::string_view message) {
  return WithReason(absl::FailedPreconditionError(message), kReasonInvalidState);
}

}  // namespace ratchet
