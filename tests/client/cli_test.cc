// The `ratchet` CLI against an in-process ratchetd: output, --json, error
// messages with their reason, and exit codes.
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "run_command.h"
#include "server_fixture.h"

namespace ratchet::testing {
namespace {

struct CliRun {
  int code;
  std::string out;  // stdout and stderr
};

class CliTest : public ServerFixture {
 protected:
  CliRun Cli(const std::string& args) {
    CommandResult r = RunCommand(std::string(RATCHET_CLI_PATH) +
                                 " --server 127.0.0.1:" + std::to_string(port()) + " " + args);
    return {r.exit_code, r.output};
  }
};

TEST_F(CliTest, EnqueueGetAndList) {
  CliRun r = Cli("enqueue mail send --payload hello --key k1");
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "enqueued job 1\n");
  r = Cli("enqueue mail send --payload hello --key k1");
  EXPECT_EQ(r.out, "duplicate of job 1\n");
  r = Cli("get 1");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("idempotency_key   k1"), std::string::npos) << r.out;
  r = Cli("--json get 1");
  EXPECT_NE(r.out.find("\"state\": \"JOB_STATE_AVAILABLE\""), std::string::npos) << r.out;
  r = Cli("list mail");
  EXPECT_EQ(r.out.rfind("ID  TYPE  STATE", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("available"), std::string::npos) << r.out;
}

TEST_F(CliTest, ErrorsCarryCodeAndReasonAndExitOne) {
  ASSERT_EQ(Cli("enqueue mail send --payload a --key k").code, 0);
  CliRun r = Cli("enqueue mail send --payload b --key k");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("error: ALREADY_EXISTS [IDEMPOTENCY_CONFLICT]"), std::string::npos) << r.out;
  r = Cli("get 999");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("NOT_FOUND"), std::string::npos) << r.out;
  r = Cli("list mail --state bogus");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("--state"), std::string::npos) << r.out;
}

TEST_F(CliTest, EnqueueUniqueSaysWhichJobMatched) {
  CliRun r = Cli("enqueue users refresh --payload user=7 --unique-by args");
  EXPECT_EQ(r.out, "enqueued job 1\n");
  r = Cli("enqueue users refresh --payload user=7 --unique-by args");
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out, "unique match: job 1 (available); nothing enqueued\n");
  r = Cli("--json enqueue users refresh --payload user=7 --unique-states scheduled,available");
  EXPECT_NE(r.out.find("\"unique_match\": true"), std::string::npos) << r.out;
  r = Cli("enqueue users sync --payload a --unique-key acct-7 --unique-period-ms 60000");
  EXPECT_EQ(r.out, "enqueued job 2\n");
  r = Cli("enqueue users sync --payload b --unique-key acct-7 --unique-period-ms 60000");
  EXPECT_EQ(r.out, "unique match: job 2 (available); nothing enqueued\n");
  r = Cli("get 2");
  EXPECT_NE(r.out.find("unique_key        acct-7"), std::string::npos) << r.out;
  r = Cli("enqueue users refresh --unique-states running");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("job.unique.states"), std::string::npos) << r.out;
  r = Cli("enqueue users refresh --unique-states bogus");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("--unique-states"), std::string::npos) << r.out;
  EXPECT_EQ(Cli("enqueue users refresh --unique-by other").code, 2);
}

TEST_F(CliTest, AdminBackupWritesABackupDirectory) {
  ASSERT_EQ(Cli("enqueue mail send --payload hello").code, 0);
  TempDir backups(/*in_memory=*/true);
  const std::string dest = backups.Sub("b");
  CliRun r = Cli("admin backup " + dest);
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out.rfind("backup " + dest + ": ", 0), 0u) << r.out;
  EXPECT_TRUE(std::filesystem::exists(dest + "/CURRENT"));
  r = Cli("admin backup " + dest);
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("ALREADY_EXISTS"), std::string::npos) << r.out;
  r = Cli("admin backup relative/dir");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("destination"), std::string::npos) << r.out;
  r = Cli("--json admin backup " + backups.Sub("c"));
  EXPECT_NE(r.out.find("\"files\""), std::string::npos) << r.out;
}

