// `ratchet schedules ...`: create, update, delete, get, list (with the next
// tick of each), pause, resume and trigger.
#include <cstdio>
#include <memory>
#include <optional>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "commands.h"
#include "output.h"
#include "ratchet/api/time_codec.h"
#include "ratchet/base/status.h"

namespace ratchet::cli {
namespace {

// The arguments of the schedule commands (only one runs). Everything but
// `id` is the definition that create and update send.
struct ScheduleOptions {
  std::string id;
  std::string spec;
  std::string queue;
  std::string job_type;
  std::string time_zone = "UTC";
  PayloadOptions payload;
  std::string missed;
  std::optional<int64_t> catchup_ms;
  std::string overlap;
  std::optional<int64_t> jitter_ms;
  std::string start_at;
  std::string end_at;
  std::optional<int> max_attempts;
  // list: the page.
  int limit = 0;
  std::string cursor;
};

std::string Missed(v1::MissedRunPolicy p) {
  return EnumWord(v1::MissedRunPolicy_Name(p), sizeof("MISSED_") - 1);
}

std::string Overlap(v1::OverlapPolicy p) {
  return EnumWord(v1::OverlapPolicy_Name(p), sizeof("OVERLAP_") - 1);
}

absl::StatusOr<google::protobuf::Timestamp> ParseTime(const std::string& field,
                                                      const std::string& text) {
  absl::Time t;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, text, &t, &error)) {
    return InvalidArgument(field, absl::StrCat("'", text, "' is not RFC 3339 (", error, ")"));
  }
  return ToProtoTime(FromUnixMs(absl::ToUnixMillis(t)));
}

void PrintSchedules(const std::vector<v1::ScheduleInfo>& all) {
  Table t({"ID", "SPEC", "TIME_ZONE", "STATE", "NEXT_TICK", "LAST_TICK", "LAST_JOB", "FIRED",
           "SKIPPED", "QUEUE", "TYPE", "MISSED", "OVERLAP"});
  for (const v1::ScheduleInfo& s : all) {
    const v1::ScheduleSpec& spec = s.spec();
    t.Add({spec.id(), spec.spec(), spec.time_zone(), spec.paused() ? "paused" : "active",
           s.has_next_tick() ? FormatTime(s.next_tick()) : "-",
           s.has_last_tick() ? FormatTime(s.last_tick()) : "-",
           s.last_job_id() ? std::to_string(s.last_job_id()) : "-", std::to_string(s.fired()),
           absl::StrCat(s.skipped_missed() + s.skipped_overlap()), spec.queue(), spec.job_type(),
           Missed(spec.missed()), Overlap(spec.overlap())});
  }
  t.Print();
}

void PrintSchedule(const v1::ScheduleInfo& info, bool json) {
  if (json) return PrintJson(info);
  PrintSchedules({info});
}

// The arguments of create and update.
void AddDefinition(CLI::App* cmd, ScheduleOptions& o) {
  cmd->add_option("id", o.id, "schedule id")->required();
  cmd->add_option("spec", o.spec,
                  "cron (\"0 3 * * *\"), @hourly/@daily/@weekly, or "
                  "\"@every 15m\"")
      ->required();
  cmd->add_option("queue", o.queue, "queue of the jobs it enqueues")->required();
  cmd->add_option("type", o.job_type, "job type")->required();
  cmd->add_option("--tz", o.time_zone, "IANA time zone (default UTC)");
  o.payload.AddTo(cmd);
  cmd->add_option("--missed", o.missed, "skip, run_once (default) or run_all");
  cmd->add_option("--catchup-ms", o.catchup_ms, "run_all/run_once window, ms (default 24 h)");
  cmd->add_option("--overlap", o.overlap, "allow (default), skip or buffer_one");
  cmd->add_option("--jitter-ms", o.jitter_ms, "random delay per fire, [0, jitter) ms");
  cmd->add_option("--start", o.start_at, "no tick before this RFC 3339 time");
  cmd->add_option("--end", o.end_at, "no tick after this RFC 3339 time");
  cmd->add_option("--max-attempts", o.max_attempts, "attempts of each fired job");
}

// The policy `word` of `flag` ("run_all": MISSED_RUN_ALL), parsed by its
// enum's `parse`; `choices` lists the words in the error.
template <typename Policy>
absl::StatusOr<Policy> ParsePolicy(bool (*parse)(const std::string&, Policy*),
                                   const std::string& prefix, const char* flag,
                                   const std::string& word, const char* choices) {
  Policy p;
  if (!parse(prefix + absl::AsciiStrToUpper(word), &p)) {
    return InvalidArgument(flag, absl::StrCat("'", word, "' is not ", choices));
  }
  return p;
}

