// Order-preserving key encoding for RocksDB keys.
//
// Integers are written big-endian so that bytewise comparison (RocksDB's
// default comparator) orders them numerically. Signed values have their sign
// bit flipped first, so negative values sort before positive ones. Strings are
// written raw and terminated with a 0x00 byte; callers only pass strings that
// cannot contain 0x00 (queue names and keys are validated), which keeps the
// encoding order-preserving and prefix-free.
//
// Thread safety: KeyBuilder and KeyReader are value types with no shared state.
#ifndef RATCHET_STORAGE_KEYS_H_
#define RATCHET_STORAGE_KEYS_H_

#include <cstdint>
#include <string>
#include <string_view>

namespace ratchet::storage {

class KeyBuilder {
 public:
  KeyBuilder& U8(uint8_t v);
  KeyBuilder& U64(uint64_t v);
  KeyBuilder& I64(int64_t v);
  // Appends `s` and a 0x00 terminator. `s` must not contain 0x00.
  KeyBuilder& Str(std::string_view s);
  // Appends `s` with no terminator (only valid as the final component).
  KeyBuilder& Raw(std::string_view s);
  const std::string& key() const { return key_; }
  // Moves the key out; the builder is empty afterwards.
  std::string Build() { return std::move(key_); }

 private:
  std::string key_;
};

// Reads components back in the order KeyBuilder wrote them. Each reader
// returns false, leaving the output untouched, if the key is too short.
class KeyReader {
 public:
  explicit KeyReader(std::string_view key) : rest_(key) {}
  bool U8(uint8_t* v);
  bool U64(uint64_t* v);
  bool I64(int64_t* v);
  bool Str(std::string* s);
  std::string_view rest() const { return rest_; }

 private:
  std::string_view rest_;
};

// The smallest key greater than every key that starts with `prefix`, or ""
// if there is none (prefix is all 0xFF).
std::string PrefixSuccessor(std::string_view prefix);

}  // namespace ratchet::storage

#endif  // RATCHET_STORAGE_KEYS_H_
