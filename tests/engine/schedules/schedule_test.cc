// Schedules on the embedded engine with an injected clock: exactly one job
// per tick, restarts, missed-run policies, overlap policies, pause, clock
// jumps, jitter, trigger-now and bad input.
#include <gtest/gtest.h>

#include "engine_harness.h"
#include "ratchet/engine/engine.h"
#include "record_rewrite.h"
#include "schema.h"
#include "tick_spec.h"

namespace ratchet {
namespace {

using internal::TickSpec;
using testing::EngineHarness;
using testing::kStartMs;

constexpr int64_t kHour = 3600000;
constexpr int64_t kDay = 24 * kHour;

ScheduleSpec Hourly(MissedRunPolicy missed = MissedRunPolicy::kRunOnce) {
  ScheduleSpec s;
  s.id = "report";
  s.spec = "0 * * * *";
  s.queue = "sched";
  s.job_type = "report";
  s.payload = "p";
  s.missed = missed;
  return s;
}

// The idempotency keys of the jobs in "sched" that are not finished, in
// lease order.
std::vector<std::string> Fired(EngineHarness& h) {
  std::vector<std::string> keys;
  for (JobState state : {JobState::kAvailable, JobState::kScheduled, JobState::kRunning}) {
    auto page = h->List({"sched", state, 1000, ""});
    EXPECT_TRUE(page.ok()) << page.status();
    if (!page.ok()) continue;
    for (const Job& j : page->jobs) keys.push_back(j.idempotency_key);
  }
  return keys;
}

std::string Key(int64_t tick_ms) { return "schedule:report:" + std::to_string(tick_ms); }

void AdvanceAndTick(EngineHarness& h, int64_t ms) {
  h.clock().Advance(Millis(ms));
  ASSERT_TRUE(h->RunMaintenance().ok());
}

TEST(ScheduleTest, EachTickFiresExactlyOnce) {
  EngineHarness h;
  ASSERT_TRUE(h->CreateSchedule(Hourly()).ok());
  auto info = h->GetSchedule("report");
  ASSERT_TRUE(info.ok());
  ASSERT_TRUE(info->next_tick);
  EXPECT_EQ(ToUnixMs(*info->next_tick), kStartMs + kHour);
  AdvanceAndTick(h, kHour - 1);
  EXPECT_TRUE(Fired(h).empty());
  AdvanceAndTick(h, 1);
  ASSERT_TRUE(h->RunMaintenance().ok());
  EXPECT_EQ(Fired(h), std::vector<std::string>{Key(kStartMs + kHour)});
  auto job = h->Get(h->GetSchedule("report")->last_job_id);
  ASSERT_TRUE(job.ok());
  EXPECT_EQ(job->schedule_id, "report");
  AdvanceAndTick(h, kHour);
  EXPECT_EQ(Fired(h).size(), 2u);
  EXPECT_EQ(h->GetSchedule("report")->fired, 2);
}

TEST(ScheduleTest, ATickFiresOnceAcrossRestartAndABackwardClockJump) {
  EngineHarness h(/*in_memory=*/false);
  ASSERT_TRUE(h->CreateSchedule(Hourly()).ok());
  AdvanceAndTick(h, kHour);
  ASSERT_EQ(Fired(h).size(), 1u);
  h.Reopen();
  ASSERT_TRUE(h->RunMaintenance().ok());
  EXPECT_EQ(Fired(h).size(), 1u);
  h.clock().Advance(Millis(-kHour / 2));  // the clock steps back 30 minutes
  ASSERT_TRUE(h->RunMaintenance().ok());
  AdvanceAndTick(h, kHour / 2);
  EXPECT_EQ(Fired(h).size(), 1u) << "the 01:00 tick must not fire again";
  AdvanceAndTick(h, kHour);
  EXPECT_EQ(Fired(h).size(), 2u);
}

// The engine is down from 00:00 to 05:30: ticks 01:00..05:00 are missed.
std::vector<std::string> DownFiveAndAHalfHours(MissedRunPolicy policy, Millis window,
                                               ScheduleInfo* info) {
  EngineHarness h(/*in_memory=*/false);
  ScheduleSpec spec = Hourly(policy);
  spec.catchup_window = window;
  EXPECT_TRUE(h->CreateSchedule(spec).ok());
  h.Close();
  h.clock().Advance(Millis(5 * kHour + kHour / 2));
  h.Reopen();
  EXPECT_TRUE(h->RunMaintenance().ok());
  EXPECT_TRUE(h->RunMaintenance().ok());
  *info = *h->GetSchedule("report");
  return Fired(h);
}

TEST(ScheduleTest, MissedRunPolicies) {
  ScheduleInfo info;
  EXPECT_TRUE(DownFiveAndAHalfHours(MissedRunPolicy::kSkip, Millis(24 * kHour), &info).empty());
  EXPECT_EQ(info.skipped_missed, 5);
  EXPECT_EQ(ToUnixMs(*info.next_tick), kStartMs + 6 * kHour);

  auto once = DownFiveAndAHalfHours(MissedRunPolicy::kRunOnce, Millis(24 * kHour), &info);
  EXPECT_EQ(once, std::vector<std::string>{Key(kStartMs + 5 * kHour)});
  EXPECT_EQ(info.skipped_missed, 4);

  auto all = DownFiveAndAHalfHours(MissedRunPolicy::kRunAll, Millis(24 * kHour), &info);
  std::vector<std::string> expected;
  for (int i = 1; i <= 5; ++i) expected.push_back(Key(kStartMs + i * kHour));
  EXPECT_EQ(all, expected);
  EXPECT_EQ(info.fired, 5);

  auto windowed = DownFiveAndAHalfHours(MissedRunPolicy::kRunAll, Millis(2 * kHour), &info);
  EXPECT_EQ(windowed,
            (std::vector<std::string>{Key(kStartMs + 4 * kHour), Key(kStartMs + 5 * kHour)}));
  EXPECT_EQ(info.skipped_missed, 3);
}

// Catch-up after downtime: the engine is down `down_ms` with one schedule;
// returns its state after the restart, and how many TickSpec calls the
// restart and the passes after it made (work, counted, not timed).
ScheduleInfo CatchUp(ScheduleSpec spec, int64_t down_ms, uint64_t* tick_calls) {
  EngineHarness h(/*in_memory=*/false);
  EXPECT_TRUE(h->CreateSchedule(spec).ok());
  h.Close();
  h.clock().Advance(Millis(down_ms));
  const uint64_t before = TickSpec::calls();
  h.Reopen();
  EXPECT_TRUE(h->RunMaintenance().ok());
  EXPECT_TRUE(h->RunMaintenance().ok());
  auto info = h->GetSchedule(spec.id);
  *tick_calls = TickSpec::calls() - before;
  EXPECT_TRUE(info.ok()) << info.status();
  return *info;
}

ScheduleSpec EverySecond(MissedRunPolicy missed, Millis window) {
  ScheduleSpec spec = Hourly(missed);
  spec.spec = "@every 1s";
  spec.catchup_window = window;
  return spec;
}

// Before: EvaluateSchedule built every tick of the window (5.2M for 60 days
// of @every 1s, 0.5 s on the sequencer). Now the late ticks are counted: the
// work is the ~61 ticks within the misfire grace that fire, plus a few.
TEST(ScheduleTest, CatchUpWorkDoesNotGrowWithTheWindow) {
  uint64_t calls = 0;
  ScheduleInfo info =
      CatchUp(EverySecond(MissedRunPolicy::kRunOnce, Millis(60 * kDay)), 60 * kDay, &calls);
  EXPECT_LT(calls, 500u) << "TickSpec calls for one schedule's catch-up";
  // 5,184,000 ticks: the latest late one and the 61 within the 60 s grace
  // fire; every other one is counted.
  EXPECT_EQ(info.fired, 62);
  EXPECT_EQ(info.skipped_missed, 60 * 86400 - 62);
  EXPECT_EQ(ToUnixMs(*info.last_tick), kStartMs + 60 * kDay);
  EXPECT_EQ(ToUnixMs(*info.next_tick), kStartMs + 60 * kDay + 1000);
}

// Before: ticks before the window were counted one by one up to 1,000, then
// the count became a lower bound. Now it is exact.
TEST(ScheduleTest, TicksBeforeTheWindowAreCountedExactly) {
  uint64_t calls = 0;
  ScheduleInfo info = CatchUp(EverySecond(MissedRunPolicy::kRunOnce, Millis(kHour)), kDay, &calls);
  EXPECT_EQ(info.fired, 62);
  EXPECT_EQ(info.skipped_missed, 86400 - 62);
  EXPECT_LT(calls, 500u);
  info = CatchUp(EverySecond(MissedRunPolicy::kSkip, Millis(kHour)), kDay, &calls);
  EXPECT_EQ(info.fired, 61);
  EXPECT_EQ(info.skipped_missed, 86400 - 61);
  info = CatchUp(EverySecond(MissedRunPolicy::kRunAll, Millis(kHour)), kDay, &calls);
  // The 3,601 ticks in [now - 1 h, now] fire, max_fires_per_pass (1,000)
  // a pass, oldest first; the 82,799 before the window are counted.
  EXPECT_EQ(info.fired, 3601);
  EXPECT_EQ(info.skipped_missed, 86400 - 3601);
  EXPECT_EQ(ToUnixMs(*info.last_tick), kStartMs + kDay);
}

// Before: under skip and run_once every on-time tick within the misfire
// grace fired in one pass: with a day's grace, 86,401 jobs of @every 1s in
// one group. Now a pass fires at most max_fires_per_pass; the rest follow.
TEST(ScheduleTest, ALongGraceFiresItsOnTimeTicksAPassAtATime) {
  EngineHarness h(true, 42, [](EngineOptions& o) {
    o.schedule_misfire_grace = Millis(kDay);
    o.max_fires_per_pass = 500;
  });
  ScheduleSpec spec = EverySecond(MissedRunPolicy::kSkip, Millis(2 * kDay));
  ASSERT_TRUE(h->CreateSchedule(spec).ok());
  h.clock().Advance(Millis(kHour));
  ASSERT_TRUE(h->RunMaintenance().ok());
  auto info = h->GetSchedule("report");
  ASSERT_TRUE(info.ok()) << info.status();
  // RunMaintenance runs a few passes (groups), each firing at most 500.
  EXPECT_LT(info->fired, 3600) << "every on-time tick fired in one pass";
  EXPECT_EQ(info->fired % 500, 0);
  EXPECT_GT(info->fired, 0);
  for (int i = 0; i < 20; ++i) ASSERT_TRUE(h->RunMaintenance().ok());
  info = h->GetSchedule("report");
  EXPECT_EQ(info->fired, 3600) << "every on-time tick fires, once";
  EXPECT_EQ(info->skipped_missed, 0);
  EXPECT_EQ(ToUnixMs(*info->last_tick), kStartMs + kHour);
  EngineOptions bad = h.options();
  bad.schedule_misfire_grace = Millis(-1);
  h.Close();
  auto refused = Engine::Open(bad);
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(refused.status().message().find("schedule_misfire_grace"), std::string::npos)
      << refused.status();
}

// A minutely cron schedule in New York, down for 90 days across the spring
// DST change: counted exactly (the gap's minutes fire once, at 03:00), and
// without enumerating the 129,600 ticks.
TEST(ScheduleTest, CronCatchUpAcrossDstIsCountedNotEnumerated) {
  ScheduleSpec spec = Hourly(MissedRunPolicy::kSkip);
  spec.spec = "* * * * *";
  spec.time_zone = "America/New_York";
  spec.catchup_window = Millis(366 * kDay);
  uint64_t calls = 0;
  ScheduleInfo info = CatchUp(spec, 90 * kDay, &calls);
  // The ticks at now - 60 s and now are within the grace and fire.
  EXPECT_EQ(info.fired, 2);
  EXPECT_EQ(info.skipped_missed, 90 * 1440 - 2);
  EXPECT_LT(calls, 500u);
}

TEST(ScheduleTest, PausedTicksFollowTheMissedRunPolicyOnResume) {
  EngineHarness h;
  ASSERT_TRUE(h->CreateSchedule(Hourly(MissedRunPolicy::kRunAll)).ok());
  ASSERT_TRUE(h->PauseSchedule("report").ok());
  EXPECT_FALSE(h->GetSchedule("report")->next_tick);
  AdvanceAndTick(h, 3 * kHour);
  EXPECT_TRUE(Fired(h).empty());
  ASSERT_TRUE(h->ResumeSchedule("report").ok());
  ASSERT_TRUE(h->RunMaintenance().ok());
  EXPECT_EQ(Fired(h).size(), 3u);
}

// UpdateSchedule does not replay the old definition's ticks since its last
// evaluation; before, it dropped them without a trace (here three hours of
// a paused schedule). Now they are counted as missed.
TEST(ScheduleTest, AnUpdateCountsTheTicksItDoesNotReplay) {
  EngineHarness h;
  ASSERT_TRUE(h->CreateSchedule(Hourly(MissedRunPolicy::kRunAll)).ok());
  ASSERT_TRUE(h->PauseSchedule("report").ok());
  AdvanceAndTick(h, 3 * kHour);
  ScheduleSpec changed = Hourly(MissedRunPolicy::kRunAll);
  changed.payload = "new";
  ASSERT_TRUE(h->UpdateSchedule(changed).ok());
  auto info = h->GetSchedule("report");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->skipped_missed, 3);
  EXPECT_EQ(info->fired, 0);
  ASSERT_TRUE(h->ResumeSchedule("report").ok());
  ASSERT_TRUE(h->RunMaintenance().ok());
  EXPECT_TRUE(Fired(h).empty()) << "the dropped ticks are not replayed";
}

TEST(ScheduleTest, OverlapSkipAndBufferOne) {
  for (OverlapPolicy overlap :
       {OverlapPolicy::kAllow, OverlapPolicy::kSkip, OverlapPolicy::kBufferOne}) {
    SCOPED_TRACE(OverlapPolicyName(overlap));
    EngineHarness h;
    ScheduleSpec spec = Hourly();
    spec.overlap = overlap;
    ASSERT_TRUE(h->CreateSchedule(spec).ok());
    AdvanceAndTick(h, kHour);
    LeasedJob running = h.LeaseOne("sched", Millis(10 * kHour));
    AdvanceAndTick(h, kHour);  // 02:00 while the 01:00 job runs
    AdvanceAndTick(h, kHour);  // 03:00 too
    auto info = h->GetSchedule("report");
    if (overlap == OverlapPolicy::kAllow) {
      EXPECT_EQ(Fired(h).size(), 3u);
      continue;
    }
    EXPECT_EQ(Fired(h).size(), 1u);
    ASSERT_TRUE(h->Complete({running.id, running.token, "", {}}).ok());
    info = h->GetSchedule("report");
    if (overlap == OverlapPolicy::kSkip) {
      EXPECT_EQ(info->skipped_overlap, 2);
      EXPECT_TRUE(Fired(h).empty());
    } else {
      // One tick was kept (the latest) and fired as the job completed.
      EXPECT_EQ(info->skipped_overlap, 1);
      EXPECT_EQ(Fired(h), std::vector<std::string>{Key(kStartMs + 3 * kHour)});
      EXPECT_FALSE(info->buffered_tick);
    }
  }
}

// A buffered tick fires as the running job ends only if the schedule still
// fires (not paused) and still buffers (an update to another overlap policy
// drops it). Either way it is counted as skipped for overlap, not lost
// without a trace. Before, a paused schedule fired it, and an update to
// `skip` kept it and fired it later.
TEST(ScheduleTest, ABufferedTickIsSkippedWhilePausedOrOnceThePolicyNoLongerBuffers) {
  for (bool pause : {true, false}) {
    SCOPED_TRACE(pause ? "paused" : "updated to skip");
    EngineHarness h;
    ScheduleSpec spec = Hourly();
    spec.overlap = OverlapPolicy::kBufferOne;
    ASSERT_TRUE(h->CreateSchedule(spec).ok());
    AdvanceAndTick(h, kHour);
    LeasedJob running = h.LeaseOne("sched", Millis(10 * kHour));
    AdvanceAndTick(h, kHour);  // 02:00 is buffered
    ASSERT_TRUE(h->GetSchedule("report")->buffered_tick);
    if (pause) {
      ASSERT_TRUE(h->PauseSchedule("report").ok());
    } else {
      spec.overlap = OverlapPolicy::kSkip;
      ASSERT_TRUE(h->UpdateSchedule(spec).ok());
      EXPECT_FALSE(h->GetSchedule("report")->buffered_tick);
    }
    ASSERT_TRUE(h->Complete({running.id, running.token, "", {}}).ok());
    auto info = h->GetSchedule("report");
    ASSERT_TRUE(info.ok());
    EXPECT_TRUE(Fired(h).empty());
    EXPECT_FALSE(info->buffered_tick);
    EXPECT_EQ(info->skipped_overlap, 1);
    EXPECT_EQ(info->fired, 1);
    if (pause) {
      ASSERT_TRUE(h->ResumeSchedule("report").ok());
      ASSERT_TRUE(h->RunMaintenance().ok());
      EXPECT_TRUE(Fired(h).empty()) << "resuming does not bring the skipped tick back";
    }
  }
}

TEST(ScheduleTest, JitterDelaysTheJobButKeepsTheTickKey) {
  EngineHarness h;
  ScheduleSpec spec = Hourly();
  spec.jitter = Millis(60000);
  ASSERT_TRUE(h->CreateSchedule(spec).ok());
  AdvanceAndTick(h, kHour);
  auto page = h->List({"sched", JobState::kScheduled, 10, ""});
  auto avail = h->List({"sched", JobState::kAvailable, 10, ""});
  ASSERT_EQ(page->jobs.size() + avail->jobs.size(), 1u);
  const Job& job = page->jobs.empty() ? avail->jobs[0] : page->jobs[0];
  EXPECT_EQ(job.idempotency_key, Key(kStartMs + kHour));
  EXPECT_GE(ToUnixMs(job.run_at), kStartMs + kHour);
  EXPECT_LT(ToUnixMs(job.run_at), kStartMs + kHour + 60000);
}

TEST(ScheduleTest, StartAndEndBoundTheTicks) {
  EngineHarness h;
  ScheduleSpec spec = Hourly();
  spec.start_at = FromUnixMs(kStartMs + 2 * kHour + 1);
  spec.end_at = FromUnixMs(kStartMs + 4 * kHour);
  ASSERT_TRUE(h->CreateSchedule(spec).ok());
  EXPECT_EQ(ToUnixMs(*h->GetSchedule("report")->next_tick), kStartMs + 3 * kHour);
  for (int i = 0; i < 10; ++i) AdvanceAndTick(h, kHour);
  EXPECT_EQ(Fired(h).size(), 2u);  // 03:00 and 04:00
  EXPECT_FALSE(h->GetSchedule("report")->next_tick);
}

TEST(ScheduleTest, TriggerFiresNowAndUpdateKeepsHistory) {
  EngineHarness h;
  ASSERT_TRUE(h->CreateSchedule(Hourly()).ok());
  auto fired = h->TriggerSchedule("report");
  ASSERT_TRUE(fired.ok()) << fired.status();
  EXPECT_EQ(h->Get(fired->job_id)->idempotency_key,
            "schedule:report:" + std::to_string(kStartMs) + ":manual");
  ScheduleSpec every = Hourly();
  every.spec = "@every 10m";
  ASSERT_TRUE(h->UpdateSchedule(every).ok());
  EXPECT_EQ(ToUnixMs(*h->GetSchedule("report")->next_tick), kStartMs + 600000);
  EXPECT_EQ(h->GetSchedule("report")->last_job_id, fired->job_id);
  auto list = h->ListSchedules();
  ASSERT_EQ(list->schedules.size(), 1u);
  ASSERT_TRUE(h->DeleteSchedule("report").ok());
  EXPECT_TRUE(h->ListSchedules()->schedules.empty());
  EXPECT_EQ(h->GetSchedule("report").status().code(), absl::StatusCode::kNotFound);
}

TEST(ScheduleTest, BadInputIsRejectedNamingTheField) {
  EngineHarness h;
  auto expect = [&](ScheduleSpec spec, const std::string& text) {
    absl::Status s = h->CreateSchedule(spec);
    EXPECT_TRUE(absl::IsInvalidArgument(s)) << s;
    EXPECT_NE(s.message().find(text), std::string::npos) << s;
  };
  ScheduleSpec bad = Hourly();
  bad.spec = "0 25 * * *";
  expect(bad, "spec: hour field: 25 is outside 0-23");
  bad = Hourly();
  bad.time_zone = "Europe/Atlantis";
  expect(bad, "time_zone: unknown IANA time zone");
  bad = Hourly();
  bad.end_at = FromUnixMs(kStartMs);
  bad.start_at = FromUnixMs(kStartMs + 1);
  expect(bad, "end_at");
  bad = Hourly();
  bad.jitter = Millis(2 * kHour);
  expect(bad, "jitter");
  bad = Hourly();
  bad.queue = "";
  expect(bad, "queue");
  EXPECT_TRUE(h->ListSchedules()->schedules.empty());
  ASSERT_TRUE(h->CreateSchedule(Hourly()).ok());
  EXPECT_TRUE(h->CreateSchedule(Hourly()).ok()) << "same definition: a retried create";
  ScheduleSpec other = Hourly();
  other.payload = "different";
  EXPECT_EQ(h->CreateSchedule(other).code(), absl::StatusCode::kAlreadyExists);
  other.id = "missing";
  EXPECT_EQ(h->UpdateSchedule(other).code(), absl::StatusCode::kNotFound);
}

// A caller's idempotency key can never take a tick's key (which would make
// the tick's enqueue a conflict, or let a caller's job stand in for a tick).
TEST(ScheduleTest, CallersCannotUseTheTickKeyPrefix) {
  EngineHarness h;
  auto r = h->Enqueue({.queue = "sched",
                       .job_type = "report",
                       .payload = "mine",
                       .idempotency_key = Key(kStartMs + kHour)});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(absl::IsInvalidArgument(r.status())) << r.status();
  EXPECT_NE(r.status().message().find("idempotency_key"), std::string::npos) << r.status();
  EXPECT_NE(r.status().message().find("reserved"), std::string::npos) << r.status();
  auto batch = h->EnqueueBatch(
      {{.queue = "q", .job_type = "t", .payload = "a"},
       {.queue = "q", .job_type = "t", .payload = "b", .idempotency_key = "schedule:x:1"}});
  ASSERT_FALSE(batch.ok());
  EXPECT_NE(batch.status().message().find("jobs[1].idempotency_key"), std::string::npos)
      << batch.status();
  // The schedule's own tick still fires.
  ASSERT_TRUE(h->CreateSchedule(Hourly()).ok());
  AdvanceAndTick(h, kHour);
  EXPECT_EQ(Fired(h), std::vector<std::string>{Key(kStartMs + kHour)});
}

// A schedule whose fire fails (here: its job no longer fits the payload limit
// after a restart with a lower limit) writes nothing and does not hold up the
// schedules due at the same time after it; it is retried with backoff.
TEST(ScheduleTest, AFailingFireWritesNothingAndBlocksNoOtherSchedule) {
  EngineHarness h(/*in_memory=*/false);
  ScheduleSpec big = Hourly();
  big.id = "a-big";  // sorts first among schedules due at the same time
  big.payload = std::string(100, 'x');
  ScheduleSpec small = Hourly();
  small.id = "b-small";
  ASSERT_TRUE(h->CreateSchedule(big).ok());
  ASSERT_TRUE(h->CreateSchedule(small).ok());
  h.options().max_payload_bytes = 50;
  h.Reopen();
  AdvanceAndTick(h, kHour);
  auto small_info = h->GetSchedule("b-small");
  ASSERT_TRUE(small_info.ok());
  EXPECT_EQ(small_info->fired, 1) << "the schedule after the failing one fired";
  auto big_info = h->GetSchedule("a-big");
  ASSERT_TRUE(big_info.ok());
  EXPECT_EQ(big_info->fired, 0);
  EXPECT_EQ(big_info->last_job_id, 0);
  EXPECT_FALSE(big_info->last_tick.has_value()) << "the failed fire moved nothing";
  EXPECT_EQ(Fired(h).size(), 1u) << "only b-small's job exists";
  // Retried (and failing) later, without blocking b-small's next tick.
  AdvanceAndTick(h, kHour);
  EXPECT_EQ(h->GetSchedule("b-small")->fired, 2);
  EXPECT_EQ(h->GetSchedule("a-big")->fired, 0);
  // Once the limit allows it again, the missed tick fires (run_once).
  h.options().max_payload_bytes = 1 << 20;
  h.Reopen();
  ASSERT_TRUE(h->RunMaintenance().ok());
  EXPECT_GE(h->GetSchedule("a-big")->fired, 1);
}

}  // namespace
}  // namespace ratchet