// Sets the policies given as words (empty: the server's default).
absl::Status SetPolicies(const ScheduleOptions& o, v1::ScheduleSpec& s) {
  if (!o.missed.empty()) {
    RATCHET_ASSIGN_OR_RETURN(auto missed,
                             ParsePolicy(v1::MissedRunPolicy_Parse, "MISSED_", "--missed", o.missed,
                                         "skip, run_once or run_all"));
    s.set_missed(missed);
  }
  if (!o.overlap.empty()) {
    RATCHET_ASSIGN_OR_RETURN(
        auto overlap, ParsePolicy(v1::OverlapPolicy_Parse, "OVERLAP_", "--overlap", o.overlap,
                                  "allow, skip or buffer_one"));
    s.set_overlap(overlap);
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::ScheduleSpec> Definition(const ScheduleOptions& o) {
  v1::ScheduleSpec s;
  s.set_id(o.id);
  s.set_spec(o.spec);
  s.set_time_zone(o.time_zone);
  s.set_queue(o.queue);
  s.set_job_type(o.job_type);
  RATCHET_RETURN_IF_ERROR(o.payload.Read(s.mutable_payload()));
  RATCHET_RETURN_IF_ERROR(SetPolicies(o, s));
  if (o.catchup_ms) *s.mutable_catchup_window() = ToProtoDuration(Millis(*o.catchup_ms));
  if (o.jitter_ms) *s.mutable_jitter() = ToProtoDuration(Millis(*o.jitter_ms));
  if (!o.start_at.empty()) {
    RATCHET_ASSIGN_OR_RETURN(*s.mutable_start_at(), ParseTime("--start", o.start_at));
  }
  if (!o.end_at.empty()) {
    RATCHET_ASSIGN_OR_RETURN(*s.mutable_end_at(), ParseTime("--end", o.end_at));
  }
  if (o.max_attempts) s.set_max_attempts(*o.max_attempts);
  return s;
}

// create (`create`) or update a schedule from its definition.
absl::Status Define(Client& c, const ScheduleOptions& o, bool create, bool json) {
  RATCHET_ASSIGN_OR_RETURN(auto spec, Definition(o));
  RATCHET_ASSIGN_OR_RETURN(auto info, create ? c.CreateSchedule(spec) : c.UpdateSchedule(spec));
  PrintSchedule(info, json);
  return absl::OkStatus();
}

absl::Status List(Client& c, const ScheduleOptions& o, bool json) {
  v1::ListSchedulesRequest req;
  req.set_limit(o.limit);
  req.set_cursor(o.cursor);
  RATCHET_ASSIGN_OR_RETURN(v1::ListSchedulesResponse page, c.ListSchedules(req));
  if (json) {
    PrintJson(page);
    return absl::OkStatus();
  }
  PrintSchedules({page.schedules().begin(), page.schedules().end()});
  if (!page.next_cursor().empty()) std::printf("next cursor: %s\n", page.next_cursor().c_str());
  return absl::OkStatus();
}

absl::Status Delete(Client& c, const ScheduleOptions& o, bool) {
  RATCHET_RETURN_IF_ERROR(c.DeleteSchedule(o.id));
  std::printf("deleted schedule %s\n", o.id.c_str());
  return absl::OkStatus();
}

absl::Status Trigger(Client& c, const ScheduleOptions& o, bool) {
  RATCHET_ASSIGN_OR_RETURN(uint64_t job, c.TriggerSchedule(o.id));
  std::printf("enqueued job %llu\n", static_cast<unsigned long long>(job));
  return absl::OkStatus();
}

}  // namespace

void RegisterScheduleCommands(CLI::App& app, Runner& runner) {
  auto o = std::make_shared<ScheduleOptions>();
  CLI::App* sc = AddFamily(app, "schedules", "cron and interval schedules");

  for (bool create : {true, false}) {
    CLI::App* cmd =
        sc->add_subcommand(create ? "create" : "update",
                           create ? "create a schedule" : "replace a schedule's definition");
    AddDefinition(cmd, *o);
    runner.Bind(cmd, [o, create](Client& c, bool json) { return Define(c, *o, create, json); });
  }

  CLI::App* list = sc->add_subcommand("list", "a page of schedules by id, with their next tick");
  list->add_option("--limit", o->limit, "at most this many (1..1000, default 100)");
  list->add_option("--cursor", o->cursor, "next cursor of a previous page");
  runner.Bind(list, o, List);

  // get, pause, resume: one id, answered with the schedule.
  struct ById {
    const char* name;
    const char* help;
    absl::StatusOr<v1::ScheduleInfo> (Client::*call)(const std::string&, CallOptions);
  };
  for (const ById& cmd :
       {ById{"get", "show a schedule", &Client::GetSchedule},
        ById{"pause", "stop firing until resumed", &Client::PauseSchedule},
        ById{"resume", "fire again (missed ticks per its policy)", &Client::ResumeSchedule}}) {
    CLI::App* sub = sc->add_subcommand(cmd.name, cmd.help);
    sub->add_option("id", o->id, "schedule id")->required();
    runner.Bind(sub, [o, call = cmd.call](Client& c, bool json) -> absl::Status {
      RATCHET_ASSIGN_OR_RETURN(auto info, (c.*call)(o->id, CallOptions{}));
      PrintSchedule(info, json);
      return absl::OkStatus();
    });
  }

  CLI::App* del = sc->add_subcommand("delete", "delete a schedule (its jobs stay)");
  del->add_option("id", o->id, "schedule id")->required();
  runner.Bind(del, o, Delete);

  CLI::App* trigger = sc->add_subcommand("trigger", "fire a schedule now");
  trigger->add_option("id", o->id, "schedule id")->required();
  runner.Bind(trigger, o, Trigger);
}

}  // namespace ratchet::cli
