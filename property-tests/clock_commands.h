// Property-test commands that move the ManualClock: forward steps (random
// amounts, and steps landing exactly on a lease deadline), backward steps
// (model.h says what they mean), and mass expiry (more than 1,000 leases
// past their deadline at once, while expiry ends at most 1,000 per group).
#ifndef RATCHET_PROPERTY_TESTS_CLOCK_COMMANDS_H_
#define RATCHET_PROPERTY_TESTS_CLOCK_COMMANDS_H_

#include <algorithm>
#include <string>
#include <tuple>
#include <vector>

#include "batch_commands.h"
#include "engine_sut.h"

namespace ratchet::proptest {

// Moves both clocks by ms (either way), then runs the engine's maintenance.
inline void StepClock(Model& m, Sut& sut, int64_t ms) {
  m.Advance(ms);
  sut.h.clock().Advance(Millis(ms));
  RC_ASSERT(sut.h->RunMaintenance().ok());  // lease expiry happens here (or on any call)
}

struct AdvanceClockCmd : Command {
  int64_t ms = 0;
  explicit AdvanceClockCmd(const Model& m) {
    std::vector<int64_t> deadlines;
    for (const auto& [id, j] : m.jobs) {
      if (j.st == model::St::kRunning) deadlines.push_back(j.deadline - m.now);
    }
    switch (*rc::gen::inRange(0, 3)) {
      case 0:
        ms = *rc::gen::elementOf(std::vector<int64_t>{100, 600, 1500, 5000});
        break;
      case 1:
        ms = *rc::gen::inRange<int64_t>(1, 8000);
        break;
      default:  // onto a lease deadline, or 1 ms either side of it
        ms = deadlines.empty() ? 1000 : *rc::gen::elementOf(deadlines) + *rc::gen::inRange(-1, 2);
        ms = std::max<int64_t>(ms, 1);
    }
  }
  void apply(Model& m) const override { m.Advance(ms); }
  void run(const Model& m0, Sut& sut) const override {
    Model m = m0;
    StepClock(m, sut, ms);
    CheckAllJobs(m, sut);
  }
  void show(std::ostream& os) const override { os << "AdvanceClock(" << ms << ")"; }
};

// A backward step: no lease ends early, nothing fires again, no job is lost
// or changes (CheckAllJobs: states, attempts, tokens, errors recorded).
struct StepBackCmd : Command {
  int64_t ms = *rc::gen::inRange<int64_t>(1, 6000);
  void apply(Model& m) const override { m.Advance(-ms); }
  void run(const Model& m0, Sut& sut) const override {
    Model m = m0;
    StepClock(m, sut, -ms);
    CheckAllJobs(m, sut);
  }
  void show(std::ostream& os) const override { os << "StepBack(" << ms << ")"; }
};

// Leases more than 1,000 jobs of the mass queue over several Leases, steps
// the clock past every deadline, and then: a late Complete / Heartbeat /
// Fail (or a batch of them) with tokens of the jobs expiry reaches last
// (past the first 1,000, so not yet ended by the engine) is LEASE_LOST, as
// are a few more late calls; after ceil(expired / 1000) maintenance runs
// every job is back to available/scheduled or dead, as the model says.
// Runs at most once per sequence (its jobs stay in the model).
struct MassExpiryCmd : Command {
  int n = *rc::gen::inRange(1001, 1251);
  std::vector<int> chunks;                              // max_jobs of each Lease
  std::vector<int64_t> vts;                             // its lease length
  std::vector<int64_t> gaps;                            // clock step before it
  int64_t extra = *rc::gen::inRange<int64_t>(0, 3000);  // past the last deadline
  int first_kind = *rc::gen::inRange(0, 5);  // Complete, Heartbeat, Fail, CompleteBatch, FailBatch
  int tail = *rc::gen::inRange(1, 40);       // late targets from the end of expiry order
  std::vector<std::pair<int, int>> more;     // (kind 0..2, index in expiry order)

