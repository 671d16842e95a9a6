#include "ratchet/storage/keys.h"

namespace ratchet::storage {

namespace {
constexpr uint64_t kSignBit = uint64_t{1} << 63;
}  // namespace

KeyBuilder& KeyBuilder::U8(uint8_t v) {
  key_.push_back(static_cast<char>(v));
  return *this;
}

KeyBuilder& KeyBuilder::U64(uint64_t v) {
  for (int shift = 56; shift >= 0; shift -= 8) {
    key_.push_back(static_cast<char>((v >> shift) & 0xFF));
  }
  return *this;
}

KeyBuilder& KeyBuilder::I64(int64_t v) { return U64(static_cast<uint64_t>(v) ^ kSignBit); }

KeyBuilder& KeyBuilder::Str(std::string_view s) {
  key_.append(s);
  key_.push_back('\0');
  return *this;
}

KeyBuilder& KeyBuilder::Raw(std::string_view s) {
  key_.append(s);
  return *this;
}

bool KeyReader::U8(uint8_t* v) {
  if (rest_.empty()) return false;
  *v = static_cast<uint8_t>(rest_[0]);
  rest_.remove_prefix(1);
  return true;
}

bool KeyReader::U64(uint64_t* v) {
  if (rest_.size() < 8) return false;
  uint64_t out = 0;
  for (int i = 0; i < 8; ++i) out = (out << 8) | static_cast<uint8_t>(rest_[i]);
  *v = out;
  rest_.remove_prefix(8);
  return true;
}

bool KeyReader::I64(int64_t* v) {
  uint64_t u;
  if (!U64(&u)) return false;
  *v = static_cast<int64_t>(u ^ kSignBit);
  return true;
}

bool KeyReader::Str(std::string* s) {
  size_t end = rest_.find('\0');
  if (end == std::string_view::npos) return false;
  s->assign(rest_.substr(0, end));
  rest_.remove_prefix(end + 1);
  return true;
}

std::string PrefixSuccessor(std::string_view prefix) {
  std::string out(prefix);
  while (!out.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(out.back());
    if (last != 0xFF) {
      ++last;
      return out;
    }
    out.pop_back();
  }
  return out;
}

}  // namespace ratchet::storage
