// Sealed page cursors. ListQueues and ListSchedules page by name, and the
// engine's cursor is the last name of the page before the server filters it
// by authorization: handed out as is, it would show a caller queue names and
// schedule ids it may not read. For such callers the server seals it with
// AES-256-GCM (OpenSSL EVP) under a key drawn at start, so the cursor is
// opaque and cannot be forged; unrestricted callers get the engine's cursor.
// Sealed cursors do not survive a ratchetd restart (the key is new): such a
// cursor is INVALID_ARGUMENT, and the listing starts again from "".
//
// Thread-safe: immutable after construction.
#ifndef RATCHET_API_SERVER_PAGE_CURSOR_H_
#define RATCHET_API_SERVER_PAGE_CURSOR_H_

#include <array>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace ratchet::server {

class CursorSealer {
 public:
  // Draws a random 256-bit key (RAND_bytes; aborts if the system has no
  // randomness).
  CursorSealer();

  // "s" and the hex of nonce (12 bytes), ciphertext and tag (16 bytes); ""
  // stays "". The ciphertext is as long as the cursor: a name's length shows.
  std::string Seal(std::string_view cursor) const;
  // The cursor Seal sealed; "" stays "". Errors: INVALID_ARGUMENT naming
  // `cursor` for anything this process's Seal did not produce.
  absl::StatusOr<std::string> Open(std::string_view sealed) const;

 private:
  std::array<unsigned char, 32> key_{};
};

}  // namespace ratchet::server

#endif  // RATCHET_API_SERVER_PAGE_CURSOR_H_
