// An in-process ratchetd: an Engine on a scratch directory served on an
// ephemeral loopback port, and a Client connected to it.
#ifndef RATCHET_TESTS_API_SERVER_FIXTURE_H_
#define RATCHET_TESTS_API_SERVER_FIXTURE_H_

#include <gtest/gtest.h>

#include <functional>
#include <memory>

#include "ratchet/base/status.h"
#include "ratchet/client/client.h"
#include "ratchet/engine/engine.h"
#include "server.h"
#include "temp_dir.h"

namespace ratchet::testing {

class ServerFixture : public ::testing::Test {
 protected:
  void SetUp() override { Start(); }
  void TearDown() override { Stop(); }

  void Start() {
    EngineOptions options;
    options.data_dir = dir_.Sub("data");
    options.max_payload_bytes = 1024;
    options.max_lease_wait = Millis(5000);
    if (configure_engine_) configure_engine_(options);
    auto engine = Engine::Open(options);
    ASSERT_TRUE(engine.ok()) << engine.status();
    engine_ = std::move(*engine);
    server::ServerOptions server_options = server_options_;
    server_options.listen = "127.0.0.1:0";
    auto srv = server::Server::Start(server_options, engine_.get());
    ASSERT_TRUE(srv.ok()) << srv.status();
    server_ = std::move(*srv);
    auto client = Client::Connect(
        {.target = "127.0.0.1:" + std::to_string(server_->port()), .deadline = Millis(5000)});
    ASSERT_TRUE(client.ok()) << client.status();
    client_ = std::move(*client);
  }

  void Stop() {
    client_.reset();
    if (server_) server_->Shutdown(Millis(1000));
    server_.reset();
    engine_.reset();
  }

  Client& client() { return *client_; }
  int port() const { return server_->port(); }

  // Restarts with 1 MiB payloads allowed and enqueues `n` jobs of 1 MiB in
  // "q": together far over the 16 MiB message limit.
  void EnqueueMiBJobs(int n) {
    Stop();
    configure_engine_ = [](EngineOptions& o) { o.max_payload_bytes = 1 << 20; };
    Start();
    const std::string payload(1 << 20, 'p');
    for (int i = 0; i < n; ++i) {
      v1::JobSpec job;
      job.set_queue("q");
      job.set_job_type("t");
      job.set_payload(payload);
      ASSERT_TRUE(client().Enqueue(job).ok());
    }
  }

  // Leases the one job `queue` must have ready (asserts it).
  v1::LeasedJob LeaseOne(const std::string& queue) {
    v1::LeaseRequest lease;
    lease.set_queue(queue);
    auto leased = client().Lease(lease);
    EXPECT_TRUE(leased.ok() && leased->jobs_size() == 1) << leased.status();
    return leased.ok() && leased->jobs_size() == 1 ? leased->jobs(0) : v1::LeasedJob();
  }
  // Leases the one ready job of `queue` and fails it into the dead letters.
  void KillOne(const std::string& queue, const std::string& error = "fatal") {
    v1::LeasedJob job = LeaseOne(queue);
    v1::FailRequest fail;
    fail.set_job_id(job.job_id());
    fail.set_fencing_token(job.fencing_token());
    fail.set_error(error);
    fail.set_non_retryable(true);
    auto failed = client().Fail(fail);
    EXPECT_TRUE(failed.ok()) << failed.status();
    if (failed.ok()) {
      EXPECT_EQ(failed->state(), v1::JOB_STATE_DEAD);
    }
  }

  server::ServerOptions server_options_;
  std::function<void(EngineOptions&)> configure_engine_;
  TempDir dir_{true};
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<server::Server> server_;
  std::unique_ptr<Client> client_;
};

// Asserts `status` has `code` and, when given, `reason`.
#define EXPECT_STATUS(expr, want_code, want_reason)                     \
  do {                                                                  \
    absl::Status s_ = (expr);                                           \
    EXPECT_EQ(s_.code(), want_code) << s_;                              \
    EXPECT_EQ(::ratchet::ReasonOf(s_), std::string(want_reason)) << s_; \
  } while (0)

}  // namespace ratchet::testing

#endif  // RATCHET_TESTS_API_SERVER_FIXTURE_H_
