// Property test of flow control (docs/consistency.md, "Flow control") on
// the real engine (ManualClock, seeded Random), with random concurrency
// keys, queue and key limits, named key limits, queue and key rate limits,
// settings changes, completions, failures, cancels, lease expiry, clock
// steps forward and reopens. The checker watches every Lease:
//   - running jobs per key never exceed the key's limit, nor the queue's
//     running jobs the queue's limit (a lease counts from its grant until
//     we end it or its deadline passes; a lowered limit does not interrupt
//     jobs already over it, so only keys that just got a job are checked);
//   - starts in any window (t - period, t] never exceed the rate, on the
//     rate-limit clock (rate_limit and key_rate_limit): the high-water
//     mark of the clock readings, checked within each open;
//   - ExplainJob agrees with the next Lease (checked before one Lease in
//     three): every job a Lease takes was
//     explained "runnable" just before it (same clock, nothing between), and
//     a Lease that takes nothing follows no "runnable" answer.
// (Fairness and order are exact-answer tests in flow_control_test.cc.)
// The checker is shown to catch an off-by-one: CheckerCatchesAnOffByOne
// runs the engine with each limit one higher than the checker expects.
// FC_TRACE=1 prints the leases, clock steps, settings changes and reopens.
// Sequence count: RC_PARAMS (ctest: a few hundred; make soak: enough for
// 10^6 lease attempts, printed at the end and checked against
// FC_MIN_ATTEMPTS). FC_MAX_STEPS: the longest sequence (default 120).
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <atomic>
#include <cstdio>
#include <deque>
#include <map>
#include <set>

#include "engine_harness.h"
#include "ratchet/engine/engine.h"
#include "spdlog/spdlog.h"

namespace ratchet {
namespace {

using testing::EngineHarness;

const std::vector<std::string> kKeys = {"", "k0", "k1", "k2", "k3"};
constexpr int64_t kLeaseMs = 1000;
std::atomic<uint64_t> g_lease_attempts{0};

struct Limits {
  int queue = 0;                     // 0: unlimited
  int key = 0;                       // 0: unlimited
  std::map<std::string, int> named;  // key -> own limit
  std::optional<RateLimit> rate, key_rate;
  int KeyLimit(const std::string& k) const {
    if (k.empty()) return 0;
    auto it = named.find(k);
    return it != named.end() ? it->second : key;
  }
};

rc::Gen<std::optional<RateLimit>> GenRate() {
  return rc::gen::oneOf(
      rc::gen::just(std::optional<RateLimit>()),
      rc::gen::map(rc::gen::pair(rc::gen::inRange(1, 6), rc::gen::element<int64_t>(100, 1000)),
                   [](std::pair<int, int64_t> p) {
                     return std::optional<RateLimit>(RateLimit{p.first, Millis(p.second)});
                   }));
}

Limits GenLimits() {
  Limits l;
  l.queue = *rc::gen::element(0, 0, 2, 5);
  l.key = *rc::gen::element(0, 1, 2);
  if (*rc::gen::arbitrary<bool>()) l.named["k0"] = *rc::gen::inRange(1, 4);
  l.rate = *GenRate();
  l.key_rate = *GenRate();
  return l;
}

// The settings the engine gets: the checker's, each limit raised by `slack`.
QueueSettingsUpdate ToUpdate(const Limits& l, int slack) {
  QueueSettingsUpdate u;
  u.concurrency_limit = l.queue > 0 ? l.queue + slack : 0;
  u.key_concurrency_limit = l.key > 0 ? l.key + slack : 0;
  std::map<std::string, int> named;
  for (const auto& [k, v] : l.named) named[k] = v + slack;
  u.key_limits = named;
  u.rate_limit = l.rate ? RateLimit{l.rate->limit + slack, l.rate->period} : RateLimit{};
  u.key_rate_limit =
      l.key_rate ? RateLimit{l.key_rate->limit + slack, l.key_rate->period} : RateLimit{};
  return u;
}

// Steps per sequence: 10 up to FC_MAX_STEPS (default 120). make soak runs
// longer sequences: most of a short one's time is opening the engine.
int MaxSteps() {
  static const int max_steps = [] {
    const char* env = getenv("FC_MAX_STEPS");
    return env != nullptr ? std::max(11, atoi(env)) : 120;
  }();
  return max_steps;
}

struct Held {
  std::string key;
  FencingToken token;
  int64_t deadline;
};

class Checker {
 public:
  explicit Checker(int slack) : slack_(slack) {}

  void Run() {
    EngineHarness h(/*in_memory=*/true, /*seed=*/*rc::gen::inRange<uint64_t>(1, 1000));
    limits_ = GenLimits();
    ApplySettings(h);
    const int steps = *rc::gen::inRange(10, MaxSteps());
    for (int i = 0; i < steps; ++i) Step(h);
  }

 private:
  int64_t Now(EngineHarness& h) { return ToUnixMs(h.clock().Now()); }

