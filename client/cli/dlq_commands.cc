// `ratchet dlq list | redrive | purge`: a queue's dead letters.
#include <cstdio>
#include <memory>

#include "commands.h"
#include "output.h"
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
};

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
    if (redrive) cmd->add_flag("--reset-attempts", o->reset_attempts, "start over at attempt 0");
    runner.Bind(
        cmd, [o, redrive](Client& c, bool json) { return RedriveOrPurge(c, *o, redrive, json); });
  }
}

}  // namespace ratchet::cli
