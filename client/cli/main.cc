// ratchet: the command-line client of ratchetd.
//
//   ratchet enqueue QUEUE TYPE [--payload P | --payload-file F] [--key K] ...
//   ratchet get ID | list QUEUE [--state S] [--type T] [--concurrency-key K] | cancel ID
//   ratchet jobs get ID | list ... | explain ID | cancel ID
//   ratchet jobs cancel --queue Q [--state S] [--type T] [--concurrency-key K]
//   ratchet queues list | get Q | set Q [--concurrency N ...] | pause Q | resume Q
//   ratchet dlq list Q | redrive Q [--job-id N] [--job-type T] [--pace N/MS] | purge Q ...
//   ratchet workers [--limit N] | health | admin backup DEST | admin stats
//
// Global, before or after the subcommand: --server host:port (or
// RATCHET_SERVER; default 127.0.0.1:7070), --json (protobuf JSON on stdout
// instead of tables), --timeout-ms, and TLS: --tls-ca, --tls-cert,
// --tls-key, --tls-server-name (or RATCHET_TLS_CA, ...); authentication:
// --token-file (RATCHET_TOKEN_FILE) or RATCHET_TOKEN, or --token (which
// other users can see in the process list); TRACEPARENT (W3C trace
// context, sent with every call).
// Exit codes: 0 success, 1 the call failed (the error is on stderr), 2 usage.
#include <CLI/CLI.hpp>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <tuple>

#include "commands.h"
#include "output.h"
#include "ratchet/client/trace_context.h"

int main(int argc, char** argv) {
  using ratchet::cli::Globals;
  CLI::App app("ratchet: inspect and operate a ratchetd server", "ratchet");
  app.require_subcommand(1);
  // Global options are accepted after the subcommand too (`ratchet enqueue
  // q t --json`): subcommands inherit this and pass options they do not
  // know up to their parent.
  app.fallthrough();
  Globals g;
  if (const char* env = std::getenv("RATCHET_SERVER")) g.server = env;
  app.add_option("--server", g.server, "ratchetd address host:port (RATCHET_SERVER)");
  for (auto [flag, env, field, help] :
       {std::tuple{"--tls-ca", "RATCHET_TLS_CA", &g.tls_ca, "CA to trust, PEM: speak TLS"},
        std::tuple{"--tls-cert", "RATCHET_TLS_CERT", &g.tls_cert, "client certificate, PEM (mTLS)"},
        std::tuple{"--tls-key", "RATCHET_TLS_KEY", &g.tls_key, "client private key, PEM (mTLS)"},
        std::tuple{"--tls-server-name", "RATCHET_TLS_SERVER_NAME", &g.tls_server_name,
                   "name the server certificate must carry (default: the --server host)"},
        std::tuple{"--token", "RATCHET_TOKEN", &g.token,
                   "bearer token (visible in the process list: prefer RATCHET_TOKEN or "
                   "--token-file)"},
        std::tuple{"--token-file", "RATCHET_TOKEN_FILE", &g.token_file,
                   "file holding the bearer token"}}) {
    if (const char* value = std::getenv(env)) *field = value;
    app.add_option(flag, *field, std::string(help) + " (" + env + ")");
  }
  app.add_flag("--json", g.json, "print JSON instead of tables");
  app.add_option("--timeout-ms", g.timeout_ms, "deadline per call (all attempts), ms")
      ->check(CLI::PositiveNumber);

  // W3C trace context: every call carries $TRACEPARENT (if valid) as
  // `traceparent` metadata, so the jobs and workflows it creates join the
  // caller's trace.
  const char* traceparent = std::getenv("TRACEPARENT");
  ratchet::TraceScope trace(traceparent != nullptr ? traceparent : "");
  ratchet::cli::Runner runner(&g);
  ratchet::cli::RegisterCommands(app, runner);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 2;
  }
  return runner.exit_code();
}
