// `ratchet queues list | get | set | pause | resume`: queue counts and
// settings.
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "commands.h"
#include "output.h"
#include "ratchet/api/time_codec.h"
#include "ratchet/base/status.h"

namespace ratchet::cli {
namespace {

// The arguments of the queue commands (only one runs). `set` changes the
// settings given and keeps the others.
struct QueueOptions {
  std::string queue;
  std::optional<int> concurrency;
  std::optional<int> max_attempts;
  std::optional<int64_t> visibility_ms;
  std::optional<int64_t> completed_retention_ms;
  std::optional<int64_t> dead_retention_ms;
  // The retry policy's fields.
  std::optional<int64_t> initial_backoff_ms;
  std::optional<int64_t> max_backoff_ms;
  std::optional<double> multiplier;
  std::string jitter;
  // Flow control.
  std::optional<int> key_concurrency;
  std::vector<std::string> key_limits;  // KEY=N
  bool clear_key_limits = false;
  std::string rate;      // N/PERIOD_MS, or "none"
  std::string key_rate;  // N/PERIOD_MS, or "none"
  // queues list: the page.
  int limit = 0;
  std::string cursor;
};

// "N/PERIOD_MS" (or "none": limit 0, which removes the limit).
absl::StatusOr<v1::RateLimit> ParseRate(const std::string& flag, const std::string& text) {
  v1::RateLimit r;
  if (text == "none") return r;
  std::pair<std::string, std::string> parts = absl::StrSplit(text, absl::MaxSplits('/', 1));
  int limit = 0;
  int64_t period_ms = 0;
  if (!absl::SimpleAtoi(parts.first, &limit) || !absl::SimpleAtoi(parts.second, &period_ms)) {
    return InvalidArgument(flag, "must be N/PERIOD_MS (e.g. 100/1000) or none");
  }
  r.set_limit(limit);
  *r.mutable_period() = ToProtoDuration(Millis(period_ms));
  return r;
}

absl::Status AddFlowControl(const QueueOptions& o, v1::UpdateQueueRequest& req) {
  if (o.key_concurrency) req.set_key_concurrency_limit(*o.key_concurrency);
  if (!o.key_limits.empty() || o.clear_key_limits) {
    auto* limits = req.mutable_key_limits()->mutable_limits();
    for (const std::string& kv : o.key_limits) {
      std::pair<std::string, std::string> parts = absl::StrSplit(kv, absl::MaxSplits('=', 1));
      int limit = 0;
      if (parts.first.empty() || !absl::SimpleAtoi(parts.second, &limit)) {
        return InvalidArgument("--key-limit", "must be KEY=N");
      }
      (*limits)[parts.first] = limit;
    }
  }
  if (!o.rate.empty()) {
    RATCHET_ASSIGN_OR_RETURN(*req.mutable_rate_limit(), ParseRate("--rate", o.rate));
  }
  if (!o.key_rate.empty()) {
    RATCHET_ASSIGN_OR_RETURN(*req.mutable_key_rate_limit(), ParseRate("--key-rate", o.key_rate));
  }
  return absl::OkStatus();
}

std::string RateText(const v1::QueueSettings& s, bool key) {
  if (key ? !s.has_key_rate_limit() : !s.has_rate_limit()) return "-";
  const v1::RateLimit& r = key ? s.key_rate_limit() : s.rate_limit();
  return absl::StrCat(r.limit(), "/", FromProtoDuration(r.period()).count(), "ms");
}

std::string Ms(const google::protobuf::Duration& d) {
  return absl::StrCat(FromProtoDuration(d).count(), "ms");
}

void PrintQueues(const std::vector<v1::QueueInfo>& queues) {
  Table t({"QUEUE", "PAUSED", "SCHEDULED", "AVAILABLE", "RUNNING", "COMPLETED", "CANCELLED", "DEAD",
           "CONCURRENCY", "KEY_CONCURRENCY", "RATE", "KEY_RATE", "MAX_ATTEMPTS", "VISIBILITY"});
  for (const auto& q : queues) {
    t.Add({q.name(), q.settings().paused() ? "yes" : "no", std::to_string(q.scheduled()),
           std::to_string(q.available()), std::to_string(q.running()),
           std::to_string(q.completed()), std::to_string(q.cancelled()), std::to_string(q.dead()),
           q.settings().concurrency_limit() == 0 ? "unlimited"
                                                 : std::to_string(q.settings().concurrency_limit()),
           q.settings().key_concurrency_limit() == 0
               ? "unlimited"
               : std::to_string(q.settings().key_concurrency_limit()),
           RateText(q.settings(), false), RateText(q.settings(), true),
           std::to_string(q.settings().max_attempts()), Ms(q.settings().visibility_timeout())});
  }
  t.Print();
}

void PrintQueue(const v1::QueueInfo& q, bool json) { json ? PrintJson(q) : PrintQueues({q}); }

bool ChangesRetryPolicy(const QueueOptions& o) {
  return o.initial_backoff_ms || o.max_backoff_ms || o.multiplier || !o.jitter.empty();
}

// The queue's current retry policy with the fields given changed: the server
// replaces a policy whole.
absl::StatusOr<v1::RetryPolicy> NewRetryPolicy(Client& c, const QueueOptions& o) {
  RATCHET_ASSIGN_OR_RETURN(auto current, c.GetQueue(o.queue));
  v1::RetryPolicy p = current.settings().retry_policy();
  if (o.initial_backoff_ms) {
    *p.mutable_initial_backoff() = ToProtoDuration(Millis(*o.initial_backoff_ms));
  }
  if (o.max_backoff_ms) *p.mutable_max_backoff() = ToProtoDuration(Millis(*o.max_backoff_ms));
  if (o.multiplier) p.set_multiplier(*o.multiplier);
  if (!o.jitter.empty()) {
    v1::Jitter j;
    if (!v1::Jitter_Parse("JITTER_" + absl::AsciiStrToUpper(o.jitter), &j)) {
      return InvalidArgument("--jitter", "must be none, full, equal or decorrelated");
    }
    p.set_jitter(j);
  }
  return p;
}

absl::Status ListAll(Client& c, const QueueOptions& o, bool json) {
  v1::ListQueuesRequest req;
  req.set_limit(o.limit);
  req.set_cursor(o.cursor);
  RATCHET_ASSIGN_OR_RETURN(v1::ListQueuesResponse page, c.ListQueues(req));
  if (json) {
    PrintJson(page);
    return absl::OkStatus();
  }
  PrintQueues({page.queues().begin(), page.queues().end()});
  if (!page.next_cursor().empty()) std::printf("next cursor: %s\n", page.next_cursor().c_str());
  return absl::OkStatus();
}

absl::Status Get(Client& c, const QueueOptions& o, bool json) {
  RATCHET_ASSIGN_OR_RETURN(auto q, c.GetQueue(o.queue));
  PrintQueue(q, json);
  return absl::OkStatus();
}

absl::Status Set(Client& c, const QueueOptions& o, bool json) {
  v1::UpdateQueueRequest req;
  req.set_queue(o.queue);
  if (o.concurrency) req.set_concurrency_limit(*o.concurrency);
  if (o.max_attempts) req.set_max_attempts(*o.max_attempts);
  if (o.visibility_ms) {
    *req.mutable_visibility_timeout() = ToProtoDuration(Millis(*o.visibility_ms));
  }
  if (o.completed_retention_ms) {
    *req.mutable_completed_retention() = ToProtoDuration(Millis(*o.completed_retention_ms));
  }
  if (o.dead_retention_ms) {
    *req.mutable_dead_retention() = ToProtoDuration(Millis(*o.dead_retention_ms));
  }
  if (ChangesRetryPolicy(o)) {
    RATCHET_ASSIGN_OR_RETURN(*req.mutable_retry_policy(), NewRetryPolicy(c, o));
  }
  RATCHET_RETURN_IF_ERROR(AddFlowControl(o, req));
  RATCHET_ASSIGN_OR_RETURN(auto q, c.UpdateQueue(req));
  PrintQueue(q, json);
  return absl::OkStatus();
}

void AddSetOptions(CLI::App* set, QueueOptions& o) {
  set->add_option("queue", o.queue)->required();
  set->add_option("--concurrency", o.concurrency, "max running jobs; 0 = unlimited");
  set->add_option("--max-attempts", o.max_attempts, "default attempts per job");
  set->add_option("--visibility-timeout-ms", o.visibility_ms, "default lease length, ms");
  set->add_option("--completed-retention-ms", o.completed_retention_ms, "keep finished jobs, ms");
  set->add_option("--dead-retention-ms", o.dead_retention_ms, "keep dead letters, ms");
  set->add_option("--initial-backoff-ms", o.initial_backoff_ms, "retry policy base delay, ms");
  set->add_option("--max-backoff-ms", o.max_backoff_ms, "retry policy delay cap, ms");
  set->add_option("--multiplier", o.multiplier, "retry policy growth per attempt");
  set->add_option("--jitter", o.jitter, "none|full|equal|decorrelated");
  set->add_option("--key-concurrency", o.key_concurrency,
                  "max running jobs per concurrency key; 0 = unlimited");
  set->add_option("--key-limit", o.key_limits,
                  "KEY=N: a named key's own limit (repeatable; replaces all named limits)");
  set->add_flag("--clear-key-limits", o.clear_key_limits, "remove every named key's limit");
  set->add_option("--rate", o.rate, "queue rate limit N/PERIOD_MS (starts), or none");
  set->add_option("--key-rate", o.key_rate, "per-key rate limit N/PERIOD_MS (starts), or none");
}

}  // namespace

void RegisterQueueCommands(CLI::App& app, Runner& runner) {
  auto o = std::make_shared<QueueOptions>();
  CLI::App* queues = AddFamily(app, "queues", "list, inspect and configure queues");
  CLI::App* list = queues->add_subcommand("list", "a page of queues by name, with their counts");
  list->add_option("--limit", o->limit, "at most this many (1..1000, default 100)");
  list->add_option("--cursor", o->cursor, "next cursor of a previous page");
  runner.Bind(list, o, ListAll);

  CLI::App* get = queues->add_subcommand("get", "one queue's settings and counts");
  get->add_option("queue", o->queue)->required();
  runner.Bind(get, o, Get);

  CLI::App* set = queues->add_subcommand("set", "change queue settings (others keep their value)");
  AddSetOptions(set, *o);
  runner.Bind(set, o, Set);

  for (bool pause : {true, false}) {
    CLI::App* cmd = queues->add_subcommand(pause ? "pause" : "resume",
                                           pause ? "stop leasing from a queue" : "lease again");
    cmd->add_option("queue", o->queue)->required();
    runner.Bind(cmd, [o, pause](Client& c, bool json) -> absl::Status {
      RATCHET_ASSIGN_OR_RETURN(auto q, pause ? c.PauseQueue(o->queue) : c.ResumeQueue(o->queue));
      PrintQueue(q, json);
      return absl::OkStatus();
    });
  }
}

}  // namespace ratchet::cli