  void ApplySettings(EngineHarness& h) {
    RC_ASSERT(h->UpdateQueue("q", ToUpdate(limits_, slack_)).ok());
    // Windows are checked from the change on: the engine also counts the
    // starts still logged from before it (stricter than this check).
    starts_.clear();
    key_starts_.clear();
  }

  void Step(EngineHarness& h) {
    switch (*rc::gen::inRange(0, 12)) {
      case 0:
      case 1:
      case 2: {
        EnqueueRequest r;
        r.queue = "q";
        r.job_type = "t";
        r.concurrency_key = *rc::gen::elementOf(kKeys);
        r.priority = *rc::gen::element(50, 100, 100, 100);
        if (*rc::gen::inRange(0, 4) == 0) r.delay = Millis(*rc::gen::inRange(1, 2000));
        r.max_attempts = 3;
        r.retry_policy = RetryPolicy{Millis(100), Millis(1000), 2.0, JitterMode::kNone};
        auto res = h->Enqueue(r);
        RC_ASSERT(res.ok());
        unfinished_.insert(res->id);
        break;
      }
      case 3:
      case 4:
      case 5:
        Lease(h, *rc::gen::inRange(1, 8));
        break;
      case 6:
      case 7:
        EndOne(h, *rc::gen::inRange(0, 3));
        break;
      case 8:
        h.clock().Advance(Millis(*rc::gen::element<int64_t>(1, 50, 100, 400, 1000, 1500)));
        // The engine's rate-limit time is the high-water mark of every
        // clock reading it made, by any call or its own background pass.
        hw_ = std::max(hw_, Now(h));
        if (getenv("FC_TRACE"))
          std::fprintf(stderr, "advance to %lld\n",
                       static_cast<long long>(Now(h) - testing::kStartMs));
        RC_ASSERT(h->RunMaintenance().ok());
        break;
      case 9:
        // Backward clock steps are left to flow_control_test: combined
        // with reopens they move the rate clock in ways this checker does
        // not model (see the note at the reopen below).
        break;
      case 10:
        if (getenv("FC_TRACE")) std::fprintf(stderr, "reopen\n");
        h.Reopen();
        // Rate windows are checked within each open: the engine's rate
        // clock after a reopen is its stored mark (rate_clock, newest
        // start), which this checker cannot see. That starts survive a
        // reopen is flow_control_test's RateLimitHoldsAcrossReopen and
        // TwoStartsOfOneJobAtOneRateTimeBothSurviveReopen.
        hw_ = 0;
        starts_.clear();
        key_starts_.clear();
        break;
      case 11:
        if (*rc::gen::inRange(0, 4) == 0) {
          limits_ = GenLimits();
          if (getenv("FC_TRACE")) {
            std::fprintf(stderr, "settings queue=%d key=%d named_k0=%d\n", limits_.queue,
                         limits_.key, limits_.named.count("k0") ? limits_.named["k0"] : 0);
          }
          ApplySettings(h);
        }
        break;
      default:
        break;
    }
  }

  // ExplainJob of every job not known finished: the ids it calls runnable.
  std::set<JobId> ExplainAll(EngineHarness& h) {
    std::set<JobId> runnable;
    for (auto it = unfinished_.begin(); it != unfinished_.end();) {
      auto e = h->ExplainJob(*it);
      RC_ASSERT(e.ok());
      RC_ASSERT(!e->causes.empty());
      const WaitReason first = e->causes.front().reason;
      if (first == WaitReason::kRunnable) runnable.insert(*it);
      const bool finished = first == WaitReason::kCompleted || first == WaitReason::kDead ||
                            first == WaitReason::kCancelled;
      it = finished ? unfinished_.erase(it) : std::next(it);
    }
    return runnable;
  }

