// TLS and mTLS against the real ratchetd binary (docs/operations.md, "TLS"):
// certificates made here with the openssl command; a plaintext client, a
// client without a certificate, one whose certificate another CA signed and
// one whose certificate expired are all refused; the C++ client and the CLI
// connect with the right files.
#include <gtest/gtest.h>
#include <signal.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <thread>

#include "ratchet/client/client.h"
#include "ratchetd_process.h"
#include "run_command.h"
#include "temp_dir.h"

namespace ratchet::testing {
namespace {

// Makes, in `dir`: ca.pem (+ key), server.pem/key for localhost and
// 127.0.0.1, client.pem/key (CN=worker-1, signed by ca), rogue.pem/key
// (signed by another CA), expired.pem/key (signed by ca, expired 2020) and
// server2.pem/key (localhost again, signed by rogue-ca: a rotation).
void MakeCertificates(const std::string& dir) {
  std::ofstream(dir + "/ca.cnf") << "[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\n"
                                    "new_certs_dir = .\nserial = serial\ndefault_md = sha256\n"
                                    "policy = p\n[p]\ncommonName = supplied\n";
  std::ofstream(dir + "/server.ext") << "subjectAltName=DNS:localhost,IP:127.0.0.1\n";
  const std::string script =
      "set -e; cd '" + dir +
      "'; touch index.txt; echo 01 > serial\n"
      "req() { openssl req -newkey rsa:2048 -nodes -keyout $1.key -out $1.csr -subj /CN=$2 "
      "2>/dev/null; }\n"
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 "
      "-subj /CN=test-ca 2>/dev/null\n"
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout rogue-ca.key -out rogue-ca.pem -days 2 "
      "-subj /CN=rogue-ca 2>/dev/null\n"
      "req server localhost; openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key "
      "-CAcreateserial -out server.pem -days 2 -extfile server.ext 2>/dev/null\n"
      "req client worker-1; openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key "
      "-CAcreateserial -out client.pem -days 2 2>/dev/null\n"
      "req rogue worker-1; openssl x509 -req -in rogue.csr -CA rogue-ca.pem -CAkey rogue-ca.key "
      "-CAcreateserial -out rogue.pem -days 2 2>/dev/null\n"
      "req expired worker-1; openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key "
      "-in expired.csr -out expired.pem -startdate 20200101000000Z -enddate 20200102000000Z "
      "-notext 2>/dev/null\n"
      "req server2 localhost; openssl x509 -req -in server2.csr -CA rogue-ca.pem "
      "-CAkey rogue-ca.key -CAcreateserial -out server2.pem -days 2 -extfile server.ext "
      "2>/dev/null\n";
  CommandResult r = RunCommand(script);
  ASSERT_EQ(r.exit_code, 0) << r.output;
}

class TlsTest : public ::testing::Test {
 protected:
  void SetUp() override { MakeCertificates(dir_.path()); }
  std::string File(const std::string& name) { return dir_.path() + "/" + name; }

  // ratchetd with TLS; with mTLS if `require_client_certs`.
  std::unique_ptr<RatchetdProcess> Serve(bool require_client_certs,
                                         std::vector<std::string> flags = {}) {
    flags.insert(flags.end(), {"--tls-cert-file", File("server.pem"), "--tls-key-file",
                               File("server.key"), "--shutdown-grace-ms", "200"});
    if (require_client_certs) {
      flags.insert(flags.end(), {"--tls-client-ca-file", File("ca.pem")});
    }
    auto server = std::make_unique<RatchetdProcess>(RATCHETD_PATH, dir_.Sub("data"), port_, flags);
    EXPECT_TRUE(server->Start());
    return server;
  }

  // Enqueues one job to `queue` with these client options; the call's status.
  absl::Status TryEnqueue(ClientOptions o, const std::string& queue = "q") {
    o.target = "127.0.0.1:" + std::to_string(port_);
    o.deadline = Millis(2000);
    o.max_attempts = 1;
    auto client = Client::Connect(o);
    if (!client.ok()) return client.status();
    v1::JobSpec job;
    job.set_queue(queue);
    job.set_job_type("t");
    return (*client)->Enqueue(job).status();
  }

  ClientOptions Trusting() {
    ClientOptions o;
    o.tls_ca_file = File("ca.pem");
    o.tls_server_name = "localhost";
    return o;
  }
  ClientOptions WithCertificate(const std::string& name) {
    ClientOptions o = Trusting();
    o.tls_cert_file = File(name + ".pem");
    o.tls_key_file = File(name + ".key");
    return o;
  }

