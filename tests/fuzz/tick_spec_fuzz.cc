// Fuzz target: schedule specs (engine/schedules/tick_spec.h), the cron,
// shorthand and "@every" parser and the IANA time-zone lookup, then Next,
// Last and Count.
//
// Input: text lines "spec\ntime_zone\nafter_ms\nanchor_ms" (the last two
// optional, decimal, any int64: a stored cursor or anchor may be damaged).
// A spec that parses must give ticks strictly after `after_ms` and, asked
// again from a tick, a later one; Count must see exactly one tick in
// (after, next], and Last(after) must be at or before `after`.
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "fuzz_check.h"
#include "tick_spec.h"

namespace {

int64_t TimeArg(const std::vector<std::string>& lines, size_t i, int64_t fallback) {
  int64_t v = fallback;
  if (i < lines.size() && absl::SimpleAtoi(lines[i], &v)) return v;
  return fallback;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return -1;  // a spec is a line; longer inputs add nothing
  std::vector<std::string> lines =
      absl::StrSplit(absl::string_view(reinterpret_cast<const char*>(data), size), '\n');
  lines.resize(std::max<size_t>(lines.size(), 2));
  auto spec = ratchet::internal::TickSpec::Parse(lines[0], lines[1]);
  if (!spec.ok()) return 0;
  const int64_t after = TimeArg(lines, 2, 1767225600000);  // 2026-01-01
  const int64_t anchor = TimeArg(lines, 3, after);
  std::optional<int64_t> last = spec->Last(after, anchor);
  FUZZ_CHECK(!last || *last <= after);
  std::optional<int64_t> next = spec->Next(after, anchor);
  if (!next) return 0;
  FUZZ_CHECK(*next > after);
  FUZZ_CHECK(spec->Count(after, *next, anchor) == 1);
  std::optional<int64_t> again = spec->Next(*next, anchor);
  FUZZ_CHECK(!again || *again > *next);
  return 0;
}