  explicit MassExpiryCmd(const Model& m) {
    RC_PRE(preconditions(m));
    // Drawn in about one sequence in six (it costs ~30 ms): make soak has
    // plenty, and the default run stays short.
    RC_PRE(*rc::gen::inRange(0, 3) == 0);
    for (int leased = 0; leased < n;) {
      chunks.push_back(*rc::gen::inRange(200, 1001));
      vts.push_back(*rc::gen::elementOf(std::vector<int64_t>{1000, 3000, 5000}));
      gaps.push_back(*rc::gen::elementOf(std::vector<int64_t>{0, 1, 7}));
      leased += chunks.back();
    }
    int k = *rc::gen::inRange(0, 6);
    for (int i = 0; i < k; ++i) more.emplace_back(*rc::gen::inRange(0, 3), *rc::gen::inRange(0, n));
  }

  static std::vector<model::EnqueueSpec> Specs(int n) {
    std::vector<model::EnqueueSpec> specs(n);
    for (int i = 0; i < n; ++i) {
      specs[i].queue = kMassQueue;
      specs[i].payload = "p";
      specs[i].max_attempts = 1 + i % 2;  // half die, half retry
      specs[i].jitter = static_cast<JitterMode>(i % 4);
    }
    return specs;
  }

  // The mass jobs in the order expiry ends them: (deadline, id).
  static std::vector<JobId> ExpiryOrder(const Model& m) {
    std::vector<std::pair<int64_t, JobId>> order;
    for (const auto& [id, j] : m.jobs) {
      if (j.queue == kMassQueue && j.st == model::St::kRunning) order.emplace_back(j.deadline, id);
    }
    std::sort(order.begin(), order.end());
    std::vector<JobId> out;
    for (const auto& [d, id] : order) out.push_back(id);
    return out;
  }

  // A late call (kind: 0 Complete, 1 Heartbeat, 2 Fail) on the model, and
  // on the engine (with the effect the completion would carry).
  static Expect Late(Model& m, int kind, JobId id, FencingToken token) {
    int64_t delay;
    return kind == 0   ? m.Complete(id, token, LateEffects())
           : kind == 1 ? m.Heartbeat(id, token, 1000)
                       : m.Fail(id, token, true, &delay);
  }
  static std::vector<AppWrite> LateEffects() { return {{"k1", std::string("late")}}; }
  static absl::Status LateCall(Sut& sut, int kind, JobId id, FencingToken token) {
    if (kind == 0) return sut.h->Complete({id, token, "late", LateEffects()});
    if (kind == 1) return sut.h->Heartbeat({id, token, Millis(1000)}).status();
    return sut.h->Fail({id, token, "late", true}).status();
  }
  // Both agree, and it is LEASE_LOST (the model is checked too).
  static void CheckLate(Expect want, const absl::Status& got) {
    RC_ASSERT(want == Expect::kLeaseLost);
    CheckExpect(want, got);
  }

