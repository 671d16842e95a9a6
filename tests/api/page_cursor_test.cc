// Sealed page cursors (api/server/page_cursor.h): opaque, unforgeable, and
// only this process's.
#include "page_cursor.h"

#include <gtest/gtest.h>

#include <string>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"

namespace ratchet::server {
namespace {

TEST(PageCursorTest, OpensWhatItSealedAndHidesIt) {
  CursorSealer sealer;
  const std::string plain = absl::BytesToHexString("tenant-secret.q");
  const std::string sealed = sealer.Seal(plain);
  EXPECT_FALSE(absl::StrContains(sealed, plain));
  EXPECT_FALSE(absl::StrContains(sealed, absl::BytesToHexString("tenant")));
  EXPECT_NE(sealer.Seal(plain), sealed) << "a fresh nonce each time";
  EXPECT_EQ(sealed[0], 's') << "not hex: the engine refuses it if it reaches it unopened";
  auto opened = sealer.Open(sealed);
  ASSERT_TRUE(opened.ok()) << opened.status();
  EXPECT_EQ(*opened, plain);
  EXPECT_EQ(sealer.Seal(""), "");
  EXPECT_EQ(*sealer.Open(""), "");
}

TEST(PageCursorTest, RefusesForgedTamperedAndForeignCursors) {
  CursorSealer sealer;
  std::string sealed = sealer.Seal("6162");
  for (std::string bad : {std::string("6162"), std::string("zz"), std::string(sealed.size(), '0'),
                          sealed.substr(1), "s" + sealed.substr(2), CursorSealer().Seal("6162")}) {
    auto opened = sealer.Open(bad);
    EXPECT_EQ(opened.status().code(), absl::StatusCode::kInvalidArgument) << bad;
    EXPECT_TRUE(absl::StrContains(opened.status().message(), "cursor")) << opened.status();
  }
  sealed[sealed.size() / 2] = sealed[sealed.size() / 2] == '0' ? '1' : '0';  // a bit flipped
  EXPECT_EQ(sealer.Open(sealed).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace ratchet::server
