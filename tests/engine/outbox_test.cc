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
  ASSERT_TRUE(h->Tick().ok());
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

}  // namespace
}  // namespace ratchet