namespace ratchet {
namespace {

// Refuses the queue "secret": ratchetd's authorization, as the engine sees it.
class RefuseSecret final : public QueueGuard {
 public:
  absl::Status Check(std::string_view queue) const override {
    return queue == "secret" ? absl::PermissionDeniedError("not granted") : absl::OkStatus();
  }
};

// The guard is checked against the schedule's queue inside each operation
// (review finding: ratchetd checked, then acted in a second step, so an
// Update that moved the schedule in between let a caller act on a queue
// outside its grant).
TEST(ScheduleGuardTest, ChangesToAScheduleInAnUngrantedQueueAreRefusedAndChangeNothing) {
  EngineHarness h;
  ScheduleSpec spec = Hourly();
  spec.queue = "secret";
  ASSERT_TRUE(h->CreateSchedule(spec).ok());
  auto guard = std::make_shared<RefuseSecret>();
  EXPECT_EQ(h->TriggerSchedule(spec.id, guard).status().code(),
            absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(h->PauseSchedule(spec.id, guard).code(), absl::StatusCode::kPermissionDenied);
  EXPECT_EQ(h->DeleteSchedule(spec.id, guard).code(), absl::StatusCode::kPermissionDenied);
  ScheduleSpec moved = spec;
  moved.queue = "public";
  EXPECT_EQ(h->UpdateSchedule(moved, guard).code(), absl::StatusCode::kPermissionDenied);
  auto info = h->GetSchedule(spec.id);
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->spec.queue, "secret");
  EXPECT_FALSE(info->spec.paused);
  EXPECT_EQ(h->Stats().live_jobs, 0) << "a refused trigger fired";
  // Once moved (by someone allowed), the same guard may act on it.
  ASSERT_TRUE(h->UpdateSchedule(moved).ok());
  EXPECT_TRUE(h->PauseSchedule(spec.id, guard).ok());
  EXPECT_TRUE(h->TriggerSchedule(spec.id, guard).ok());
  EXPECT_TRUE(h->DeleteSchedule(spec.id, guard).ok());
  // An unknown id is NOT_FOUND, as without a guard.
  EXPECT_EQ(h->DeleteSchedule("nope", guard).code(), absl::StatusCode::kNotFound);
}

// Stored counters at INT64_MAX (damage): firing and skipping count on from
// them without signed overflow wrapping them negative.
TEST(ScheduleTest, StoredCountersAtTheirMaximumDoNotWrap) {
  EngineHarness h(/*in_memory=*/false);
  ASSERT_TRUE(h->CreateSchedule(Hourly(MissedRunPolicy::kRunOnce)).ok());
  h.Close();
  ASSERT_NO_FATAL_FAILURE(testing::RewriteRecord<internal::ScheduleRecord>(
      h, storage::Cf::kSchedules, "report", [](internal::ScheduleRecord& r) {
        r.set_fired(INT64_MAX);
        r.set_skipped_missed(INT64_MAX);
      }));
  h.Reopen();
  AdvanceAndTick(h, 5 * kHour + kHour / 2);  // 5 ticks: 4 skipped, 1 fired
  auto info = h->GetSchedule("report");
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(Fired(h).size(), 1u);
  EXPECT_EQ(info->fired, INT64_MAX);
  EXPECT_EQ(info->skipped_missed, INT64_MAX);
}

// ListSchedules answers a page by id, bounded in count and in bytes (a
// schedule's payload can be 1 MiB), always at least one schedule; the
// cursors reach every schedule once.
TEST(ScheduleTest, ListSchedulesPagesByIdAndBytes) {
  EngineHarness h;
  h.options().max_payload_bytes = 1 << 20;
  h.Reopen();
  for (const char* id : {"c", "a", "b"}) {
    ScheduleSpec s = Hourly();
    s.id = id;
    s.payload = std::string(300 << 10, 'p');
    ASSERT_TRUE(h->CreateSchedule(s).ok());
  }
  auto all = [&](ScheduleListRequest req) {
    std::vector<std::string> ids;
    for (int pages = 0; pages < 10; ++pages) {
      auto page = h->ListSchedules(req);
      EXPECT_TRUE(page.ok()) << page.status();
      if (!page.ok()) break;
      EXPECT_FALSE(page->schedules.empty());
      for (const ScheduleInfo& info : page->schedules) ids.push_back(info.spec.id);
      req.cursor = page->next_cursor;
      if (req.cursor.empty()) break;
    }
    return ids;
  };
  const std::vector<std::string> want = {"a", "b", "c"};
  EXPECT_EQ(all({.limit = 2}), want);
  EXPECT_EQ(h->ListSchedules({.limit = 2})->schedules.size(), 2u);
  // 700 KiB hold two schedules of 300 KiB; 1 byte holds one, never none.
  EXPECT_EQ(h->ListSchedules({.max_bytes = 700 << 10})->schedules.size(), 2u);
  EXPECT_EQ(all({.max_bytes = 700 << 10}), want);
  EXPECT_EQ(h->ListSchedules({.max_bytes = 1})->schedules.size(), 1u);
  EXPECT_EQ(all({.max_bytes = 1}), want);
  EXPECT_EQ(h->ListSchedules({.limit = 0}).status().code(), absl::StatusCode::kInvalidArgument);
  auto bad = h->ListSchedules({.cursor = "zz"});
  EXPECT_NE(bad.status().message().find("cursor"), std::string::npos) << bad.status();
}

// A schedule whose time zone the system no longer knows opens (it is not
// corruption) and fires nothing, but it is still listed, so an operator
// can find it and repair it with an update.
TEST(ScheduleTest, AScheduleWhoseTimeZoneVanishedIsListedAndFiresNothing) {
  EngineHarness h(/*in_memory=*/false);
  ASSERT_TRUE(h->CreateSchedule(Hourly()).ok());
  ScheduleSpec other = Hourly();
  other.id = "other";
  ASSERT_TRUE(h->CreateSchedule(other).ok());
  h.Close();
  ASSERT_NO_FATAL_FAILURE(testing::RewriteRecord<internal::ScheduleRecord>(
      h, storage::Cf::kSchedules, "report",
      [](internal::ScheduleRecord& r) { r.set_time_zone("Mars/Olympus_Mons"); }));
  h.Reopen();
  auto list = h->ListSchedules();
  ASSERT_TRUE(list.ok()) << list.status();
  ASSERT_EQ(list->schedules.size(), 2u) << "the schedule with the vanished zone is not listed";
  EXPECT_EQ(list->schedules[1].spec.id, "report");
  EXPECT_FALSE(list->schedules[1].next_tick.has_value());
  AdvanceAndTick(h, 2 * kHour);
  EXPECT_EQ(h->GetSchedule("report")->fired, 0);
  EXPECT_GT(h->GetSchedule("other")->fired, 0);
  ASSERT_TRUE(h->UpdateSchedule(Hourly()).ok()) << "an update repairs it";
  ASSERT_TRUE(h->DeleteSchedule("report").ok());
  EXPECT_EQ(h->ListSchedules()->schedules.size(), 1u);
}

}  // namespace
}  // namespace ratchet
