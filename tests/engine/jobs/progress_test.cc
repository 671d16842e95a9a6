// Heartbeat progress (issue 12): stored in the heartbeat's write, shown by
// Get, cleared when a new attempt starts, validated naming the field.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "engine_harness.h"
#include "ratchet/base/status.h"
#include "ratchet/engine/engine.h"

namespace ratchet {
namespace {

using testing::EngineHarness;
using testing::FieldOf;

HeartbeatRequest WithProgress(const LeasedJob& job, std::optional<double> progress,
                              std::optional<std::string> message = std::nullopt) {
  HeartbeatRequest hb{.id = job.id, .token = job.token};
  hb.progress = progress;
  hb.progress_message = std::move(message);
  return hb;
}

TEST(ProgressTest, HeartbeatProgressIsShownByGet) {
  EngineHarness h;
  JobId id = h.Enqueue("q");
  LeasedJob job = h.LeaseOne("q");
  EXPECT_FALSE(h->Get(id)->progress.has_value());
  h.clock().Advance(Millis(500));
  ASSERT_TRUE(h->Heartbeat(WithProgress(job, 0.25, "page 1 of 4")).ok());
  Job j = *h->Get(id);
  ASSERT_TRUE(j.progress.has_value());
  EXPECT_DOUBLE_EQ(*j.progress, 0.25);
  EXPECT_EQ(j.progress_message, "page 1 of 4");
  EXPECT_EQ(ToUnixMs(j.progress_updated_at), testing::kStartMs + 500);
}

TEST(ProgressTest, AHeartbeatWithoutProgressKeepsTheLastOne) {
  EngineHarness h;
  JobId id = h.Enqueue("q");
  LeasedJob job = h.LeaseOne("q");
  ASSERT_TRUE(h->Heartbeat(WithProgress(job, 0.5, "half")).ok());
  ASSERT_TRUE(h->Heartbeat({.id = id, .token = job.token}).ok());
  ASSERT_TRUE(h->Heartbeat(WithProgress(job, 0.75)).ok());  // the message stays
  Job j = *h->Get(id);
  EXPECT_DOUBLE_EQ(*j.progress, 0.75);
  EXPECT_EQ(j.progress_message, "half");
}

TEST(ProgressTest, ProgressSurvivesReopenAndCompletion) {
  EngineHarness h(/*in_memory=*/false);
  JobId id = h.Enqueue("q");
  LeasedJob job = h.LeaseOne("q");
  ASSERT_TRUE(h->Heartbeat(WithProgress(job, 1.0, "done")).ok());
  h.Reopen();
  EXPECT_DOUBLE_EQ(*h->Get(id)->progress, 1.0);
  ASSERT_TRUE(h->Complete({.id = id, .token = job.token}).ok());
  Job j = *h->Get(id);
  EXPECT_EQ(j.state, JobState::kCompleted);
  EXPECT_DOUBLE_EQ(*j.progress, 1.0);
  EXPECT_EQ(j.progress_message, "done");
}

TEST(ProgressTest, ANewAttemptStartsWithoutProgress) {
  EngineHarness h;
  JobId id = h.Enqueue("q");
  LeasedJob job = h.LeaseOne("q");
  ASSERT_TRUE(h->Heartbeat(WithProgress(job, 0.9, "almost")).ok());
  auto failed = h->Fail({id, job.token, "boom", true});
  ASSERT_TRUE(failed.ok()) << failed.status();
  EXPECT_DOUBLE_EQ(*h->Get(id)->progress, 0.9) << "a waiting retry shows the last attempt's";
  h.clock().Advance(Millis(3600000));
  LeasedJob again = h.LeaseOne("q");
  ASSERT_EQ(again.id, id);
  Job j = *h->Get(id);
  EXPECT_FALSE(j.progress.has_value());
  EXPECT_EQ(j.progress_message, "");
}

TEST(ProgressTest, BadProgressIsRejectedNamingTheFieldAndChangesNothing) {
  EngineHarness h;
  JobId id = h.Enqueue("q");
  LeasedJob job = h.LeaseOne("q");
  const TimePoint deadline = h->Get(id)->lease_deadline;
  h.clock().Advance(Millis(100));
  for (double bad : {-0.01, 1.01, std::nan(""), std::numeric_limits<double>::infinity()}) {
    auto r = h->Heartbeat(WithProgress(job, bad));
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(FieldOf(r.status()), "progress") << r.status();
  }
  auto long_message = h->Heartbeat(WithProgress(job, 0.5, std::string(257, 'x')));
  EXPECT_EQ(FieldOf(long_message.status()), "progress_message") << long_message.status();
  EXPECT_NE(long_message.status().message().find("256"), std::string::npos);
  auto not_utf8 = h->Heartbeat(WithProgress(job, 0.5, std::string("\xff\xfe")));
  EXPECT_EQ(FieldOf(not_utf8.status()), "progress_message") << not_utf8.status();
  Job j = *h->Get(id);
  EXPECT_FALSE(j.progress.has_value());
  EXPECT_EQ(j.lease_deadline, deadline) << "a rejected heartbeat must not extend the lease";
  EXPECT_TRUE(h->Heartbeat(WithProgress(job, 0.5, std::string(256, 'x'))).ok());
}

TEST(ProgressTest, AStaleTokenCannotSetProgress) {
  EngineHarness h;
  JobId id = h.Enqueue("q");
  LeasedJob job = h.LeaseOne("q");
  auto r = h->Heartbeat(WithProgress({.id = id, .token = job.token + 1}, 0.5, "x"));
  EXPECT_EQ(ReasonOf(r.status()), kReasonLeaseLost);
  EXPECT_FALSE(h->Get(id)->progress.has_value());
}

}  // namespace
}  // namespace ratchet
