// Property-test commands for the calls that carry several items or app
// writes: CompleteBatch and FailBatch (each item answered on its own, as
// Complete / Fail would, all in one write), CommitOutbox (app writes land
// iff the enqueues do) and CompleteAndLease (the lease part checked first).
#ifndef RATCHET_PROPERTY_TESTS_BATCH_COMMANDS_H_
#define RATCHET_PROPERTY_TESTS_BATCH_COMMANDS_H_

#include <string>
#include <vector>

#include "engine_sut.h"
#include "job_commands.h"

namespace ratchet::proptest {

// 1..4 targets (the same job may come twice).
inline std::vector<JobAndToken> GenTargets(const Model& m) {
  std::vector<JobAndToken> out;
  int n = *rc::gen::inRange(1, 5);
  for (int i = 0; i < n; ++i) out.emplace_back(m);
  return out;
}

struct CompleteBatchCmd : Command {
  std::vector<JobAndToken> targets;
  std::vector<std::vector<AppWrite>> effects;
  explicit CompleteBatchCmd(const Model& m) : targets(GenTargets(m)) {
    for (size_t i = 0; i < targets.size(); ++i) effects.push_back(GenWrites(/*may_be_bad=*/true));
  }
  // Items apply in order, each seeing the ones before it.
  std::vector<Expect> Apply(Model& m) const {
    std::vector<Expect> want;
    for (size_t i = 0; i < targets.size(); ++i) {
      want.push_back(m.Complete(targets[i].id, targets[i].token, effects[i]));
    }
    return want;
  }
  void apply(Model& m) const override { Apply(m); }
  void run(const Model& m0, Sut& sut) const override {
    Model m = m0;
    std::vector<Expect> want = Apply(m);
    std::vector<CompleteRequest> reqs;
    for (size_t i = 0; i < targets.size(); ++i) {
      reqs.push_back({targets[i].id, targets[i].token, "r", effects[i]});
    }
    auto got = sut.h->CompleteBatch(reqs);
    RC_ASSERT(got.ok());
    RC_ASSERT(got->size() == want.size());
    for (size_t i = 0; i < want.size(); ++i) CheckExpect(want[i], (*got)[i]);
    CheckAllJobs(m, sut);
  }
  void show(std::ostream& os) const override {
    os << "CompleteBatch(";
    for (size_t i = 0; i < targets.size(); ++i) {
      os << "[" << targets[i].id << ", token=" << targets[i].token << ", " << Show(effects[i])
         << "]";
    }
    os << ")";
  }
};

struct FailBatchCmd : Command {
  std::vector<JobAndToken> targets;
  std::vector<bool> retryable;
  explicit FailBatchCmd(const Model& m) : targets(GenTargets(m)) {
    for (size_t i = 0; i < targets.size(); ++i) {
      retryable.push_back(*rc::gen::weightedElement<bool>({{4, true}, {1, false}}));
    }
  }
  void apply(Model& m) const override {
    int64_t delay;
    for (size_t i = 0; i < targets.size(); ++i) {
      m.Fail(targets[i].id, targets[i].token, retryable[i], &delay);
    }
  }
  void run(const Model& m0, Sut& sut) const override {
    Model m = m0;
    std::vector<FailRequest> reqs;
    for (size_t i = 0; i < targets.size(); ++i) {
      reqs.push_back({targets[i].id, targets[i].token, "err", retryable[i]});
    }
    auto got = sut.h->FailBatch(reqs);
    RC_ASSERT(got.ok());
    RC_ASSERT(got->size() == targets.size());
    for (size_t i = 0; i < targets.size(); ++i) {
      int64_t delay;
      bool live = Live(m, targets[i].id, targets[i].token);
      Expect want = m.Fail(targets[i].id, targets[i].token, retryable[i], &delay);
      const auto& item = (*got)[i];
      CheckExpect(want, item.status());
      if (item.ok() && live && delay >= 0) {
        RC_ASSERT(item->state == JobState::kScheduled);
        RC_ASSERT(ToUnixMs(*item->retry_at) - m0.now == delay);
      } else if (item.ok() && live) {
        RC_ASSERT(item->state == m.Visible(m.jobs.at(targets[i].id)));
      }
    }
    CheckAllJobs(m, sut);
  }
  void show(std::ostream& os) const override {
    os << "FailBatch(";
    for (size_t i = 0; i < targets.size(); ++i) {
      os << "[" << targets[i].id << ", token=" << targets[i].token << ", retryable=" << retryable[i]
         << "]";
    }
    os << ")";
  }
};

struct CommitOutboxCmd : Command {
  std::vector<AppWrite> writes = GenWrites(/*may_be_bad=*/true);
  std::vector<model::EnqueueSpec> specs;
  CommitOutboxCmd() {
    int n = *rc::gen::inRange(0, 3);
    for (int i = 0; i < n; ++i) specs.push_back(GenSpec());
  }
  void apply(Model& m) const override {
    std::vector<JobId> ids;
    m.CommitOutbox(writes, specs, &ids);
  }
  void run(const Model& m0, Sut& sut) const override {
    Model m = m0;
    std::vector<JobId> want_ids;
    Expect want = m.CommitOutbox(writes, specs, &want_ids);
    OutboxTxn txn;
    txn.writes = writes;
    for (const auto& s : specs) txn.enqueues.push_back(ToRequest(s));
    auto got = sut.h->CommitOutbox(txn);
    CheckExpect(want, got.status());
    if (got.ok()) {
      RC_ASSERT(got->size() == want_ids.size());
      for (size_t i = 0; i < want_ids.size(); ++i) RC_ASSERT((*got)[i].id == want_ids[i]);
    }
    CheckAllJobs(m, sut);
  }
  void show(std::ostream& os) const override {
    os << "CommitOutbox(writes=" << Show(writes) << ", enqueues=";
    for (const auto& s : specs) os << "[q=" << s.queue << " key=" << s.key << "]";
    os << ")";
  }
};

// The worker's "done, give me the next": the lease request is checked first
// (an invalid one writes nothing, not even the completion); otherwise the
// completion's own outcome is reported and the lease runs regardless.
struct CompleteAndLeaseCmd : Command {
  JobAndToken target;
  std::vector<AppWrite> effects = GenWrites(/*may_be_bad=*/true);
  std::string queue = *rc::gen::elementOf(kQueues);
  int max_jobs = *rc::gen::weightedElement<int>({{3, 1}, {3, 2}, {3, 3}, {1, 0}, {1, 1001}});
  int64_t vt = *rc::gen::elementOf(std::vector<int64_t>{1000, 5000});
  explicit CompleteAndLeaseCmd(const Model& m) : target(m) {}
  Expect Apply(Model& m, Expect* completion, std::vector<JobId>* leased) const {
    return m.CompleteAndLease(target.id, target.token, effects, queue, max_jobs, vt, completion,
                              leased);
  }
  void apply(Model& m) const override {
    Expect completion;
    std::vector<JobId> leased;
    Apply(m, &completion, &leased);
  }
  void run(const Model& m0, Sut& sut) const override {
    Model m = m0;
    Expect completion = Expect::kOk;
    std::vector<JobId> want;
    Expect call = Apply(m, &completion, &want);
    auto got = sut.h->CompleteAndLease({target.id, target.token, "r", effects},
                                       {queue, max_jobs, Millis(vt), "w"});
    CheckExpect(call, got.status());
    if (got.ok()) {
      CheckExpect(completion, got->completion);
      CheckLeased(m, want, got->jobs);
    }
    CheckAllJobs(m, sut);
  }
  void show(std::ostream& os) const override {
    os << "CompleteAndLease(" << target.id << ", token=" << target.token
       << ", effects=" << Show(effects) << "; " << queue << ", " << max_jobs << ", vt=" << vt
       << ")";
  }
};

}  // namespace ratchet::proptest

#endif  // RATCHET_PROPERTY_TESTS_BATCH_COMMANDS_H_
