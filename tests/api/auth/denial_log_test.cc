#include "auth/denial_log.h"

#include <gtest/gtest.h>

namespace ratchet::server::auth {
namespace {

TEST(DenialLogTest, APrincipalGetsABoundedNumberOfLinesPerWindowThenASummary) {
  DenialLog log;
  const DenialLog::Time t0{};
  for (int i = 0; i < DenialLog::kLinesPerWindow; ++i) {
    EXPECT_EQ(log.Admit("p", t0), 0) << i;
  }
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(log.Admit("p", t0 + std::chrono::seconds(1)));
  // Another principal is not held back by p's flood.
  EXPECT_EQ(log.Admit("q", t0), 0);
  // The next window's first line says how many were left out.
  EXPECT_EQ(log.Admit("p", t0 + DenialLog::kWindow), 1000);
  EXPECT_EQ(log.Admit("p", t0 + DenialLog::kWindow), 0);
}

}  // namespace
}  // namespace ratchet::server::auth
