// `ratchet work`: a streaming Worker (WorkerProtocol::kStream) that runs a
// command for each job, for shell jobs and scripts:
//
//   ratchet work QUEUE --job-type T [--job-type U ...] [--concurrency N]
//       [--max-jobs N] -- COMMAND [ARGS...]
//
// Each job runs COMMAND (found on PATH like a shell would) with the job's
// payload on standard input and RATCHET_JOB_ID, RATCHET_JOB_TYPE,
// RATCHET_QUEUE, RATCHET_ATTEMPT, RATCHET_FENCING_TOKEN and
// RATCHET_IDEMPOTENCY_TOKEN in its environment. Exit status 0 completes the
// job with the command's standard output as its result (at most
// --max-result-bytes; more fails the job for good). Any other exit, or
// death by a signal, fails it retryably with the status and the end of its
// standard error (its last 4 KiB once bytes that are not printable ASCII are
// escaped). Each command runs in a process group of its own: when the lease
// is lost, the job is cancelled, its attempt timeout passes or its output
// passes --max-result-bytes, the whole group is killed (SIGKILL). SIGINT or
// SIGTERM stops the worker gracefully (the commands, in their own groups,
// do not get the terminal's signal): no new jobs; running commands finish
// and are reported. A second SIGINT or SIGTERM stops it at once: running
// commands are killed (their groups) and their jobs fail retryably, so they
// run again after their backoff rather than when the lease runs out; it then
// exits 1 (a drained stop exits 0). The worker's credentials
// (RATCHET_TOKEN*, RATCHET_TLS_*) are not passed to commands; TRACEPARENT is the job's. Prints one
// line per job.
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <mutex>
#include <optional>
#include <thread>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "commands.h"
#include "ratchet/base/status.h"
#include "ratchet/client/worker.h"

extern char** environ;

namespace ratchet::cli {

namespace {

constexpr size_t kMaxErrorBytes = 4096;

struct WorkOptions {
  std::string queue;
  std::vector<std::string> job_types;
  int concurrency = 1;
  int64_t max_jobs = 0;
  int64_t max_result_bytes = 1 << 20;
  std::vector<std::string> command;
};

// SIGINTs and SIGTERMs received: 1 drains, 2 or more kills the commands.
std::atomic<int> g_stop_signals{0};
extern "C" void OnStopSignal(int) { g_stop_signals.fetch_add(1); }
bool Interrupted() { return g_stop_signals.load() >= 2; }

// True if `name` is an executable file, or names one on PATH.
bool Executable(const std::string& name) {
  if (name.find('/') != std::string::npos) return access(name.c_str(), X_OK) == 0;
  const char* path = std::getenv("PATH");
  for (absl::string_view dir : absl::StrSplit(path ? path : "/usr/bin:/bin", ':')) {
    if (access(absl::StrCat(dir.empty() ? "." : dir, "/", name).c_str(), X_OK) == 0) return true;
  }
  return false;
}

// A child process with its standard streams on pipes.
class Child {
 public:
  ~Child() {
    for (int fd : {in_, out_, err_}) {
      if (fd >= 0) close(fd);
    }
    if (pid_ > 0 && !reaped_) {
      kill(-pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }

  absl::Status Spawn(const std::vector<std::string>& command, const std::vector<std::string>& env) {
    int in[2] = {-1, -1}, out[2] = {-1, -1}, err[2] = {-1, -1};
    if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0 || pipe2(err, O_CLOEXEC) != 0) {
      const int e = errno;
      for (int fd : {in[0], in[1], out[0], out[1], err[0], err[1]}) {
        if (fd >= 0) close(fd);
      }
      return absl::InternalError(absl::StrCat("pipe: ", std::strerror(e)));
    }
    // Its own process group (killed whole), default signal dispositions
    // (the worker ignores SIGPIPE) and an empty signal mask.
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    posix_spawnattr_setflags(
        &attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK);
    posix_spawnattr_setpgroup(&attr, 0);
    sigset_t defaults, empty;
    sigemptyset(&defaults);
    for (int sig : {SIGPIPE, SIGINT, SIGTERM, SIGCHLD}) sigaddset(&defaults, sig);
    posix_spawnattr_setsigdefault(&attr, &defaults);
    sigemptyset(&empty);
    posix_spawnattr_setsigmask(&attr, &empty);
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, in[0], 0);
    posix_spawn_file_actions_adddup2(&actions, out[1], 1);
    posix_spawn_file_actions_adddup2(&actions, err[1], 2);
    std::vector<char*> argv, envp;
    for (const std::string& a : command) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (const std::string& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    for (char** e = environ; *e != nullptr; ++e) {
      const absl::string_view var(*e);
      if (absl::StartsWith(var, "RATCHET_TOKEN") || absl::StartsWith(var, "RATCHET_TLS_") ||
          absl::StartsWith(var, "TRACEPARENT=")) {
        continue;  // the worker's credentials, and its own trace
      }
      envp.push_back(*e);
    }
    envp.push_back(nullptr);
    const int rc = posix_spawnp(&pid_, argv[0], &actions, &attr, argv.data(), envp.data());
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attr);
    for (int fd : {in[0], out[1], err[1]}) close(fd);
    in_ = in[1];
    out_ = out[0];
    err_ = err[0];
    for (int fd : {in_, out_, err_}) fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    if (rc != 0) {
      pid_ = 0;
      return absl::InternalError(absl::StrCat("cannot run ", command[0], ": ", std::strerror(rc)));
    }
    return absl::OkStatus();
  }

