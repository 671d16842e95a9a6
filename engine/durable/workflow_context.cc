#include "ratchet/durable/workflow_context.h"

#include <exception>
#include <stdexcept>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "ratchet/base/status.h"

namespace ratchet {

WorkflowContext::WorkflowContext(const DurableJob& job, WorkflowJournal* journal, Clock* clock)
    : job_(job), journal_(journal), clock_(clock) {}

const std::string* WorkflowContext::Find(const std::string& name) const {
  for (const auto& [n, result] : added_) {
    if (n == name) return &result;
  }
  for (const auto& [n, result] : job_.journal) {
    if (n == name) return &result;
  }
  return nullptr;
}

std::string WorkflowContext::IdempotencyToken(const std::string& step) const {
  return absl::StrCat("ratchet:wf:", job_.workflow_id, ":", step);
}

absl::StatusOr<std::string> WorkflowContext::Step(
    const std::string& name, const std::function<absl::StatusOr<std::string>()>& fn) {
  if (name.empty() || name.find('#') != std::string::npos) {
    return InvalidArgument("name", "a step name must be non-empty and must not contain '#'");
  }
  if (const std::string* done = Find(name)) return *done;
  absl::StatusOr<std::string> result = fn();
  if (!result.ok()) return result.status();
  RATCHET_RETURN_IF_ERROR(journal_->Record(name, *result));
  added_.emplace_back(name, *result);
  return result;
}

void WorkflowContext::Sleep(Millis duration) { SleepUntil(clock_->Now() + duration); }

void WorkflowContext::SleepUntil(TimePoint wake) {
  const std::string name = absl::StrCat("sleep#", ++sleeps_);
  int64_t wake_ms = ToUnixMs(wake);
  std::vector<std::pair<std::string, std::string>> record;
  if (const std::string* stored = Find(name)) {
    // The first run's wake-up time stands; one that does not parse is a
    // corrupt journal, not a reason to pick a new time.
    if (!absl::SimpleAtoi(*stored, &wake_ms)) {
      throw std::runtime_error(absl::StrCat("journal entry ", name, " is not a time: ", *stored));
    }
  } else {
    record.emplace_back(name, absl::StrCat(wake_ms));
  }
  if (ToUnixMs(clock_->Now()) >= wake_ms) {
    if (!record.empty()) {
      // Already due: journal it so replays agree, and carry on.
      if (journal_->Record(name, record[0].second).ok()) added_.push_back(record[0]);
    }
    return;
  }
  throw WorkflowSuspended{Suspension{FromUnixMs(wake_ms), "", std::move(record)}};
}

absl::StatusOr<std::optional<std::string>> WorkflowContext::WaitForEvent(const std::string& name,
                                                                         Millis timeout) {
  const int n = ++waits_;
  const std::string wait_name = absl::StrCat("wait#", n, ":", name);
  const std::string timeout_name = absl::StrCat("wait#", n, ":timeout");
  if (Find(timeout_name)) return std::optional<std::string>();
  for (const auto& [event, payload] : job_.events) {
    if (event == name) return std::optional<std::string>(payload);
  }
  int64_t deadline_ms = ToUnixMs(clock_->Now() + timeout);
  std::vector<std::pair<std::string, std::string>> record;
  if (const std::string* stored = Find(wait_name)) {
    if (!absl::SimpleAtoi(*stored, &deadline_ms)) {
      return absl::DataLossError(
          absl::StrCat("journal entry ", wait_name, " is not a time: ", *stored));
    }
  } else {
    record.emplace_back(wait_name, absl::StrCat(deadline_ms));
  }
  if (ToUnixMs(clock_->Now()) >= deadline_ms) {
    RATCHET_RETURN_IF_ERROR(journal_->Record(timeout_name, ""));
    added_.emplace_back(timeout_name, "");
    return std::optional<std::string>();
  }
  throw WorkflowSuspended{Suspension{FromUnixMs(deadline_ms), name, std::move(record)}};
}

WorkflowOutcome RunWorkflow(const DurableJob& job, WorkflowJournal* journal, Clock* clock,
                            const WorkflowFunction& fn) {
  WorkflowContext ctx(job, journal, clock);
  WorkflowOutcome out;
  try {
    absl::StatusOr<std::string> result = fn(ctx);
    if (result.ok()) {
      out.kind = WorkflowOutcome::Kind::kCompleted;
      out.result = *std::move(result);
    } else {
      out.kind = WorkflowOutcome::Kind::kFailed;
      out.error = result.status();
    }
  } catch (WorkflowSuspended& s) {
    out.kind = WorkflowOutcome::Kind::kSuspended;
    out.suspension = std::move(s.suspension);
  } catch (const std::exception& e) {
    out.kind = WorkflowOutcome::Kind::kFailed;
    out.error = absl::InternalError(absl::StrCat("workflow threw: ", e.what()));
  }
  return out;
}

}  // namespace ratchet
