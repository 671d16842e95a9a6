// `ratchet workflows ...`: submit (a JSON SubmitWorkflowRequest), start,
// get, list, cancel and send-event.
#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "commands.h"
#include "google/protobuf/util/json_util.h"
#include "output.h"
#include "ratchet/base/status.h"

namespace ratchet::cli {
namespace {

std::string Lower(const std::string& enum_name, size_t prefix) {
  return absl::AsciiStrToLower(enum_name.substr(prefix));
}

std::string StateName(v1::WorkflowState s) {
  return Lower(v1::WorkflowState_Name(s), sizeof("WORKFLOW_") - 1);
}

std::string StepStateName(v1::StepState s) {
  return Lower(v1::StepState_Name(s), sizeof("STEP_") - 1);
}

std::string Time(const google::protobuf::Timestamp& t) {
  return FormatTime(t.seconds(), t.nanos());
}

void PrintWorkflow(const v1::Workflow& w) {
  std::printf("workflow %llu %s (%s) %s  queue=%s created=%s finished=%s\n",
              static_cast<unsigned long long>(w.id()), w.name().c_str(), w.kind().c_str(),
              StateName(w.state()).c_str(), w.queue().c_str(), Time(w.created_at()).c_str(),
              Time(w.finished_at()).c_str());
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
           s.result().substr(0, 60)});
  }
  t.Print();
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

}  // namespace

void Commands::RegisterWorkflows(CLI::App& app) {
  CLI::App* wf = app.add_subcommand("workflows", "DAG and code-first workflows");
  wf->require_subcommand(1);

  CLI::App* submit = wf->add_subcommand("submit", "submit a DAG workflow from a JSON file");
  submit
      ->add_option("file", file_,
                   "SubmitWorkflowRequest as JSON: {name, queue, idempotencyKey, steps: "
                   "[{name, jobType, payload (base64), dependsOn: [..]}]}")
      ->required();
  submit->callback([this] {
    Run([this](Client& c) -> absl::Status {
      std::ifstream in(file_);
      if (!in) return InvalidArgument("file", "cannot read " + file_);
      std::stringstream ss;
      ss << in.rdbuf();
      v1::SubmitWorkflowRequest req;
      auto parsed = google::protobuf::util::JsonStringToMessage(ss.str(), &req);
      if (!parsed.ok()) {
        return InvalidArgument("file", absl::StrCat(file_, ": ", parsed.message().as_string()));
      }
      RATCHET_ASSIGN_OR_RETURN(auto r, c.SubmitWorkflow(std::move(req)));
      if (g_->json) return PrintJson(r), absl::OkStatus();
      std::printf("%s %llu\n", r.duplicate() ? "duplicate of workflow" : "submitted workflow",
                  static_cast<unsigned long long>(r.workflow_id()));
      return absl::OkStatus();
    });
  });

  CLI::App* start = wf->add_subcommand("start", "start a code-first workflow");
  start->add_option("queue", queue_, "queue of its main job")->required();
  start->add_option("type", job_type_, "job type of the workflow code")->required();
  start->add_option("--name", name_, "workflow name (default: the type)");
  auto* payload = start->add_option("--payload", payload_, "payload bytes");
  start->add_option("--payload-file", payload_file_, "read the payload from a file")
      ->excludes(payload);
  start->add_option("--event", events_, "an event name it accepts (repeatable)");
  start->add_option("--key", key_, "idempotency key");
  start->callback([this] {
    Run([this](Client& c) -> absl::Status {
      v1::StartWorkflowRequest req;
      req.set_name(name_.empty() ? job_type_ : name_);
      req.set_queue(queue_);
      req.set_job_type(job_type_);
      RATCHET_RETURN_IF_ERROR(ReadPayload(req.mutable_payload()));
      for (const std::string& e : events_) req.add_events(e);
      req.set_idempotency_key(key_);
      RATCHET_ASSIGN_OR_RETURN(auto r, c.StartWorkflow(std::move(req)));
      if (g_->json) return PrintJson(r), absl::OkStatus();
      std::printf("%s %llu\n", r.duplicate() ? "duplicate of workflow" : "started workflow",
                  static_cast<unsigned long long>(r.workflow_id()));
      return absl::OkStatus();
    });
  });

  CLI::App* get = wf->add_subcommand("get", "show a workflow and its steps");
  get->add_option("id", job_id_, "workflow id")->required();
  get->callback([this] {
    Run([this](Client& c) -> absl::Status {
      RATCHET_ASSIGN_OR_RETURN(auto w, c.GetWorkflow(job_id_));
      if (g_->json) return PrintJson(w), absl::OkStatus();
      PrintWorkflow(w);
      return absl::OkStatus();
    });
  });

  CLI::App* list = wf->add_subcommand("list", "list workflows");
  list->add_option("--state", workflow_state_, "running, completed, failed, cancelled or all");
  list->add_option("--limit", limit_, "at most this many (1..1000, default 100)");
  list->add_option("--cursor", cursor_, "next cursor of a previous page");
  list->callback([this] {
    Run([this](Client& c) -> absl::Status {
      v1::ListWorkflowsRequest req;
      RATCHET_ASSIGN_OR_RETURN(auto state, ParseWorkflowState(workflow_state_));
      req.set_state(state);
      req.set_limit(limit_);
      req.set_cursor(cursor_);
      RATCHET_ASSIGN_OR_RETURN(auto r, c.ListWorkflows(req));
      if (g_->json) return PrintJson(r), absl::OkStatus();
      Table t({"ID", "NAME", "KIND", "STATE", "CREATED", "FINISHED", "ERROR"});
      for (const v1::Workflow& w : r.workflows()) {
        t.Add({std::to_string(w.id()), w.name(), w.kind(), StateName(w.state()),
               Time(w.created_at()), Time(w.finished_at()),
               w.error().empty() ? "-" : w.error().substr(0, 60)});
      }
      t.Print();
      if (!r.next_cursor().empty()) std::printf("next cursor: %s\n", r.next_cursor().c_str());
      return absl::OkStatus();
    });
  });

  CLI::App* cancel = wf->add_subcommand("cancel", "cancel a workflow");
  cancel->add_option("id", job_id_, "workflow id")->required();
  cancel->callback([this] {
    Run([this](Client& c) -> absl::Status {
      RATCHET_ASSIGN_OR_RETURN(auto state, c.CancelWorkflow(job_id_));
      std::printf("workflow %llu is %s\n", static_cast<unsigned long long>(job_id_),
                  StateName(state).c_str());
      return absl::OkStatus();
    });
  });

  CLI::App* send = wf->add_subcommand("send-event", "deliver an event to a workflow");
  send->add_option("id", job_id_, "workflow id")->required();
  send->add_option("event", event_, "event name")->required();
  auto* event_payload = send->add_option("--payload", payload_, "payload bytes");
  send->add_option("--payload-file", payload_file_, "read the payload from a file")
      ->excludes(event_payload);
  send->callback([this] {
    Run([this](Client& c) -> absl::Status {
      v1::SendEventRequest req;
      req.set_workflow_id(job_id_);
      req.set_name(event_);
      RATCHET_RETURN_IF_ERROR(ReadPayload(req.mutable_payload()));
      RATCHET_RETURN_IF_ERROR(c.SendEvent(req));
      std::printf("sent event %s to workflow %llu\n", event_.c_str(),
                  static_cast<unsigned long long>(job_id_));
      return absl::OkStatus();
    });
  });
}

}  // namespace ratchet::cli
