// WorkflowContext: the programming model of code-first (durable) workflows,
// as in Temporal, Restate or DBOS. A workflow is an ordinary C++ function
// run by the main job of a workflow; every time the job is leased the
// function runs again from the top and replays its journal:
// - ctx.Step("name", fn) runs fn once. Its result is journalled (under the
//   job's lease, fenced) before Step returns; on any later run Step returns
//   the journalled result without calling fn. fn may run more than once if
//   the worker dies between fn and the journal write, so external calls
//   should pass IdempotencyToken("name") to the service they call.
// - ctx.Sleep(d) / ctx.SleepUntil(t) are durable timers: the first run
//   suspends the job (no worker is held) and the engine journals the
//   wake-up time, computed on the engine's clock for Sleep(d); the job is
//   leased again at that time, also across restarts. Whether a timer is due
//   is decided by the engine's clock too (DurableEntry::due), so a worker
//   whose clock is off cannot spin.
// - ctx.WaitForEvent(name, timeout) returns the event's payload once
//   SendEvent delivered it, or nullopt after `timeout`; waiting suspends the
//   job like a timer. The outcome (event or timeout) is fixed by the first
//   run that observes it, so replays take the same path.
//
// Determinism: the function must call Step, Sleep and WaitForEvent in the
// same order on every run (branch only on their results and the payload).
// Each journal entry records its kind and name, and a replay must ask for
// the entry at its position: a run that asks for something else (or returns
// while journalled entries are left) fails with FAILED_PRECONDITION and a
// message starting "NON_DETERMINISTIC: journal entry <i> is ...", which
// fails the attempt for good (docs/workflows.md, "Non-determinism").
// A journal written before entries had kinds (any entry JournalKind::
// kUnknown) is replayed by name, as it was written, without that check.
// A step error the code goes on past (instead of returning it) is
// journalled with the next entry, so replays see the same error.
// Journal names: steps use their own name (no '#'); the n-th timer is
// "sleep#n", the n-th wait "wait#n:<event>" and its timeout
// "wait#n/timeout"; the k-th journalled error of step s is "s#error<k>".
//
// Suspension is an exception (WorkflowSuspended) thrown through the
// function, as is a detected non-determinism (WorkflowNonDeterministic) and
// a journal that cannot be written (WorkflowAborted); do not catch them
// (catch specific exception types only). Neither derives from
// std::exception.
//
// Thread safety: a WorkflowContext belongs to one run on one thread.
#ifndef RATCHET_BASE_WORKFLOW_CONTEXT_H_
#define RATCHET_BASE_WORKFLOW_CONTEXT_H_

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "ratchet/base/clock.h"
#include "ratchet/durable/journal_kind.h"

namespace ratchet {

// One journal entry, as a lease hands it to a run or as a run records it.
struct DurableEntry {
  std::string name;
  std::string result;
  JournalKind kind = JournalKind::kUnknown;
  // Replayed timers (kSleep, kWait): the time in `result` had passed on the
  // engine's clock when it leased the job.
  bool due = false;
  // New timers: the engine journals its own now + delay as `result` (which
  // then only matters to a server that predates this field).
  std::optional<Millis> delay;
};

// What a run needs from the leased main job.
struct DurableJob {
  uint64_t workflow_id = 0;
  uint64_t job_id = 0;
  std::string payload;
  std::vector<DurableEntry> journal;                        // in journal order
  std::vector<std::pair<std::string, std::string>> events;  // (name, payload)
};

// Where a run journals an entry: the embedded engine or the gRPC client.
class WorkflowJournal {
 public:
  virtual ~WorkflowJournal() = default;
  // Journals `entry` under the job's lease. Errors: as the engine's
  // RecordStep (LEASE_LOST when the lease moved on).
  virtual absl::Status Record(const DurableEntry& entry) = 0;
};

// Why a run stopped without finishing: wait until `until` (or the event).
struct Suspension {
  // For a new Sleep(d), the worker's estimate; the engine uses the delay
  // of the timer entry in `record` instead.
  TimePoint until;
  std::string awaiting_event;        // "" for a timer
  std::vector<DurableEntry> record;  // to journal with it
};

// Thrown by Sleep/WaitForEvent to end a run that must wait.
struct WorkflowSuspended {
  Suspension suspension;
};

// Thrown when the code asks for another entry than the journal holds.
struct WorkflowNonDeterministic {
  std::string message;  // "NON_DETERMINISTIC: journal entry ..."
};

// Thrown by Sleep/WaitForEvent when the journal cannot be written.
struct WorkflowAborted {
  absl::Status status;
};

class WorkflowContext {
 public:
  // `job`, `journal` and `clock` are borrowed for the run. `clock` is the
  // worker's; it only matters for a journal replayed by name (old entries).
  WorkflowContext(const DurableJob& job, WorkflowJournal* journal, Clock* clock);

