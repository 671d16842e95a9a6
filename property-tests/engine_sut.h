// The system under test of engine_property_test.cc and what its commands
// share: the engine (ManualClock, seeded Random, tmpfs directory), the
// comparison of an engine answer with the model's expectation, the check of
// every job and application key against the model, and generators.
#ifndef RATCHET_PROPERTY_TESTS_ENGINE_SUT_H_
#define RATCHET_PROPERTY_TESTS_ENGINE_SUT_H_

#include <rapidcheck.h>
#include <rapidcheck/state.h>

#include <string>
#include <vector>

#include "engine_harness.h"
#include "model.h"

namespace ratchet::proptest {

using model::Expect;
using model::Model;

inline constexpr uint64_t kSeed = 7;
// The queues ordinary commands use.
inline const std::vector<std::string> kQueues = {"a", "b"};
// The mass-expiry command's queue: no other command touches its jobs, and
// CheckAllJobs looks at them only when asked (they are many).
inline const std::string kMassQueue = "m";
// The application keys effects and outbox writes may touch.
inline const std::vector<std::string> kAppKeys = {"k1", "k2", "k3"};

struct Sut {
  Sut();
  static QueueSettings Settings(int limit, bool paused);
  testing::EngineHarness h;
};

using Command = rc::state::Command<Model, Sut>;

void CheckExpect(Expect want, const absl::Status& got);

// Every acknowledged job exists, in the model's state, with its attempts,
// token and number of recorded errors; attempts never exceed max_attempts;
// purged jobs are gone; every application key holds the model's value.
// The mass queue's jobs are checked only with `mass`.
void CheckAllJobs(const Model& m, Sut& sut, bool mass = false);

model::EnqueueSpec GenSpec();
EnqueueRequest ToRequest(const model::EnqueueSpec& s);
// 0..2 writes to kAppKeys (puts with a fresh value, or deletes); with
// `may_be_bad`, sometimes one with an empty key (INVALID_ARGUMENT).
std::vector<AppWrite> GenWrites(bool may_be_bad);
std::string Show(const std::vector<AppWrite>& writes);

// A job from the model (not the mass queue's; sometimes a purged one) and
// a token that is current, stale or never issued.
struct JobAndToken {
  JobId id = 0;
  FencingToken token = 0;
  explicit JobAndToken(const Model& m);
};

}  // namespace ratchet::proptest

#endif  // RATCHET_PROPERTY_TESTS_ENGINE_SUT_H_
