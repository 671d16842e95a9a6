// Property test of attempt timeouts and expiry (docs/consistency.md,
// "Timeouts and expiry") on the real engine (ManualClock, seeded Random):
// random enqueues (with or without a concurrency key, an attempt timeout,
// an expiry, a delay), leases, heartbeats (with random extensions),
// completions, failures, forward clock steps (each followed by a
// maintenance pass, as the engine's own timer runs one), backward clock
// steps and reopens. Invariants:
//   - an expired job never starts: a job's first lease happens before its
//     expires_at on the high-water mark of the times the engine was called
//     at since it opened, and a job cancelled as "expired" was never leased;
//   - no attempt is held leased past its attempt deadline: every lease and
//     heartbeat deadline is at or before it, and after a maintenance pass at
//     time t no running job's attempt deadline is at or before t;
//   - after a maintenance pass at t, no never-leased job with expires_at <=
//     t is still waiting.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>
#include <string>

#include "engine_harness.h"
#include "random_ops.h"
#include "ratchet/engine/engine.h"
#include "spdlog/spdlog.h"

namespace ratchet {
namespace {

using testing::CheckRandomRuns;
using testing::EngineHarness;
using testing::FinishRandomLease;
using testing::Leases;
using testing::PickLease;
using testing::Uniform;

struct Model {
  std::optional<int64_t> expires_at_ms;
  bool leased = false;
};

struct TimeoutsRun {
  EngineHarness h{/*in_memory=*/true, 7};
  std::map<JobId, Model> jobs;
  Leases leases;              // tokens handed out (maybe stale)
  int64_t high_water_ms = 0;  // the latest time the engine was called at
  int64_t ever_ms = 0;        // the same, never reset (reopens included)

  int64_t Now() {
    const int64_t now = ToUnixMs(h.clock().Now());
    high_water_ms = std::max(high_water_ms, now);
    ever_ms = std::max(ever_ms, now);
    return now;
  }

  Job MustGet(JobId id) {
    auto j = h->Get(id);
    RC_ASSERT(j.ok());
    return *j;
  }

  void Enqueue() {
    EnqueueRequest req;
    req.queue = "q";
    req.job_type = "t";
    req.concurrency_key = *rc::gen::element<std::string>("", "a", "b");
    req.max_attempts = Uniform(1, 4);
    req.retry_policy = RetryPolicy{Millis(200), Millis(200), 1.0, JitterMode::kNone};
    const int64_t delay = *rc::gen::element<int64_t>(0, 0, 500);
    req.delay = Millis(delay);
    if (*rc::gen::arbitrary<bool>()) req.attempt_timeout = Millis(Uniform(100, 3000));
    const int64_t now = Now();
    std::optional<int64_t> expires;
    if (*rc::gen::arbitrary<bool>()) {
      expires = now + delay + Uniform(1, 3000);
      req.expires_at = FromUnixMs(*expires);
    }
    auto r = h->Enqueue(req);
    // An expiry not after the engine's expiry clock (the latest time it has
    // seen, at most ever_ms: a reopen resumes it from the stored rate clock)
    // is refused, naming the field.
    if (!r.ok() && expires && *expires <= ever_ms) {
      RC_ASSERT(r.status().code() == absl::StatusCode::kInvalidArgument);
      RC_ASSERT(r.status().message().find("expires_at") != std::string::npos);
      return;
    }
    RC_ASSERT(r.ok());
    jobs[r->id] = Model{expires, false};
  }

  void Lease() {
    const int64_t now = Now();
    auto leased = h->Lease(LeaseRequest{"q", Uniform(1, 4), Millis(Uniform(200, 4000)), "w"});
    RC_ASSERT(leased.ok());
    for (const LeasedJob& l : *leased) {
      Model& m = jobs.at(l.id);
      if (!m.leased && m.expires_at_ms) {
        // Never started at or after its expiry, on the engine's time.
        RC_ASSERT(*m.expires_at_ms > high_water_ms);
      }
      m.leased = true;
      leases[l.id] = l.token;
      if (l.attempt_deadline) {
        RC_ASSERT(ToUnixMs(*l.attempt_deadline) == now + l.attempt_timeout.count());
        RC_ASSERT(l.lease_deadline <= *l.attempt_deadline);
      }
    }
  }

