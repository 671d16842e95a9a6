#include "commands.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "output.h"
#include "ratchet/api/time_codec.h"
#include "ratchet/base/status.h"

namespace ratchet::cli {
namespace {

std::string StateName(v1::JobState s) {
  std::string name = v1::JobState_Name(s);
  return absl::AsciiStrToLower(name.substr(sizeof("JOB_STATE_") - 1));
}

absl::StatusOr<v1::JobState> ParseState(const std::string& text) {
  v1::JobState s;
  if (!v1::JobState_Parse("JOB_STATE_" + absl::AsciiStrToUpper(text), &s) ||
      s == v1::JOB_STATE_UNSPECIFIED) {
    return InvalidArgument("--state",
                           absl::StrCat("'", text,
                                        "' is not one of scheduled, "
                                        "available, running, completed, dead, cancelled"));
  }
  return s;
}

std::string Time(const google::protobuf::Timestamp& t) {
  return FormatTime(t.seconds(), t.nanos());
}

std::string Ms(const google::protobuf::Duration& d) {
  return absl::StrCat(FromProtoDuration(d).count(), "ms");
}

void PrintJobs(const v1::ListJobsResponse& r) {
  Table table({"ID", "TYPE", "STATE", "ATTEMPTS", "RUN_AT", "WORKER", "LAST_ERROR"});
  for (const v1::Job& j : r.jobs()) {
    table.Add({std::to_string(j.id()), j.job_type(), StateName(j.state()),
               absl::StrCat(j.attempts(), "/", j.max_attempts()), Time(j.run_at()),
               j.worker_id().empty() ? "-" : j.worker_id(),
               j.errors().empty() ? "-" : j.errors().rbegin()->message().substr(0, 60)});
  }
  table.Print();
  if (!r.next_cursor().empty()) std::printf("next cursor: %s\n", r.next_cursor().c_str());
}

void PrintJob(const v1::Job& j) {
  Table t({"FIELD", "VALUE"});
  t.Add({"id", std::to_string(j.id())});
  t.Add({"queue", j.queue()});
  t.Add({"type", j.job_type()});
  t.Add({"state", StateName(j.state())});
  t.Add({"attempts", absl::StrCat(j.attempts(), "/", j.max_attempts())});
  t.Add({"priority", std::to_string(j.priority())});
  t.Add({"idempotency_key", j.idempotency_key()});
  t.Add({"created_at", Time(j.created_at())});
  t.Add({"run_at", Time(j.run_at())});
  t.Add({"lease_deadline", Time(j.lease_deadline())});
  t.Add({"fencing_token", std::to_string(j.fencing_token())});
  t.Add({"worker_id", j.worker_id()});
  t.Add({"cancel_requested", j.cancel_requested() ? "yes" : "no"});
  t.Add({"finished_at", Time(j.finished_at())});
  t.Add({"payload_bytes", std::to_string(j.payload().size())});
  t.Add({"result", j.result().substr(0, 200)});
  for (const auto& e : j.errors()) {
    t.Add({absl::StrCat("error[attempt ", e.attempt(), "]"),
           absl::StrCat(Time(e.at()), " ", e.message().substr(0, 200))});
  }
  t.Print();
}

void PrintQueues(const std::vector<v1::QueueInfo>& queues) {
  Table t({"QUEUE", "PAUSED", "SCHEDULED", "AVAILABLE", "RUNNING", "COMPLETED", "CANCELLED", "DEAD",
           "CONCURRENCY", "MAX_ATTEMPTS", "VISIBILITY"});
  for (const auto& q : queues) {
    t.Add({q.name(), q.settings().paused() ? "yes" : "no", std::to_string(q.scheduled()),
           std::to_string(q.available()), std::to_string(q.running()),
           std::to_string(q.completed()), std::to_string(q.cancelled()), std::to_string(q.dead()),
           q.settings().concurrency_limit() == 0 ? "unlimited"
                                                 : std::to_string(q.settings().concurrency_limit()),
           std::to_string(q.settings().max_attempts()), Ms(q.settings().visibility_timeout())});
  }
  t.Print();
}

}  // namespace

void Commands::Run(const std::function<absl::Status(Client&)>& body) {
  auto client = Client::Connect({.target = g_->server, .deadline = Millis(g_->timeout_ms)});
  absl::Status status = client.ok() ? body(**client) : client.status();
  if (!status.ok()) {
    PrintError(status);
    exit_code_ = 1;
  }
}

void Commands::Register(CLI::App& app) {
  RegisterJobs(app);
  RegisterQueues(app);
  RegisterDeadLetters(app);
  RegisterWorkflows(app);
  RegisterSchedules(app);
}

absl::Status Commands::ReadPayload(std::string* out) const {
  *out = payload_;
  if (payload_file_.empty()) return absl::OkStatus();
  std::ifstream in(payload_file_, std::ios::binary);
  if (!in) return InvalidArgument("--payload-file", "cannot read " + payload_file_);
  std::stringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return absl::OkStatus();
}

void Commands::RegisterJobs(CLI::App& app) {
  CLI::App* enqueue = app.add_subcommand("enqueue", "enqueue one job");
  enqueue->add_option("queue", queue_, "queue name")->required();
  enqueue->add_option("type", job_type_, "job type")->required();
  auto* payload = enqueue->add_option("--payload", payload_, "payload bytes");
  enqueue->add_option("--payload-file", payload_file_, "read the payload from a file")
      ->excludes(payload);
  enqueue->add_option("--key", key_, "idempotency key (default: a random one)");
  enqueue->add_option("--delay-ms", delay_ms_, "start no earlier than this from now, ms");
  enqueue->add_option("--priority", priority_, "0..1000, lower first (default 100)");
  enqueue->add_option("--max-attempts", max_attempts_, "attempts before dead-lettering");
  enqueue->callback([this] {
    Run([this](Client& c) -> absl::Status {
      v1::JobSpec job;
      job.set_queue(queue_);
      job.set_job_type(job_type_);
      RATCHET_RETURN_IF_ERROR(ReadPayload(job.mutable_payload()));
      job.set_idempotency_key(key_);
      if (delay_ms_) *job.mutable_delay() = ToProtoDuration(Millis(*delay_ms_));
      if (priority_) job.set_priority(*priority_);
      if (max_attempts_) job.set_max_attempts(*max_attempts_);
      RATCHET_ASSIGN_OR_RETURN(auto r, c.Enqueue(std::move(job)));
      if (g_->json) {
        PrintJson(r);
      } else {
        std::printf("%s %llu\n", r.duplicate() ? "duplicate of job" : "enqueued job",
                    static_cast<unsigned long long>(r.job_id()));
      }
      return absl::OkStatus();
    });
  });

  CLI::App* get = app.add_subcommand("get", "show one job");
  get->add_option("id", job_id_, "job id")->required();
  get->callback([this] {
    Run([this](Client& c) -> absl::Status {
      RATCHET_ASSIGN_OR_RETURN(auto job, c.GetJob(job_id_));
      g_->json ? PrintJson(job) : PrintJob(job);
      return absl::OkStatus();
    });
  });

  CLI::App* list = app.add_subcommand("list", "list the jobs of a queue in one state");
  list->add_option("queue", queue_, "queue name")->required();
  list->add_option("--state", state_, "scheduled|available|running|completed|dead|cancelled");
  list->add_option("--limit", limit_, "jobs per page, 1..1000 (default 100)");
  list->add_option("--cursor", cursor_, "next cursor of a previous page");
  list->callback([this] {
    Run([this](Client& c) -> absl::Status {
      RATCHET_ASSIGN_OR_RETURN(v1::JobState state, ParseState(state_));
      v1::ListJobsRequest req;
      req.set_queue(queue_);
      req.set_state(state);
      req.set_limit(limit_);
      req.set_cursor(cursor_);
      RATCHET_ASSIGN_OR_RETURN(auto r, c.ListJobs(req));
      g_->json ? PrintJson(r) : PrintJobs(r);
      return absl::OkStatus();
    });
  });

  CLI::App* cancel = app.add_subcommand("cancel", "cancel a job (running: request it)");
  cancel->add_option("id", job_id_, "job id")->required();
  cancel->callback([this] {
    Run([this](Client& c) -> absl::Status {
      RATCHET_ASSIGN_OR_RETURN(auto state, c.CancelJob(job_id_));
      if (g_->json) {
        v1::CancelJobResponse r;
        r.set_state(state);
        PrintJson(r);
      } else {
        std::printf("job %llu: %s\n", static_cast<unsigned long long>(job_id_),
                    state == v1::JOB_STATE_RUNNING ? "cancel requested (running)"
                                                   : StateName(state).c_str());
      }
      return absl::OkStatus();
    });
  });
}

void Commands::RegisterQueues(CLI::App& app) {
  CLI::App* queues = app.add_subcommand("queues", "list, inspect and configure queues");
  queues->require_subcommand(1);
  queues->add_subcommand("list", "every queue with its counts")->callback([this] {
    Run([this](Client& c) -> absl::Status {
      RATCHET_ASSIGN_OR_RETURN(auto list, c.ListQueues());
      if (g_->json) {
        v1::ListQueuesResponse r;
        for (auto& q : list) *r.add_queues() = q;
        PrintJson(r);
      } else {
        PrintQueues(list);
      }
      return absl::OkStatus();
    });
  });
  auto print_queue = [this](const v1::QueueInfo& q) { g_->json ? PrintJson(q) : PrintQueues({q}); };

  CLI::App* get = queues->add_subcommand("get", "one queue's settings and counts");
  get->add_option("queue", queue_)->required();
  get->callback([this, print_queue] {
    Run([this, print_queue](Client& c) -> absl::Status {
      RATCHET_ASSIGN_OR_RETURN(auto q, c.GetQueue(queue_));
      print_queue(q);
      return absl::OkStatus();
    });
  });

  CLI::App* set = queues->add_subcommand("set", "change queue settings (others keep their value)");
  set->add_option("queue", queue_)->required();
  set->add_option("--concurrency", concurrency_, "max running jobs; 0 = unlimited");
  set->add_option("--max-attempts", max_attempts_, "default attempts per job");
  set->add_option("--visibility-timeout-ms", visibility_ms_, "default lease length, ms");
  set->add_option("--completed-retention-ms", completed_retention_ms_, "keep finished jobs, ms");
  set->add_option("--dead-retention-ms", dead_retention_ms_, "keep dead letters, ms");
  set->add_option("--initial-backoff-ms", initial_backoff_ms_, "retry policy base delay, ms");
  set->add_option("--max-backoff-ms", max_backoff_ms_, "retry policy delay cap, ms");
  set->add_option("--multiplier", multiplier_, "retry policy growth per attempt");
  set->add_option("--jitter", jitter_, "none|full|equal|decorrelated");
  set->callback([this, print_queue] {
    Run([this, print_queue](Client& c) -> absl::Status {
      v1::UpdateQueueRequest req;
      req.set_queue(queue_);
      if (concurrency_) req.set_concurrency_limit(*concurrency_);
      if (max_attempts_) req.set_max_attempts(*max_attempts_);
      if (visibility_ms_)
        *req.mutable_visibility_timeout() = ToProtoDuration(Millis(*visibility_ms_));
      if (completed_retention_ms_) {
        *req.mutable_completed_retention() = ToProtoDuration(Millis(*completed_retention_ms_));
      }
      if (dead_retention_ms_) {
        *req.mutable_dead_retention() = ToProtoDuration(Millis(*dead_retention_ms_));
      }
      if (initial_backoff_ms_ || max_backoff_ms_ || multiplier_ || !jitter_.empty()) {
        // A retry policy is replaced whole: start from the current one.
        RATCHET_ASSIGN_OR_RETURN(auto current, c.GetQueue(queue_));
        v1::RetryPolicy p = current.settings().retry_policy();
        if (initial_backoff_ms_)
          *p.mutable_initial_backoff() = ToProtoDuration(Millis(*initial_backoff_ms_));
        if (max_backoff_ms_) *p.mutable_max_backoff() = ToProtoDuration(Millis(*max_backoff_ms_));
        if (multiplier_) p.set_multiplier(*multiplier_);
        if (!jitter_.empty()) {
          v1::Jitter j;
          if (!v1::Jitter_Parse("JITTER_" + absl::AsciiStrToUpper(jitter_), &j)) {
            return InvalidArgument("--jitter", "must be none, full, equal or decorrelated");
          }
          p.set_jitter(j);
        }
        *req.mutable_retry_policy() = p;
      }
      RATCHET_ASSIGN_OR_RETURN(auto q, c.UpdateQueue(req));
      print_queue(q);
      return absl::OkStatus();
    });
  });

  for (bool pause : {true, false}) {
    CLI::App* cmd = queues->add_subcommand(pause ? "pause" : "resume",
                                           pause ? "stop leasing from a queue" : "lease again");
    cmd->add_option("queue", queue_)->required();
    cmd->callback([this, pause, print_queue] {
      Run([this, pause, print_queue](Client& c) -> absl::Status {
        RATCHET_ASSIGN_OR_RETURN(auto q, pause ? c.PauseQueue(queue_) : c.ResumeQueue(queue_));
        print_queue(q);
        return absl::OkStatus();
      });
    });
  }
}

void Commands::RegisterDeadLetters(CLI::App& app) {
  CLI::App* dlq = app.add_subcommand("dlq", "dead-letter queues: list, redrive, purge");
  dlq->require_subcommand(1);
  CLI::App* list = dlq->add_subcommand("list", "dead jobs of a queue");
  list->add_option("queue", queue_)->required();
  list->add_option("--limit", limit_, "jobs per page, 1..1000 (default 100)");
  list->add_option("--cursor", cursor_, "next cursor of a previous page");
  list->callback([this] {
    Run([this](Client& c) -> absl::Status {
      v1::ListDeadLettersRequest req;
      req.set_queue(queue_);
      req.set_limit(limit_);
      req.set_cursor(cursor_);
      RATCHET_ASSIGN_OR_RETURN(auto r, c.ListDeadLetters(req));
      g_->json ? PrintJson(r) : PrintJobs(r);
      return absl::OkStatus();
    });
  });
  for (bool redrive : {true, false}) {
    CLI::App* cmd =
        dlq->add_subcommand(redrive ? "redrive" : "purge",
                            redrive ? "move dead jobs back to available" : "delete dead jobs");
    cmd->add_option("queue", queue_)->required();
    cmd->add_option("--job-id", job_id_, "only this job");
    cmd->add_option("--job-type", job_type_, "only jobs of this type");
    cmd->add_option("--limit", limit_, "most jobs per call, 1..10000 (default 1000)");
    if (redrive) cmd->add_flag("--reset-attempts", reset_attempts_, "start over at attempt 0");
    cmd->callback([this, redrive] {
      Run([this, redrive](Client& c) -> absl::Status {
        v1::DeadLetterFilter f;
        f.set_queue(queue_);
        f.set_job_id(job_id_);
        f.set_job_type(job_type_);
        f.set_limit(limit_);
        absl::StatusOr<v1::BulkResponse> r;
        if (redrive) {
          v1::RedriveDeadLettersRequest req;
          *req.mutable_filter() = f;
          req.set_reset_attempts(reset_attempts_);
          r = c.RedriveDeadLetters(req);
        } else {
          v1::PurgeDeadLettersRequest req;
          *req.mutable_filter() = f;
          r = c.PurgeDeadLetters(req);
        }
        if (!r.ok()) return r.status();
        if (g_->json) {
          PrintJson(*r);
        } else {
          std::printf("%s %d job(s)%s\n", redrive ? "redrove" : "purged", r->count(),
                      r->more() ? "; more match, run again" : "");
        }
        return absl::OkStatus();
      });
    });
  }
}

}  // namespace ratchet::cli
