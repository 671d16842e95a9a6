#include "ratchet/engine/workflow_runner.h"

#include "ratchet/base/status.h"

namespace ratchet {

namespace {

class EngineJournal final : public WorkflowJournal {
 public:
  EngineJournal(Engine& engine, const LeasedJob& job) : engine_(engine), job_(job) {}
  absl::Status Record(const std::string& name, const std::string& result) override {
    RecordStepRequest req;
    req.job_id = job_.id;
    req.token = job_.token;
    req.entry.name = name;
    req.entry.result = result;
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
  for (const JournalEntry& e : job.journal) d.journal.emplace_back(e.name, e.result);
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
      for (auto& [name, result] : out.suspension.record) {
        req.record.push_back({name, result, TimePoint()});
      }
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