// The line of `out` whose first word is `word`, split on spaces ("" if none).
std::vector<std::string> RowOf(const std::string& out, const std::string& word) {
  std::istringstream lines(out);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream words(line);
    std::vector<std::string> row;
    for (std::string w; words >> w;) row.push_back(w);
    if (!row.empty() && row[0] == word) return row;
  }
  return {};
}

TEST_F(CliTest, AdminStatsPrintsColumnFamiliesAndQueuesAPageAtATime) {
  for (const char* q : {"mail", "mail", "sms"}) {
    ASSERT_EQ(Cli(std::string("enqueue ") + q + " send").code, 0);
  }
  CliRun r = Cli("admin stats");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find(": 2 queues, 3 live jobs; retained: 0 completed, 0 cancelled, 0 dead"),
            std::string::npos)
      << r.out;
  std::vector<std::string> jobs = RowOf(r.out, "jobs");  // the column family
  ASSERT_EQ(jobs.size(), 10u) << r.out;                  // name, 4 x "N unit", keys
  EXPECT_NE(jobs[5], "0") << "memtable bytes of the jobs column family: " << r.out;
  EXPECT_FALSE(RowOf(r.out, "(total)").empty()) << r.out;
  std::vector<std::string> mail = RowOf(r.out, "mail");
  ASSERT_EQ(mail.size(), 8u) << r.out;
  EXPECT_EQ(mail[1], "2");                  // live
  EXPECT_EQ(mail[2], "0");                  // running
  EXPECT_EQ(mail[6].back(), 'Z') << r.out;  // oldest available, a UTC time
  EXPECT_TRUE(RowOf(r.out, "next").empty()) << "one page holds all: " << r.out;
  EXPECT_FALSE(RowOf(r.out, "sms").empty()) << r.out;

  r = Cli("admin stats --limit 1");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_FALSE(RowOf(r.out, "mail").empty()) << r.out;
  EXPECT_TRUE(RowOf(r.out, "sms").empty()) << r.out;
  std::vector<std::string> next = RowOf(r.out, "next");
  ASSERT_EQ(next.size(), 3u) << r.out;  // next cursor: C
  r = Cli("admin stats --limit 1 --cursor " + next[2]);
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_FALSE(RowOf(r.out, "sms").empty()) << r.out;
  EXPECT_TRUE(RowOf(r.out, "next").empty()) << r.out;

  r = Cli("admin stats --json");
  ASSERT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("\"queue_count\": \"2\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"memtable_bytes\""), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"oldest_available\""), std::string::npos) << r.out;

  r = Cli("admin stats --limit=-5");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("INVALID_ARGUMENT"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("limit"), std::string::npos) << r.out;
  r = Cli("admin stats --cursor zz");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("cursor"), std::string::npos) << r.out;
}

TEST_F(CliTest, EnqueueWithAttemptTimeoutAndExpiry) {
  CliRun r = Cli("enqueue mail send --attempt-timeout-ms 5000 --expires-in-ms 3600000");
  ASSERT_EQ(r.code, 0) << r.out;
  r = Cli("get 1");
  EXPECT_NE(r.out.find("attempt_timeout_ms  5000"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("expires_at"), std::string::npos) << r.out;
  r = Cli("--json get 1");
  EXPECT_NE(r.out.find("\"attempt_timeout\": \"5s\""), std::string::npos) << r.out;

  // Expires 200 ms from now: the server's expiry pass cancels it.
  ASSERT_EQ(Cli("enqueue mail send --expires-in-ms 200").code, 0);
  for (int i = 0; i < 100; ++i) {
    r = Cli("get 2");
    if (r.out.find("cancelled") != std::string::npos) break;
    std::this_thread::sleep_for(Millis(50));
  }
  EXPECT_NE(r.out.find("cancel_reason"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("expired"), std::string::npos) << r.out;
  r = Cli("explain 2");
  EXPECT_NE(r.out.find("expired"), std::string::npos) << r.out;

  r = Cli("enqueue mail send --expires-at 2000-01-01T00:00:00Z");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("job.expires_at"), std::string::npos) << r.out;
  r = Cli("enqueue mail send --expires-at yesterday");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("--expires-at"), std::string::npos) << r.out;
  r = Cli("enqueue mail send --attempt-timeout-ms -5");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("job.attempt_timeout"), std::string::npos) << r.out;
}

