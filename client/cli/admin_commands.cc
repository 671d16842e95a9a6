// `ratchet admin ...`: operations on the whole server (backup).
#include <cstdio>
#include <memory>

#include "absl/strings/str_cat.h"
#include "commands.h"
#include "output.h"
#include "ratchet/base/status.h"

namespace ratchet::cli {
namespace {

struct AdminOptions {
  std::string destination;
  int64_t deadline_ms = 3600000;
};

absl::Status Backup(Client& c, const AdminOptions& o, bool json) {
  RATCHET_ASSIGN_OR_RETURN(auto r,
                           c.Backup(o.destination, CallOptions{.deadline = Millis(o.deadline_ms)}));
  if (json) {
    PrintJson(r);
    return absl::OkStatus();
  }
  std::printf(
      "backup %s: %llu files, %llu bytes, in %lld ms\n", r.path().c_str(),
      static_cast<unsigned long long>(r.files()), static_cast<unsigned long long>(r.bytes()),
      static_cast<long long>(r.duration().seconds() * 1000 + r.duration().nanos() / 1000000));
  return absl::OkStatus();
}

}  // namespace

void RegisterAdminCommands(CLI::App& app, Runner& runner) {
  auto o = std::make_shared<AdminOptions>();
  CLI::App* admin = AddFamily(app, "admin", "operations on the whole server");
  CLI::App* backup = admin->add_subcommand(
      "backup",
      "write an online backup of the server's data directory to DEST (an absolute path on the "
      "server's machine that does not exist yet); restore with ratchetd --restore-from DEST");
  backup->add_option("destination", o->destination, "backup directory on the server")->required();
  backup->add_option("--deadline-ms", o->deadline_ms, "deadline of the backup call, ms")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{1}, int64_t{24} * 3600 * 1000));
  runner.Bind(backup, o, Backup);
}

}  // namespace ratchet::cli
