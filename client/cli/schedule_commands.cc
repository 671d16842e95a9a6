// `ratchet schedules ...`: create, update, delete, get, list (with the next
// tick of each), pause, resume and trigger.
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "commands.h"
#include "output.h"
#include "ratchet/api/time_codec.h"
#include "ratchet/base/status.h"

namespace ratchet::cli {
namespace {

std::string Time(const google::protobuf::Timestamp& t) {
  return FormatTime(t.seconds(), t.nanos());
}

std::string Policy(const std::string& enum_name, size_t prefix) {
  return absl::AsciiStrToLower(enum_name.substr(prefix));
}

std::string Missed(v1::MissedRunPolicy p) {
  return Policy(v1::MissedRunPolicy_Name(p), sizeof("MISSED_") - 1);
}

std::string Overlap(v1::OverlapPolicy p) {
  return Policy(v1::OverlapPolicy_Name(p), sizeof("OVERLAP_") - 1);
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
           s.has_next_tick() ? Time(s.next_tick()) : "-",
           s.has_last_tick() ? Time(s.last_tick()) : "-",
           s.last_job_id() ? std::to_string(s.last_job_id()) : "-", std::to_string(s.fired()),
           absl::StrCat(s.skipped_missed() + s.skipped_overlap()), spec.queue(), spec.job_type(),
           Missed(spec.missed()), Overlap(spec.overlap())});
  }
  t.Print();
}

}  // namespace

void Commands::RegisterSchedules(CLI::App& app) {
  CLI::App* sc = app.add_subcommand("schedules", "cron and interval schedules");
  sc->require_subcommand(1);

  auto define = [this](CLI::App* cmd) {
    cmd->add_option("id", schedule_id_, "schedule id")->required();
    cmd->add_option("spec", spec_,
                    "cron (\"0 3 * * *\"), @hourly/@daily/@weekly, or "
                    "\"@every 15m\"")
        ->required();
    cmd->add_option("queue", queue_, "queue of the jobs it enqueues")->required();
    cmd->add_option("type", job_type_, "job type")->required();
    cmd->add_option("--tz", time_zone_, "IANA time zone (default UTC)");
    auto* payload = cmd->add_option("--payload", payload_, "payload bytes");
    cmd->add_option("--payload-file", payload_file_, "read the payload from a file")
        ->excludes(payload);
    cmd->add_option("--missed", missed_, "skip, run_once (default) or run_all");
    cmd->add_option("--catchup-ms", catchup_ms_, "run_all/run_once window, ms (default 24 h)");
    cmd->add_option("--overlap", overlap_, "allow (default), skip or buffer_one");
    cmd->add_option("--jitter-ms", jitter_ms_, "random delay per fire, [0, jitter) ms");
    cmd->add_option("--start", start_at_, "no tick before this RFC 3339 time");
    cmd->add_option("--end", end_at_, "no tick after this RFC 3339 time");
    cmd->add_option("--max-attempts", max_attempts_, "attempts of each fired job");
  };
  auto build = [this]() -> absl::StatusOr<v1::ScheduleSpec> {
    v1::ScheduleSpec s;
    s.set_id(schedule_id_);
    s.set_spec(spec_);
    s.set_time_zone(time_zone_);
    s.set_queue(queue_);
    s.set_job_type(job_type_);
    RATCHET_RETURN_IF_ERROR(ReadPayload(s.mutable_payload()));
    if (!missed_.empty()) {
      v1::MissedRunPolicy p;
      if (!v1::MissedRunPolicy_Parse("MISSED_" + absl::AsciiStrToUpper(missed_), &p)) {
        return InvalidArgument("--missed",
                               absl::StrCat("'", missed_, "' is not skip, run_once or run_all"));
      }
      s.set_missed(p);
    }
    if (!overlap_.empty()) {
      v1::OverlapPolicy p;
      if (!v1::OverlapPolicy_Parse("OVERLAP_" + absl::AsciiStrToUpper(overlap_), &p)) {
        return InvalidArgument("--overlap",
                               absl::StrCat("'", overlap_, "' is not allow, skip or buffer_one"));
      }
      s.set_overlap(p);
    }
    if (catchup_ms_) *s.mutable_catchup_window() = ToProtoDuration(Millis(*catchup_ms_));
    if (jitter_ms_) *s.mutable_jitter() = ToProtoDuration(Millis(*jitter_ms_));
    if (!start_at_.empty()) {
      RATCHET_ASSIGN_OR_RETURN(*s.mutable_start_at(), ParseTime("--start", start_at_));
    }
    if (!end_at_.empty()) {
      RATCHET_ASSIGN_OR_RETURN(*s.mutable_end_at(), ParseTime("--end", end_at_));
    }
    if (max_attempts_) s.set_max_attempts(*max_attempts_);
    return s;
  };
  auto show = [this](const v1::ScheduleInfo& info) {
    if (g_->json) return PrintJson(info);
    PrintSchedules({info});
  };

  CLI::App* create = sc->add_subcommand("create", "create a schedule");
  define(create);
  create->callback([this, build, show] {
    Run([&](Client& c) -> absl::Status {
      RATCHET_ASSIGN_OR_RETURN(auto spec, build());
      RATCHET_ASSIGN_OR_RETURN(auto info, c.CreateSchedule(spec));
      show(info);
      return absl::OkStatus();
    });
  });
  CLI::App* update = sc->add_subcommand("update", "replace a schedule's definition");
  define(update);
  update->callback([this, build, show] {
    Run([&](Client& c) -> absl::Status {
      RATCHET_ASSIGN_OR_RETURN(auto spec, build());
      RATCHET_ASSIGN_OR_RETURN(auto info, c.UpdateSchedule(spec));
      show(info);
      return absl::OkStatus();
    });
  });

  CLI::App* list = sc->add_subcommand("list", "list schedules with their next tick");
  list->callback([this] {
    Run([this](Client& c) -> absl::Status {
      RATCHET_ASSIGN_OR_RETURN(auto all, c.ListSchedules());
      if (g_->json) {
        v1::ListSchedulesResponse r;
        for (auto& s : all) *r.add_schedules() = std::move(s);
        PrintJson(r);
        return absl::OkStatus();
      }
      PrintSchedules(all);
      return absl::OkStatus();
    });
  });

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
    sub->add_option("id", schedule_id_, "schedule id")->required();
    sub->callback([this, show, call = cmd.call] {
      Run([&](Client& c) -> absl::Status {
        RATCHET_ASSIGN_OR_RETURN(auto info, (c.*call)(schedule_id_, CallOptions{}));
        show(info);
        return absl::OkStatus();
      });
    });
  }

  CLI::App* del = sc->add_subcommand("delete", "delete a schedule (its jobs stay)");
  del->add_option("id", schedule_id_, "schedule id")->required();
  del->callback([this] {
    Run([this](Client& c) -> absl::Status {
      RATCHET_RETURN_IF_ERROR(c.DeleteSchedule(schedule_id_));
      std::printf("deleted schedule %s\n", schedule_id_.c_str());
      return absl::OkStatus();
    });
  });

  CLI::App* trigger = sc->add_subcommand("trigger", "fire a schedule now");
  trigger->add_option("id", schedule_id_, "schedule id")->required();
  trigger->callback([this] {
    Run([this](Client& c) -> absl::Status {
      RATCHET_ASSIGN_OR_RETURN(uint64_t job, c.TriggerSchedule(schedule_id_));
      std::printf("enqueued job %llu\n", static_cast<unsigned long long>(job));
      return absl::OkStatus();
    });
  });
}

}  // namespace ratchet::cli