  void Heartbeat() {
    auto l = PickLease(leases);
    if (!l) return;
    Now();
    std::optional<Millis> ext;
    if (*rc::gen::arbitrary<bool>()) ext = Millis(Uniform(1, 10000));
    auto hb = h->Heartbeat({l->first, l->second, ext});
    RC_ASSERT(hb.ok() || hb.status().code() == absl::StatusCode::kFailedPrecondition);
    if (!hb.ok()) return;
    const Job j = MustGet(l->first);
    if (j.attempt_timeout.count() > 0) {
      RC_ASSERT(hb->lease_deadline <= *j.attempt_started_at + j.attempt_timeout);
    }
  }

  void Finish(bool complete) {
    // Only a call the engine receives moves its clock: with no lease held,
    // nothing is sent, and the model's high-water mark must stay put.
    if (leases.empty()) return;
    Now();
    FinishRandomLease(h, leases, complete);
  }

  // Forward, then a maintenance pass at the new time.
  void Advance() {
    h.clock().Advance(Millis(Uniform(1, 2500)));
    const int64_t now = Now();
    RC_ASSERT(h->RunMaintenance().ok());
    CheckAfterMaintenance(now);
  }

  void CheckAfterMaintenance(int64_t now) {
    for (const auto& [id, m] : jobs) {
      const Job j = MustGet(id);
      if (j.state == JobState::kRunning && j.attempt_timeout.count() > 0) {
        RC_ASSERT(ToUnixMs(*j.attempt_started_at) + j.attempt_timeout.count() > now);
      }
      if (!m.leased && m.expires_at_ms && *m.expires_at_ms <= now) {
        RC_ASSERT(j.state == JobState::kCancelled);
      }
    }
  }

  void CheckInvariant() {
    for (const auto& [id, m] : jobs) {
      const Job j = MustGet(id);
      if (j.cancel_reason == kCancelReasonExpired) {
        RC_ASSERT(!m.leased);
        RC_ASSERT(j.attempts == 0);
        RC_ASSERT(j.state == JobState::kCancelled);
      }
      if (j.state == JobState::kRunning && j.attempt_timeout.count() > 0) {
        RC_ASSERT(j.lease_deadline <= *j.attempt_started_at + j.attempt_timeout);
      }
    }
  }

  void Step() {
    switch (Uniform(0, 12)) {
      case 0:
      case 1:
      case 2:
        return Enqueue();
      case 3:
      case 4:
      case 5:
        return Lease();
      case 6:
        return Heartbeat();
      case 7:
        return Finish(/*complete=*/true);
      case 8:
        return Finish(/*complete=*/false);
      case 9:
      case 10:
        return Advance();
      default:
        if (*rc::gen::arbitrary<bool>()) {
          h.clock().Advance(Millis(-Uniform(1, 2000)));  // a step back
        } else {
          // The engine's high-water mark is in memory (docs/consistency.md,
          // "Timeouts and expiry"): a reopen starts it afresh, from the
          // next time the engine is called at.
          h.Reopen();
          high_water_ms = 0;
        }
    }
  }
};

TEST(TimeoutsPropertyTest, ExpiredJobsNeverStartAndAttemptsEndAtTheirDeadline) {
  spdlog::set_level(spdlog::level::err);
  bool ok = CheckRandomRuns<TimeoutsRun>("timeouts and expiry hold under random operations",
                                         [](TimeoutsRun&) {});
  EXPECT_TRUE(ok);
}

}  // namespace
}  // namespace ratchet
