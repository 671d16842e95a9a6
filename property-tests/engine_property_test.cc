// RapidCheck state-machine test of the engine against model.h. Each command
// runs on the real engine (ManualClock, seeded Random, tmpfs directory) and
// on the model, and the answers must agree. After every command every job's
// state, attempts, token and recorded errors, and every application key,
// must match; after every reopen each job must appear in exactly one List.
// Sequence count: RC_PARAMS (ctest sets max_success=2000; make soak 100x).
// RapidCheck prints the seed to replay.
//
// Commands: job_commands.h (Enqueue/EnqueueBatch, Lease, Heartbeat,
// Complete with effects, Fail, Cancel, CancelJobs, queue settings, reopen;
// heartbeats carry progress, checked on every job across reopens),
// batch_commands.h (CompleteBatch, FailBatch, CommitOutbox, CompleteAndLease),
// dead_letter_commands.h (Redrive, Purge), clock_commands.h (forward and
// backward clock steps, mass expiry).
#include <gtest/gtest.h>

#include "batch_commands.h"
#include "clock_commands.h"
#include "dead_letter_commands.h"
#include "job_commands.h"
#include "spdlog/spdlog.h"

namespace ratchet::proptest {
namespace {

TEST(EnginePropertyTest, EngineAgreesWithTheReferenceModel) {
  spdlog::set_level(spdlog::level::warn);
  bool ok = rc::check("engine agrees with the reference model", [] {
    Sut sut;
    Model initial(testing::kStartMs, kSeed);
    rc::state::check(
        initial, sut,
        rc::state::gen::execOneOfWithArgs<
            EnqueueBatchCmd, EnqueueBatchCmd, LeaseCmd, LeaseCmd, HeartbeatCmd, CompleteCmd,
            CompleteBatchCmd, CompleteAndLeaseCmd, FailCmd, FailBatchCmd, CancelCmd, CancelJobsCmd,
            RedriveCmd, PurgeCmd, CommitOutboxCmd, AdvanceClockCmd, AdvanceClockCmd, StepBackCmd,
            MassExpiryCmd, QueueSettingsCmd, ReopenCmd>());
  });
  EXPECT_TRUE(ok);
}

}  // namespace
}  // namespace ratchet::proptest
