// WorkflowMachine: submitting DAG workflows and starting code-first ones,
// with their validation (names, dependencies, cycles, limits) and the
// workflow-level idempotency key.
#include <deque>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "ratchet/base/status.h"
#include "record_io.h"
#include "validation.h"
#include "workflow_machine.h"
#include "workflow_store.h"

namespace ratchet::internal {

using storage::Cf;

namespace {

constexpr int kMaxEvents = 100;

// The job a step enqueues when it is released.
EnqueueRequest StepJob(const std::string& default_queue, const StepSpec& s) {
  EnqueueRequest r;
  r.queue = s.options.queue.empty() ? default_queue : s.options.queue;
  r.job_type = s.job_type;
  r.payload = s.payload;
  r.priority = s.options.priority;
  r.max_attempts = s.options.max_attempts;
  r.retry_policy = s.options.retry_policy;
  r.visibility_timeout = s.options.visibility_timeout;
  return r;
}

// Finds a cycle among steps whose dependencies never all complete (Kahn's
// algorithm leaves exactly the steps on or behind a cycle) and names it.
std::string DescribeCycle(const std::vector<std::vector<int>>& deps,
                          const std::vector<int>& remaining, const WorkflowSpec& spec) {
  int start = 0;
  while (remaining[start] == 0) ++start;
  // Walk unresolved dependencies until a step repeats: that loop is a cycle.
  std::vector<int> order;
  std::vector<int> seen(deps.size(), -1);
  int at = start;
  while (seen[at] < 0) {
    seen[at] = static_cast<int>(order.size());
    order.push_back(at);
    for (int d : deps[at]) {
      if (remaining[d] > 0) {
        at = d;
        break;
      }
    }
  }
  std::vector<std::string> names;
  for (size_t i = seen[at]; i < order.size(); ++i) names.push_back(spec.steps[order[i]].name);
  names.push_back(spec.steps[at].name);
  return absl::StrJoin(names, " -> ");
}

std::string Fingerprint(const WorkflowRecord& wf, const std::vector<StepRecord>& steps,
                        const std::string& main_job) {
  std::string content = wf.name() + '\0' + wf.queue() + '\0' + main_job;
  for (const std::string& e : wf.events()) content += e + '\0';
  for (const StepRecord& s : steps) content += s.SerializeAsString();
  return ContentFingerprint("workflow", content);
}

}  // namespace

absl::StatusOr<WorkflowSubmitResult> WorkflowMachine::SubmitWorkflow(storage::Batch& batch,
                                                                     TimePoint now,
                                                                     const WorkflowSpec& spec) {
  RATCHET_RETURN_IF_ERROR(ValidateName("name", spec.name));
  RATCHET_RETURN_IF_ERROR(ValidateName("queue", spec.queue));
  const int n = static_cast<int>(spec.steps.size());
  if (n == 0) return InvalidArgument("steps", "a workflow needs at least one step");
  if (n > store_.options().max_workflow_steps) {
    return InvalidArgument("steps", absl::StrCat(n, " steps exceeds the limit of ",
                                                 store_.options().max_workflow_steps));
  }
  absl::flat_hash_map<std::string, int> index;
  size_t bytes = 0;
  for (int i = 0; i < n; ++i) {
    const StepSpec& s = spec.steps[i];
    std::string prefix = absl::StrCat("steps[", i, "].");
    RATCHET_RETURN_IF_ERROR(ValidateName(prefix + "name", s.name));
    if (!index.emplace(s.name, i).second) {
      return InvalidArgument(prefix + "name", absl::StrCat("duplicate step name '", s.name,
                                                           "' (also steps[", index[s.name], "])"));
    }
    RATCHET_RETURN_IF_ERROR(ValidateEnqueue(prefix, StepJob(spec.queue, s), store_.options(), now));
    bytes += s.payload.size();
  }
  RATCHET_RETURN_IF_ERROR(ValidateRequestBytes("steps", bytes, store_.options()));
  RATCHET_RETURN_IF_ERROR(ValidateTraceparent("traceparent", spec.traceparent));
  std::vector<std::vector<int>> deps(n), dependents(n);
  for (int i = 0; i < n; ++i) {
    for (size_t j = 0; j < spec.steps[i].depends_on.size(); ++j) {
      const std::string& d = spec.steps[i].depends_on[j];
      auto it = index.find(d);
      std::string field = absl::StrCat("steps[", i, "].depends_on[", j, "]");
      if (it == index.end()) {
        return InvalidArgument(field, absl::StrCat("unknown step '", d, "'"));
      }
      if (it->second == i) return InvalidArgument(field, "a step cannot depend on itself");
      for (int earlier : deps[i]) {
        if (earlier == it->second) {
          return InvalidArgument(field, absl::StrCat("step '", d, "' is listed twice"));
        }
      }
      deps[i].push_back(it->second);
      dependents[it->second].push_back(i);
    }
  }
  // Kahn's algorithm: every step must become releasable.
  std::vector<int> remaining(n);
  std::deque<int> ready;
  for (int i = 0; i < n; ++i) {
    remaining[i] = static_cast<int>(deps[i].size());
    if (remaining[i] == 0) ready.push_back(i);
  }
  int released = 0;
  while (!ready.empty()) {
    int i = ready.front();
    ready.pop_front();
    ++released;
    for (int d : dependents[i]) {
      if (--remaining[d] == 0) ready.push_back(d);
    }
  }
  if (released < n) {
    return InvalidArgument("steps", absl::StrCat("the dependencies form a cycle: ",
                                                 DescribeCycle(deps, remaining, spec)));
  }

  WorkflowRecord wf;
  wf.set_name(spec.name);
  SetKind(wf, WorkflowKind::kDag);
  wf.set_queue(spec.queue);
  wf.set_idempotency_key(spec.idempotency_key);
  wf.set_traceparent(spec.traceparent);
  wf.set_step_count(n);
  std::vector<StepRecord> steps(n);
  for (int i = 0; i < n; ++i) {
    const StepSpec& s = spec.steps[i];
    StepRecord& r = steps[i];
    r.set_name(s.name);
    r.set_job_type(s.job_type);
    r.set_payload(s.payload);
    r.set_queue(s.options.queue.empty() ? spec.queue : s.options.queue);
    r.set_priority(s.options.priority);
    r.set_max_attempts(s.options.max_attempts.value_or(0));
    if (s.options.retry_policy) {
      ToRecord(*s.options.retry_policy, r.mutable_retry());
    }
    r.set_visibility_timeout_ms(s.options.visibility_timeout ? s.options.visibility_timeout->count()
                                                             : 0);
    for (int d : deps[i]) r.add_depends_on(d);
    for (int d : dependents[i]) r.add_dependents(d);
    r.set_remaining(static_cast<int>(deps[i].size()));
    r.set_continue_on_failure(s.continue_on_failure);
  }
  return CreateWorkflow(batch, now, std::move(wf), std::move(steps), nullptr);
}

absl::StatusOr<WorkflowSubmitResult> WorkflowMachine::StartWorkflow(
    storage::Batch& batch, TimePoint now, const StartWorkflowRequest& req) {
  RATCHET_RETURN_IF_ERROR(ValidateName("name", req.name));
  StepSpec main;
  main.job_type = req.job_type;
  main.payload = req.payload;
  main.options = req.options;
  main.options.queue = "";
  EnqueueRequest job = StepJob(req.queue, main);
  job.traceparent = req.traceparent;
  RATCHET_RETURN_IF_ERROR(ValidateEnqueue("", job, store_.options(), now));
  if (req.events.size() > kMaxEvents) {
    return InvalidArgument(
        "events", absl::StrCat(req.events.size(), " events exceeds the limit of ", kMaxEvents));
  }
  WorkflowRecord wf;
  for (size_t i = 0; i < req.events.size(); ++i) {
    RATCHET_RETURN_IF_ERROR(ValidateName(absl::StrCat("events[", i, "]"), req.events[i]));
    for (size_t j = 0; j < i; ++j) {
      if (req.events[j] == req.events[i]) {
        return InvalidArgument(absl::StrCat("events[", i, "]"),
                               absl::StrCat("duplicate event name '", req.events[i], "'"));
      }
    }
    wf.add_events(req.events[i]);
  }
  wf.set_name(req.name);
  SetKind(wf, WorkflowKind::kCode);
  wf.set_queue(req.queue);
  wf.set_idempotency_key(req.idempotency_key);
  return CreateWorkflow(batch, now, std::move(wf), {}, &job);
}

absl::StatusOr<WorkflowSubmitResult> WorkflowMachine::CreateWorkflow(
    storage::Batch& batch, TimePoint now, WorkflowRecord wf, std::vector<StepRecord> steps,
    const EnqueueRequest* main_job) {
  // Everything but the idempotency key is validated by the callers.
  std::string ikey, fingerprint;
  if (!wf.idempotency_key().empty()) {
    fingerprint =
        Fingerprint(wf, steps, main_job ? main_job->job_type + '\0' + main_job->payload : "");
    EnqueueRequest probe;
    probe.queue = wf.queue();
    probe.job_type = "workflow";
    probe.idempotency_key = wf.idempotency_key();
    RATCHET_RETURN_IF_ERROR(ValidateEnqueue("", probe, store_.options(), now));
    ikey = WorkflowIdempotencyKey(wf.idempotency_key());
    // A stored record that does not parse is corruption: DATA_LOSS, never a
    // second workflow under the key.
    RATCHET_ASSIGN_OR_RETURN(
        std::optional<IdempotencyRecord> rec,
        FindRecord<IdempotencyRecord>(batch, Cf::kWorkflows, ikey, "workflow idempotency key"));
    if (rec) {
      if (rec->fingerprint() != fingerprint) {
        return IdempotencyConflict(absl::StrCat("idempotency_key: '", wf.idempotency_key(),
                                                "' already belongs to workflow ", rec->job_id(),
                                                " with a different definition"));
      }
      return WorkflowSubmitResult{rec->job_id(), true};
    }
  }
  // Checked; from here on nothing fails.
  const WorkflowId id = next_workflow_id_++;
  counter_dirty_ = true;
  wf.set_id(id);
  SetState(wf, WorkflowState::kRunning);
  wf.set_created_at_ms(ToUnixMs(now));
  if (!ikey.empty()) {
    IdempotencyRecord rec;
    rec.set_job_id(id);
    rec.set_fingerprint(fingerprint);
    batch.Put(Cf::kWorkflows, ikey, rec.SerializeAsString());
  }
  if (main_job) {
    JobOrigin origin;
    origin.workflow_id = id;
    origin.step_index = -1;
    wf.set_main_job_id(jobs_.Insert(batch, now, *main_job, "", &origin));
  }
  for (int i = 0; i < static_cast<int>(steps.size()); ++i) {
    if (steps[i].remaining() == 0) {
      // Cannot fail: nothing to read for a step without dependencies.
      ReleaseStep(batch, now, wf, i, steps[i]).IgnoreError();
    }
    SaveStep(batch, id, i, steps[i]);
  }
  SaveWorkflow(batch, wf);
  IndexWorkflow(id, std::nullopt, WorkflowState::kRunning);
  return WorkflowSubmitResult{id, false};
}

}  // namespace ratchet::internal
