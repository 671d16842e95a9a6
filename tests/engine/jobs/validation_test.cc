#include "validation.h"

#include <gtest/gtest.h>

namespace ratchet::internal {
namespace {

TEST(ValidationTest, NamesAcceptTheDocumentedAlphabetOnly) {
  EXPECT_TRUE(ValidateName("queue", "emails.high_priority:v2-eu").ok());
  EXPECT_FALSE(ValidateName("queue", "with space").ok());
  EXPECT_FALSE(ValidateName("queue", std::string("nul\0byte", 8)).ok());
  EXPECT_FALSE(ValidateName("queue", "ünïcode").ok());
  EXPECT_TRUE(ValidateName("queue", std::string(kMaxNameBytes, 'a')).ok());
  EXPECT_FALSE(ValidateName("queue", std::string(kMaxNameBytes + 1, 'a')).ok());
}

TEST(ValidationTest, ErrorsNameTheFieldWithItsPrefix) {
  EnqueueRequest r{"q", "t", "", ""};
  r.delay = Millis(-1);
  EngineOptions o;
  absl::Status s = ValidateEnqueue("jobs[7].", r, o, FromUnixMs(0));
  EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("jobs[7].delay"), absl::string_view::npos) << s;
}

TEST(ValidationTest, RetryPolicyBoundsAreChecked) {
  EXPECT_TRUE(ValidateRetryPolicy("p", RetryPolicy{}).ok());
  EXPECT_FALSE(
      ValidateRetryPolicy("p", RetryPolicy{Millis(0), Millis(10), 2, JitterMode::kNone}).ok());
  EXPECT_FALSE(
      ValidateRetryPolicy("p", RetryPolicy{Millis(1), Millis(10), 0.5, JitterMode::kNone}).ok());
  EXPECT_FALSE(
      ValidateRetryPolicy("p", RetryPolicy{Millis(1), Millis(10), 2, static_cast<JitterMode>(9)})
          .ok());
}

}  // namespace
}  // namespace ratchet::internal
