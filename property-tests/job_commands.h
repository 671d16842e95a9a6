// Property-test commands for single-job calls: Enqueue(Batch), Lease,
// Heartbeat, Complete (with effects), Fail, Cancel, queue settings and
// crash-and-reopen. Each runs on a copy of the model and on the engine and
// asserts that the answers and every job agree (engine_sut.h).
#ifndef RATCHET_PROPERTY_TESTS_JOB_COMMANDS_H_
#define RATCHET_PROPERTY_TESTS_JOB_COMMANDS_H_

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "engine_sut.h"

namespace ratchet::proptest {

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
      os << "[q=" << s.queue << " type=" << s.job_type << " key=" << s.key
         << " payload=" << s.payload << " delay=" << s.delay << " prio=" << s.priority
         << " max=" << s.max_attempts << "]";
    }
    os << ")";
  }
};

// Compares a Lease answer with the jobs the model leased.
inline void CheckLeased(const Model& m, const std::vector<JobId>& want,
                        const std::vector<LeasedJob>& got) {
  RC_ASSERT(got.size() == want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    RC_ASSERT(got[i].id == want[i]);
    RC_ASSERT(got[i].token == m.jobs.at(want[i]).token);
    RC_ASSERT(got[i].attempt == m.jobs.at(want[i]).attempts);
  }
}

