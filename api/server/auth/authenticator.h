// Authenticator: who a call is, from its bearer token or its mTLS client
// certificate, and whether its principal's rate limit admits it
// (docs/operations.md, "Authentication").
//
// Without an auth file every call is the built-in principal "anonymous",
// admin on every queue, unlimited: what ratchetd did before authentication
// existed, and why it then serves only on loopback (CheckExposure).
//
// Credentials: a call's `authorization: Bearer <token>` metadata is hashed
// (SHA-256) and looked up among the auth file's hashes; the token itself is
// never stored or logged. Without that header, a verified client
// certificate whose common name or a subject alternative name equals a
// principal's tls_identity names it. A bearer header that does not match
// is refused even when a certificate would match.
//
// Thread safety: every method is safe from any thread. Reload swaps the
// whole table at once; calls admitted before keep the principal they got.
#ifndef RATCHET_API_SERVER_AUTH_AUTHENTICATOR_H_
#define RATCHET_API_SERVER_AUTH_AUTHENTICATOR_H_

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "permissions.h"

namespace ratchet::server::auth {

// A token bucket (rate per second, capacity `burst`), full at start.
// Thread-safe.
class TokenBucket {
 public:
  using Time = std::chrono::steady_clock::time_point;
  TokenBucket(double rate, double burst, Time now)
      : rate_(rate), burst_(burst), tokens_(burst), at_(now) {}
  // Takes one token: nullopt when taken, else the wait until one is there.
  std::optional<std::chrono::milliseconds> Take(Time now);

 private:
  const double rate_, burst_;
  absl::Mutex mu_;
  double tokens_ ABSL_GUARDED_BY(mu_);
  Time at_ ABSL_GUARDED_BY(mu_);
};

// An authenticated principal and its rate limit's bucket.
struct Caller {
  Caller(Principal p, TokenBucket::Time now)
      : principal(std::move(p)), bucket(principal.requests_per_second, principal.burst, now) {}
  const Principal principal;
  mutable TokenBucket bucket;
};

class Authenticator {
 public:
  // No auth file: every call is "anonymous" (see above).
  Authenticator();
  // Loads the auth file at `path`; Reload re-reads it.
  // Errors: those of LoadAuthFile.
  static absl::StatusOr<std::unique_ptr<Authenticator>> FromFile(std::string path);

  // Re-reads the auth file (SIGHUP). On an error the principals in use stay
  // and the error is returned. Removed tokens stop working at once; rate
  // limit buckets start full. Without a file: OK, nothing changes.
  absl::Status Reload();

  // Whether an auth file is in use.
  bool enabled() const { return !path_.empty(); }
  size_t principal_count() const;

  // The caller of a call with the given `authorization` metadata (if any)
  // and verified client certificate names (CN and SANs; empty without
  // mTLS). Errors: UNAUTHENTICATED, without echoing the credential.
  absl::StatusOr<std::shared_ptr<const Caller>> Authenticate(
      std::optional<absl::string_view> authorization,
      absl::Span<const std::string> certificate_names) const;

 private:
  struct Table {
    std::unordered_map<std::string, std::shared_ptr<const Caller>> by_token_hash;
    std::unordered_map<std::string, std::shared_ptr<const Caller>> by_identity;
    size_t principals = 0;
  };
  explicit Authenticator(std::string path) : path_(std::move(path)) {}
  std::shared_ptr<const Table> table() const;

  const std::string path_;
  const std::shared_ptr<const Caller> anonymous_;
  mutable absl::Mutex mu_;
  std::shared_ptr<const Table> table_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ratchet::server::auth

#endif  // RATCHET_API_SERVER_AUTH_AUTHENTICATOR_H_
