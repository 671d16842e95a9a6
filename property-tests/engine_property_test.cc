// RapidCheck state-machine test of the engine against model.h. Each command
// runs on the real engine (ManualClock, seeded Random, tmpfs directory) and
// on the model, and the answers must agree. After every command every job's
// state, attempts and token must match; after every reopen each job must
// appear in exactly one List. Sequence count: RC_PARAMS (ctest sets
// max_success=2000; make soak 100x). RapidCheck prints the seed to replay.
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/state.h>

#include "engine_harness.h"
#include "model.h"
#include "spdlog/spdlog.h"

namespace ratchet {
namespace {

using model::Expect;
using model::Model;

constexpr uint64_t kSeed = 7;
const std::vector<std::string> kQueues = {"a", "b"};

struct Sut {
  Sut()
      : h(/*in_memory=*/true, kSeed, [](EngineOptions& o) {
          o.idempotency_window = Millis(3650LL * 24 * 3600000);
          o.default_queue_settings = Settings(0, false);
        }) {}
  static QueueSettings Settings(int limit, bool paused) {
    QueueSettings s;
    s.concurrency_limit = limit;
    s.paused = paused;
    s.completed_retention = s.dead_retention = Millis(3650LL * 24 * 3600000);
    return s;
  }
  testing::EngineHarness h;
};

using Command = rc::state::Command<Model, Sut>;

void CheckExpect(Expect want, const absl::Status& got) {
  switch (want) {
    case Expect::kOk:
    case Expect::kDuplicate:
      RC_ASSERT(got.ok());
      break;
    case Expect::kConflict:
      RC_ASSERT(got.code() == absl::StatusCode::kAlreadyExists);
      break;
    case Expect::kLeaseLost:
      RC_ASSERT(ReasonOf(got) == std::string(kReasonLeaseLost));
      break;
    case Expect::kInvalidState:
      RC_ASSERT(ReasonOf(got) == std::string(kReasonInvalidState));
      break;
  }
}

// Every acknowledged job exists, in the model's state, with its attempts and
// token; attempts never exceed max_attempts.
void CheckAllJobs(const Model& m, Sut& sut) {
  for (const auto& [id, j] : m.jobs) {
    auto job = sut.h->Get(id);
    RC_ASSERT(job.ok());
    RC_ASSERT(job->state == m.Visible(j));
    RC_ASSERT(job->attempts == j.attempts);
    RC_ASSERT(job->attempts <= job->max_attempts);
    RC_ASSERT(job->token == j.token);
  }
  for (const auto& d : m.delays) RC_ASSERT(d.lo <= d.value && d.value <= d.hi);
}

model::EnqueueSpec GenSpec() {
  model::EnqueueSpec s;
  s.queue = *rc::gen::elementOf(kQueues);
  s.key = *rc::gen::elementOf(std::vector<std::string>{"", "", "k1", "k2", "k3"});
  s.payload = *rc::gen::elementOf(std::vector<std::string>{"x", "y"});
  s.delay = *rc::gen::elementOf(std::vector<int64_t>{0, 0, 0, 700, 3000});
  s.priority = *rc::gen::inRange(0, 3);
  s.max_attempts = *rc::gen::inRange(1, 4);
  s.jitter = *rc::gen::elementOf(std::vector<JitterMode>{
      JitterMode::kNone, JitterMode::kFull, JitterMode::kEqual, JitterMode::kDecorrelated});
  return s;
}

EnqueueRequest ToRequest(const model::EnqueueSpec& s) {
  EnqueueRequest r{s.queue, "t", s.payload, s.key};
  r.delay = Millis(s.delay);
  r.priority = s.priority;
  r.max_attempts = s.max_attempts;
  r.retry_policy = model::PolicyFor(s.jitter);
  return r;
}

struct EnqueueBatchCmd : Command {
  std::vector<model::EnqueueSpec> specs;
  bool single;
  EnqueueBatchCmd() {
    single = *rc::gen::arbitrary<bool>();
    int n = single ? 1 : *rc::gen::inRange(1, 4);
    for (int i = 0; i < n; ++i) specs.push_back(GenSpec());
  }
  void apply(Model& m) const override {
    std::vector<JobId> ids;
    m.EnqueueBatch(specs, &ids);
  }
  void run(const Model& m0, Sut& sut) const override {
    Model m = m0;
    std::vector<JobId> want_ids;
    Expect want = m.EnqueueBatch(specs, &want_ids);
    std::vector<EnqueueRequest> reqs;
    for (const auto& s : specs) reqs.push_back(ToRequest(s));
    if (single) {
      auto r = sut.h->Enqueue(reqs[0]);
      CheckExpect(want, r.status());
      if (r.ok()) {
        RC_ASSERT(r->id == want_ids[0]);
        RC_ASSERT(r->duplicate == (want == Expect::kDuplicate));
      }
    } else {
      auto r = sut.h->EnqueueBatch(reqs);
      CheckExpect(want == Expect::kDuplicate ? Expect::kOk : want, r.status());
      if (r.ok()) {
        for (size_t i = 0; i < r->size(); ++i) RC_ASSERT((*r)[i].id == want_ids[i]);
      }
    }
    CheckAllJobs(m, sut);
  }
  void show(std::ostream& os) const override {
    os << (single ? "Enqueue" : "EnqueueBatch") << "(";
    for (const auto& s : specs) {
      os << "[q=" << s.queue << " key=" << s.key << " payload=" << s.payload << " delay=" << s.delay
         << " prio=" << s.priority << " max=" << s.max_attempts << "]";
    }
    os << ")";
  }
};

struct LeaseCmd : Command {
  std::string queue = *rc::gen::elementOf(kQueues);
  int max_jobs = *rc::gen::inRange(1, 4);
  int64_t vt = *rc::gen::elementOf(std::vector<int64_t>{1000, 5000});
  void apply(Model& m) const override { m.Lease(queue, max_jobs, vt); }
  void run(const Model& m0, Sut& sut) const override {
    Model m = m0;
    auto before = sut.h->GetQueue(queue);
    std::vector<JobId> want = m.Lease(queue, max_jobs, vt);
    auto got = sut.h->Lease({queue, max_jobs, Millis(vt), "w"});
    RC_ASSERT(got.ok());
    RC_ASSERT(got->size() == want.size());
    for (size_t i = 0; i < want.size(); ++i) {
      RC_ASSERT((*got)[i].id == want[i]);
      RC_ASSERT((*got)[i].token == m.jobs.at(want[i]).token);
      RC_ASSERT((*got)[i].attempt == m.jobs.at(want[i]).attempts);
    }
    // A lease never pushes the engine's queue past its concurrency limit
    // (lowering the limit does not preempt jobs already running).
    if (before.ok() && !got->empty()) {
      auto after = sut.h->GetQueue(queue);
      RC_ASSERT(after.ok());
      int64_t limit = after->settings.concurrency_limit;
      if (limit > 0) RC_ASSERT(after->running <= std::max(limit, before->running));
    }
    CheckAllJobs(m, sut);
  }
  void show(std::ostream& os) const override {
    os << "Lease(" << queue << ", " << max_jobs << ", vt=" << vt << ")";
  }
};

// A job from the model and a token that is current, stale or never issued.
struct JobAndToken {
  JobId id = 0;
  FencingToken token = 0;
  explicit JobAndToken(const Model& m) {
    RC_PRE(!m.jobs.empty());
    std::vector<JobId> ids;
    for (const auto& [id, j] : m.jobs) ids.push_back(id);
    id = *rc::gen::elementOf(ids);
    const auto& j = m.jobs.at(id);
    int kind = *rc::gen::inRange(0, 4);
    token = kind <= 1 ? j.token : kind == 2 ? j.token + 1 : (j.token > 0 ? j.token - 1 : 0);
  }
};

struct HeartbeatCmd : Command {
  JobAndToken target;
  int64_t ext = *rc::gen::elementOf(std::vector<int64_t>{1000, 4000});
  explicit HeartbeatCmd(const Model& m) : target(m) {}
  void apply(Model& m) const override { m.Heartbeat(target.id, target.token, ext); }
  void run(const Model& m0, Sut& sut) const override {
    Model m = m0;
    Expect want = m.Heartbeat(target.id, target.token, ext);
    auto got = sut.h->Heartbeat({target.id, target.token, Millis(ext)});
    CheckExpect(want, got.status());
    if (got.ok()) RC_ASSERT(got->cancel_requested == m.jobs.at(target.id).cancel_requested);
    CheckAllJobs(m, sut);
  }
  void show(std::ostream& os) const override {
    os << "Heartbeat(" << target.id << ", token=" << target.token << ", ext=" << ext << ")";
  }
};

struct CompleteCmd : Command {
  JobAndToken target;
  explicit CompleteCmd(const Model& m) : target(m) {}
  void apply(Model& m) const override { m.Complete(target.id, target.token); }
  void run(const Model& m0, Sut& sut) const override {
    Model m = m0;
    Expect want = m.Complete(target.id, target.token);
    CheckExpect(want, sut.h->Complete({target.id, target.token, "r", {}}));
    CheckAllJobs(m, sut);
  }
  void show(std::ostream& os) const override {
    os << "Complete(" << target.id << ", token=" << target.token << ")";
  }
};

struct FailCmd : Command {
  JobAndToken target;
  bool retryable = *rc::gen::weightedElement<bool>({{4, true}, {1, false}});
  explicit FailCmd(const Model& m) : target(m) {}
  void apply(Model& m) const override {
    int64_t delay;
    m.Fail(target.id, target.token, retryable, &delay);
  }
  void run(const Model& m0, Sut& sut) const override {
    Model m = m0;
    int64_t delay;
    bool live = m.jobs.at(target.id).st == model::St::kRunning &&
                m.jobs.at(target.id).token == target.token;
    Expect want = m.Fail(target.id, target.token, retryable, &delay);
    auto got = sut.h->Fail({target.id, target.token, "err", retryable});
    CheckExpect(want, got.status());
    if (got.ok() && live) {
      RC_ASSERT(got->state == m.Visible(m.jobs.at(target.id)) ||
                (got->state == JobState::kScheduled && delay >= 0));
      if (delay >= 0) {
        RC_ASSERT(got->retry_at.has_value());
        RC_ASSERT(ToUnixMs(*got->retry_at) - m0.now == delay);
      }
      // The engine dead-letters exactly at exhaustion (or on a non-retryable
      // error), and retries while attempts remain.
      auto job = sut.h->Get(target.id);
      RC_ASSERT(job.ok());
      if (got->state == JobState::kDead) {
        RC_ASSERT(!retryable || job->attempts == job->max_attempts);
      }
      if (got->state == JobState::kScheduled) RC_ASSERT(job->attempts < job->max_attempts);
    }
    CheckAllJobs(m, sut);
  }
  void show(std::ostream& os) const override {
    os << "Fail(" << target.id << ", token=" << target.token << ", retryable=" << retryable << ")";
  }
};

struct CancelCmd : Command {
  JobAndToken target;
  explicit CancelCmd(const Model& m) : target(m) {}
  void apply(Model& m) const override { m.Cancel(target.id); }
  void run(const Model& m0, Sut& sut) const override {
    Model m = m0;
    Expect want = m.Cancel(target.id);
    CheckExpect(want, sut.h->Cancel(target.id).status());
    CheckAllJobs(m, sut);
  }
  void show(std::ostream& os) const override { os << "Cancel(" << target.id << ")"; }
};

struct RedriveCmd : Command {
  JobAndToken target;
  bool reset = *rc::gen::arbitrary<bool>();
  explicit RedriveCmd(const Model& m) : target(m) {}
  void apply(Model& m) const override { m.Redrive(target.id, reset); }
  void run(const Model& m0, Sut& sut) const override {
    Model m = m0;
    Expect want = m.Redrive(target.id, reset);
    RedriveRequest req;
    req.filter.job_id = target.id;
    req.reset_attempts = reset;
    CheckExpect(want, sut.h->Redrive(req).status());
    CheckAllJobs(m, sut);
  }
  void show(std::ostream& os) const override {
    os << "Redrive(" << target.id << ", reset=" << reset << ")";
  }
};

struct AdvanceClockCmd : Command {
  int64_t ms = *rc::gen::elementOf(std::vector<int64_t>{100, 600, 1500, 5000});
  void apply(Model& m) const override { m.Advance(ms); }
  void run(const Model& m0, Sut& sut) const override {
    Model m = m0;
    m.Advance(ms);
    sut.h.clock().Advance(Millis(ms));
    RC_ASSERT(sut.h->RunMaintenance().ok());  // lease expiry happens here (or on any call)
    CheckAllJobs(m, sut);
  }
  void show(std::ostream& os) const override { os << "AdvanceClock(" << ms << ")"; }
};

struct QueueSettingsCmd : Command {
  std::string queue = *rc::gen::elementOf(kQueues);
  int limit = *rc::gen::inRange(0, 3);
  bool paused = *rc::gen::weightedElement<bool>({{3, false}, {1, true}});
  void apply(Model& m) const override { m.queues[queue] = {limit, paused}; }
  void run(const Model& m0, Sut& sut) const override {
    // UpdateQueue never changes `paused` (so it may say the opposite);
    // pausing is PauseQueue / ResumeQueue's.
    RC_ASSERT(sut.h->UpdateQueue(queue, Sut::Settings(limit, !paused)).ok());
    RC_ASSERT((paused ? sut.h->PauseQueue(queue) : sut.h->ResumeQueue(queue)).ok());
  }
  void show(std::ostream& os) const override {
    os << "UpdateQueue(" << queue << ", limit=" << limit << ", paused=" << paused << ")";
  }
};

// Crash-and-reopen: nothing acknowledged is lost, and each job is listed in
// exactly one state.
struct ReopenCmd : Command {
  void apply(Model&) const override {}
  void run(const Model& m, Sut& sut) const override {
    sut.h.Reopen();
    CheckAllJobs(m, sut);
    std::map<JobId, int> seen;
    for (const auto& q : kQueues) {
      for (JobState st : {JobState::kScheduled, JobState::kAvailable, JobState::kRunning,
                          JobState::kCompleted, JobState::kDead, JobState::kCancelled}) {
        auto page = sut.h->List({q, st, 1000, ""});
        RC_ASSERT(page.ok());
        for (const auto& j : page->jobs) {
          RC_ASSERT(j.state == st);
          seen[j.id]++;
        }
      }
    }
    RC_ASSERT(seen.size() == m.jobs.size());
    for (const auto& [id, n] : seen) RC_ASSERT(n == 1);
    // Per-queue counts agree with the model (rebuilt from disk at open).
    for (const auto& q : kQueues) {
      std::map<JobState, int64_t> want;
      for (const auto& [id, j] : m.jobs) {
        if (j.queue == q) want[m.Visible(j)]++;
      }
      auto info = sut.h->GetQueue(q);
      if (!info.ok()) {
        RC_ASSERT(want.empty());
        continue;
      }
      RC_ASSERT(info->scheduled == want[JobState::kScheduled]);
      RC_ASSERT(info->available == want[JobState::kAvailable]);
      RC_ASSERT(info->running == want[JobState::kRunning]);
      RC_ASSERT(info->completed == want[JobState::kCompleted]);
      RC_ASSERT(info->cancelled == want[JobState::kCancelled]);
      RC_ASSERT(info->dead == want[JobState::kDead]);
    }
  }
  void show(std::ostream& os) const override { os << "Reopen"; }
};

TEST(EnginePropertyTest, EngineAgreesWithTheReferenceModel) {
  spdlog::set_level(spdlog::level::warn);
  bool ok = rc::check("engine agrees with the reference model", [] {
    Sut sut;
    Model initial(testing::kStartMs, kSeed);
    rc::state::check(
        initial, sut,
        rc::state::gen::execOneOfWithArgs<EnqueueBatchCmd, EnqueueBatchCmd, LeaseCmd, LeaseCmd,
                                          HeartbeatCmd, CompleteCmd, FailCmd, CancelCmd, RedriveCmd,
                                          AdvanceClockCmd, AdvanceClockCmd, QueueSettingsCmd,
                                          ReopenCmd>());
  });
  EXPECT_TRUE(ok);
}

}  // namespace
}  // namespace ratchet
