// The `ratchet` CLI's subcommands: each parses its arguments (CLI11), makes
// one or a few Client calls and prints the outcome.
#ifndef RATCHET_CLIENT_CLI_COMMANDS_H_
#define RATCHET_CLIENT_CLI_COMMANDS_H_

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "ratchet/client/client.h"

namespace ratchet::cli {

struct Globals {
  std::string server = "127.0.0.1:7070";
  bool json = false;
  int64_t timeout_ms = 10000;
};

class Commands {
 public:
  explicit Commands(const Globals* globals) : g_(globals) {}
  // Adds every subcommand to `app`; each runs from its parse callback.
  void Register(CLI::App& app);
  int exit_code() const { return exit_code_; }

 private:
  // Connects and runs `body`; records its status as the exit code.
  void Run(const std::function<absl::Status(Client&)>& body);
  void RegisterJobs(CLI::App& app);
  void RegisterQueues(CLI::App& app);
  void RegisterDeadLetters(CLI::App& app);
  void RegisterWorkflows(CLI::App& app);  // workflow_commands.cc
  void RegisterSchedules(CLI::App& app);  // schedule_commands.cc
  // Reads --payload or --payload-file into `out`.
  absl::Status ReadPayload(std::string* out) const;

  const Globals* g_;
  int exit_code_ = 0;

  // Arguments shared by subcommands (only one subcommand runs).
  std::string queue_, job_type_, payload_, payload_file_, key_, state_ = "available", cursor_;
  uint64_t job_id_ = 0;
  int limit_ = 0;
  std::optional<int64_t> delay_ms_;
  std::optional<int> priority_, max_attempts_, concurrency_;
  std::optional<int64_t> visibility_ms_, completed_retention_ms_, dead_retention_ms_;
  std::optional<int64_t> initial_backoff_ms_, max_backoff_ms_;
  std::optional<double> multiplier_;
  std::string jitter_;
  bool reset_attempts_ = false;
  // Workflows and schedules.
  std::string workflow_state_ = "all";
  std::string name_, file_, event_, schedule_id_, spec_, time_zone_ = "UTC", missed_, overlap_;
  std::vector<std::string> events_;
  std::optional<int64_t> jitter_ms_, catchup_ms_;
  std::string start_at_, end_at_;
};

}  // namespace ratchet::cli

#endif  // RATCHET_CLIENT_CLI_COMMANDS_H_