  // Feeds `input`, collects stdout (up to `max_out` bytes; more kills the
  // group and sets *out_truncated) and the end of stderr, until the child
  // has exited and its pipes are drained; kills the group when `stop()`
  // turns true. Returns the wait status, or -1 if waitpid failed.
  template <typename Stop>
  int Wait(const std::string& input, size_t max_out, std::string* out, bool* out_truncated,
           std::string* err, Stop stop) {
    size_t written = 0;
    if (input.empty()) CloseInput();
    char buf[65536];
    int status = 0;
    std::optional<std::chrono::steady_clock::time_point> exited_at;
    while (out_ >= 0 || err_ >= 0 || !reaped_) {
      // Once reaped, its exit status stands (and its pid may be reused).
      if (!killed_ && !reaped_ && (stop() || *out_truncated)) Kill();
      if (!reaped_) {
        const pid_t r = waitpid(pid_, &status, WNOHANG);
        if (r == pid_ || r < 0) {
          reaped_ = true;
          if (r < 0) status = -1;
          kill(-pid_, SIGKILL);  // what it left behind holds the pipes open
          exited_at = std::chrono::steady_clock::now();
        }
      }
      if (exited_at && std::chrono::steady_clock::now() - *exited_at > std::chrono::seconds(1)) {
        break;  // a descendant in another process group keeps a pipe open
      }
      if (out_ < 0 && err_ < 0) {
        if (!reaped_) std::this_thread::sleep_for(std::chrono::milliseconds(10));
        continue;
      }
      pollfd fds[3] = {{in_, POLLOUT, 0}, {out_, POLLIN, 0}, {err_, POLLIN, 0}};
      if (poll(fds, 3, 50) < 0 && errno != EINTR) break;
      if (in_ >= 0 && (fds[0].revents & (POLLOUT | POLLERR | POLLHUP))) {
        ssize_t n = write(in_, input.data() + written, input.size() - written);
        if (n > 0) written += static_cast<size_t>(n);
        if (n < 0 && errno != EAGAIN) written = input.size();  // EPIPE: it does not read
        if (written == input.size()) CloseInput();
      }
      for (int i : {1, 2}) {
        int& fd = i == 1 ? out_ : err_;
        if (fd < 0 || !(fds[i].revents & (POLLIN | POLLERR | POLLHUP))) continue;
        ssize_t n = read(fd, buf, sizeof buf);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
          close(fd);
          fd = -1;
          continue;
        }
        if (n < 0) continue;
        if (i == 1) {
          const size_t room = max_out - std::min(max_out, out->size());
          out->append(buf, std::min(room, static_cast<size_t>(n)));
          if (static_cast<size_t>(n) > room) *out_truncated = true;
        } else {
          err->append(buf, static_cast<size_t>(n));
          if (err->size() > 2 * kMaxErrorBytes) err->erase(0, err->size() - kMaxErrorBytes);
        }
      }
    }
    CloseInput();
    return status;
  }

