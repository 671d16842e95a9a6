#include "validation.h"

#include "absl/strings/str_cat.h"
#include "ratchet/base/status.h"
#include "ratchet/base/traceparent.h"

namespace ratchet::internal {

namespace {

bool IsNameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == ':' || c == '-';
}

bool IsPrintableAscii(absl::string_view s) {
  for (char c : s) {
    if (c < 0x20 || c > 0x7E) return false;
  }
  return true;
}

constexpr Millis kMaxBackoff{30LL * 24 * 3600000};      // 30 days
constexpr Millis kMaxRetention{3650LL * 24 * 3600000};  // 10 years

}  // namespace

absl::Status ValidateName(absl::string_view field, absl::string_view name) {
  if (name.empty()) return InvalidArgument(field, "must not be empty");
  if (name.size() > kMaxNameBytes) {
    return InvalidArgument(
        field, absl::StrCat(name.size(), " bytes exceeds the limit of ", kMaxNameBytes, " bytes"));
  }
  for (char c : name) {
    if (!IsNameChar(c)) {
      return InvalidArgument(field, absl::StrCat("byte 0x", absl::Hex(static_cast<uint8_t>(c)),
                                                 " not allowed; use [A-Za-z0-9_.:-]"));
    }
  }
  return absl::OkStatus();
}

