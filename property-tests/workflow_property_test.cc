// Property tests of workflows and schedules against small reference models,
// on the real engine (ManualClock, seeded Random), with crash-and-reopen
// among the operations.
//
// Workflows: a random DAG runs under random leases, completions, failures
// (retryable or not), redrives of dead steps, workflow cancels, clock moves
// and reopens. After every operation:
//   - no step's job was ever leased before all its dependencies completed
//     (or failed with continue_on_failure);
//   - no step completed twice;
//   - the workflow's state agrees with its steps: completed iff every step
//     is resolved; failed only with a dead (or separately cancelled) step;
//     cancelled only if we cancelled it; and steps released only while it
//     runs.
// Schedules: an "@every" schedule with run_all and a catch-up window is
// evaluated at random times, with pauses, downtime (close, advance, reopen)
// and backward clock jumps. The model predicts exactly which ticks fire
// (each tick at most once; under run_all exactly the ticks that were within
// the window when evaluated), and the engine's jobs must match it.
#include <gtest/gtest.h>
#include <rapidcheck.h>

#include <map>
#include <set>

#include "engine_harness.h"
#include "ratchet/engine/engine.h"
#include "spdlog/spdlog.h"

namespace ratchet {
namespace {

using testing::EngineHarness;

void Configure(EngineOptions& o) {
  o.default_queue_settings.completed_retention = Millis(3650LL * 24 * 3600000);
  o.default_queue_settings.dead_retention = Millis(3650LL * 24 * 3600000);
}

struct ModelStep {
  std::vector<int> deps;
  bool continue_on_failure = false;
  bool completed = false;  // its job completed
  bool dead = false;       // its job is dead now
  bool blocked = false;    // died without continue_on_failure, not completed since
  // Died with continue_on_failure: resolved for good (its dependents were
  // released), even if it is redriven later.
  bool resolved_by_failure = false;
  bool redriven_after_cancel = false;
};

bool Resolved(const ModelStep& s) { return s.completed || s.resolved_by_failure; }

TEST(WorkflowPropertyTest, StepsRespectDependenciesAndTheWorkflowAgreesWithItsSteps) {
  spdlog::set_level(spdlog::level::err);
  bool ok = rc::check("workflow invariants hold under random operations", [] {
    const int n = *rc::gen::inRange(1, 8);
    std::vector<ModelStep> steps(n);
    WorkflowSpec spec;
    spec.name = "prop";
    spec.queue = "wf";
    for (int i = 0; i < n; ++i) {
      StepSpec s;
      s.name = "s" + std::to_string(i);
      s.job_type = "t";
      s.options.max_attempts = *rc::gen::inRange(1, 3);
      s.options.retry_policy = RetryPolicy{Millis(100), Millis(100), 1.0, JitterMode::kNone};
      for (int d = 0; d < i; ++d) {
        if (*rc::gen::weightedElement<bool>({{1, true}, {2, false}})) {
          s.depends_on.push_back("s" + std::to_string(d));
          steps[i].deps.push_back(d);
        }
      }
      s.continue_on_failure = *rc::gen::weightedElement<bool>({{1, true}, {4, false}});
      steps[i].continue_on_failure = s.continue_on_failure;
      spec.steps.push_back(std::move(s));
    }
    EngineHarness h(/*in_memory=*/true, 7, Configure);
    auto id = h->SubmitWorkflow(spec);
    RC_ASSERT(id.ok());
    bool cancelled = false;
    std::map<JobId, LeasedJob> held;  // leases we hold
    const int ops = *rc::gen::inRange(5, 60);
    for (int op = 0; op < ops; ++op) {
      switch (*rc::gen::inRange(0, 8)) {
        case 0:
        case 1: {  // lease
          auto jobs = h->Lease({.queue = "wf",
                                .max_jobs = *rc::gen::inRange(1, 4),
                                .visibility_timeout = Millis(5000)});
          RC_ASSERT(jobs.ok());
          for (const LeasedJob& j : *jobs) {
            int index = std::stoi(j.step_name.substr(1));
            for (int d : steps[index].deps) {
              RC_ASSERT(Resolved(steps[d]));  // never before its dependencies
            }
            RC_ASSERT(!steps[index].completed);
            // After a cancel, only a dead step job an operator redrove runs.
            RC_ASSERT(!cancelled || steps[index].redriven_after_cancel);
            held[j.id] = j;
          }
          break;
        }
        case 2:
        case 3: {  // complete one held lease
          if (held.empty()) break;
          auto it = std::next(held.begin(), *rc::gen::inRange<size_t>(0, held.size()));
          int index = std::stoi(it->second.step_name.substr(1));
          absl::Status s = h->Complete({it->first, it->second.token, "r", {}});
          if (s.ok()) {
            RC_ASSERT(!steps[index].completed);  // at most once
            steps[index].completed = true;
          } else {
            RC_ASSERT(ReasonOf(s) == std::string(kReasonLeaseLost));
          }
          held.erase(it);
          break;
        }
        case 4: {  // fail one held lease
          if (held.empty()) break;
          auto it = std::next(held.begin(), *rc::gen::inRange<size_t>(0, held.size()));
          int index = std::stoi(it->second.step_name.substr(1));
          auto r = h->Fail({it->first, it->second.token, "e", *rc::gen::arbitrary<bool>()});
          if (r.ok() && r->state == JobState::kDead) steps[index].dead = true;
          held.erase(it);
          break;
        }
        case 5: {  // redrive everything dead
          auto r = h->Redrive({.filter = {.queue = "wf"}});
          RC_ASSERT(r.ok());
          for (ModelStep& s : steps) {
            if (s.dead && cancelled) s.redriven_after_cancel = true;
            s.dead = false;
          }
          break;
        }
        case 6:
          h.clock().Advance(Millis(*rc::gen::element<int64_t>(200, 6000)));
          RC_ASSERT(h->RunMaintenance().ok());
          if (held.size() > 0 && *rc::gen::arbitrary<bool>()) held.clear();
          break;
        case 7:
          if (*rc::gen::weightedElement<bool>({{1, true}, {5, false}})) {
            auto c = h->CancelWorkflow(id->id);
            RC_ASSERT(c.ok() || absl::IsFailedPrecondition(c.status()));
            if (c.ok()) cancelled = true;
          } else {
            h.Reopen();
            held.clear();  // the leases live on, but we let them expire
          }
          break;
      }
      // Dead steps: the engine's view is authoritative for which are dead
      // now (a lease may have expired into the DLQ).
      auto wf = h->GetWorkflow(id->id);
      RC_ASSERT(wf.ok());
      // A failed workflow resumes when every step that blocked it (died
      // without continue_on_failure) has been redriven and completed.
      bool all_resolved = true, any_blocked = false, any_dead_blocking = false;
      for (int i = 0; i < n; ++i) {
        const StepInfo& s = wf->steps[i];
        ModelStep& m = steps[i];
        m.dead = s.job_state == JobState::kDead;
        RC_ASSERT((s.state == StepState::kCompleted) == m.completed);
        if (m.dead && !m.continue_on_failure) m.blocked = true;
        if (m.dead && m.continue_on_failure) m.resolved_by_failure = true;
        if (m.completed) m.blocked = false;
        all_resolved &= Resolved(m);
        any_blocked |= m.blocked;
        any_dead_blocking |= m.dead && !m.continue_on_failure;
        if (s.state == StepState::kReleased) RC_ASSERT(s.job_id != 0);
      }
      switch (wf->state) {
        case WorkflowState::kCompleted:
          RC_ASSERT(all_resolved && !cancelled);
          break;
        case WorkflowState::kRunning:
          RC_ASSERT(!all_resolved && !cancelled && !any_dead_blocking);
          break;
        case WorkflowState::kFailed:
          RC_ASSERT(any_blocked && !cancelled);
          break;
        case WorkflowState::kCancelled:
          RC_ASSERT(cancelled);
          break;
      }
    }
  });
  EXPECT_TRUE(ok);
}

TEST(SchedulePropertyTest, RunAllFiresExactlyTheTicksInsideTheWindowOnce) {
  spdlog::set_level(spdlog::level::err);
  bool ok = rc::check("schedule ticks fire once, as the model predicts", [] {
    const int64_t every = *rc::gen::element<int64_t>(1000, 7000, 60000);
    const int64_t window = *rc::gen::element<int64_t>(5000, 30000, 3600000);
    EngineHarness h(/*in_memory=*/true, 7, Configure);
    ScheduleSpec spec;
    spec.id = "s";
    spec.spec = "@every " + std::to_string(every) + "ms";
    spec.missed = MissedRunPolicy::kRunAll;
    spec.catchup_window = Millis(window);
    spec.queue = "sched";
    spec.job_type = "t";
    RC_ASSERT(h->CreateSchedule(spec).ok());
    const int64_t anchor = ToUnixMs(h.clock().Now());
    int64_t cursor = anchor;
    bool paused = false;
    std::set<int64_t> expected;
    // The model: at an evaluation at `now`, every tick in (cursor, now]
    // that is not older than the window fires; the cursor moves to now.
    auto evaluate = [&] {
      const int64_t now = ToUnixMs(h.clock().Now());
      if (paused || now <= cursor) return;
      for (int64_t t = anchor + ((cursor - anchor) / every + 1) * every; t <= now; t += every) {
        if (t >= now - window) expected.insert(t);
      }
      cursor = now;
    };
    const int ops = *rc::gen::inRange(1, 30);
    for (int op = 0; op < ops; ++op) {
      switch (*rc::gen::inRange(0, 6)) {
        case 0:
        case 1:
          h.clock().Advance(Millis(*rc::gen::inRange<int64_t>(1, 3 * every)));
          break;
        case 2:  // downtime
          h.Close();
          h.clock().Advance(Millis(*rc::gen::inRange<int64_t>(1, 2 * window)));
          h.Reopen();
          break;
        case 3:
          paused = !paused;
          RC_ASSERT((paused ? h->PauseSchedule("s") : h->ResumeSchedule("s")).ok());
          break;
        case 4:  // the clock steps back
          h.clock().Advance(Millis(-*rc::gen::inRange<int64_t>(1, 2 * every)));
          break;
        case 5:
          h.Reopen();
          break;
      }
      // A run_all catch-up fires at most max_fires_per_pass ticks per pass;
      // the next passes (at the same instant) fire the rest.
      for (int pass = 0; pass < 10; ++pass) {
        RC_ASSERT(h->RunMaintenance().ok());
        auto info = h->GetSchedule("s");
        RC_ASSERT(info.ok());
        if (!info->next_tick || *info->next_tick > h.clock().Now()) break;
      }
      evaluate();
    }
    std::map<std::string, int> keys;
    for (JobState state : {JobState::kAvailable, JobState::kScheduled}) {
      std::string cursor;
      do {
        auto page = h->List({"sched", state, 1000, cursor});
        RC_ASSERT(page.ok());
        for (const Job& j : page->jobs) keys[j.idempotency_key]++;
        cursor = page->next_cursor;
      } while (!cursor.empty());
    }
    std::set<int64_t> fired;
    for (const auto& [key, count] : keys) {
      RC_ASSERT(count == 1);  // each tick at most once
      fired.insert(std::stoll(key.substr(key.rfind(':') + 1)));
    }
    std::vector<int64_t> missing, extra;  // relative to the anchor, first few
    for (int64_t t : expected) {
      if (!fired.count(t) && missing.size() < 5) missing.push_back(t - anchor);
    }
    for (int64_t t : fired) {
      if (!expected.count(t) && extra.size() < 5) extra.push_back(t - anchor);
    }
    RC_ASSERT(missing.empty());
    RC_ASSERT(extra.empty());
    RC_ASSERT(h->GetSchedule("s")->fired == static_cast<int64_t>(expected.size()));
  });
  EXPECT_TRUE(ok);
}

}  // namespace
}  // namespace ratchet
