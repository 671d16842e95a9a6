// Checks of ratchetd's TLS files (docs/operations.md, "TLS"): at start, so a
// half setup or an unreadable file is refused rather than failing every
// handshake later, and on SIGHUP, so an operator who replaced the files
// learns at once whether the server will take them (TlsStager publishes
// only files that pass; the previous certificate keeps serving otherwise).
//
// Thread safety: pure functions of the files.
#ifndef RATCHET_API_SERVER_TLS_FILES_H_
#define RATCHET_API_SERVER_TLS_FILES_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "server.h"

namespace ratchet::server {

// What the certificate file holds (its first certificate).
struct TlsCertificateInfo {
  std::string subject;         // one line, as OpenSSL prints it
  int64_t not_after_unix = 0;  // seconds since the epoch
};

// The contents of the TLS files.
struct TlsFiles {
  std::string cert_pem, key_pem, client_ca_pem;
  bool operator==(const TlsFiles&) const = default;
};

// Largest TLS file read, bytes.
inline constexpr size_t kMaxTlsFileBytes = 1 << 20;

// Reads the options' TLS files (none without tls_cert_file).
// Errors: INVALID_ARGUMENT naming the option for a half setup, a file that
// cannot be read, or one over kMaxTlsFileBytes.
absl::StatusOr<TlsFiles> ReadTlsFiles(const ServerOptions& options);

// `files` (read by ReadTlsFiles from the options' paths, which errors
// name), parsed with OpenSSL: the certificate chain, the private key (which
// must match the certificate) and the client CA. Without TLS (no
// tls_cert_file): OK with an empty info.
// Errors: INVALID_ARGUMENT naming the option (tls_cert_file, tls_key_file,
// tls_client_ca_file) for a file that does not parse, or a key that does
// not belong to the certificate.
absl::StatusOr<TlsCertificateInfo> CheckTlsFiles(const ServerOptions& options,
                                                 const TlsFiles& files);

}  // namespace ratchet::server

#endif  // RATCHET_API_SERVER_TLS_FILES_H_
