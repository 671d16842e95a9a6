// `ratchet enqueue | get | list | cancel`: one job at a time, or a page of a
// queue's jobs in one state.
#include <cstdio>
#include <memory>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "commands.h"
#include "output.h"
#include "ratchet/api/time_codec.h"
#include "ratchet/base/status.h"

namespace ratchet::cli {
namespace {

// The arguments of the job commands (only one runs).
struct JobOptions {
  std::string queue;
  std::string job_type;
  PayloadOptions payload;
  std::string key;
  std::string concurrency_key;
  std::string traceparent;  // W3C; "": the call's ($TRACEPARENT, main.cc)
  std::optional<int64_t> delay_ms;
  std::optional<int> priority;
  std::optional<int> max_attempts;
  // Unique jobs: any of these makes the job unique.
  std::string unique_by;  // "args" | "key" ("" : key if --unique-key, else args)
  std::string unique_key;
  std::string unique_states;  // comma-separated; "" : the live states
  std::optional<int64_t> unique_period_ms;
  // Timeouts and expiry.
  std::optional<int64_t> attempt_timeout_ms;
  std::optional<int64_t> expires_in_ms;  // from this machine's clock
  std::string expires_at;                // RFC 3339
  uint64_t job_id = 0;
  std::string state = "available";
  int limit = 0;
  std::string cursor;
  // list and bulk cancel filters ("": any).
  std::string filter_type;
  std::string filter_key;
  // Bulk cancel: the queue whose jobs to cancel, and their state ("": any live).
  std::string cancel_queue;
  std::string cancel_state;
};

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

bool WantsUnique(const JobOptions& o) {
  return !o.unique_by.empty() || !o.unique_key.empty() || !o.unique_states.empty() ||
         o.unique_period_ms.has_value();
}

absl::Status FillUnique(const JobOptions& o, v1::UniqueOptions* u) {
  const bool by_key = o.unique_by == "key" || (o.unique_by.empty() && !o.unique_key.empty());
  u->set_by(by_key ? v1::UNIQUE_BY_KEY : v1::UNIQUE_BY_ARGS);
  u->set_key(o.unique_key);
  for (absl::string_view text : absl::StrSplit(o.unique_states, ',', absl::SkipWhitespace())) {
    auto state = ParseState(std::string(absl::StripAsciiWhitespace(text)));
    if (!state.ok()) return InvalidArgument("--unique-states", state.status().message());
    u->add_states(*state);
  }
  if (o.unique_period_ms) *u->mutable_period() = ToProtoDuration(Millis(*o.unique_period_ms));
  return absl::OkStatus();
}

// --attempt-timeout-ms, --expires-in-ms and --expires-at into `job`.
absl::Status FillTimeouts(const JobOptions& o, v1::JobSpec& job) {
  if (o.attempt_timeout_ms) {
    *job.mutable_attempt_timeout() = ToProtoDuration(Millis(*o.attempt_timeout_ms));
  }
  if (o.expires_in_ms && !o.expires_at.empty()) {
    return InvalidArgument("--expires-at", "give --expires-at or --expires-in-ms, not both");
  }
  if (o.expires_in_ms) {
    // On this machine's clock: skew against the server's shifts the expiry.
    const TimePoint at = FromUnixMs(absl::ToUnixMillis(absl::Now()) + *o.expires_in_ms);
    *job.mutable_expires_at() = ToProtoTime(at);
  }
  if (!o.expires_at.empty()) {
    absl::Time t;
    std::string error;
    if (!absl::ParseTime(absl::RFC3339_full, o.expires_at, &t, &error)) {
      return InvalidArgument("--expires-at",
                             absl::StrCat("'", o.expires_at, "' is not an RFC 3339 time: ", error));
    }
    *job.mutable_expires_at() = ToProtoTime(FromUnixMs(absl::ToUnixMillis(t)));
  }
  return absl::OkStatus();
}

void PrintJob(const v1::Job& j) {
  Table t({"FIELD", "VALUE"});
  t.Add({"id", std::to_string(j.id())});
  t.Add({"queue", j.queue()});
  t.Add({"type", j.job_type()});
  t.Add({"state", JobStateName(j.state())});
  t.Add({"attempts", absl::StrCat(j.attempts(), "/", j.max_attempts())});
  t.Add({"priority", std::to_string(j.priority())});
  t.Add({"idempotency_key", j.idempotency_key()});
  t.Add({"concurrency_key", j.concurrency_key()});
  if (!j.traceparent().empty()) t.Add({"traceparent", j.traceparent()});
  if (!j.unique_key().empty()) t.Add({"unique_key", j.unique_key()});
  if (j.has_progress() || !j.progress_message().empty()) {
    t.Add({"progress", absl::StrCat(j.has_progress() ? absl::StrCat(j.progress() * 100, "%") : "-",
                                    j.progress_message().empty() ? "" : " ", j.progress_message(),
                                    " (at ", FormatTime(j.progress_updated_at()), ")")});
  }
  t.Add({"created_at", FormatTime(j.created_at())});
  t.Add({"run_at", FormatTime(j.run_at())});
  t.Add({"lease_deadline", FormatTime(j.lease_deadline())});
  t.Add({"fencing_token", std::to_string(j.fencing_token())});
  t.Add({"worker_id", j.worker_id()});
  t.Add({"cancel_requested", j.cancel_requested() ? "yes" : "no"});
  t.Add({"finished_at", FormatTime(j.finished_at())});
  if (j.has_attempt_timeout()) {
    t.Add({"attempt_timeout_ms", std::to_string(FromProtoDuration(j.attempt_timeout()).count())});
  }
  if (j.has_attempt_started_at()) t.Add({"attempt_started_at", FormatTime(j.attempt_started_at())});
  if (j.has_expires_at()) t.Add({"expires_at", FormatTime(j.expires_at())});
  if (!j.cancel_reason().empty()) t.Add({"cancel_reason", j.cancel_reason()});
  t.Add({"payload_bytes", std::to_string(j.payload().size())});
  t.Add({"result", j.result().substr(0, 200)});
  for (const auto& e : j.errors()) {
    t.Add({absl::StrCat("error[attempt ", e.attempt(), "]"),
           absl::StrCat(FormatTime(e.at()), " ", e.message().substr(0, 200))});
  }
  t.Print();
}

absl::Status Enqueue(Client& c, const JobOptions& o, bool json) {
  v1::JobSpec job;
  job.set_queue(o.queue);
  job.set_job_type(o.job_type);
  RATCHET_RETURN_IF_ERROR(o.payload.Read(job.mutable_payload()));
  job.set_idempotency_key(o.key);
  job.set_concurrency_key(o.concurrency_key);
  job.set_traceparent(o.traceparent);
  if (o.delay_ms) *job.mutable_delay() = ToProtoDuration(Millis(*o.delay_ms));
  if (o.priority) job.set_priority(*o.priority);
  if (o.max_attempts) job.set_max_attempts(*o.max_attempts);
  if (WantsUnique(o)) RATCHET_RETURN_IF_ERROR(FillUnique(o, job.mutable_unique()));
  RATCHET_RETURN_IF_ERROR(FillTimeouts(o, job));
  RATCHET_ASSIGN_OR_RETURN(auto r, c.Enqueue(std::move(job)));
  if (r.unique_match() && !json) {
    std::printf("unique match: job %llu (%s); nothing enqueued\n",
                static_cast<unsigned long long>(r.job_id()),
                JobStateName(r.unique_match_state()).c_str());
    return absl::OkStatus();
  }
  PrintAccepted(r, json, "enqueued", "job", r.duplicate(), r.job_id());
  return absl::OkStatus();
}

absl::Status Get(Client& c, const JobOptions& o, bool json) {
  RATCHET_ASSIGN_OR_RETURN(auto job, c.GetJob(o.job_id));
  json ? PrintJson(job) : PrintJob(job);
  return absl::OkStatus();
}

absl::Status List(Client& c, const JobOptions& o, bool json) {
  RATCHET_ASSIGN_OR_RETURN(v1::JobState state, ParseState(o.state));
  v1::ListJobsRequest req;
  req.set_queue(o.queue);
  req.set_state(state);
  req.set_limit(o.limit);
  req.set_cursor(o.cursor);
  req.set_job_type(o.filter_type);
  req.set_concurrency_key(o.filter_key);
  RATCHET_ASSIGN_OR_RETURN(auto r, c.ListJobs(req));
  json ? PrintJson(r) : PrintJobs(r);
  return absl::OkStatus();
}

std::string ReasonName(v1::WaitReason r) {
  std::string name = v1::WaitReason_Name(r);
  if (absl::StartsWith(name, "WAIT_")) name = name.substr(5);
  return absl::AsciiStrToLower(name);
}

absl::Status Explain(Client& c, const JobOptions& o, bool json) {
  RATCHET_ASSIGN_OR_RETURN(auto e, c.ExplainJob(o.job_id));
  if (json) {
    PrintJson(e);
    return absl::OkStatus();
  }
  std::printf("job %llu (queue %s%s%s): %s\n", static_cast<unsigned long long>(e.job_id()),
              e.queue().c_str(), e.concurrency_key().empty() ? "" : ", key ",
              e.concurrency_key().c_str(), JobStateName(e.state()).c_str());
  for (const v1::WaitCause& cause : e.causes()) {
    std::printf("  %-20s %s\n", ReasonName(cause.reason()).c_str(), cause.message().c_str());
    if (cause.holders_size() > 0) {
      std::printf("  %-20s %s\n", "",
                  absl::StrCat("held by jobs ", absl::StrJoin(cause.holders(), ", ")).c_str());
    }
    if (!cause.detail().empty() && cause.reason() != v1::WAIT_RUNNING) {
      std::printf("  %-20s %s\n", "", cause.detail().c_str());
    }
  }
  if (e.has_expires_at()) {
    std::printf(
        "  %-20s %s\n", "expires_at",
        absl::StrCat(FormatTime(e.expires_at()), " (cancelled if not started by then)").c_str());
  }
  return absl::OkStatus();
}

// `cancel --queue Q [--state S] [--type T] [--concurrency-key K]`.
absl::Status CancelMany(Client& c, const JobOptions& o, bool json) {
  v1::CancelJobsRequest req;
  req.set_queue(o.cancel_queue);
  if (!o.cancel_state.empty()) {
    RATCHET_ASSIGN_OR_RETURN(v1::JobState state, ParseState(o.cancel_state));
    req.set_state(state);
  }
  req.set_job_type(o.filter_type);
  req.set_concurrency_key(o.filter_key);
  RATCHET_ASSIGN_OR_RETURN(auto r, c.CancelJobs(req));
  if (json) {
    PrintJson(r);
  } else {
    std::printf("cancelled %lld job(s); cancel requested for %lld running job(s)\n",
                static_cast<long long>(r.cancelled()),
                static_cast<long long>(r.cancel_requested()));
  }
  return absl::OkStatus();
}

absl::Status Cancel(Client& c, const JobOptions& o, bool json) {
  if (!o.cancel_queue.empty()) {
    if (o.job_id != 0) return InvalidArgument("id", "give a job id or --queue, not both");
    return CancelMany(c, o, json);
  }
  if (o.job_id == 0) return InvalidArgument("id", "give a job id, or --queue to cancel by filter");
  if (!o.cancel_state.empty() || !o.filter_type.empty() || !o.filter_key.empty()) {
    return InvalidArgument("--queue", "--state, --type and --concurrency-key need --queue");
  }
  RATCHET_ASSIGN_OR_RETURN(auto state, c.CancelJob(o.job_id));
  if (json) {
    v1::CancelJobResponse r;
    r.set_state(state);
    PrintJson(r);
  } else {
    std::printf("job %llu: %s\n", static_cast<unsigned long long>(o.job_id),
                state == v1::JOB_STATE_RUNNING ? "cancel requested (running)"
                                               : JobStateName(state).c_str());
  }
  return absl::OkStatus();
}

absl::Status RetryNow(Client& c, const JobOptions& o, bool json) {
  RATCHET_ASSIGN_OR_RETURN(auto state, c.RetryJob(o.job_id));
  if (json) {
    v1::RetryJobResponse r;
    r.set_state(state);
    PrintJson(r);
  } else {
    std::printf("job %llu: %s\n", static_cast<unsigned long long>(o.job_id),
                JobStateName(state).c_str());
  }
  return absl::OkStatus();
}

// get, list, explain, cancel and retry, under `parent` (the top level, or `jobs`).
void RegisterLookups(CLI::App* parent, Runner& runner) {
  auto o = std::make_shared<JobOptions>();
  CLI::App* get = parent->add_subcommand("get", "show one job");
  get->add_option("id", o->job_id, "job id")->required();
  runner.Bind(get, o, Get);

  CLI::App* list = parent->add_subcommand("list", "list the jobs of a queue in one state");
  list->add_option("queue", o->queue, "queue name")->required();
  list->add_option("--state", o->state, "scheduled|available|running|completed|dead|cancelled");
  list->add_option("--type", o->filter_type, "only jobs of this type");
  list->add_option("--concurrency-key", o->filter_key, "only jobs with this concurrency key");
  list->add_option("--limit", o->limit, "jobs per page, 1..1000 (default 100)");
  list->add_option(
      "--cursor", o->cursor,
      "next cursor of a previous page (with --type/--concurrency-key a page examines at most "
      "1000 jobs, so it may be short or empty and still have a next cursor)");
  runner.Bind(list, o, List);

  CLI::App* explain =
      parent->add_subcommand("explain", "why a job is not running, and when it could");
  explain->add_option("id", o->job_id, "job id")->required();
  runner.Bind(explain, o, Explain);

  CLI::App* cancel = parent->add_subcommand(
      "cancel", "cancel a job (running: request it), or with --queue every job that matches");
  cancel->add_option("id", o->job_id, "job id");
  cancel->add_option("--queue", o->cancel_queue, "cancel the live jobs of this queue that match");
  cancel->add_option("--state", o->cancel_state, "with --queue: scheduled|available|running");
  cancel->add_option("--type", o->filter_type, "with --queue: only jobs of this type");
  cancel->add_option("--concurrency-key", o->filter_key,
                     "with --queue: only jobs with this concurrency key");
  runner.Bind(cancel, o, Cancel);

  CLI::App* retry = parent->add_subcommand(
      "retry", "retry now: a scheduled job (delay or retry backoff) becomes available at once");
  retry->add_option("id", o->job_id, "job id")->required();
  runner.Bind(retry, o, RetryNow);
}

}  // namespace

void RegisterJobCommands(CLI::App& app, Runner& runner) {
  auto o = std::make_shared<JobOptions>();

  CLI::App* enqueue = app.add_subcommand("enqueue", "enqueue one job");
  enqueue->add_option("queue", o->queue, "queue name")->required();
  enqueue->add_option("type", o->job_type, "job type")->required();
  o->payload.AddTo(enqueue);
  enqueue->add_option("--key", o->key, "idempotency key (default: a random one)");
  enqueue->add_option("--concurrency-key", o->concurrency_key,
                      "the job's concurrency key (tenant, account): per-key limits apply");
  enqueue->add_option("--traceparent", o->traceparent,
                      "W3C trace context to store with the job and hand to its worker "
                      "(default: $TRACEPARENT, if valid)");
  enqueue->add_option("--delay-ms", o->delay_ms, "start no earlier than this from now, ms");
  enqueue->add_option("--priority", o->priority, "0..1000, lower first (default 100)");
  enqueue->add_option("--max-attempts", o->max_attempts, "attempts before dead-lettering");
  enqueue
      ->add_option("--unique-by", o->unique_by,
                   "unique job: 'args' (type and payload) or 'key' (--unique-key)")
      ->check(CLI::IsMember({"args", "key"}));
  enqueue->add_option("--unique-key", o->unique_key, "unique job by this key (1..256 bytes)");
  enqueue->add_option("--unique-states", o->unique_states,
                      "covered states, comma-separated (default scheduled,available,running)");
  enqueue->add_option("--unique-period-ms", o->unique_period_ms,
                      "only match jobs created less than this long ago, ms (default: any age)");
  enqueue->add_option("--attempt-timeout-ms", o->attempt_timeout_ms,
                      "end each attempt after this long, even while heartbeating, ms "
                      "(1..604800000; 0 or unset: none)");
  enqueue->add_option("--expires-in-ms", o->expires_in_ms,
                      "cancel the job (reason 'expired') if not started this long from now, ms");
  enqueue->add_option("--expires-at", o->expires_at,
                      "cancel the job (reason 'expired') if not started by this RFC 3339 time");
  runner.Bind(enqueue, o, Enqueue);

  RegisterLookups(&app, runner);  // `ratchet get 5`, as before
  RegisterLookups(
      AddFamily(app, "jobs", "one job or a queue's jobs: get, list, explain, cancel, retry"),
      runner);
}

}  // namespace ratchet::cli
