#include "engine_harness.h"

#include <gtest/gtest.h>

namespace ratchet::testing {

EngineHarness::EngineHarness(bool in_memory, uint64_t seed,
                             const std::function<void(EngineOptions&)>& configure)
    : dir_(in_memory), clock_(FromUnixMs(kStartMs)) {
  options_.data_dir = dir_.Sub("data");
  options_.clock = &clock_;
  options_.random = std::make_shared<SeededRandom>(seed);
  if (configure) configure(options_);
  Reopen();
}

absl::Status EngineHarness::TryReopen() {
  engine_.reset();
  auto engine = Engine::Open(options_);
  if (!engine.ok()) return engine.status();
  engine_ = std::move(*engine);
  return absl::OkStatus();
}

void EngineHarness::Reopen() {
  absl::Status s = TryReopen();
  if (!s.ok()) {
    ADD_FAILURE() << "reopen failed: " << s;
    std::abort();
  }
}

JobId EngineHarness::Enqueue(const std::string& queue, const std::string& payload,
                             const std::string& key) {
  EnqueueRequest req;
  req.queue = queue;
  req.job_type = "test";
  req.payload = payload;
  req.idempotency_key = key;
  auto r = engine_->Enqueue(req);
  EXPECT_TRUE(r.ok()) << r.status();
  return r.ok() ? r->id : 0;
}

LeasedJob EngineHarness::LeaseOne(const std::string& queue, Millis visibility_timeout) {
  LeaseRequest req;
  req.queue = queue;
  req.visibility_timeout = visibility_timeout;
  req.worker_id = "w1";
  auto r = engine_->Lease(req);
  EXPECT_TRUE(r.ok()) << r.status();
  if (!r.ok() || r->empty()) {
    ADD_FAILURE() << "nothing to lease in " << queue;
    return {};
  }
  return r->front();
}

}  // namespace ratchet::testing
