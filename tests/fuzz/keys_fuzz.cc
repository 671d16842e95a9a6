// Fuzz target: the order-preserving key codec (storage/keys.h) and the
// schema's id decoders built on it (engine/core/schema.h).
//
// The input is read twice. As raw key bytes: KeyReader and the id decoders
// must accept any bytes without reading past the end. As a recipe: two keys
// are built from the same sequence of component kinds with fuzzed values;
// each must read back to its values, and the keys must compare as their
// component tuples do (bytewise order is the numeric and string order).
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdlib>
#include <string>
#include <tuple>
#include <variant>
#include <vector>

#include "fuzz_check.h"
#include "ratchet/storage/keys.h"
#include "schema.h"

namespace {

using ratchet::storage::KeyBuilder;
using ratchet::storage::KeyReader;
using ratchet::storage::PrefixSuccessor;

// A component value; the alternative is the component kind.
using Component = std::variant<uint8_t, uint64_t, int64_t, std::string>;

// Reads a raw key component by component, as a caller that does not trust it.
void ReadRaw(std::string_view bytes) {
  KeyReader reader(bytes);
  for (size_t i = 0; !reader.rest().empty(); ++i) {
    uint8_t u8;
    uint64_t u64;
    int64_t i64;
    std::string s;
    bool ok = false;
    switch (i % 4) {
      case 0:
        ok = reader.Str(&s);
        break;
      case 1:
        ok = reader.U64(&u64);
        break;
      case 2:
        ok = reader.I64(&i64);
        break;
      default:
        ok = reader.U8(&u8);
    }
    if (!ok && !reader.U8(&u8)) break;
  }
  (void)ratchet::internal::JobIdFromKey(bytes);
  (void)ratchet::internal::JobIdFromIndexKey(bytes);
  (void)ratchet::internal::DecodeU64(bytes);
}

Component Draw(FuzzedDataProvider& in, int kind) {
  switch (kind) {
    case 0:
      return in.ConsumeIntegral<uint8_t>();
    case 1:
      return in.ConsumeIntegral<uint64_t>();
    case 2:
      return in.ConsumeIntegral<int64_t>();
    default: {
      std::string s = in.ConsumeRandomLengthString(16);
      std::erase(s, '\0');  // Str's contract: no 0x00 inside
      return s;
    }
  }
}

std::string Encode(const std::vector<Component>& parts) {
  KeyBuilder b;
  for (const Component& c : parts) {
    if (auto* v = std::get_if<uint8_t>(&c)) b.U8(*v);
    if (auto* v = std::get_if<uint64_t>(&c)) b.U64(*v);
    if (auto* v = std::get_if<int64_t>(&c)) b.I64(*v);
    if (auto* v = std::get_if<std::string>(&c)) b.Str(*v);
  }
  return b.Build();
}

void CheckReadsBack(const std::string& key, const std::vector<Component>& parts) {
  KeyReader r(key);
  for (const Component& c : parts) {
    if (auto* v = std::get_if<uint8_t>(&c)) {
      uint8_t got;
      FUZZ_CHECK(r.U8(&got) && got == *v);
    } else if (auto* v = std::get_if<uint64_t>(&c)) {
      uint64_t got;
      FUZZ_CHECK(r.U64(&got) && got == *v);
    } else if (auto* v = std::get_if<int64_t>(&c)) {
      int64_t got;
      FUZZ_CHECK(r.I64(&got) && got == *v);
    } else {
      std::string got;
      FUZZ_CHECK(r.Str(&got) && got == std::get<std::string>(c));
    }
  }
  FUZZ_CHECK(r.rest().empty());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  ReadRaw(bytes);

  std::string succ = PrefixSuccessor(bytes);
  FUZZ_CHECK(succ.empty() || (succ > bytes && !succ.starts_with(bytes)));

  FuzzedDataProvider in(data, size);
  std::vector<Component> a, b;
  const int n = in.ConsumeIntegralInRange(1, 6);
  for (int i = 0; i < n; ++i) {
    const int kind = in.ConsumeIntegralInRange(0, 3);
    a.push_back(Draw(in, kind));
    b.push_back(Draw(in, kind));
  }
  const std::string ka = Encode(a), kb = Encode(b);
  CheckReadsBack(ka, a);
  CheckReadsBack(kb, b);
  // std::variant compares by alternative, then value: the tuple order.
  FUZZ_CHECK((a < b) == (ka < kb));
  FUZZ_CHECK((a == b) == (ka == kb));
  return 0;
}