  bool killed() const { return killed_; }

 private:
  void Kill() {
    kill(-pid_, SIGKILL);
    killed_ = true;
  }

  void CloseInput() {
    if (in_ >= 0) close(in_);
    in_ = -1;
  }

  pid_t pid_ = 0;
  int in_ = -1, out_ = -1, err_ = -1;
  bool killed_ = false, reaped_ = false;
};

// The end of `err` with bytes that are not printable ASCII escaped (so the
// stored error is valid UTF-8), cut from the front to fit the engine's 4 KiB.
std::string ErrorTail(std::string err) {
  while (!err.empty() && (err.back() == '\n' || err.back() == '\r')) err.pop_back();
  std::string escaped = absl::CHexEscape(err);
  const size_t budget = kMaxErrorBytes - 64;  // room for "exit status N: "
  return escaped.size() > budget ? escaped.substr(escaped.size() - budget) : escaped;
}

HandlerResult RunJob(const WorkOptions& o, JobContext& job) {
  const v1::LeasedJob& j = job.job();
  std::vector<std::string> env = {
      absl::StrCat("RATCHET_JOB_ID=", j.job_id()),
      absl::StrCat("RATCHET_JOB_TYPE=", j.job_type()),
      absl::StrCat("RATCHET_QUEUE=", j.queue()),
      absl::StrCat("RATCHET_ATTEMPT=", j.attempt()),
      absl::StrCat("RATCHET_FENCING_TOKEN=", j.fencing_token()),
      absl::StrCat("RATCHET_IDEMPOTENCY_TOKEN=", job.idempotency_token())};
  if (!j.traceparent().empty()) env.push_back(absl::StrCat("TRACEPARENT=", j.traceparent()));
  if (Interrupted()) {  // a prefetched job after the second signal: not started
    return HandlerResult::RetryableError(
        "not started: ratchet work got a second SIGINT or SIGTERM and stopped at once");
  }
  Child child;
  if (absl::Status s = child.Spawn(o.command, env); !s.ok()) {
    return HandlerResult::RetryableError(std::string(s.message()));
  }
  std::string out, err;
  bool truncated = false;
  const int status = child.Wait(job.payload(), static_cast<size_t>(o.max_result_bytes), &out,
                                &truncated, &err, [&] {
                                  return job.lease_lost() || job.cancel_requested() ||
                                         job.attempt_timed_out() || Interrupted();
                                });
  if (status == -1) return HandlerResult::RetryableError("waitpid failed: the outcome is unknown");
  if (truncated) {
    return HandlerResult::NonRetryableError(
        absl::StrCat("result: standard output is longer than --max-result-bytes (",
                     o.max_result_bytes, "); the command was killed"));
  }
  if (child.killed() && Interrupted()) {
    return HandlerResult::RetryableError(
        "killed: ratchet work got a second SIGINT or SIGTERM and stopped at once");
  }
  if (child.killed()) {
    return HandlerResult::RetryableError(
        "killed: the job's lease was lost, it was cancelled or its attempt timed out");
  }
  if (WIFSIGNALED(status)) {
    return HandlerResult::RetryableError(
        absl::StrCat("killed by signal ", WTERMSIG(status), ": ", ErrorTail(err)));
  }
  const int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (code != 0) {
    return HandlerResult::RetryableError(absl::StrCat("exit status ", code, ": ", ErrorTail(err)));
  }
  if (truncated) {
    return HandlerResult::NonRetryableError(absl::StrCat(
        "result: standard output is longer than --max-result-bytes (", o.max_result_bytes, ")"));
  }
  return HandlerResult::Success(std::move(out));
}

absl::Status Work(Client& client, const WorkOptions& o, bool) {
  if (!Executable(o.command[0])) {
    return InvalidArgument("COMMAND", absl::StrCat(o.command[0], " is not an executable file"));
  }
  std::signal(SIGPIPE, SIG_IGN);
  std::signal(SIGCHLD, SIG_DFL);  // waitpid needs it, whatever this process inherited
  std::signal(SIGINT, OnStopSignal);
  std::signal(SIGTERM, OnStopSignal);
  WorkerOptions options{.queue = o.queue, .concurrency = o.concurrency};
  if (o.max_jobs > 0) {
    // No prefetch (a stream's adapts upwards): at most --concurrency jobs
    // beyond --max-jobs are leased.
    options.concurrency = static_cast<int>(std::min<int64_t>(o.concurrency, o.max_jobs));
    options.protocol = WorkerProtocol::kUnary;
  }
  Worker worker(&client, options);
  std::mutex print_mu;
  std::atomic<int64_t> finished{0};
  for (const std::string& type : o.job_types) {
    worker.Register(type, [&](JobContext& job) {
      const auto start = std::chrono::steady_clock::now();
      HandlerResult r = RunJob(o, job);
      const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - start)
                          .count();
      {
        std::lock_guard<std::mutex> lock(print_mu);
        std::printf(
            "job %llu %s attempt %d: %s (%lld ms)\n",
            static_cast<unsigned long long>(job.job().job_id()), job.job().job_type().c_str(),
            job.attempt(),
            r.kind == HandlerResult::Kind::kSuccess ? "completed" : ("failed: " + r.value).c_str(),
            static_cast<long long>(ms));
        std::fflush(stdout);
      }
      ++finished;
      return r;
    });
  }
  RATCHET_RETURN_IF_ERROR(worker.Start());
  while (g_stop_signals.load() == 0 && (o.max_jobs == 0 || finished.load() < o.max_jobs)) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  if (g_stop_signals.load() > 0) {
    std::fprintf(stderr,
                 "stopping: running commands finish and are reported; send SIGINT or SIGTERM "
                 "again to kill them\n");
  }
  worker.Stop();
  WorkerStats s = worker.stats();
  std::printf("worker stopped: %llu completed, %llu failed, %llu lease lost\n",
              static_cast<unsigned long long>(s.completed),
              static_cast<unsigned long long>(s.failed),
              static_cast<unsigned long long>(s.lease_lost));
  if (Interrupted()) {
    // Not a clean stop: a script or supervisor must be able to tell.
    return absl::AbortedError(
        "stopped at once by a second SIGINT or SIGTERM: running commands were killed and their "
        "jobs failed retryably");
  }
  return absl::OkStatus();
}

}  // namespace