  TempDir dir_;
  int port_ = FreePort();
};

TEST_F(TlsTest, TlsServesClientsThatTrustItsCaAndRefusesPlaintext) {
  auto server = Serve(/*require_client_certs=*/false);
  EXPECT_TRUE(TryEnqueue(Trusting()).ok());
  EXPECT_FALSE(TryEnqueue(ClientOptions{}).ok()) << "a plaintext client";
  ClientOptions other;
  other.tls_ca_file = File("rogue-ca.pem");  // does not trust the server
  other.tls_server_name = "localhost";
  EXPECT_FALSE(TryEnqueue(other).ok());
  server->Stop(SIGTERM);
}

TEST_F(TlsTest, MtlsRefusesMissingForeignAndExpiredClientCertificates) {
  auto server = Serve(/*require_client_certs=*/true);
  EXPECT_TRUE(TryEnqueue(WithCertificate("client")).ok());
  EXPECT_FALSE(TryEnqueue(Trusting()).ok()) << "no client certificate";
  EXPECT_FALSE(TryEnqueue(WithCertificate("rogue")).ok()) << "signed by another CA";
  EXPECT_FALSE(TryEnqueue(WithCertificate("expired")).ok()) << "expired in 2020";
  // The CLI takes the same files.
  CommandResult cli =
      RunCommand(std::string(RATCHET_CLI_PATH) + " --server 127.0.0.1:" + std::to_string(port_) +
                 " --tls-ca " + File("ca.pem") + " --tls-cert " + File("client.pem") +
                 " --tls-key " + File("client.key") + " --tls-server-name localhost queues list");
  EXPECT_EQ(cli.exit_code, 0) << cli.output;
  EXPECT_NE(cli.output.find("q"), std::string::npos) << cli.output;
  server->Stop(SIGTERM);
}

// With an auth file, a verified client certificate's CN names a principal
// (tls_identity); its grants then apply. A certificate that names no
// principal is UNAUTHENTICATED although the TLS handshake succeeded.
TEST_F(TlsTest, AClientCertificateNamesItsPrincipal) {
  std::ofstream(File("auth.toml")) << "[[principal]]\nname = \"w1\"\n"
                                   << "tls_identity = \"worker-1\"\n"
                                   << "grants = [{ role = \"producer\", queues = \"q\" }]\n";
  auto server = Serve(/*require_client_certs=*/true, {"--auth-file", File("auth.toml")});
  EXPECT_TRUE(TryEnqueue(WithCertificate("client")).ok());
  EXPECT_EQ(TryEnqueue(WithCertificate("client"), "other").code(),
            absl::StatusCode::kPermissionDenied);
  std::ofstream(File("auth.toml"), std::ios::trunc)
      << "[[principal]]\nname = \"w2\"\ntls_identity = \"worker-2\"\n";
  server->Signal(SIGHUP);
  bool refused = false;
  for (int i = 0; i < 100 && !refused; ++i) {
    refused = TryEnqueue(WithCertificate("client")).code() == absl::StatusCode::kUnauthenticated;
    if (!refused) std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_TRUE(refused) << "worker-1 still authenticates after its principal was removed";
  server->Stop(SIGTERM);
}

// Waits (up to 10 s) until the log at `path` holds `text`.
bool AwaitLog(const std::string& path, const std::string& text) {
  for (int i = 0; i < 200; ++i) {
    std::ifstream in(path);
    std::string log((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    if (log.find(text) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return false;
}

// Certificates rotate without a restart: SIGHUP says at once whether the
// replaced files are usable, gRPC's watcher serves valid ones within the
// reload interval, and a bad replacement leaves the old certificate serving.
TEST_F(TlsTest, ReplacedCertificatesAreCheckedOnSighupAndServed) {
  auto copy = [&](const std::string& from, const std::string& to) {
    std::filesystem::copy_file(File(from), File(to),
                               std::filesystem::copy_options::overwrite_existing);
  };
  copy("server.pem", "live.pem");
  copy("server.key", "live.key");
  RatchetdProcess server(RATCHETD_PATH, dir_.Sub("data"), port_,
                         {"--tls-cert-file", File("live.pem"), "--tls-key-file", File("live.key"),
                          "--tls-reload-interval-ms", "1000", "--shutdown-grace-ms", "200"});
  ASSERT_TRUE(server.Start());
  EXPECT_TRUE(AwaitLog(server.log_path(), "event=tls_loaded subject=\"CN = localhost\""));
  EXPECT_TRUE(TryEnqueue(Trusting()).ok());

  copy("client.key", "live.key");  // not the certificate's key
  server.Signal(SIGHUP);
  EXPECT_TRUE(AwaitLog(server.log_path(), "event=tls_checked_failed"));
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // past one reload
  EXPECT_TRUE(TryEnqueue(Trusting()).ok()) << "a bad replacement stopped the old certificate";

  copy("server2.key", "live.key");
  copy("server2.pem", "live.pem");
  server.Signal(SIGHUP);
  EXPECT_TRUE(AwaitLog(server.log_path(), "event=tls_checked subject="));
  ClientOptions rotated;
  rotated.tls_ca_file = File("rogue-ca.pem");
  rotated.tls_server_name = "localhost";
  bool served = false;
  for (int i = 0; i < 100 && !served; ++i) {
    served = TryEnqueue(rotated).ok();
    if (!served) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(served) << "the rotated certificate was not served";
  EXPECT_FALSE(TryEnqueue(Trusting()).ok()) << "the old certificate is still served";
  server.Stop(SIGTERM);
}

// With --log-format json, gRPC's own log lines (a failed handshake) are
// JSON objects too, and so is a refused start.
TEST_F(TlsTest, JsonLogsCoverGrpcsOwnLinesAndARefusedStart) {
  auto server = Serve(/*require_client_certs=*/false, {"--log-format", "json"});
  EXPECT_FALSE(TryEnqueue(ClientOptions{}).ok()) << "a plaintext client";
  EXPECT_TRUE(AwaitLog(server->log_path(), "\"event\":\"grpc_log\""));
  server->Stop(SIGTERM);
  std::ifstream in(server->log_path());
  for (std::string line; std::getline(in, line);) {
    EXPECT_TRUE(line.size() > 2 && line.front() == '{' && line.back() == '}') << line;
  }
  CommandResult r = RunCommand(std::string(RATCHETD_PATH) + " --log-format json --listen " +
                               "0.0.0.0:0 --data-dir " + dir_.Sub("d4"));
  EXPECT_EQ(r.exit_code, 2);
  EXPECT_EQ(r.output.rfind("{", 0), 0u) << r.output;
  EXPECT_NE(r.output.find("\"event\":\"start_refused\""), std::string::npos) << r.output;
}

// A server whose port is taken fails to start, cleanly: gRPC's default
// SO_REUSEPORT let a second ratchetd bind the same port and share its
// connections; and a TLS server that failed to bind aborted (its TLS poller
// thread was destroyed unjoined).
TEST_F(TlsTest, ATakenPortFailsStartupWithoutACrash) {
  auto first = Serve(/*require_client_certs=*/false);
  CommandResult r =
      RunCommand(std::string(RATCHETD_PATH) + " --listen 127.0.0.1:" + std::to_string(port_) +
                 " --data-dir " + dir_.Sub("d5") + " --http-listen '' --tls-cert-file " +
                 File("server.pem") + " --tls-key-file " + File("server.key"));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("event=start_failed"), std::string::npos) << r.output;
  first->Stop(SIGTERM);
}

TEST_F(TlsTest, AKeyThatIsNotTheCertificatesStopsStartup) {
  CommandResult r = RunCommand(std::string(RATCHETD_PATH) + " --listen 127.0.0.1:0 --data-dir " +
                               dir_.Sub("d3") + " --tls-cert-file " + File("server.pem") +
                               " --tls-key-file " + File("client.key"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("tls_key_file"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("is not the key of the certificate"), std::string::npos) << r.output;
}

TEST_F(TlsTest, HalfATlsSetupOrAnUnreadableFileStopsStartup) {
  CommandResult r = RunCommand(std::string(RATCHETD_PATH) + " --listen 127.0.0.1:0 --data-dir " +
                               dir_.Sub("d1") + " --tls-cert-file " + File("server.pem"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("tls_"), std::string::npos) << r.output;
  r = RunCommand(std::string(RATCHETD_PATH) + " --listen 127.0.0.1:0 --data-dir " + dir_.Sub("d2") +
                 " --tls-cert-file /nonexistent.pem --tls-key-file " + File("server.key"));
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("tls_cert_file"), std::string::npos) << r.output;
}

TEST_F(TlsTest, ClientTlsOptionsAreCheckedAtConnect) {
  ClientOptions o;
  o.tls_cert_file = File("client.pem");  // without a CA
  auto c = Client::Connect(o);
  ASSERT_FALSE(c.ok());
  EXPECT_NE(c.status().message().find("tls_ca_file"), std::string::npos);
  o = Trusting();
  o.tls_ca_file = "/nonexistent/ca.pem";
  c = Client::Connect(o);
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ratchet::testing
