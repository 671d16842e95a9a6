#include "ratchet/engine/workflow_runner.h"

#include "ratchet/base/status.h"

namespace ratchet {

namespace {

JournalEntry ToJournalEntry(const DurableEntry& e) {
  JournalEntry out{e.name, e.result, TimePoint()};
  out.kind = e.kind;
  out.delay = e.delay;
  return out;
}

class EngineJournal final : public WorkflowJournal {
 public:
  EngineJournal(Engine& engine, const LeasedJob& job) : engine_(engine), job_(job) {}
  absl::Status Record(const DurableEntry& entry) override {
    RecordStepRequest req;
    req.job_id = job_.id;
    req.token = job_.token;
    req.entry = ToJournalEntry(entry);
    return engine_.RecordStep(std::move(req));
  }

 private:
  Engine& engine_;
  const LeasedJob& job_;
};

}  // namespace

DurableJob ToDurableJob(const LeasedJob& job) {
  DurableJob d;
  d.workflow_id = job.workflow_id;
  d.job_id = job.id;
  d.payload = job.payload;
  for (const JournalEntry& e : job.journal) {
    d.journal.push_back({e.name, e.result, e.kind, e.due, std::nullopt});
  }
  for (const WorkflowEvent& e : job.events) d.events.emplace_back(e.name, e.payload);
  return d;
}

absl::Status RunWorkflowJob(Engine& engine, const LeasedJob& job, const WorkflowFunction& fn,
                            Clock* clock) {
  DurableJob durable = ToDurableJob(job);
  EngineJournal journal(engine, job);
  WorkflowOutcome out = RunWorkflow(durable, &journal, clock ? clock : SystemClock::Default(), fn);
  switch (out.kind) {
    case WorkflowOutcome::Kind::kCompleted:
      return engine.Complete({job.id, job.token, std::move(out.result), {}});
    case WorkflowOutcome::Kind::kSuspended: {
      SuspendRequest req;
      req.job_id = job.id;
      req.token = job.token;
      req.until = out.suspension.until;
      req.awaiting_event = out.suspension.awaiting_event;
      for (const DurableEntry& e : out.suspension.record) req.record.push_back(ToJournalEntry(e));
      absl::Status s = engine.Suspend(std::move(req));
      if (!absl::IsInvalidArgument(s)) return s;
      out.error = s;  // e.g. an undeclared event: the workflow cannot go on
      [[fallthrough]];
    }
    case WorkflowOutcome::Kind::kFailed: {
      bool retryable =
          !absl::IsInvalidArgument(out.error) && !absl::IsFailedPrecondition(out.error);
      if (ReasonOf(out.error) == kReasonLeaseLost) {
        return out.error;  // the lease moved on; nothing to end
      }
      return engine.Fail({job.id, job.token, std::string(out.error.message()), retryable}).status();
    }
  }
  return absl::OkStatus();
}

}  // namespace ratchet