void RegisterWorkCommand(CLI::App& app, Runner& runner) {
  auto o = std::make_shared<WorkOptions>();
  CLI::App* work = app.add_subcommand(
      "work",
      "run COMMAND for each job of QUEUE (payload on stdin; exit 0 completes with stdout as the "
      "result, anything else fails retryably with the end of stderr)");
  work->add_option("queue", o->queue, "the queue to work")->required();
  work->add_option("--job-type", o->job_types,
                   "job type to run (repeat for more); jobs of other types in QUEUE fail "
                   "retryably (no handler)")
      ->required()
      // One value per --job-type: otherwise CLI11 takes the `--` before
      // COMMAND as the end of this list, and COMMAND's own flags (sh -c)
      // as the worker's.
      ->expected(1)
      ->allow_extra_args(false)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  work->add_option("--concurrency", o->concurrency, "commands running at once")
      ->check(CLI::Range(1, 1000));
  work->add_option("--max-jobs", o->max_jobs,
                   "stop after this many jobs finished (0: run until SIGINT or SIGTERM); up to "
                   "--concurrency more already leased still run")
      ->check(CLI::NonNegativeNumber);
  work->add_option("--max-result-bytes", o->max_result_bytes,
                   "longest standard output kept as the result")
      ->check(CLI::Range(int64_t{0}, int64_t{16} << 20));
  work->add_option("command", o->command, "the command and its arguments, after --")->required();
  runner.Bind(work, o, &Work);
}

}  // namespace ratchet::cli
