#include "ratchet/durable/workflow_context.h"

#include <algorithm>
#include <exception>
#include <stdexcept>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ratchet/base/status.h"

namespace ratchet {

namespace {

bool AllKinded(const DurableJob& job) {
  return std::none_of(job.journal.begin(), job.journal.end(),
                      [](const DurableEntry& e) { return e.kind == JournalKind::kUnknown; });
}

// The step a kStepError entry ("<step>#error<k>") belongs to.
std::string StepOfError(const std::string& name) { return name.substr(0, name.find('#')); }

std::string Describe(JournalKind kind, const std::string& name) {
  if (kind == JournalKind::kStepError)
    return absl::StrCat("step \"", StepOfError(name), "\" (failed)");
  return absl::StrCat(JournalKindName(kind), " \"", name, "\"");
}

std::string EncodeError(const absl::Status& s) {
  return absl::StrCat(static_cast<int>(s.code()), ":", s.message());
}

absl::Status DecodeError(const std::string& stored) {
  const size_t colon = stored.find(':');
  int code = 0;
  if (colon == std::string::npos || !absl::SimpleAtoi(stored.substr(0, colon), &code) ||
      code <= 0 || code > static_cast<int>(absl::StatusCode::kUnauthenticated)) {
    return absl::UnknownError(stored);
  }
  return absl::Status(static_cast<absl::StatusCode>(code), stored.substr(colon + 1));
}

// A timer entry's time; one that does not parse is a corrupt journal, not a
// reason to pick a new time.
int64_t TimeOf(const DurableEntry& e) {
  int64_t ms = 0;
  if (!absl::SimpleAtoi(e.result, &ms)) {
    throw std::runtime_error(absl::StrCat("journal entry ", e.name, " is not a time: ", e.result));
  }
  return ms;
}

}  // namespace

WorkflowContext::WorkflowContext(const DurableJob& job, WorkflowJournal* journal, Clock* clock)
    : job_(job),
      journal_(journal),
      clock_(clock),
      checked_(AllKinded(job)),
      entries_(job.journal) {}

std::string WorkflowContext::IdempotencyToken(const std::string& step) const {
  return absl::StrCat("ratchet:wf:", job_.workflow_id, ":", step);
}

const DurableEntry* WorkflowContext::Next(JournalKind kind, const std::string& name) {
  if (next_ >= entries_.size()) return nullptr;
  const DurableEntry& e = entries_[next_];
  const bool same = (e.kind == kind && e.name == name) ||
                    (kind == JournalKind::kStep && e.kind == JournalKind::kStepError &&
                     StepOfError(e.name) == name);
  if (!same) Diverged(Describe(kind, name));
  return &entries_[next_++];
}

void WorkflowContext::Diverged(const std::string& asked) {
  const DurableEntry& e = entries_[next_];
  non_deterministic_ = absl::StrCat("NON_DETERMINISTIC: journal entry ", next_, " is ",
                                    Describe(e.kind, e.name), " but the code asked for ", asked);
  throw WorkflowNonDeterministic{*non_deterministic_};
}

std::optional<std::string> WorkflowContext::Unconsumed() const {
  if (!checked_ || next_ >= entries_.size()) return std::nullopt;
  const DurableEntry& e = entries_[next_];
  return absl::StrCat("NON_DETERMINISTIC: journal entry ", next_, " is ", Describe(e.kind, e.name),
                      " but the code returned without asking for it");
}

std::vector<DurableEntry> WorkflowContext::WithPendingErrors(DurableEntry entry) {
  std::vector<DurableEntry> out = std::move(pending_errors_);
  pending_errors_.clear();
  out.push_back(std::move(entry));
  return out;
}

absl::Status WorkflowContext::Record(DurableEntry entry) {
  if (!broken_.ok()) return broken_;
  for (DurableEntry& e : WithPendingErrors(std::move(entry))) {
    absl::Status s = journal_->Record(e);
    if (!s.ok()) {
      // The journal may now lack an entry the code has seen: recording
      // anything after it would put the journal out of the code's order.
      broken_ = s;
      return s;
    }
    entries_.push_back(std::move(e));
  }
  next_ = entries_.size();
  return absl::OkStatus();
}

void WorkflowContext::Suspend(TimePoint until, std::string event,
                              std::optional<DurableEntry> entry) {
  Suspension s{until, std::move(event), {}};
  if (entry) {
    if (!broken_.ok()) throw WorkflowAborted{broken_};
    s.record = WithPendingErrors(*std::move(entry));
  }
  throw WorkflowSuspended{std::move(s)};
}

absl::StatusOr<std::string> WorkflowContext::Step(
    const std::string& name, const std::function<absl::StatusOr<std::string>()>& fn) {
  if (name.empty() || name.find('#') != std::string::npos) {
    return InvalidArgument("name", "a step name must be non-empty and must not contain '#'");
  }
  if (!checked_) {
    if (const std::string* done = Find(name)) return *done;
  } else {
    // A name journalled earlier in the run returns its result again, as it
    // always did (the engine keeps the first result for a name).
    for (size_t i = 0; i < next_; ++i) {
      if (entries_[i].kind == JournalKind::kStep && entries_[i].name == name) {
        return entries_[i].result;
      }
    }
    if (const DurableEntry* done = Next(JournalKind::kStep, name)) {
      if (done->kind == JournalKind::kStepError) return DecodeError(done->result);
      return done->result;
    }
  }
  if (!broken_.ok()) return broken_;
  absl::StatusOr<std::string> result = fn();
  if (!result.ok()) {
    if (checked_) {
      // Journalled only if the code goes on to record something after it.
      const auto errors =
          std::count_if(entries_.begin(), entries_.end(), [&](const DurableEntry& e) {
            return e.kind == JournalKind::kStepError && StepOfError(e.name) == name;
          });
      pending_errors_.push_back(
          {absl::StrCat(name, "#error", errors + static_cast<int64_t>(pending_errors_.size()) + 1),
           EncodeError(result.status()), JournalKind::kStepError});
    }
    return result.status();
  }
  RATCHET_RETURN_IF_ERROR(Record({name, *result, JournalKind::kStep}));
  return result;
}

void WorkflowContext::Sleep(Millis duration) {
  const Millis delay = std::max(duration, Millis(0));
  if (!checked_) return SleepUntilByName(clock_->Now() + delay);
  Timer(clock_->Now() + delay, delay);
}

void WorkflowContext::SleepUntil(TimePoint wake) {
  if (!checked_) return SleepUntilByName(wake);
  Timer(wake, std::nullopt);
}

void WorkflowContext::Timer(TimePoint wake, std::optional<Millis> delay) {
  const std::string name = absl::StrCat("sleep#", ++sleeps_);
  if (const DurableEntry* e = Next(JournalKind::kSleep, name)) {
    if (e->due) return;  // on the engine's clock
    Suspend(FromUnixMs(TimeOf(*e)), "", std::nullopt);
  }
  DurableEntry entry{name, absl::StrCat(ToUnixMs(wake)), JournalKind::kSleep, false, delay};
  if (delay && delay->count() == 0) {
    absl::Status s = Record(std::move(entry));
    if (!s.ok()) throw WorkflowAborted{s};
    return;
  }
  Suspend(wake, "", std::move(entry));
}

absl::StatusOr<std::optional<std::string>> WorkflowContext::WaitForEvent(const std::string& name,
                                                                         Millis timeout) {
  if (!checked_) return WaitByName(name, timeout);
  const int n = ++waits_;
  const std::string wait_name = absl::StrCat("wait#", n, ":", name);
  const std::string timeout_name = absl::StrCat("wait#", n, "/timeout");
  std::optional<std::string> event;
  for (const auto& [ev, payload] : job_.events) {
    if (ev == name) event = payload;
  }
  const Millis delay = std::max(timeout, Millis(0));
  const DurableEntry* wait = Next(JournalKind::kWait, wait_name);
  if (wait == nullptr) {
    const TimePoint deadline = clock_->Now() + delay;
    DurableEntry entry{wait_name, absl::StrCat(ToUnixMs(deadline)), JournalKind::kWait, false,
                       delay};
    if (!event && delay.count() > 0) Suspend(deadline, name, std::move(entry));
    RATCHET_RETURN_IF_ERROR(Record(std::move(entry)));
    if (event) return event;
    RATCHET_RETURN_IF_ERROR(Record({timeout_name, "", JournalKind::kTimeout}));
    return std::optional<std::string>();
  }
  // The outcome the first run observed stands: a journalled timeout first.
  if (next_ < entries_.size() && entries_[next_].kind == JournalKind::kTimeout) {
    Next(JournalKind::kTimeout, timeout_name);
    return std::optional<std::string>();
  }
  if (event) return event;
  if (next_ < entries_.size()) {
    Diverged(
        absl::StrCat("timeout \"", timeout_name, "\" (wait \"", wait_name, "\" has no event)"));
  }
  if (wait->due) {
    RATCHET_RETURN_IF_ERROR(Record({timeout_name, "", JournalKind::kTimeout}));
    return std::optional<std::string>();
  }
  Suspend(FromUnixMs(TimeOf(*wait)), name, std::nullopt);
}

// ---- Journals replayed by name: written before entries had kinds. ----

const std::string* WorkflowContext::Find(const std::string& name) const {
  for (const DurableEntry& e : entries_) {
    if (e.name == name) return &e.result;
  }
  return nullptr;
}

void WorkflowContext::SleepUntilByName(TimePoint wake) {
  const std::string name = absl::StrCat("sleep#", ++sleeps_);
  int64_t wake_ms = ToUnixMs(wake);
  std::optional<DurableEntry> entry;
  if (const std::string* stored = Find(name)) {
    wake_ms = TimeOf({name, *stored});
  } else {
    entry = DurableEntry{name, absl::StrCat(wake_ms), JournalKind::kSleep};
  }
  if (ToUnixMs(clock_->Now()) >= wake_ms) {
    // Already due: journal it so replays agree, and carry on.
    if (entry) Record(*std::move(entry)).IgnoreError();
    return;
  }
  Suspend(FromUnixMs(wake_ms), "", std::move(entry));
}

absl::StatusOr<std::optional<std::string>> WorkflowContext::WaitByName(const std::string& name,
                                                                       Millis timeout) {
  const int n = ++waits_;
  const std::string wait_name = absl::StrCat("wait#", n, ":", name);
  const std::string timeout_name = absl::StrCat("wait#", n, ":timeout");
  if (Find(timeout_name)) return std::optional<std::string>();
  for (const auto& [event, payload] : job_.events) {
    if (event == name) return std::optional<std::string>(payload);
  }
  int64_t deadline_ms = ToUnixMs(clock_->Now() + timeout);
  std::optional<DurableEntry> entry;
  if (const std::string* stored = Find(wait_name)) {
    if (!absl::SimpleAtoi(*stored, &deadline_ms)) {
      return absl::DataLossError(
          absl::StrCat("journal entry ", wait_name, " is not a time: ", *stored));
    }
  } else {
    entry = DurableEntry{wait_name, absl::StrCat(deadline_ms), JournalKind::kWait};
  }
  if (ToUnixMs(clock_->Now()) >= deadline_ms) {
    RATCHET_RETURN_IF_ERROR(Record({timeout_name, "", JournalKind::kTimeout}));
    return std::optional<std::string>();
  }
  Suspend(FromUnixMs(deadline_ms), name, std::move(entry));
}

WorkflowOutcome RunWorkflow(const DurableJob& job, WorkflowJournal* journal, Clock* clock,
                            const WorkflowFunction& fn) {
  WorkflowContext ctx(job, journal, clock);
  WorkflowOutcome out;
  auto fail = [&out](absl::Status error) {
    out.kind = WorkflowOutcome::Kind::kFailed;
    out.error = std::move(error);
  };
  try {
    absl::StatusOr<std::string> result = fn(ctx);
    if (std::optional<std::string> left = ctx.Unconsumed()) {
      fail(absl::FailedPreconditionError(*left));
    } else if (result.ok()) {
      out.kind = WorkflowOutcome::Kind::kCompleted;
      out.result = *std::move(result);
    } else {
      fail(result.status());
    }
  } catch (WorkflowSuspended& s) {
    out.kind = WorkflowOutcome::Kind::kSuspended;
    out.suspension = std::move(s.suspension);
  } catch (const WorkflowNonDeterministic&) {
    // Reported below, also when the code caught it.
  } catch (const WorkflowAborted& a) {
    fail(a.status);
  } catch (const std::exception& e) {
    fail(absl::InternalError(absl::StrCat("workflow threw: ", e.what())));
  }
  // Not retryable: the same code meets the same journal on every attempt.
  if (ctx.non_deterministic()) fail(absl::FailedPreconditionError(*ctx.non_deterministic()));
  return out;
}

}  // namespace ratchet