  void Lease(EngineHarness& h, int n) {
    ++g_lease_attempts;
    const int64_t now = Now(h);
    hw_ = std::max(hw_, now);
    // Before one Lease in three (explaining every job costs a sequencer
    // round trip each): explain agrees with the Lease that follows it.
    const bool explain = *rc::gen::inRange(0, 3) == 0;
    const std::set<JobId> runnable = explain ? ExplainAll(h) : std::set<JobId>();
    auto got = h->Lease(LeaseRequest{"q", n, Millis(kLeaseMs), "w"});
    RC_ASSERT(got.ok());
    if (explain) {
      for (const LeasedJob& j : *got) RC_ASSERT(runnable.count(j.id) == 1u);
      if (!runnable.empty() && got->empty() && getenv("FC_TRACE")) {
        for (JobId id : runnable) {
          auto e = h->ExplainJob(id);
          std::fprintf(stderr, "explained runnable, not leased: %llu/%s:",
                       static_cast<unsigned long long>(id), e->concurrency_key.c_str());
          for (const WaitCause& c : e->causes) std::fprintf(stderr, " [%s]", c.message.c_str());
          std::fprintf(stderr, "\n");
        }
        auto again = h->Lease(LeaseRequest{"q", n, Millis(kLeaseMs), "w"});
        std::fprintf(stderr, "a second Lease takes %zu; running %zu\n", again->size(),
                     static_cast<size_t>(h->GetQueue("q")->running));
      }
      if (!runnable.empty()) RC_ASSERT(!got->empty());
    }
    if (getenv("FC_TRACE")) {
      std::fprintf(stderr, "lease n=%d now=%lld hw=%lld got:", n,
                   static_cast<long long>(now - testing::kStartMs),
                   static_cast<long long>(hw_ - testing::kStartMs));
      for (const LeasedJob& j : *got)
        std::fprintf(stderr, " %llu/%s", static_cast<unsigned long long>(j.id),
                     j.concurrency_key.c_str());
      std::fprintf(
          stderr, " rate=%d/%lld keyrate=%d/%lld\n", limits_.rate ? limits_.rate->limit : 0,
          limits_.rate ? static_cast<long long>(limits_.rate->period.count()) : 0LL,
          limits_.key_rate ? limits_.key_rate->limit : 0,
          limits_.key_rate ? static_cast<long long>(limits_.key_rate->period.count()) : 0LL);
    }
    // Leases still held: not ended by us, deadline not reached by the
    // clock's high-water mark (the engine may have expired them then).
    for (auto it = held_.begin(); it != held_.end();) {
      it = it->second.deadline <= hw_ ? held_.erase(it) : std::next(it);
    }
    std::set<std::string> leased_keys;
    for (const LeasedJob& j : *got) {
      held_[j.id] = {j.concurrency_key, j.token, now + kLeaseMs};
      leased_keys.insert(j.concurrency_key);
      RecordStart(j.concurrency_key);
    }
    std::map<std::string, int> per_key;
    for (const auto& [id, held] : held_) ++per_key[held.key];
    if (!got->empty() && limits_.queue > 0) {
      RC_ASSERT(static_cast<int>(held_.size()) <= limits_.queue);
    }
    for (const std::string& k : leased_keys) {
      const int limit = limits_.KeyLimit(k);
      if (limit > 0) RC_ASSERT(per_key[k] <= limit);
    }
  }

  void RecordStart(const std::string& key) {
    if (limits_.rate) CheckWindow(starts_, *limits_.rate);
    if (limits_.key_rate && !key.empty()) CheckWindow(key_starts_[key], *limits_.key_rate);
  }

  void CheckWindow(std::deque<int64_t>& log, const RateLimit& rate) {
    log.push_back(hw_);
    while (!log.empty() && log.front() <= hw_ - rate.period.count()) log.pop_front();
    RC_ASSERT(static_cast<int>(log.size()) <= rate.limit);
  }

  // Ends one held lease: complete, fail (retryable) or cancel-and-fail.
  void EndOne(EngineHarness& h, int how) {
    if (held_.empty()) return;
    auto it = held_.begin();
    std::advance(it, *rc::gen::inRange<size_t>(0, held_.size()));
    const JobId id = it->first;
    const Held held = it->second;
    held_.erase(it);
    absl::Status s;
    if (how == 0) {
      s = h->Complete({id, held.token, "", {}});
    } else {
      if (how == 2) h->Cancel(id).IgnoreError();
      s = h->Fail({id, held.token, "x", true}).status();
    }
    // A lease that expired meanwhile is LEASE_LOST: fine, it had ended.
    RC_ASSERT(s.ok() || s.code() == absl::StatusCode::kFailedPrecondition);
  }

  const int slack_;
  Limits limits_;
  int64_t hw_ = 0;
  std::map<JobId, Held> held_;
  std::set<JobId> unfinished_;  // enqueued, not yet explained as finished
  std::deque<int64_t> starts_;
  std::map<std::string, std::deque<int64_t>> key_starts_;
};

TEST(FlowControlPropertyTest, LimitsAndRatesHold) {
  spdlog::set_level(spdlog::level::warn);
  const uint64_t before = g_lease_attempts.load();
  EXPECT_TRUE(rc::check("flow control limits and rates hold", [] { Checker(0).Run(); }));
  const uint64_t attempts = g_lease_attempts.load() - before;
  std::printf("flow control: %llu lease attempts checked, 0 violations\n",
              static_cast<unsigned long long>(attempts));
  // make soak sets FC_MIN_ATTEMPTS (10^6): fewer attempts than promised fail.
  if (const char* min = getenv("FC_MIN_ATTEMPTS")) {
    EXPECT_GE(attempts, std::stoull(min));
  }
}

TEST(FlowControlPropertyTest, CheckerCatchesAnOffByOne) {
  spdlog::set_level(spdlog::level::off);
  // The engine gets every limit one higher than the checker expects: the
  // checker must find a violating sequence.
  // RC_PARAMS may ask for few sequences (the sanitizer run divides them by
  // 10): try rounds of them until one is falsified.
  bool caught = false;
  for (int round = 0; round < 30 && !caught; ++round) {
    caught = !rc::check("an engine off by one is caught", [] { Checker(1).Run(); });
  }
  EXPECT_TRUE(caught);
}

}  // namespace
}  // namespace ratchet
