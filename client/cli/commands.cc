#include "commands.h"

#include <fstream>
#include <sstream>
#include <utility>

#include "output.h"
#include "ratchet/base/status.h"

namespace ratchet::cli {

void Runner::Bind(CLI::App* cmd, Body body) {
  cmd->callback([this, body = std::move(body)] { Run(body); });
}

void Runner::Run(const Body& body) {
  auto client = Client::Connect({.target = g_->server,
                                 .deadline = Millis(g_->timeout_ms),
                                 .tls_ca_file = g_->tls_ca,
                                 .tls_cert_file = g_->tls_cert,
                                 .tls_key_file = g_->tls_key,
                                 .tls_server_name = g_->tls_server_name,
                                 .token = g_->token,
                                 .token_file = g_->token_file});
  absl::Status status = client.ok() ? body(**client, g_->json) : client.status();
  if (!status.ok()) {
    PrintError(status);
    exit_code_ = 1;
  }
}

void PayloadOptions::AddTo(CLI::App* cmd) {
  CLI::Option* payload = cmd->add_option("--payload", bytes, "payload bytes");
  cmd->add_option("--payload-file", file, "read the payload from a file")->excludes(payload);
}

absl::Status PayloadOptions::Read(std::string* out) const {
  *out = bytes;
  if (file.empty()) return absl::OkStatus();
  std::ifstream in(file, std::ios::binary);
  if (!in) return InvalidArgument("--payload-file", "cannot read " + file);
  std::stringstream ss;
  ss << in.rdbuf();
  *out = ss.str();
  return absl::OkStatus();
}

CLI::App* AddFamily(CLI::App& app, const std::string& name, const std::string& help) {
  CLI::App* family = app.add_subcommand(name, help);
  family->require_subcommand(1);
  return family;
}

void RegisterCommands(CLI::App& app, Runner& runner) {
  RegisterJobCommands(app, runner);
  RegisterQueueCommands(app, runner);
  RegisterDeadLetterCommands(app, runner);
  RegisterWorkflowCommands(app, runner);
  RegisterScheduleCommands(app, runner);
  RegisterAdminCommands(app, runner);
  RegisterWorkCommand(app, runner);
}

}  // namespace ratchet::cli
