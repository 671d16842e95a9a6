// Random operations shared by the RapidCheck runs on the real engine
// (unique_property_test, timeouts_property_test). Call them inside a
// property (they draw from RapidCheck's generators and use RC_ASSERT).
#ifndef RATCHET_PROPERTY_TESTS_RANDOM_OPS_H_
#define RATCHET_PROPERTY_TESTS_RANDOM_OPS_H_

#include <rapidcheck.h>

#include <cstdio>
#include <iterator>
#include <map>
#include <optional>
#include <string>
#include <utility>

#include "engine_harness.h"
#include "ratchet/engine/engine.h"

namespace ratchet::testing {

// Uniform in [lo, hi) whatever RapidCheck's current size (inRange scales
// with it, which made early runs nearly all enqueues).
inline int Uniform(int lo, int hi) { return *rc::gen::resize(100, rc::gen::inRange(lo, hi)); }

// Job id -> the token of a lease handed out for it (maybe stale by now).
using Leases = std::map<JobId, FencingToken>;

// A random entry of `leases`, if any.
inline std::optional<std::pair<JobId, FencingToken>> PickLease(const Leases& leases) {
  if (leases.empty()) return std::nullopt;
  auto it = leases.begin();
  std::advance(it, Uniform(0, static_cast<int>(leases.size())));
  return *it;
}

// Completes, or fails (retryable or not, at random), a random lease of
// `leases` and forgets it; a stale token must answer LEASE_LOST.
inline void FinishRandomLease(EngineHarness& h, Leases& leases, bool complete) {
  auto l = PickLease(leases);
  if (!l) return;
  absl::Status s = complete
                       ? h->Complete({l->first, l->second, "", {}})
                       : h->Fail({l->first, l->second, "e", *rc::gen::arbitrary<bool>()}).status();
  RC_ASSERT(s.ok() || s.code() == absl::StatusCode::kFailedPrecondition);
  leases.erase(l->first);
}

// Checks `description` on random runs: each makes a fresh Run, lets
// `setup` draw its options, then takes 1..59 random Steps, checking the
// Run's invariant after each. Run needs Step() and CheckInvariant().
template <typename Run, typename Setup>
bool CheckRandomRuns(const std::string& description, Setup setup) {
  return rc::check(description, [setup] {
    Run run;
    setup(run);
    const int steps = Uniform(1, 60);
    for (int i = 0; i < steps; ++i) {
      try {
        run.Step();
        run.CheckInvariant();
      } catch (const rc::detail::CaseResult& failure) {
        // RapidCheck re-runs a failing case to describe it; a failure that
        // depends on timing may not repeat then. Print it as it happened.
        if (failure.type == rc::detail::CaseResult::Type::Failure) {
          std::fprintf(stderr, "failure at step %d: %s\n", i, failure.description.c_str());
        }
        throw;
      }
    }
  });
}

}  // namespace ratchet::testing

#endif  // RATCHET_PROPERTY_TESTS_RANDOM_OPS_H_
