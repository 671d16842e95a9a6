// The `ratchet` CLI's subcommands: each parses its arguments (CLI11), makes
// one or a few Client calls and prints the outcome. Each family (jobs,
// queues, dead letters, workflows, schedules) binds its arguments to its own
// options struct, in its own file.
#ifndef RATCHET_CLIENT_CLI_COMMANDS_H_
#define RATCHET_CLIENT_CLI_COMMANDS_H_

#include <CLI/CLI.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "ratchet/client/client.h"

namespace ratchet::cli {

struct Globals {
  std::string server = "127.0.0.1:7070";
  bool json = false;
  int64_t timeout_ms = 10000;
  // TLS (--tls-ca, --tls-cert, --tls-key, --tls-server-name; or
  // RATCHET_TLS_CA, ...): see ClientOptions.
  std::string tls_ca, tls_cert, tls_key, tls_server_name;
  std::string token, token_file;  // authentication (ClientOptions)
};

// Runs the one subcommand the command line names and keeps its exit code.
class Runner {
 public:
  // The body of a subcommand, against a connected client; `json` is true
  // for --json (print protobuf JSON instead of tables).
  using Body = std::function<absl::Status(Client& client, bool json)>;

  // `globals` is not owned and outlives the runner; it is read only once the
  // command line is parsed.
  explicit Runner(const Globals* globals) : g_(globals) {}
  // Makes `cmd`'s parse callback connect and run `body`.
  void Bind(CLI::App* cmd, Body body);
  // The same for `body(client, *options, json)`, where `options` holds the
  // arguments `cmd` parses into; the callback keeps it alive.
  template <typename Options>
  void Bind(CLI::App* cmd, std::shared_ptr<Options> options,
            absl::Status (*body)(Client&, const Options&, bool json)) {
    Bind(cmd, [options, body](Client& c, bool json) { return body(c, *options, json); });
  }
  // 0, or 1 when the body failed (its error is on stderr).
  int exit_code() const { return exit_code_; }

 private:
  void Run(const Body& body);

  const Globals* g_;
  int exit_code_ = 0;
};

// --payload and --payload-file, of which a command takes at most one.
struct PayloadOptions {
  std::string bytes;
  std::string file;

  void AddTo(CLI::App* cmd);
  // The payload: the file's contents when --payload-file is given.
  absl::Status Read(std::string* out) const;
};

// Adds the command `name` of a family; it needs one of its subcommands.
CLI::App* AddFamily(CLI::App& app, const std::string& name, const std::string& help);

// Adds every subcommand to `app`, the families in this order. `runner`
// outlives the app's parse.
void RegisterCommands(CLI::App& app, Runner& runner);
void RegisterJobCommands(CLI::App& app, Runner& runner);         // job_commands.cc
void RegisterQueueCommands(CLI::App& app, Runner& runner);       // queue_commands.cc
void RegisterDeadLetterCommands(CLI::App& app, Runner& runner);  // dlq_commands.cc
void RegisterWorkflowCommands(CLI::App& app, Runner& runner);    // workflow_commands.cc
void RegisterScheduleCommands(CLI::App& app, Runner& runner);    // schedule_commands.cc
void RegisterAdminCommands(CLI::App& app, Runner& runner);       // admin_commands.cc
void RegisterWorkCommand(CLI::App& app, Runner& runner);         // work_command.cc

}  // namespace ratchet::cli

#endif  // RATCHET_CLIENT_CLI_COMMANDS_H_
