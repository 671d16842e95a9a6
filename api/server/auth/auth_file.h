// The auth file: ratchetd's principals, their credentials and grants
// (docs/operations.md, "Authentication"). TOML:
//
//   [[principal]]
//   name = "billing-api"                 # 1..128 bytes, unique
//   token_sha256 = ["9f86d081..."]       # SHA-256 of each bearer token, hex
//   tls_identity = "billing.internal"    # optional: an mTLS client
//                                        # certificate's CN or SAN
//   requests_per_second = 200            # optional, default 1000; 0: unlimited
//   burst = 400                          # optional, default 2 x the rate
//   grants = [{ role = "producer", queues = "billing.*" }]
//
// The file holds only hashes, never a token. Every principal needs at
// least one credential; a hash or identity may belong to one principal.
#ifndef RATCHET_API_SERVER_AUTH_AUTH_FILE_H_
#define RATCHET_API_SERVER_AUTH_AUTH_FILE_H_

#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "permissions.h"

namespace ratchet::server::auth {

// Bounds on one auth file.
inline constexpr size_t kMaxPrincipals = 10000;
inline constexpr size_t kMaxTokensPerPrincipal = 16;
inline constexpr size_t kMaxGrantsPerPrincipal = 64;

struct PrincipalEntry {
  Principal principal;
  std::vector<std::string> token_sha256;  // lower-case hex, 64 digits each
  std::string tls_identity;               // "" when none
};

// Parses the auth file's text; `source` (its path) names it in errors.
// Errors: INVALID_ARGUMENT naming the entry and field (e.g.
// `principal[2].grants[0].role`) and the problem. A hash is never echoed.
absl::StatusOr<std::vector<PrincipalEntry>> ParseAuthFile(std::string_view text,
                                                          std::string_view source);
// Reads and parses the file at `path`. Errors: as ParseAuthFile, and
// NOT_FOUND or INVALID_ARGUMENT when it cannot be read.
absl::StatusOr<std::vector<PrincipalEntry>> LoadAuthFile(const std::string& path);

// The SHA-256 of `data` as 64 lower-case hex digits (OpenSSL).
std::string Sha256Hex(std::string_view data);

}  // namespace ratchet::server::auth

#endif  // RATCHET_API_SERVER_AUTH_AUTH_FILE_H_