  uint64_t workflow_id() const { return job_.workflow_id; }
  const std::string& payload() const { return job_.payload; }

  // Runs fn once per workflow (see above). An error from fn is returned and
  // not journalled, so a later run tries fn again (unless the code went on
  // past it, see above). Errors: fn's error; INVALID_ARGUMENT for a name
  // that is empty or contains '#'; the journal's error (LEASE_LOST: stop,
  // another worker holds the workflow). Throws WorkflowNonDeterministic.
  absl::StatusOr<std::string> Step(const std::string& name,
                                   const std::function<absl::StatusOr<std::string>()>& fn);
  // Durable timers (ms resolution). Throw WorkflowSuspended until due.
  // SleepUntil always suspends once, even for a time already past; the
  // engine wakes it at once.
  void Sleep(Millis duration);
  void SleepUntil(TimePoint wake);
  // The event's payload, or nullopt once `timeout` passed without it.
  // Throws WorkflowSuspended while waiting. The event must be one the
  // workflow declared at start (else the suspension fails INVALID_ARGUMENT).
  absl::StatusOr<std::optional<std::string>> WaitForEvent(const std::string& name, Millis timeout);

  // A stable token for a step's external side effects:
  // "ratchet:wf:<workflow id>:<step name>".
  std::string IdempotencyToken(const std::string& step) const;

  // Set once this run diverged from its journal (even if the code caught
  // the exception): RunWorkflow fails the run with it.
  const std::optional<std::string>& non_deterministic() const { return non_deterministic_; }
  // The first journal entry this run did not ask for, or nullopt. Checked
  // journals only.
  std::optional<std::string> Unconsumed() const;

 private:
  // The replayed entry the code asks for (kind, name), consuming it; null
  // when the journal has nothing more (a new entry). Throws on a mismatch.
  const DurableEntry* Next(JournalKind kind, const std::string& name);
  [[noreturn]] void Diverged(const std::string& asked);
  // Journals `entry` after the step errors the code went on past.
  absl::Status Record(DurableEntry entry);
  // The step errors the code went on past, to journal before `entry`.
  std::vector<DurableEntry> WithPendingErrors(DurableEntry entry);
  [[noreturn]] void Suspend(TimePoint until, std::string event, std::optional<DurableEntry> entry);
  // A checked Sleep (delay set) or SleepUntil.
  void Timer(TimePoint wake, std::optional<Millis> delay);

  // Journals replayed by name (written before kinds).
  const std::string* Find(const std::string& name) const;
  void SleepUntilByName(TimePoint wake);
  absl::StatusOr<std::optional<std::string>> WaitByName(const std::string& name, Millis timeout);

  const DurableJob& job_;
  WorkflowJournal* journal_;
  Clock* clock_;
  const bool checked_;                        // every entry has a kind: replay by position
  std::vector<DurableEntry> entries_;         // the journal, then what this run journalled
  size_t next_ = 0;                           // checked: the entry the code must ask for next
  std::vector<DurableEntry> pending_errors_;  // step errors not journalled yet
  absl::Status broken_;                       // a journal write failed: record nothing more
  std::optional<std::string> non_deterministic_;
  int sleeps_ = 0, waits_ = 0;
};

using WorkflowFunction = std::function<absl::StatusOr<std::string>(WorkflowContext&)>;

// How one run ended.
struct WorkflowOutcome {
  enum class Kind { kCompleted, kFailed, kSuspended } kind = Kind::kCompleted;
  std::string result;     // kCompleted
  absl::Status error;     // kFailed; retryable unless INVALID_ARGUMENT or FAILED_PRECONDITION
  Suspension suspension;  // kSuspended
};

// Runs `fn` once over `job`. An exception other than the ones above is a
// (retryable) failure with its what() as the message; a non-determinism is
// FAILED_PRECONDITION (not retryable).
WorkflowOutcome RunWorkflow(const DurableJob& job, WorkflowJournal* journal, Clock* clock,
                            const WorkflowFunction& fn);

}  // namespace ratchet

#endif  // RATCHET_BASE_WORKFLOW_CONTEXT_H_
