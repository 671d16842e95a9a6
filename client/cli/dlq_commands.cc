// `ratchet dlq list | redrive | purge`: a queue's dead letters.
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "commands.h"
#include "output.h"
#include "ratchet/api/time_codec.h"
#include "ratchet/base/status.h"

namespace ratchet::cli {
namespace {

// The arguments of the dead-letter commands (only one runs). job_id and
// job_type narrow redrive and purge; 0 and "" match every job.
struct DeadLetterOptions {
  std::string queue;
  int limit = 0;
  std::string cursor;
  uint64_t job_id = 0;
  std::string job_type;
  bool reset_attempts = false;
  std::string pace;  // "N/MS": at most N jobs made available per MS ms
};

// "N/MS" -> RateLimit{N, MS ms}.
absl::StatusOr<v1::RateLimit> ParsePace(const std::string& text) {
  std::vector<std::string> parts = absl::StrSplit(text, '/');
  int limit = 0;
  int64_t period_ms = 0;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &limit) ||
      !absl::SimpleAtoi(parts[1], &period_ms)) {
    return InvalidArgument("--pace", absl::StrCat("'", text, "' is not N/MS (e.g. 100/1000)"));
  }
  v1::RateLimit pace;
  pace.set_limit(limit);
  *pace.mutable_period() = ToProtoDuration(Millis(period_ms));
  return pace;
}

absl::Status List(Client& c, const DeadLetterOptions& o, bool json) {
  v1::ListDeadLettersRequest req;
  req.set_queue(o.queue);
  req.set_limit(o.limit);
  req.set_cursor(o.cursor);
  RATCHET_ASSIGN_OR_RETURN(auto r, c.ListDeadLetters(req));
  json ? PrintJson(r) : PrintJobs(r);
  return absl::OkStatus();
}

v1::DeadLetterFilter Filter(const DeadLetterOptions& o) {
  v1::DeadLetterFilter f;
  f.set_queue(o.queue);
  f.set_job_id(o.job_id);
  f.set_job_type(o.job_type);
  f.set_limit(o.limit);
  return f;
}

// Redrives (`redrive`) or purges the dead letters that match.
absl::Status RedriveOrPurge(Client& c, const DeadLetterOptions& o, bool redrive, bool json) {
  absl::StatusOr<v1::BulkResponse> r;
  if (redrive) {
    v1::RedriveDeadLettersRequest req;
    *req.mutable_filter() = Filter(o);
    req.set_reset_attempts(o.reset_attempts);
    if (!o.pace.empty()) {
      auto pace = ParsePace(o.pace);
      if (!pace.ok()) return pace.status();
      *req.mutable_pace() = *pace;
    }
    r = c.RedriveDeadLetters(req);
  } else {
    v1::PurgeDeadLettersRequest req;
    *req.mutable_filter() = Filter(o);
    r = c.PurgeDeadLetters(req);
  }
  if (!r.ok()) return r.status();
  if (json) {
    PrintJson(*r);
  } else {
    std::printf("%s %d job(s)%s\n", redrive ? "redrove" : "purged", r->count(),
                r->more() ? "; more match, run again" : "");
  }
  return absl::OkStatus();
}

}  // namespace

void RegisterDeadLetterCommands(CLI::App& app, Runner& runner) {
  auto o = std::make_shared<DeadLetterOptions>();
  CLI::App* dlq = AddFamily(app, "dlq", "dead-letter queues: list, redrive, purge");
  CLI::App* list = dlq->add_subcommand("list", "dead jobs of a queue");
  list->add_option("queue", o->queue)->required();
  list->add_option("--limit", o->limit, "jobs per page, 1..1000 (default 100)");
  list->add_option("--cursor", o->cursor, "next cursor of a previous page");
  runner.Bind(list, o, List);

  for (bool redrive : {true, false}) {
    CLI::App* cmd =
        dlq->add_subcommand(redrive ? "redrive" : "purge",
                            redrive ? "move dead jobs back to available" : "delete dead jobs");
    cmd->add_option("queue", o->queue)->required();
    cmd->add_option("--job-id", o->job_id, "only this job");
    cmd->add_option("--job-type", o->job_type, "only jobs of this type");
    cmd->add_option("--limit", o->limit, "most jobs per call, 1..10000 (default 1000)");
    if (redrive) {
      cmd->add_flag("--reset-attempts", o->reset_attempts, "start over at attempt 0");
      cmd->add_option("--pace", o->pace,
                      "N/MS: make at most N of the jobs available per MS ms (their run_at is "
                      "spread)");
    }
    runner.Bind(
        cmd, [o, redrive](Client& c, bool json) { return RedriveOrPurge(c, *o, redrive, json); });
  }
}

}  // namespace ratchet::cli