namespace {

// The length of the UTF-8 sequence starting at text[i], or 0 if it is not a
// well-formed one. The byte ranges are the Unicode Standard's, Table 3-7
// ("Well-Formed UTF-8 Byte Sequences").
size_t Utf8SequenceLength(absl::string_view text, size_t i) {
  auto at = [&](size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char b = at(i);
  if (b < 0x80) return 1;
  size_t n;
  unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
  if (b >= 0xC2 && b <= 0xDF) {
    n = 2;
  } else if (b >= 0xE0 && b <= 0xEF) {
    n = 3;
    if (b == 0xE0) lo = 0xA0;  // no overlong forms
    if (b == 0xED) hi = 0x9F;  // no surrogates
  } else if (b >= 0xF0 && b <= 0xF4) {
    n = 4;
    if (b == 0xF0) lo = 0x90;  // no overlong forms
    if (b == 0xF4) hi = 0x8F;  // at most U+10FFFF
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  if (at(i + 1) < lo || at(i + 1) > hi) return 0;
  for (size_t k = 2; k < n; ++k) {
    if (at(i + k) < 0x80 || at(i + k) > 0xBF) return 0;
  }
  return n;
}

}  // namespace

absl::Status ValidateUtf8(absl::string_view field, absl::string_view text) {
  for (size_t i = 0; i < text.size();) {
    size_t n = Utf8SequenceLength(text, i);
    if (n == 0) {
      return InvalidArgument(field, absl::StrCat("is not valid UTF-8 (byte ", i, ")"));
    }
    i += n;
  }
  return absl::OkStatus();
}

absl::string_view TruncateUtf8(absl::string_view text, size_t max_bytes) {
  if (text.size() <= max_bytes) return text;
  size_t cut = max_bytes;
  // Back up over continuation bytes (10xxxxxx) to the start of a character.
  while (cut > 0 && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80) --cut;
  return text.substr(0, cut);
}

absl::Status ValidateDuration(absl::string_view field, Millis d, Millis max) {
  if (d.count() <= 0 || d > max) {
    return InvalidArgument(field,
                           absl::StrCat(d.count(), " ms is outside [1, ", max.count(), "] ms"));
  }
  return absl::OkStatus();
}

absl::Status ValidateRetryPolicy(absl::string_view field, const RetryPolicy& p) {
  RATCHET_RETURN_IF_ERROR(
      ValidateDuration(absl::StrCat(field, ".initial_backoff"), p.initial_backoff, kMaxBackoff));
  RATCHET_RETURN_IF_ERROR(
      ValidateDuration(absl::StrCat(field, ".max_backoff"), p.max_backoff, kMaxBackoff));
  if (p.max_backoff < p.initial_backoff) {
    return InvalidArgument(absl::StrCat(field, ".max_backoff"), "must be >= initial_backoff");
  }
  if (!(p.multiplier >= 1.0 && p.multiplier <= 10.0)) {
    return InvalidArgument(absl::StrCat(field, ".multiplier"),
                           absl::StrCat(p.multiplier, " is outside [1, 10]"));
  }
  if (static_cast<int>(p.jitter) > static_cast<int>(JitterMode::kDecorrelated)) {
    return InvalidArgument(absl::StrCat(field, ".jitter"), "unknown jitter mode");
  }
  return absl::OkStatus();
}

absl::Status ValidateEnqueue(const std::string& prefix, const EnqueueRequest& r,
                             const EngineOptions& o, TimePoint now) {
  RATCHET_RETURN_IF_ERROR(ValidateName(prefix + "queue", r.queue));
  RATCHET_RETURN_IF_ERROR(ValidateName(prefix + "job_type", r.job_type));
  if (r.payload.size() > o.max_payload_bytes) {
    return PayloadTooLarge(prefix + "payload", r.payload.size(), o.max_payload_bytes);
  }
  if (r.idempotency_key.size() > kMaxIdempotencyKeyBytes || !IsPrintableAscii(r.idempotency_key)) {
    return InvalidArgument(
        prefix + "idempotency_key",
        absl::StrCat("must be at most ", kMaxIdempotencyKeyBytes, " bytes of printable ASCII"));
  }
  if (r.run_at && r.delay) {
    return InvalidArgument(prefix + "run_at", "give run_at or delay, not both");
  }
  if (r.delay && (r.delay->count() < 0 || *r.delay > o.max_schedule_ahead)) {
    return InvalidArgument(prefix + "delay", absl::StrCat(r.delay->count(), " ms is outside [0, ",
                                                          o.max_schedule_ahead.count(), "] ms"));
  }
  if (r.run_at && (ToUnixMs(*r.run_at) < 0 || *r.run_at > now + o.max_schedule_ahead)) {
    return InvalidArgument(prefix + "run_at",
                           absl::StrCat("must be after 1970 and at most ",
                                        o.max_schedule_ahead.count(), " ms from now"));
  }
  if (r.priority < 0 || r.priority > kMaxPriority) {
    return InvalidArgument(prefix + "priority",
                           absl::StrCat(r.priority, " is outside [0, ", kMaxPriority, "]"));
  }
  if (r.max_attempts && (*r.max_attempts < 1 || *r.max_attempts > kMaxAttemptsLimit)) {
    return InvalidArgument(
        prefix + "max_attempts",
        absl::StrCat(*r.max_attempts, " is outside [1, ", kMaxAttemptsLimit, "]"));
  }
  if (r.retry_policy) {
    RATCHET_RETURN_IF_ERROR(ValidateRetryPolicy(prefix + "retry_policy", *r.retry_policy));
  }
  if (r.visibility_timeout) {
    RATCHET_RETURN_IF_ERROR(ValidateDuration(prefix + "visibility_timeout", *r.visibility_timeout,
                                             o.max_visibility_timeout));
  }
  RATCHET_RETURN_IF_ERROR(ValidateTimeouts(prefix, r, now));
  RATCHET_RETURN_IF_ERROR(ValidateTraceparent(prefix + "traceparent", r.traceparent));
  return ValidateConcurrencyKey(prefix + "concurrency_key", r.concurrency_key);
}

absl::Status ValidateTraceparent(const std::string& field, const std::string& traceparent) {
  if (traceparent.empty() || IsTraceparent(traceparent)) return absl::OkStatus();
  return InvalidArgument(field,
                         "must be a W3C traceparent: 55 bytes, "
                         "'<2 hex version>-<32 hex trace-id>-<16 hex parent-id>-<2 hex flags>' in "
                         "lowercase hex, ids not all zeros");
}

absl::Status ValidateTimeouts(const std::string& prefix, const EnqueueRequest& r, TimePoint now) {
  if (r.attempt_timeout) {
    RATCHET_RETURN_IF_ERROR(
        ValidateDuration(prefix + "attempt_timeout", *r.attempt_timeout, kMaxAttemptTimeout));
  }
  if (!r.expires_at) return absl::OkStatus();
  if (*r.expires_at <= now) {
    return InvalidArgument(prefix + "expires_at",
                           absl::StrCat(ToUnixMs(*r.expires_at), " ms is not after now (",
                                        ToUnixMs(now), " ms): the job could never start"));
  }
  const TimePoint run_at = r.run_at ? *r.run_at : now + r.delay.value_or(Millis(0));
  if (*r.expires_at <= run_at) {
    return InvalidArgument(prefix + "expires_at",
                           absl::StrCat(ToUnixMs(*r.expires_at), " ms is not after run_at (",
                                        ToUnixMs(run_at), " ms): the job could never start"));
  }
  return absl::OkStatus();
}

absl::Status ValidateConcurrencyKey(absl::string_view field, absl::string_view key) {
  if (key.size() > kMaxConcurrencyKeyBytes) {
    return InvalidArgument(field, absl::StrCat(key.size(), " bytes exceeds the limit of ",
                                               kMaxConcurrencyKeyBytes, " bytes"));
  }
  RATCHET_RETURN_IF_ERROR(ValidateUtf8(field, key));
  if (key.find('\0') != absl::string_view::npos) {
    return InvalidArgument(field, "must not contain NUL (U+0000)");
  }
  return absl::OkStatus();
}

namespace {

absl::Status ValidateRateLimit(absl::string_view field, const RateLimit& r) {
  if (r.limit < 1 || r.limit > kMaxRateLimit) {
    return InvalidArgument(absl::StrCat(field, ".limit"),
                           absl::StrCat(r.limit, " is outside [1, ", kMaxRateLimit, "]"));
  }
  if (r.period.count() < 1 || r.period > kMaxRatePeriod) {
    return InvalidArgument(
        absl::StrCat(field, ".period"),
        absl::StrCat(r.period.count(), " ms is outside [1, ", kMaxRatePeriod.count(), "] ms"));
  }
  return absl::OkStatus();
}

absl::Status ValidateFlowControl(const QueueSettings& s) {
  if (s.key_concurrency_limit < 0 || s.key_concurrency_limit > kMaxConcurrency) {
    return InvalidArgument(
        "key_concurrency_limit",
        absl::StrCat(s.key_concurrency_limit, " is outside [0, ", kMaxConcurrency, "]"));
  }
  if (s.key_limits.size() > kMaxKeyLimits) {
    return InvalidArgument(
        "key_limits",
        absl::StrCat(s.key_limits.size(), " entries exceed the limit of ", kMaxKeyLimits));
  }
  for (const auto& [key, limit] : s.key_limits) {
    const std::string field =
        absl::StrCat("key_limits[", key.size() <= 64 && IsPrintableAscii(key) ? key : "...", "]");
    if (key.empty()) return InvalidArgument(field, "the key must not be empty");
    RATCHET_RETURN_IF_ERROR(ValidateConcurrencyKey(field, key));
    if (limit < 1 || limit > kMaxConcurrency) {
      return InvalidArgument(field, absl::StrCat(limit, " is outside [1, ", kMaxConcurrency, "]"));
    }
  }
  if (s.rate_limit) RATCHET_RETURN_IF_ERROR(ValidateRateLimit("rate_limit", *s.rate_limit));
  if (s.key_rate_limit) {
    RATCHET_RETURN_IF_ERROR(ValidateRateLimit("key_rate_limit", *s.key_rate_limit));
  }
  return absl::OkStatus();
}

}  // namespace

absl::Status ValidateAppWrite(const std::string& prefix, const AppWrite& w,
                              const EngineOptions& o) {
  if (w.key.empty() || w.key.size() > kMaxAppKeyBytes) {
    return InvalidArgument(prefix + "key", absl::StrCat("must be 1..", kMaxAppKeyBytes, " bytes"));
  }
  if (w.value && w.value->size() > o.max_payload_bytes) {
    return InvalidArgument(prefix + "value",
                           absl::StrCat(w.value->size(), " bytes exceeds the limit of ",
                                        o.max_payload_bytes, " bytes"));
  }
  return absl::OkStatus();
}

absl::Status ValidateLease(const LeaseRequest& r, const EngineOptions& o) {
  RATCHET_RETURN_IF_ERROR(ValidateName("queue", r.queue));
  if (r.max_jobs < 1 || r.max_jobs > o.max_lease_jobs) {
    return InvalidArgument("max_jobs",
                           absl::StrCat(r.max_jobs, " is outside [1, ", o.max_lease_jobs, "]"));
  }
  if (r.visibility_timeout) {
    RATCHET_RETURN_IF_ERROR(
        ValidateDuration("visibility_timeout", *r.visibility_timeout, o.max_visibility_timeout));
  }
  if (r.wait.count() < 0 || r.wait > o.max_lease_wait) {
    return InvalidArgument("wait", absl::StrCat(r.wait.count(), " ms is outside [0, ",
                                                o.max_lease_wait.count(), "] ms"));
  }
  if (r.worker_id.size() > kMaxNameBytes || !IsPrintableAscii(r.worker_id)) {
    return InvalidArgument(
        "worker_id", absl::StrCat("must be at most ", kMaxNameBytes, " bytes of printable ASCII"));
  }
  return absl::OkStatus();
}

absl::Status ValidateQueueSettings(const QueueSettings& s, const EngineOptions& o) {
  if (s.concurrency_limit < 0 || s.concurrency_limit > kMaxConcurrency) {
    return InvalidArgument(
        "concurrency_limit",
        absl::StrCat(s.concurrency_limit, " is outside [0, ", kMaxConcurrency, "]"));
  }
  RATCHET_RETURN_IF_ERROR(ValidateRetryPolicy("retry_policy", s.retry_policy));
  if (s.max_attempts < 1 || s.max_attempts > kMaxAttemptsLimit) {
    return InvalidArgument(
        "max_attempts", absl::StrCat(s.max_attempts, " is outside [1, ", kMaxAttemptsLimit, "]"));
  }
  RATCHET_RETURN_IF_ERROR(
      ValidateDuration("visibility_timeout", s.visibility_timeout, o.max_visibility_timeout));
  RATCHET_RETURN_IF_ERROR(
      ValidateDuration("completed_retention", s.completed_retention, kMaxRetention));
  RATCHET_RETURN_IF_ERROR(ValidateDuration("dead_retention", s.dead_retention, kMaxRetention));
  return ValidateFlowControl(s);
}

absl::Status ValidateFilter(const DeadLetterFilter& f) {
  if (!f.job_id || !f.queue.empty()) RATCHET_RETURN_IF_ERROR(ValidateName("queue", f.queue));
  if (!f.job_type.empty()) RATCHET_RETURN_IF_ERROR(ValidateName("job_type", f.job_type));
  if (f.limit < 1 || f.limit > kMaxBulkLimit) {
    return InvalidArgument("limit", absl::StrCat(f.limit, " is outside [1, ", kMaxBulkLimit, "]"));
  }
  return absl::OkStatus();
}

absl::Status ValidateRedrive(const RedriveRequest& r) {
  RATCHET_RETURN_IF_ERROR(ValidateFilter(r.filter));
  if (r.pace) RATCHET_RETURN_IF_ERROR(ValidateRateLimit("pace", *r.pace));
  return absl::OkStatus();
}

absl::Status ValidateProgress(const HeartbeatRequest& r) {
  if (r.progress && !(*r.progress >= 0.0 && *r.progress <= 1.0)) {  // NaN fails too
    return InvalidArgument("progress", absl::StrCat(*r.progress, " is not a fraction in [0, 1]"));
  }
  if (!r.progress_message) return absl::OkStatus();
  if (r.progress_message->size() > kMaxProgressMessageBytes) {
    return InvalidArgument("progress_message",
                           absl::StrCat(r.progress_message->size(), " bytes exceed the limit of ",
                                        kMaxProgressMessageBytes, " bytes"));
  }
  return ValidateUtf8("progress_message", *r.progress_message);
}

absl::Status ValidateJobFilter(absl::string_view job_type, absl::string_view key) {
  if (!job_type.empty()) RATCHET_RETURN_IF_ERROR(ValidateName("job_type", job_type));
  return ValidateConcurrencyKey("concurrency_key", key);
}

absl::Status ValidateCancelJobs(const CancelJobsRequest& r) {
  RATCHET_RETURN_IF_ERROR(ValidateName("queue", r.queue));
  if (r.state && IsTerminal(*r.state)) {
    return InvalidArgument("state", absl::StrCat(JobStateName(*r.state),
                                                 " is not one of scheduled, available, running"));
  }
  return ValidateJobFilter(r.job_type, r.concurrency_key);
}

absl::Status ValidateRequestBytes(absl::string_view field, size_t bytes, const EngineOptions& o) {
  if (bytes <= o.max_request_bytes) return absl::OkStatus();
  return InvalidArgument(field, absl::StrCat(bytes, " bytes in one request exceeds the limit of ",
                                             o.max_request_bytes, " bytes; split it"));
}

absl::Status ValidateOptions(const EngineOptions& o) {
  if (o.data_dir.empty()) return InvalidArgument("data_dir", "must not be empty");
  if (o.max_payload_bytes < 1 || o.max_payload_bytes > o.max_request_bytes) {
    return InvalidArgument("max_payload_bytes", "must be in [1, max_request_bytes]");
  }
  for (auto [name, value] : {std::pair{"idempotency_window", o.idempotency_window},
                             std::pair{"max_schedule_ahead", o.max_schedule_ahead},
                             std::pair{"max_visibility_timeout", o.max_visibility_timeout},
                             std::pair{"max_lease_wait", o.max_lease_wait},
                             std::pair{"sweep_interval", o.sweep_interval}}) {
    if (value.count() <= 0) return InvalidArgument(name, "must be > 0 ms");
  }
  if (o.schedule_misfire_grace.count() < 0) {
    return InvalidArgument("schedule_misfire_grace", "must be >= 0 ms");
  }
  for (auto [name, value] : {std::pair{"max_lease_jobs", o.max_lease_jobs},
                             std::pair{"max_batch_jobs", o.max_batch_jobs},
                             std::pair{"max_errors_kept", o.max_errors_kept},
                             std::pair{"max_group_ops", o.max_group_ops},
                             std::pair{"sweep_batch_keys", o.sweep_batch_keys},
                             std::pair{"dead_letter_slice_keys", o.dead_letter_slice_keys},
                             std::pair{"cancel_slice_jobs", o.cancel_slice_jobs},
                             std::pair{"metrics_max_queues", o.metrics_max_queues}}) {
    if (value < 1) return InvalidArgument(name, "must be >= 1");
  }
  absl::Status s = ValidateQueueSettings(o.default_queue_settings, o);
  if (!s.ok()) return InvalidArgument("default_queue_settings", s.message());
  return absl::OkStatus();
}

}  // namespace ratchet::internal