TEST_F(CliTest, EnqueueCarriesTheTraceparentFromTheFlagOrTheEnvironment) {
  const std::string trace = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  ASSERT_EQ(Cli("enqueue mail send --traceparent " + trace).code, 0);
  CliRun r = Cli("get 1");
  EXPECT_NE(r.out.find("traceparent       " + trace), std::string::npos) << r.out;
  CommandResult env =
      RunCommand("TRACEPARENT=" + trace + " " + std::string(RATCHET_CLI_PATH) +
                 " --server 127.0.0.1:" + std::to_string(port()) + " enqueue mail send");
  ASSERT_EQ(env.exit_code, 0) << env.output;
  EXPECT_NE(Cli("get 2").out.find(trace), std::string::npos);
  r = Cli("enqueue mail send --traceparent 00-bad");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("job.traceparent"), std::string::npos) << r.out;
}

// `ratchet work`: a streaming Worker that runs a command per job.
TEST_F(CliTest, WorkRunsACommandPerJobWithThePayloadOnStdin) {
  ASSERT_EQ(Cli("enqueue shell upper --payload hello").code, 0);
  ASSERT_EQ(Cli("enqueue shell upper --payload world").code, 0);
  ASSERT_EQ(Cli("enqueue shell fails --payload x --max-attempts 1").code, 0);
  CliRun r =
      Cli("work shell --job-type upper --job-type fails --concurrency 2 --max-jobs 3 -- sh -c "
          "'if [ \"$RATCHET_JOB_TYPE\" = fails ]; then printf \"bad\\377\\n\" >&2; exit 3; fi; "
          "tr a-z A-Z; printf \" $RATCHET_JOB_ID $RATCHET_ATTEMPT\"'");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("job 1 upper attempt 1: completed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("worker stopped: 2 completed, 1 failed"), std::string::npos) << r.out;
  r = Cli("--json get 1");
  // The result is the command's stdout: the payload upper-cased, then the
  // job id and attempt from the environment.
  EXPECT_NE(r.out.find("\"result\": \"SEVMTE8gMSAx\""), std::string::npos) << r.out;  // "HELLO 1 1"
  r = Cli("get 3");
  EXPECT_NE(r.out.find("dead"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("exit status 3: bad\\xff"), std::string::npos) << r.out;
}

// A command that floods its output is killed (with its process group) once
// it passes --max-result-bytes, and the job fails for good: it would on
// every attempt.
TEST_F(CliTest, WorkKillsACommandWhoseOutputPassesTheLimit) {
  ASSERT_EQ(Cli("enqueue shell flood --payload x").code, 0);
  CliRun r =
      Cli("work shell --job-type flood --max-jobs 1 --max-result-bytes 10 -- sh -c 'yes | cat'");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("worker stopped: 0 completed, 1 failed"), std::string::npos) << r.out;
  r = Cli("get 1");
  EXPECT_NE(r.out.find("dead"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("longer than --max-result-bytes (10)"), std::string::npos) << r.out;
}

// One SIGINT drains: the running command finishes and completes its job.
TEST_F(CliTest, WorkDrainsOnOneSignal) {
  ASSERT_EQ(Cli("enqueue shell slow --payload x").code, 0);
  const std::string started = std::filesystem::temp_directory_path().string() + "/ratchet-drain-" +
                              std::to_string(getpid()) + "-started";
  std::filesystem::remove(started);
  CommandResult r = RunCommand(
      std::string(RATCHET_CLI_PATH) + " --server 127.0.0.1:" + std::to_string(port()) +
      " work shell --job-type slow -- sh -c 'touch " + started + "; sleep 1; echo done' 2>&1 & " +
      "pid=$!; while [ ! -e " + started + " ] && kill -0 $pid; do sleep 0.05; done; " +
      "kill -INT $pid; wait $pid; echo exit=$?");
  std::filesystem::remove(started);
  EXPECT_NE(r.output.find("send SIGINT or SIGTERM again"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("worker stopped: 1 completed, 0 failed"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("exit=0"), std::string::npos) << r.output;
  EXPECT_NE(Cli("get 1").out.find("completed"), std::string::npos);
}

// The first SIGINT lets a running command finish; a second kills it (its
// group) at once, and its job fails retryably instead of waiting out its
// lease. The command would sleep for 60 s.
TEST_F(CliTest, WorkStopsAtOnceOnASecondSignal) {
  ASSERT_EQ(Cli("enqueue shell slow --payload x").code, 0);
  const std::string started = std::filesystem::temp_directory_path().string() + "/ratchet-work-" +
                              std::to_string(getpid()) + "-started";
  std::filesystem::remove(started);
  const auto begin = std::chrono::steady_clock::now();
  CommandResult r =
      RunCommand(std::string(RATCHET_CLI_PATH) + " --server 127.0.0.1:" + std::to_string(port()) +
                 " work shell --job-type slow -- sh -c 'touch " + started +
                 "; sleep 60' 2>&1 & pid=$!; " + "while [ ! -e " + started +
                 " ] && kill -0 $pid; do sleep 0.05; done; kill -INT $pid; sleep 0.5; " +
                 "kill -TERM $pid; wait $pid; echo exit=$?");
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - begin)
          .count();
  std::filesystem::remove(started);
  EXPECT_LT(seconds, 30) << r.output;
  EXPECT_NE(r.output.find("send SIGINT or SIGTERM again"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("worker stopped: 0 completed, 1 failed"), std::string::npos) << r.output;
  // Not a clean stop: exit 1, saying why (a drained stop exits 0).
  EXPECT_NE(r.output.find("stopped at once by a second SIGINT"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("exit=1"), std::string::npos) << r.output;
  CliRun got = Cli("get 1");
  EXPECT_NE(got.out.find("second SIGINT or SIGTERM"), std::string::npos) << got.out;
  // Failed retryably: scheduled for its retry, or available once its
  // backoff (which can be under a second with jitter) has passed.
  const std::vector<std::string> state = RowOf(got.out, "state");
  ASSERT_EQ(state.size(), 2U) << got.out;
  EXPECT_TRUE(state[1] == "scheduled" || state[1] == "available") << got.out;
  EXPECT_EQ(RowOf(got.out, "attempts"), (std::vector<std::string>{"attempts", "1/25"})) << got.out;
}

TEST_F(CliTest, WorkRefusesACommandThatIsNotExecutable) {
  CliRun r = Cli("work shell --job-type t -- /nonexistent/handler");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("COMMAND"), std::string::npos) << r.out;
  EXPECT_EQ(Cli("work shell -- sh").code, 2) << "--job-type is required";
}

TEST_F(CliTest, UsageErrorsExitTwo) {
  EXPECT_EQ(Cli("").code, 2);
  EXPECT_EQ(Cli("get notanumber").code, 2);
}

TEST_F(CliTest, QueuesSetPauseResume) {
  ASSERT_EQ(Cli("enqueue mail send").code, 0);
  CliRun r = Cli("queues set mail --concurrency 2 --max-attempts 3 --jitter equal");
  EXPECT_EQ(r.code, 0) << r.out;
  r = Cli("--json queues get mail");
  EXPECT_NE(r.out.find("\"concurrency_limit\": 2"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("JITTER_EQUAL"), std::string::npos) << r.out;
  r = Cli("queues pause mail");
  EXPECT_NE(r.out.find("mail   yes"), std::string::npos) << r.out;
  r = Cli("queues resume mail");
  EXPECT_NE(r.out.find("mail   no"), std::string::npos) << r.out;
  ASSERT_EQ(Cli("enqueue zmail send").code, 0);
  r = Cli("queues list --limit 1");
  EXPECT_NE(r.out.find("mail"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("zmail"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("next cursor: "), std::string::npos) << r.out;
  r = Cli("queues list");
  EXPECT_NE(r.out.find("zmail"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("next cursor"), std::string::npos) << r.out;
  r = Cli("queues set mail --jitter wobbly");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("--jitter"), std::string::npos) << r.out;
}

TEST_F(CliTest, FlowControlSettingsKeysAndExplain) {
  CliRun r = Cli(
      "queues set mail --key-concurrency 1 --key-limit vip=2 --rate 100/1000 --key-rate 5/60000");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("100/1000ms"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("5/60000ms"), std::string::npos) << r.out;
  r = Cli("--json queues get mail");
  EXPECT_NE(r.out.find("\"vip\": 2"), std::string::npos) << r.out;
  ASSERT_EQ(Cli("enqueue mail send --concurrency-key acct").code, 0);
  ASSERT_EQ(Cli("enqueue mail send --concurrency-key acct").code, 0);
  r = Cli("get 1");
  EXPECT_NE(r.out.find("concurrency_key   acct"), std::string::npos) << r.out;
  v1::LeaseRequest lease;
  lease.set_queue("mail");
  lease.set_max_jobs(10);
  ASSERT_EQ(client().Lease(lease)->jobs_size(), 1);
  r = Cli("explain 2");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("key_concurrency"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("held by jobs 1"), std::string::npos) << r.out;
  r = Cli("queues set mail --rate 10");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("--rate"), std::string::npos) << r.out;
  r = Cli("queues set mail --rate none");
  EXPECT_EQ(r.code, 0) << r.out;
}

TEST_F(CliTest, DeadLetterListRedrivePurge) {
  ASSERT_EQ(Cli("enqueue mail send").code, 0);
  KillOne("mail", "smtp said no");
  CliRun r = Cli("dlq list mail");
  EXPECT_NE(r.out.find("smtp said no"), std::string::npos) << r.out;
  r = Cli("dlq redrive mail");
  EXPECT_EQ(r.out, "redrove 1 job(s)\n");
  r = Cli("dlq purge mail");
  EXPECT_EQ(r.out, "purged 0 job(s)\n");
  r = Cli("cancel 1");
  EXPECT_EQ(r.out, "job 1: cancelled\n");
}

// Issue 12: jobs family, list filters, bulk cancel, paced redrive, --json
// after the subcommand, progress in `jobs get`.
TEST_F(CliTest, JsonIsAcceptedAfterTheSubcommand) {
  CliRun r = Cli("enqueue mail send --payload hi --json");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("\"job_id\""), std::string::npos) << r.out;
  r = Cli("jobs get 1 --json");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("\"state\": \"JOB_STATE_AVAILABLE\""), std::string::npos) << r.out;
  r = Cli("get 1 --json");
  EXPECT_NE(r.out.find("\"queue\": \"mail\""), std::string::npos) << r.out;
  r = Cli("queues list --json");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out.rfind("{", 0), 0u) << r.out;
}

TEST_F(CliTest, JobsListFiltersAndCancelByFilter) {
  ASSERT_EQ(Cli("enqueue mail send --concurrency-key acme").code, 0);    // 1
  ASSERT_EQ(Cli("enqueue mail digest --concurrency-key acme").code, 0);  // 2
  ASSERT_EQ(Cli("enqueue mail send --concurrency-key globex").code, 0);  // 3
  CliRun r = Cli("jobs list mail --type send --concurrency-key acme");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("\n1 "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("\n2 "), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("\n3 "), std::string::npos) << r.out;
  r = Cli("jobs cancel --queue mail --type send");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out, "cancelled 2 job(s); cancel requested for 0 running job(s)\n");
  r = Cli("jobs cancel --queue mail --state dead");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("state"), std::string::npos) << r.out;
  r = Cli("jobs cancel 2");
  EXPECT_EQ(r.out, "job 2: cancelled\n");
  EXPECT_EQ(Cli("jobs cancel").code, 1);
  EXPECT_EQ(Cli("jobs cancel 2 --queue mail").code, 1);
}

TEST_F(CliTest, RetryStartsADelayedJobNow) {
  ASSERT_EQ(Cli("enqueue mail send --delay-ms 3600000").code, 0);  // 1
  CliRun r = Cli("retry 1");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_EQ(r.out, "job 1: available\n");
  r = Cli("jobs retry 1 --json");
  EXPECT_EQ(r.code, 0) << r.out;
  EXPECT_NE(r.out.find("JOB_STATE_AVAILABLE"), std::string::npos) << r.out;
  LeaseOne("mail");
  r = Cli("retry 1");
  EXPECT_EQ(r.code, 1) << r.out;
  EXPECT_NE(r.out.find("only a scheduled job"), std::string::npos) << r.out;
}

TEST_F(CliTest, JobsGetShowsProgress) {
  ASSERT_EQ(Cli("enqueue mail send").code, 0);
  v1::LeasedJob job = LeaseOne("mail");
  v1::HeartbeatRequest hb;
  hb.set_job_id(job.job_id());
  hb.set_fencing_token(job.fencing_token());
  hb.set_progress(0.5);
  hb.set_progress_message("half");
  ASSERT_TRUE(client().Heartbeat(hb).ok());
  CliRun r = Cli("jobs get 1");
  // The field column is as wide as the longest field name.
  EXPECT_NE(r.out.find("\nprogress "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find(" 50% half (at "), std::string::npos) << r.out;
}

TEST_F(CliTest, DeadLetterRedriveWithPace) {
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(Cli("enqueue mail send").code, 0);
    KillOne("mail");
  }
  CliRun r = Cli("dlq redrive mail --pace 1/3600000");
  EXPECT_EQ(r.out, "redrove 3 job(s)\n");
  EXPECT_EQ(client().GetQueue("mail")->available(), 1);
  r = Cli("dlq redrive mail --pace fast");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("--pace"), std::string::npos) << r.out;
}

