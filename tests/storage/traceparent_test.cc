#include "ratchet/base/traceparent.h"

#include <gtest/gtest.h>

namespace ratchet {
namespace {

// The example from W3C Trace Context Level 1, section 3.2.2.
constexpr char kValid[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(TraceparentTest, AcceptsTheW3cExample) {
  EXPECT_TRUE(IsTraceparent(kValid));
  EXPECT_EQ(TraceIdOf(kValid), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(TraceparentFromHeader(kValid), kValid);
  EXPECT_EQ(TraceparentFromHeader(std::string(" \t") + kValid + " "), kValid);
}

TEST(TraceparentTest, RejectsMalformedHeaders) {
  for (const char* bad : {
           "",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0",     // short
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",    // uppercase
           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",    // version ff
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",    // zero trace-id
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",    // zero parent-id
           "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",    // separator
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-0g",    // hex
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-xx"  // v00 is 55 bytes
       }) {
    EXPECT_FALSE(IsTraceparent(bad)) << bad;
    EXPECT_EQ(TraceparentFromHeader(bad), "") << bad;
    EXPECT_EQ(TraceIdOf(bad), "") << bad;
  }
}

TEST(TraceparentTest, ReadsALaterVersionsFirst55Bytes) {
  const std::string v1 = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";
  EXPECT_EQ(TraceparentFromHeader(v1 + "-future"), v1);
  EXPECT_EQ(TraceparentFromHeader(v1 + "x"), "");  // no '-' after byte 55
}

}  // namespace
}  // namespace ratchet
