#include <gtest/gtest.h>

#include "engine_harness.h"
#include "ratchet/engine/engine.h"

namespace ratchet {
namespace {

using testing::EngineHarness;

TEST(OutboxTest, AppWritesAndEnqueuesCommitTogether) {
  EngineHarness h;
  OutboxTxn txn;
  txn.writes.push_back({"order/1", "placed"});
  txn.enqueues.push_back({"emails", "send_receipt", "order 1"});
  auto r = h->CommitOutbox(txn);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(h->ReadApp("order/1")->value_or(""), "placed");
  EXPECT_EQ(h->Get((*r)[0].id)->queue, "emails");
}

TEST(OutboxTest, RejectedOutboxWritesNothing) {
  EngineHarness h;
  OutboxTxn txn;
  txn.writes.push_back({"order/1", "placed"});
  txn.enqueues.push_back({"", "send_receipt", "order 1"});
  auto r = h->CommitOutbox(txn);
  EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_FALSE(h->ReadApp("order/1")->has_value());
}

TEST(OutboxTest, CompleteWithEffectsAppliesThemOnlyWithTheCurrentToken) {
  EngineHarness h;
  JobId id = h.Enqueue("q");
  LeasedJob stale = h.LeaseOne("q", Millis(1000));
  h.clock().Advance(Millis(1000));
  ASSERT_TRUE(h->RunMaintenance().ok());
  h.clock().Advance(Millis(3600000));
  LeasedJob current = h.LeaseOne("q");
  ASSERT_EQ(current.id, id);

  CompleteRequest late{id, stale.token, "", {{"balance", "stale"}}};
  EXPECT_EQ(ReasonOf(h->Complete(late)), kReasonLeaseLost);
  EXPECT_FALSE(h->ReadApp("balance")->has_value()) << "stale worker's effect applied";

  CompleteRequest ok{id, current.token, "", {{"balance", "100"}, {"tmp", std::nullopt}}};
  ASSERT_TRUE(h->Complete(ok).ok());
  EXPECT_EQ(h->ReadApp("balance")->value_or(""), "100");
  ok.effects = {{"balance", "200"}};
  ASSERT_TRUE(h->Complete(ok).ok());
  EXPECT_EQ(h->ReadApp("balance")->value_or(""), "100") << "repeat applied effects twice";
}

TEST(OutboxTest, CompleteBatchAnswersEachItemAndWritesTheGoodOnes) {
  EngineHarness h;
  JobId a = h.Enqueue("q");
  JobId b = h.Enqueue("q");
  auto leased = h->Lease({"q", 2, Millis(30000), "w"});
  ASSERT_EQ(leased->size(), 2u);
  std::vector<CompleteRequest> reqs = {{a, (*leased)[0].token, "ra", {{"a", "1"}}},
                                       {b, (*leased)[1].token + 100, "rb", {{"b", "1"}}}};
  auto r = h->CompleteBatch(reqs);
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_TRUE((*r)[0].ok());
  EXPECT_EQ(ReasonOf((*r)[1]), kReasonLeaseLost);
  EXPECT_EQ(h->Get(a)->state, JobState::kCompleted);
  EXPECT_EQ(h->Get(b)->state, JobState::kRunning);
  EXPECT_TRUE(h->ReadApp("a")->has_value());
  EXPECT_FALSE(h->ReadApp("b")->has_value()) << "a rejected item's effects were applied";
  EXPECT_EQ(h->CompleteBatch({}).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ratchet
