// SHA-256 and size of one file, streamed in 64 KiB chunks (OpenSSL EVP).
#ifndef RATCHET_EXAMPLES_DIGEST_FILE_DIGEST_H_
#define RATCHET_EXAMPLES_DIGEST_FILE_DIGEST_H_

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace ratchet::digest {

struct FileDigest {
  std::string sha256_hex;
  uint64_t size_bytes = 0;
};

// Errors: NOT_FOUND or PERMISSION_DENIED (the file cannot be opened) and
// DATA_LOSS (a read failed), each naming the path and errno's text.
absl::StatusOr<FileDigest> DigestFile(const std::string& path);

// SHA-256 of `data`, hex.
std::string Sha256Hex(const std::string& data);

}  // namespace ratchet::digest

#endif  // RATCHET_EXAMPLES_DIGEST_FILE_DIGEST_H_
