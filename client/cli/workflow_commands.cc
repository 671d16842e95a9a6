// `ratchet workflows ...`: submit (a JSON SubmitWorkflowRequest), start,
// get, list, cancel and send-event.
#include <cstdio>
#include <fstream>
#include <memory>
#include <sstream>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "commands.h"
#include "output.h"
#include "ratchet/base/status.h"
#include "workflow_json.h"

namespace ratchet::cli {
namespace {

// The arguments of the workflow commands (only one runs).
struct WorkflowOptions {
  std::string file;  // submit
  // start
  std::string queue;
  std::string job_type;
  std::string name;
  std::vector<std::string> events;
  std::string key;
  PayloadOptions payload;  // start, send-event
  uint64_t workflow_id = 0;
  std::string event;  // send-event
  // list
  std::string state = "all";
  int limit = 0;
  std::string cursor;
};

std::string StateName(v1::WorkflowState s) {
  return EnumWord(v1::WorkflowState_Name(s), sizeof("WORKFLOW_") - 1);
}

std::string StepStateName(v1::StepState s) {
  return EnumWord(v1::StepState_Name(s), sizeof("STEP_") - 1);
}

void PrintWorkflow(const v1::Workflow& w) {
  std::printf("workflow %llu %s (%s) %s  queue=%s created=%s finished=%s\n",
              static_cast<unsigned long long>(w.id()), w.name().c_str(), w.kind().c_str(),
              StateName(w.state()).c_str(), w.queue().c_str(), FormatTime(w.created_at()).c_str(),
              FormatTime(w.finished_at()).c_str());
  if (!w.error().empty()) std::printf("error: %s\n", w.error().c_str());
  if (w.kind() == "code") {
    std::printf("main job %llu; events: %s\n", static_cast<unsigned long long>(w.main_job_id()),
                w.events().empty() ? "-" : absl::StrJoin(w.events(), ", ").c_str());
    if (w.state() == v1::WORKFLOW_COMPLETED)
      std::printf("result: %s\n", w.result().substr(0, 200).c_str());
  }
  Table t({"STEP", "STATE", "JOB", "ATTEMPTS", "DEPENDS_ON", "RESULT"});
  for (const v1::StepInfo& s : w.steps()) {
    t.Add({s.name(), StepStateName(s.state()), s.job_id() ? std::to_string(s.job_id()) : "-",
           std::to_string(s.attempts()),
           s.depends_on().empty() ? "-" : absl::StrJoin(s.depends_on(), ","),
           !s.result_omitted() ? s.result().substr(0, 60)
           : s.job_id() != 0
               ? "(too large for one answer: ratchet get " + std::to_string(s.job_id()) + ")"
               : std::string("(too large for one answer)")});
  }
  t.Print();
}

void PrintWorkflows(const v1::ListWorkflowsResponse& r) {
  Table t({"ID", "NAME", "KIND", "STATE", "CREATED", "FINISHED", "ERROR"});
  for (const v1::Workflow& w : r.workflows()) {
    t.Add({std::to_string(w.id()), w.name(), w.kind(), StateName(w.state()),
           FormatTime(w.created_at()), FormatTime(w.finished_at()),
           w.error().empty() ? "-" : w.error().substr(0, 60)});
  }
  t.Print();
  if (!r.next_cursor().empty()) std::printf("next cursor: %s\n", r.next_cursor().c_str());
}

absl::StatusOr<v1::WorkflowState> ParseWorkflowState(const std::string& text) {
  if (text.empty() || text == "all") return v1::WORKFLOW_STATE_UNSPECIFIED;
  v1::WorkflowState s;
  if (!v1::WorkflowState_Parse("WORKFLOW_" + absl::AsciiStrToUpper(text), &s)) {
    return InvalidArgument("--state", absl::StrCat("'", text,
                                                   "' is not one of running, "
                                                   "completed, failed, cancelled, all"));
  }
  return s;
}

absl::StatusOr<v1::SubmitWorkflowRequest> ReadSubmitRequest(const std::string& file) {
  std::ifstream in(file);
  if (!in) return InvalidArgument("file", "cannot read " + file);
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseSubmitRequest(ss.str(), file);
}

absl::Status Submit(Client& c, const WorkflowOptions& o, bool json) {
  RATCHET_ASSIGN_OR_RETURN(auto req, ReadSubmitRequest(o.file));
  RATCHET_ASSIGN_OR_RETURN(auto r, c.SubmitWorkflow(std::move(req)));
  PrintAccepted(r, json, "submitted", "workflow", r.duplicate(), r.workflow_id());
  return absl::OkStatus();
}

absl::Status Start(Client& c, const WorkflowOptions& o, bool json) {
  v1::StartWorkflowRequest req;
  req.set_name(o.name.empty() ? o.job_type : o.name);
  req.set_queue(o.queue);
  req.set_job_type(o.job_type);
  RATCHET_RETURN_IF_ERROR(o.payload.Read(req.mutable_payload()));
  for (const std::string& e : o.events) req.add_events(e);
  req.set_idempotency_key(o.key);
  RATCHET_ASSIGN_OR_RETURN(auto r, c.StartWorkflow(std::move(req)));
  PrintAccepted(r, json, "started", "workflow", r.duplicate(), r.workflow_id());
  return absl::OkStatus();
}

absl::Status Get(Client& c, const WorkflowOptions& o, bool json) {
  RATCHET_ASSIGN_OR_RETURN(auto w, c.GetWorkflow(o.workflow_id));
  json ? PrintJson(w) : PrintWorkflow(w);
  return absl::OkStatus();
}

absl::Status List(Client& c, const WorkflowOptions& o, bool json) {
  v1::ListWorkflowsRequest req;
  RATCHET_ASSIGN_OR_RETURN(auto state, ParseWorkflowState(o.state));
  req.set_state(state);
  req.set_limit(o.limit);
  req.set_cursor(o.cursor);
  RATCHET_ASSIGN_OR_RETURN(auto r, c.ListWorkflows(req));
  json ? PrintJson(r) : PrintWorkflows(r);
  return absl::OkStatus();
}

absl::Status Cancel(Client& c, const WorkflowOptions& o, bool) {
  RATCHET_ASSIGN_OR_RETURN(auto state, c.CancelWorkflow(o.workflow_id));
  std::printf("workflow %llu is %s\n", static_cast<unsigned long long>(o.workflow_id),
              StateName(state).c_str());
  return absl::OkStatus();
}

absl::Status SendEvent(Client& c, const WorkflowOptions& o, bool) {
  v1::SendEventRequest req;
  req.set_workflow_id(o.workflow_id);
  req.set_name(o.event);
  RATCHET_RETURN_IF_ERROR(o.payload.Read(req.mutable_payload()));
  RATCHET_RETURN_IF_ERROR(c.SendEvent(req));
  std::printf("sent event %s to workflow %llu\n", o.event.c_str(),
              static_cast<unsigned long long>(o.workflow_id));
  return absl::OkStatus();
}

}  // namespace

void RegisterWorkflowCommands(CLI::App& app, Runner& runner) {
  auto o = std::make_shared<WorkflowOptions>();
  CLI::App* wf = AddFamily(app, "workflows", "DAG and code-first workflows");

  CLI::App* submit = wf->add_subcommand("submit", "submit a DAG workflow from a JSON file");
  submit
      ->add_option("file", o->file,
                   "SubmitWorkflowRequest as JSON: {name, queue, idempotencyKey, steps: "
                   "[{name, jobType, payload (base64), dependsOn: [..]}]}")
      ->required();
  runner.Bind(submit, o, Submit);

  CLI::App* start = wf->add_subcommand("start", "start a code-first workflow");
  start->add_option("queue", o->queue, "queue of its main job")->required();
  start->add_option("type", o->job_type, "job type of the workflow code")->required();
  start->add_option("--name", o->name, "workflow name (default: the type)");
  o->payload.AddTo(start);
  start->add_option("--event", o->events, "an event name it accepts (repeatable)");
  start->add_option("--key", o->key, "idempotency key");
  runner.Bind(start, o, Start);

  CLI::App* get = wf->add_subcommand("get", "show a workflow and its steps");
  get->add_option("id", o->workflow_id, "workflow id")->required();
  runner.Bind(get, o, Get);

  CLI::App* list = wf->add_subcommand("list", "list workflows");
  list->add_option("--state", o->state, "running, completed, failed, cancelled or all");
  list->add_option("--limit", o->limit, "at most this many (1..1000, default 100)");
  list->add_option("--cursor", o->cursor, "next cursor of a previous page");
  runner.Bind(list, o, List);

  CLI::App* cancel = wf->add_subcommand("cancel", "cancel a workflow");
  cancel->add_option("id", o->workflow_id, "workflow id")->required();
  runner.Bind(cancel, o, Cancel);

  CLI::App* send = wf->add_subcommand("send-event", "deliver an event to a workflow");
  send->add_option("id", o->workflow_id, "workflow id")->required();
  send->add_option("event", o->event, "event name")->required();
  o->payload.AddTo(send);
  runner.Bind(send, o, SendEvent);
}

}  // namespace ratchet::cli
