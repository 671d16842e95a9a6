// Property test of unique jobs (docs/consistency.md, "Unique jobs") on the
// real engine (ManualClock, seeded Random): random unique enqueues of a few
// argument values (delayed or not, alone or in batches), leases, completions, failures
// (retryable or not), cancels, lease expiry, forward clock steps and
// reopens, with one random valid set of options per run. After every
// operation:
//   - no two jobs with the same args are in the covered states within the
//     period at once (states as uniqueness sees them: a started live job is
//     running);
//   - a unique match answers a job that is covered and within the period.
// Backward clock steps are left out: Get then reports a due job scheduled
// again, while uniqueness (like Lease) keeps it available
// (UniqueTest.ScheduledOnlyStopsMatchingOnceTheJobIsDue covers them).
// Redrive is the documented exception and is left out too.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <map>
#include <string>
#include <vector>

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
using testing::Uniform;
constexpr JobState kS = JobState::kScheduled;
constexpr JobState kA = JobState::kAvailable;
constexpr JobState kR = JobState::kRunning;

// Every valid covered set (closed under "can come before"), a sample of the
// finished ones.
const std::vector<std::vector<JobState>>& CoveredSets() {
  static const auto* sets = new std::vector<std::vector<JobState>>{
      {kS},
      {kS, kA},
      {kS, kA, kR},
      {kS, kA, kR, JobState::kCompleted},
      {kS, kA, kR, JobState::kDead, JobState::kCancelled},
      {kS, kA, kR, JobState::kCompleted, JobState::kDead, JobState::kCancelled},
  };
  return *sets;
}

void Configure(EngineOptions& o) {
  o.default_queue_settings.completed_retention = Millis(3650LL * 24 * 3600000);
  o.default_queue_settings.dead_retention = Millis(3650LL * 24 * 3600000);
}

bool Covers(const UniqueOptions& u, JobState s) {
  return std::find(u.states.begin(), u.states.end(), s) != u.states.end();
}

// The job's state as uniqueness sees it, from Get.
JobState UniqueState(const Job& j) {
  if (!IsTerminal(j.state) && j.attempts > 0) return kR;
  return j.state;
}

// Covered and within the period at `now`.
bool Counts(const UniqueOptions& u, const Job& j, TimePoint now) {
  if (u.period && now - j.created_at >= *u.period) return false;
  return Covers(u, UniqueState(j));
}

struct UniqueRun {
  EngineHarness h{/*in_memory=*/true, 11, Configure};
  UniqueOptions unique;
  std::map<std::string, std::vector<JobId>> jobs_by_args;  // inserted jobs
  Leases leases;                                           // tokens handed out

  Job MustGet(JobId id) {
    auto j = h->Get(id);
    RC_ASSERT(j.ok());
    return *j;
  }

  void CheckInvariant() {
    for (const auto& [args, ids] : jobs_by_args) {
      std::vector<JobId> counted;
      for (JobId id : ids) {
        if (Counts(unique, MustGet(id), h.clock().Now())) counted.push_back(id);
      }
      if (counted.size() > 1) {
        RC_FAIL("args '" + args + "': jobs " + std::to_string(counted[0]) + " and " +
                std::to_string(counted[1]) + " are both covered");
      }
    }
  }

  EnqueueRequest RandomRequest() {
    EnqueueRequest req;
    req.queue = "q";
    req.job_type = "refresh";
    req.payload = *rc::gen::element<std::string>("user=1", "user=2");
    req.delay = Millis(*rc::gen::element<int64_t>(0, 0, 500, 3000));
    req.max_attempts = Uniform(1, 4);
    req.retry_policy = RetryPolicy{Millis(200), Millis(200), 1.0, JitterMode::kNone};
    req.unique = unique;
    return req;
  }

  // Checks one answer: a match names a job that counts now.
  void Record(const EnqueueRequest& req, const EnqueueResult& r) {
    if (r.unique_match) {
      RC_ASSERT(Counts(unique, MustGet(r.id), h.clock().Now()));
    } else {
      jobs_by_args[req.payload].push_back(r.id);
    }
  }

  void Enqueue() {
    EnqueueRequest req = RandomRequest();
    auto r = h->Enqueue(req);
    RC_ASSERT(r.ok());
    Record(req, *r);
  }

  // Two or three requests in one write: later ones see the earlier ones.
  void EnqueueBatch() {
    std::vector<EnqueueRequest> reqs;
    for (int i = Uniform(2, 4); i > 0; --i) reqs.push_back(RandomRequest());
    auto r = h->EnqueueBatch(reqs);
    RC_ASSERT(r.ok());
    for (size_t i = 0; i < reqs.size(); ++i) Record(reqs[i], (*r)[i]);
  }

  void Lease() {
    auto leased = h->Lease(LeaseRequest{"q", Uniform(1, 3), Millis(1000), "w"});
    RC_ASSERT(leased.ok());
    for (const LeasedJob& l : *leased) leases[l.id] = l.token;
  }

  void Finish(bool complete) { FinishRandomLease(h, leases, complete); }

  void Cancel() {
    std::vector<JobId> all;
    for (const auto& [args, ids] : jobs_by_args) all.insert(all.end(), ids.begin(), ids.end());
    if (all.empty()) return;
    auto s = h->Cancel(*rc::gen::elementOf(all)).status();
    RC_ASSERT(s.ok() || s.code() == absl::StatusCode::kFailedPrecondition);
  }

  void Step() {
    switch (Uniform(0, 12)) {
      case 0:
      case 1:
      case 2:
        return Enqueue();
      case 3:
        return EnqueueBatch();
      case 4:
      case 5:
        return Lease();
      case 6:
        return Finish(/*complete=*/true);
      case 7:
      case 8:
        return Finish(/*complete=*/false);
      case 9:
        return Cancel();
      case 10:
        h.clock().Advance(Millis(Uniform(1, 2500)));  // leases expire
        RC_ASSERT(h->RunMaintenance().ok());
        return;
      default:
        if (*rc::gen::weightedElement<bool>({{1, true}, {3, false}})) h.Reopen();
    }
  }
};

TEST(UniquePropertyTest, NoTwoMatchingJobsAreCoveredAtOnce) {
  spdlog::set_level(spdlog::level::err);
  bool ok = CheckRandomRuns<UniqueRun>("unique invariant holds under random operations",
                                       [](UniqueRun& run) {
                                         run.unique.states = *rc::gen::elementOf(CoveredSets());
                                         if (*rc::gen::arbitrary<bool>())
                                           run.unique.period = Millis(Uniform(500, 6000));
                                       });
  EXPECT_TRUE(ok);
}

}  // namespace
}  // namespace ratchet