TEST_F(CliTest, SchedulesListShowsTheNextTick) {
  CliRun r =
      Cli("schedules create nightly \"30 2 * * *\" reports build --tz America/New_York "
          "--missed run_all --overlap skip");
  ASSERT_EQ(r.code, 0) << r.out;
  r = Cli("schedules list");
  EXPECT_EQ(r.out.rfind("ID       SPEC", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("NEXT_TICK"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("America/New_York  active"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("run_all"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("skip"), std::string::npos) << r.out;
  r = Cli("--json schedules get nightly");
  EXPECT_NE(r.out.find("\"next_tick\""), std::string::npos) << r.out;
  r = Cli("schedules trigger nightly");
  EXPECT_EQ(r.out, "enqueued job 1\n");
  r = Cli("schedules create bad \"0 0 * *\" reports build");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("INVALID_ARGUMENT"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("has 4 fields"), std::string::npos) << r.out;
  r = Cli("schedules pause nightly");
  EXPECT_NE(r.out.find("paused"), std::string::npos) << r.out;
  ASSERT_EQ(Cli("schedules create weekly \"0 3 * * 1\" reports build").code, 0);
  r = Cli("schedules list --limit 1");
  EXPECT_NE(r.out.find("nightly"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("weekly"), std::string::npos) << r.out;
  const size_t at = r.out.find("next cursor: ");
  ASSERT_NE(at, std::string::npos) << r.out;
  const std::string cursor = r.out.substr(at + 13, r.out.find('\n', at) - at - 13);
  r = Cli("schedules list --limit 1 --cursor " + cursor);
  EXPECT_NE(r.out.find("weekly"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find("next cursor"), std::string::npos) << r.out;
}

TEST_F(CliTest, WorkflowsSubmitGetListCancel) {
  std::string file = dir_.Sub("wf.json");
  FILE* f = std::fopen(file.c_str(), "w");
  std::fputs(R"({"name": "etl", "queue": "wf", "steps": [
      {"name": "extract", "jobType": "x"},
      {"name": "load", "jobType": "y", "dependsOn": ["extract"]}]})",
             f);
  std::fclose(f);
  CliRun r = Cli("workflows submit " + file);
  ASSERT_EQ(r.out, "submitted workflow 1\n");
  r = Cli("workflows get 1");
  EXPECT_NE(r.out.find("workflow 1 etl (dag) running"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("load     pending"), std::string::npos) << r.out;
  r = Cli("workflows list --state running");
  EXPECT_NE(r.out.find("etl"), std::string::npos) << r.out;
  r = Cli("workflows cancel 1");
  EXPECT_EQ(r.out, "workflow 1 is cancelled\n");
  r = Cli("workflows start wf order --event paid");
  EXPECT_EQ(r.out, "started workflow 2\n");
  r = Cli("workflows send-event 2 shipped");
  EXPECT_EQ(r.code, 1);
  EXPECT_NE(r.out.find("unknown event 'shipped'"), std::string::npos) << r.out;
}

}  // namespace
}  // namespace ratchet::testing

namespace ratchet::testing {
namespace {

class CliHealthTest : public ServerFixture {
 protected:
  int Health(int port, std::string* out) {
    CommandResult r =
        RunCommand(std::string(RATCHET_CLI_PATH) + " --server 127.0.0.1:" + std::to_string(port) +
                   " --timeout-ms 2000 health");
    *out = r.output;
    return r.exit_code;
  }
};

// `ratchet workers` lists the workers seen recently, with the jobs they hold.
TEST_F(CliHealthTest, WorkersListsWhoLeasedWhat) {
  v1::JobSpec job;
  job.set_queue("mail");
  job.set_job_type("send");
  ASSERT_TRUE(client().Enqueue(job).ok());
  v1::LeaseRequest lease;
  lease.set_queue("mail");
  lease.set_worker_id("box-1");
  auto leased = client().Lease(lease);
  ASSERT_TRUE(leased.ok() && leased->jobs_size() == 1);
  CommandResult r = RunCommand(std::string(RATCHET_CLI_PATH) +
                               " --server 127.0.0.1:" + std::to_string(port()) + " workers");
  EXPECT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("box-1"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("mail"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(std::to_string(leased->jobs(0).job_id())), std::string::npos) << r.output;
  r = RunCommand(std::string(RATCHET_CLI_PATH) + " --server 127.0.0.1:" + std::to_string(port()) +
                 " workers --json");
  EXPECT_NE(r.output.find("\"jobs_held\""), std::string::npos) << r.output;
}

// `ratchet health` (a container's health check): exit 0 and SERVING while
// the server serves; exit 1 once it is gone.
TEST_F(CliHealthTest, HealthIsServingThenUnavailable) {
  std::string out;
  const int served = port();
  EXPECT_EQ(Health(served, &out), 0) << out;
  EXPECT_NE(out.find("SERVING"), std::string::npos) << out;
  Stop();
  EXPECT_EQ(Health(served, &out), 1) << out;
}

}  // namespace
}  // namespace ratchet::testing