  // Applies the command to the model; with a Sut, drives the engine too and
  // checks each answer.
  void Drive(Model& m, Sut* sut) const {
    std::vector<JobId> ids;
    Expect e = m.EnqueueBatch(Specs(n), &ids);
    if (sut)
      CheckExpect(e, sut->h
                         ->EnqueueBatch([&] {
                           std::vector<EnqueueRequest> reqs;
                           for (const auto& s : Specs(n)) reqs.push_back(ToRequest(s));
                           return reqs;
                         }())
                         .status());
    int leased = 0;
    for (size_t c = 0; c < chunks.size(); ++c) {
      m.Advance(gaps[c]);
      if (sut) sut->h.clock().Advance(Millis(gaps[c]));
      std::vector<JobId> want = m.Lease(kMassQueue, chunks[c], vts[c]);
      leased += static_cast<int>(want.size());
      if (sut) {
        auto got = sut->h->Lease({kMassQueue, chunks[c], Millis(vts[c]), "mass"});
        RC_ASSERT(got.ok());
        CheckLeased(m, want, *got);
      }
    }
    if (sut) RC_ASSERT(leased == n);
    std::vector<JobId> order = ExpiryOrder(m);
    std::vector<FencingToken> tokens;
    for (JobId id : order) tokens.push_back(m.jobs.at(id).token);
    int64_t step = m.jobs.at(order.back()).deadline - m.now + extra;
    // Every running job past its deadline (others' too) ends in the model.
    size_t expiring = 0;
    for (const auto& [id, j] : m.jobs) {
      expiring += j.st == model::St::kRunning && j.deadline <= m.now + step;
    }
    m.Advance(step);
    if (sut) sut->h.clock().Advance(Millis(step));

    // The first late call targets the last `tail` jobs in expiry order: the
    // group that runs it ends at most 1,000 leases first, so these are
    // still marked running when the call looks at them.
    const size_t from = order.size() - std::min<size_t>(tail, order.size());
    if (first_kind <= 2) {
      Expect want = Late(m, first_kind, order.back(), tokens.back());
      if (sut) CheckLate(want, LateCall(*sut, first_kind, order.back(), tokens.back()));
    } else if (first_kind == 3) {
      std::vector<CompleteRequest> reqs;
      std::vector<Expect> want;
      for (size_t i = from; i < order.size(); ++i) {
        want.push_back(Late(m, 0, order[i], tokens[i]));
        reqs.push_back({order[i], tokens[i], "late", LateEffects()});
      }
      if (sut) {
        auto got = sut->h->CompleteBatch(reqs);
        RC_ASSERT(got.ok());
        for (size_t i = 0; i < want.size(); ++i) CheckLate(want[i], (*got)[i]);
      }
    } else {
      std::vector<FailRequest> reqs;
      std::vector<Expect> want;
      for (size_t i = from; i < order.size(); ++i) {
        want.push_back(Late(m, 2, order[i], tokens[i]));
        reqs.push_back({order[i], tokens[i], "late", true});
      }
      if (sut) {
        auto got = sut->h->FailBatch(reqs);
        RC_ASSERT(got.ok());
        for (size_t i = 0; i < want.size(); ++i) CheckLate(want[i], (*got)[i].status());
      }
    }
    for (const auto& [kind, i] : more) {
      Expect want = Late(m, kind, order[i % order.size()], tokens[i % order.size()]);
      if (sut) {
        CheckLate(want, LateCall(*sut, kind, order[i % order.size()], tokens[i % order.size()]));
      }
    }
    // Enough maintenance: each run ends at least 1,000 expired leases.
    if (sut) {
      for (size_t i = 0; i < (expiring + 999) / 1000; ++i) RC_ASSERT(sut->h->RunMaintenance().ok());
    }
    m.Promote(kMassQueue);  // the GetQueue below
    if (sut) {
      auto info = sut->h->GetQueue(kMassQueue);
      RC_ASSERT(info.ok());
      RC_ASSERT(info->running == 0);
    }
  }

  bool preconditions(const Model& m) const { return !m.queues.count(kMassQueue); }
  void checkPreconditions(const Model& m) const override { RC_PRE(preconditions(m)); }
  void apply(Model& m) const override { Drive(m, nullptr); }
  void run(const Model& m0, Sut& sut) const override {
    Model m = m0;
    Drive(m, &sut);
    CheckAllJobs(m, sut, /*mass=*/true);
  }
  void show(std::ostream& os) const override {
    os << "MassExpiry(n=" << n << ", leases=[";
    for (size_t c = 0; c < chunks.size(); ++c) {
      os << chunks[c] << "@vt=" << vts[c] << "+" << gaps[c] << " ";
    }
    os << "], extra=" << extra << ", first=" << first_kind << ", tail=" << tail
       << ", more=" << more.size() << ")";
  }
};

}  // namespace ratchet::proptest

#endif  // RATCHET_PROPERTY_TESTS_CLOCK_COMMANDS_H_