struct LeaseCmd : Command {
  std::string queue = *rc::gen::elementOf(kQueues);
  int max_jobs = *rc::gen::inRange(1, 4);
  int64_t vt = *rc::gen::elementOf(std::vector<int64_t>{1000, 5000});
  void apply(Model& m) const override {
    m.Promote(queue);  // the GetQueue before the lease looks at the queue
    m.Lease(queue, max_jobs, vt);
  }
  void run(const Model& m0, Sut& sut) const override {
    Model m = m0;
    auto before = sut.h->GetQueue(queue);
    m.Promote(queue);
    std::vector<JobId> want = m.Lease(queue, max_jobs, vt);
    auto got = sut.h->Lease({queue, max_jobs, Millis(vt), "w"});
    RC_ASSERT(got.ok());
    CheckLeased(m, want, *got);
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

struct HeartbeatCmd : Command {
  JobAndToken target;
  int64_t ext = *rc::gen::elementOf(std::vector<int64_t>{1000, 4000});
  // Progress: none, a fraction, or (rarely) out of range.
  std::optional<double> progress = *rc::gen::weightedElement<std::optional<double>>(
      {{3, std::nullopt}, {3, 0.0}, {3, 0.5}, {3, 1.0}, {1, 1.5}});
  explicit HeartbeatCmd(const Model& m) : target(m) {}
  void apply(Model& m) const override { m.Heartbeat(target.id, target.token, ext, progress); }
  void run(const Model& m0, Sut& sut) const override {
    Model m = m0;
    Expect want = m.Heartbeat(target.id, target.token, ext, progress);
    HeartbeatRequest req{target.id, target.token, Millis(ext)};
    req.progress = progress;
    auto got = sut.h->Heartbeat(req);
    CheckExpect(want, got.status());
    if (got.ok()) RC_ASSERT(got->cancel_requested == m.jobs.at(target.id).cancel_requested);
    CheckAllJobs(m, sut);
  }
  void show(std::ostream& os) const override {
    os << "Heartbeat(" << target.id << ", token=" << target.token << ", ext=" << ext
       << ", progress=" << (progress ? std::to_string(*progress) : "-") << ")";
  }
};

struct CompleteCmd : Command {
  JobAndToken target;
  std::vector<AppWrite> effects = GenWrites(/*may_be_bad=*/true);
  explicit CompleteCmd(const Model& m) : target(m) {}
  void apply(Model& m) const override { m.Complete(target.id, target.token, effects); }
  void run(const Model& m0, Sut& sut) const override {
    Model m = m0;
    Expect want = m.Complete(target.id, target.token, effects);
    CheckExpect(want, sut.h->Complete({target.id, target.token, "r", effects}));
    CheckAllJobs(m, sut);  // includes the app keys: effects land iff the completion does
  }
  void show(std::ostream& os) const override {
    os << "Complete(" << target.id << ", token=" << target.token << ", effects=" << Show(effects)
       << ")";
  }
};

// Checks a FailResult for a live attempt against the model after the Fail.
inline void CheckFailResult(const Model& m, int64_t now_before, JobId id, bool retryable,
                            int64_t delay, const FailResult& got, Sut& sut) {
  RC_ASSERT(got.state == m.Visible(m.jobs.at(id)) ||
            (got.state == JobState::kScheduled && delay >= 0));
  if (delay >= 0) {
    RC_ASSERT(got.retry_at.has_value());
    RC_ASSERT(ToUnixMs(*got.retry_at) - now_before == delay);
  }
  // The engine dead-letters exactly at exhaustion (or on a non-retryable
  // error), and retries while attempts remain.
  auto job = sut.h->Get(id);
  RC_ASSERT(job.ok());
  if (got.state == JobState::kDead) RC_ASSERT(!retryable || job->attempts == job->max_attempts);
  if (got.state == JobState::kScheduled) RC_ASSERT(job->attempts < job->max_attempts);
}

// Whether the token holds the job's live lease in the model.
inline bool Live(const Model& m, JobId id, FencingToken token) {
  auto it = m.jobs.find(id);
  return it != m.jobs.end() && it->second.st == model::St::kRunning && it->second.token == token;
}

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
    bool live = Live(m, target.id, target.token);
    Expect want = m.Fail(target.id, target.token, retryable, &delay);
    auto got = sut.h->Fail({target.id, target.token, "err", retryable});
    CheckExpect(want, got.status());
    if (got.ok() && live) CheckFailResult(m, m0.now, target.id, retryable, delay, *got, sut);
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

// Bulk cancel by filter: the counts agree and, through CheckAllJobs, no job
// outside the filter changes.
struct CancelJobsCmd : Command {
  model::CancelFilter filter;
  CancelJobsCmd() {
    filter.queue = *rc::gen::elementOf(kQueues);
    filter.state = *rc::gen::elementOf(std::vector<std::optional<JobState>>{
        std::nullopt, JobState::kScheduled, JobState::kAvailable, JobState::kRunning});
    filter.job_type = *rc::gen::elementOf(std::vector<std::string>{"", "t", "u"});
  }
  void apply(Model& m) const override {
    int64_t cancelled, requested;
    m.CancelJobs(filter, &cancelled, &requested);
  }
  void run(const Model& m0, Sut& sut) const override {
    Model m = m0;
    int64_t cancelled, requested;
    Expect want = m.CancelJobs(filter, &cancelled, &requested);
    auto got = sut.h->CancelJobs(
        {.queue = filter.queue, .state = filter.state, .job_type = filter.job_type});
    CheckExpect(want, got.status());
    if (got.ok()) {
      RC_ASSERT(got->cancelled == cancelled);
      RC_ASSERT(got->cancel_requested == requested);
    }
    CheckAllJobs(m, sut);
  }
  void show(std::ostream& os) const override {
    os << "CancelJobs(q=" << filter.queue
       << " state=" << (filter.state ? JobStateName(*filter.state) : "-")
       << " type=" << filter.job_type << ")";
  }
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

// Crash-and-reopen: nothing acknowledged is lost (the mass queue's jobs
// included), and each job is listed in exactly one state.
struct ReopenCmd : Command {
  void apply(Model& m) const override { m.Reopen(); }
  void run(const Model& m0, Sut& sut) const override {
    Model m = m0;
    m.Reopen();
    sut.h.Reopen();
    std::map<JobId, int> seen;
    std::vector<std::string> queues = kQueues;
    queues.push_back(kMassQueue);
    for (const auto& q : queues) {
      for (JobState st : {JobState::kScheduled, JobState::kAvailable, JobState::kRunning,
                          JobState::kCompleted, JobState::kDead, JobState::kCancelled}) {
        std::string cursor;
        do {
          auto page = sut.h->List({q, st, 1000, cursor});
          RC_ASSERT(page.ok());
          for (const auto& j : page->jobs) {
            RC_ASSERT(j.state == st);
            seen[j.id]++;
          }
          cursor = page->next_cursor;
        } while (!cursor.empty());
      }
    }
    RC_ASSERT(seen.size() == m.jobs.size());
    for (const auto& [id, n] : seen) RC_ASSERT(n == 1);
    // Per-queue counts agree with the model (rebuilt from disk at open).
    for (const auto& q : queues) {
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
    CheckAllJobs(m, sut, /*mass=*/true);
  }
  void show(std::ostream& os) const override { os << "Reopen"; }
};

}  // namespace ratchet::proptest

#endif  // RATCHET_PROPERTY_TESTS_JOB_COMMANDS_H_
