#include "page_cursor.h"

#include <openssl/evp.h>
#include <openssl/rand.h>

#include <cstdlib>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "ratchet/base/status.h"

namespace ratchet::server {
namespace {

constexpr std::string_view kSealedPrefix = "s";
constexpr int kNonceBytes = 12;
constexpr int kTagBytes = 16;

using CipherCtx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

CipherCtx NewCtx() { return CipherCtx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free); }

absl::Status BadCursor() {
  return InvalidArgument("cursor",
                         "not a next_cursor this server handed out (cursors do not survive a "
                         "restart); start again from \"\"");
}

unsigned char* Bytes(std::string& s) { return reinterpret_cast<unsigned char*>(s.data()); }
const unsigned char* Bytes(std::string_view s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

}  // namespace

CursorSealer::CursorSealer() {
  if (RAND_bytes(key_.data(), static_cast<int>(key_.size())) != 1) std::abort();
}

std::string CursorSealer::Seal(std::string_view cursor) const {
  if (cursor.empty()) return "";
  std::string out(kNonceBytes + cursor.size() + kTagBytes, '\0');
  if (RAND_bytes(Bytes(out), kNonceBytes) != 1) std::abort();
  CipherCtx ctx = NewCtx();
  int n = 0;
  int tail = 0;
  if (!ctx ||
      EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), Bytes(out)) != 1 ||
      EVP_EncryptUpdate(ctx.get(), Bytes(out) + kNonceBytes, &n, Bytes(cursor),
                        static_cast<int>(cursor.size())) != 1 ||
      EVP_EncryptFinal_ex(ctx.get(), Bytes(out) + kNonceBytes + n, &tail) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, kTagBytes,
                          Bytes(out) + kNonceBytes + cursor.size()) != 1) {
    std::abort();  // only out of memory gets here
  }
  // "s" is not a hex digit: the engine refuses a sealed cursor outright if
  // it reaches it unopened (an unrestricted caller), never misreads it.
  return std::string(kSealedPrefix) + absl::BytesToHexString(out);
}

absl::StatusOr<std::string> CursorSealer::Open(std::string_view sealed) const {
  if (sealed.empty()) return std::string();
  if (!sealed.starts_with(kSealedPrefix)) return BadCursor();
  sealed.remove_prefix(kSealedPrefix.size());
  if (sealed.size() % 2 != 0 || sealed.size() < 2 * (kNonceBytes + 1 + kTagBytes)) {
    return BadCursor();
  }
  for (char c : sealed) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(c))) return BadCursor();
  }
  std::string raw = absl::HexStringToBytes(absl::string_view(sealed.data(), sealed.size()));
  const size_t text_bytes = raw.size() - kNonceBytes - kTagBytes;
  std::string out(text_bytes, '\0');
  CipherCtx ctx = NewCtx();
  int n = 0;
  int tail = 0;
  if (!ctx ||
      EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, key_.data(), Bytes(raw)) != 1 ||
      EVP_DecryptUpdate(ctx.get(), Bytes(out), &n, Bytes(raw) + kNonceBytes,
                        static_cast<int>(text_bytes)) != 1 ||
      EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, kTagBytes,
                          Bytes(raw) + kNonceBytes + text_bytes) != 1 ||
      EVP_DecryptFinal_ex(ctx.get(), Bytes(out) + n, &tail) != 1) {
    return BadCursor();
  }
  return out;
}

}  // namespace ratchet::server
