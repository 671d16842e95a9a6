// JournalKind: what one entry of a code-first workflow's journal records.
// Shared by the WorkflowContext (which asks for entries by kind and name)
// and the engine (which stores the kind with the entry and decides, on its
// own clock, whether a timer entry is due). The numbers are stored on disk
// (JournalRecord.kind) and sent on the wire (ratchet.v1.JournalEntryKind):
// never renumber them.
#ifndef RATCHET_DURABLE_JOURNAL_KIND_H_
#define RATCHET_DURABLE_JOURNAL_KIND_H_

#include <cstdint>

namespace ratchet {

enum class JournalKind : uint8_t {
  // Written before journal entries had kinds (or by an old worker): a
  // journal holding one is replayed by name, without the determinism check.
  kUnknown = 0,
  kStep = 1,       // a step's result (name: the step's)
  kSleep = 2,      // a durable timer; result: its wake-up, ms since the Unix epoch
  kWait = 3,       // an event wait; result: its deadline, ms since the Unix epoch
  kTimeout = 4,    // the wait before it timed out; result empty
  kStepError = 5,  // a step whose error the code went on past; result "<code>:<message>"
};
inline constexpr int kMaxJournalKind = 5;

// "step", "sleep", "wait", "timeout", "step error" or "unknown".
inline const char* JournalKindName(JournalKind kind) {
  switch (kind) {
    case JournalKind::kStep:
      return "step";
    case JournalKind::kSleep:
      return "sleep";
    case JournalKind::kWait:
      return "wait";
    case JournalKind::kTimeout:
      return "timeout";
    case JournalKind::kStepError:
      return "step error";
    case JournalKind::kUnknown:
      break;
  }
  return "unknown";
}

// A timer entry carries a time the engine compares with its clock.
inline bool IsTimer(JournalKind kind) {
  return kind == JournalKind::kSleep || kind == JournalKind::kWait;
}

}  // namespace ratchet

#endif  // RATCHET_DURABLE_JOURNAL_KIND_H_
