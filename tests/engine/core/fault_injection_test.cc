// Storage faults on the WAL: the failed operation is not acknowledged, the
// engine refuses further writes, and a reopen shows every acknowledged
// operation and nothing of the failed one.
#include <gtest/gtest.h>

#include "fault_injection_fs.h"
#include "ratchet/engine/engine.h"
#include "temp_dir.h"

namespace ratchet {
namespace {

using testing::FaultInjectionFs;
using testing::WalFault;

class FaultInjectionTest : public ::testing::TestWithParam<WalFault> {
 protected:
  FaultInjectionTest() : dir_(true), clock_(FromUnixMs(1767225600000)) {
    fs_ = std::make_shared<FaultInjectionFs>();
    options_.data_dir = dir_.Sub("data");
    options_.clock = &clock_;
    options_.file_system = fs_;
  }

  std::unique_ptr<Engine> Open() {
    auto e = Engine::Open(options_);
    EXPECT_TRUE(e.ok()) << e.status();
    return e.ok() ? std::move(*e) : nullptr;
  }

  static EnqueueRequest Req(const std::string& key) {
    return EnqueueRequest{"q", "t", "payload-" + key, key};
  }

  testing::TempDir dir_;
  ManualClock clock_;
  std::shared_ptr<FaultInjectionFs> fs_;
  EngineOptions options_;
};

TEST_P(FaultInjectionTest, FailedWriteIsNotAcknowledgedAndNotVisibleAfterReopen) {
  auto engine = Open();
  std::vector<JobId> acked;
  for (int i = 0; i < 10; ++i) acked.push_back(engine->Enqueue(Req("ok" + std::to_string(i)))->id);
  LeasedJob leased = engine->Lease({"q", 1, Millis(60000), "w"})->front();
  ASSERT_TRUE(engine->Complete({leased.id, leased.token, "done", {}}).ok());

  fs_->SetWalFault(GetParam());
  auto failed = engine->Enqueue(Req("lost"));
  ASSERT_FALSE(failed.ok());
  EXPECT_EQ(failed.status().code(), absl::StatusCode::kUnavailable) << failed.status();
  EXPECT_EQ(ReasonOf(failed.status()), kReasonStorageFailed);
  EXPECT_GT(fs_->injected(), 0);

  // The engine refuses writes even once the disk recovers, until reopened.
  fs_->SetWalFault(WalFault::kNone);
  auto refused = engine->Enqueue(Req("after"));
  EXPECT_EQ(refused.status().code(), absl::StatusCode::kUnavailable);
  EXPECT_NE(refused.status().message().find("reopen"), absl::string_view::npos);

  engine.reset();
  engine = Open();
  ASSERT_NE(engine, nullptr);
  for (JobId id : acked) EXPECT_TRUE(engine->Get(id).ok()) << "acknowledged job " << id << " lost";
  EXPECT_EQ(engine->Get(leased.id)->state, JobState::kCompleted);
  // Neither the failed enqueue nor the refused one exists.
  EXPECT_EQ(engine->Get(acked.back() + 1).status().code(), absl::StatusCode::kNotFound);
  auto retry = engine->Enqueue(Req("lost"));
  ASSERT_TRUE(retry.ok()) << retry.status();
  EXPECT_FALSE(retry->duplicate) << "the failed enqueue's idempotency key survived";
}

INSTANTIATE_TEST_SUITE_P(WalFaults, FaultInjectionTest,
                         ::testing::Values(WalFault::kAppendIoError, WalFault::kSyncIoError,
                                           WalFault::kNoSpace),
                         [](const auto& info) {
                           switch (info.param) {
                             case WalFault::kAppendIoError:
                               return std::string("AppendIoError");
                             case WalFault::kSyncIoError:
                               return std::string("SyncIoError");
                             case WalFault::kNoSpace:
                               return std::string("DiskFull");
                             default:
                               return std::string("None");
                           }
                         });

}  // namespace
}  // namespace ratchet
