// Authenticator and TokenBucket (auth/authenticator.h).
#include "auth/authenticator.h"

#include <gtest/gtest.h>

#include <fstream>

#include "auth/auth_file.h"
#include "temp_dir.h"

namespace ratchet::server::auth {
namespace {

using std::chrono::milliseconds;

std::string Entry(const std::string& name, const std::string& token) {
  return "[[principal]]\nname = \"" + name + "\"\ntoken_sha256 = [\"" + Sha256Hex(token) +
         "\"]\ngrants = [{ role = \"worker\", queues = \"q\" }]\n";
}

TEST(AuthenticatorTest, WithoutAFileEveryCallIsAnonymousAdmin) {
  Authenticator a;
  auto caller = a.Authenticate(std::nullopt, {});
  ASSERT_TRUE(caller.ok());
  EXPECT_EQ((*caller)->principal.name, "anonymous");
  EXPECT_TRUE((*caller)->principal.AllowsEverywhere(Permission::kAdmin));
}

TEST(AuthenticatorTest, TokensAndCertificatesNameTheirPrincipal) {
  testing::TempDir dir(true);
  const std::string path = dir.Sub("auth.toml");
  std::ofstream(path) << Entry("a", "token-a")
                      << "[[principal]]\nname = \"m\"\ntls_identity = \"worker.internal\"\n";
  auto a = Authenticator::FromFile(path);
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ((*(*a)->Authenticate("Bearer token-a", {}))->principal.name, "a");
  EXPECT_EQ((*(*a)->Authenticate("bearer token-a", {}))->principal.name, "a");
  EXPECT_EQ((*(*a)->Authenticate(std::nullopt, {"x", "worker.internal"}))->principal.name, "m");
  for (auto bad : {"Bearer token-b", "token-a", "Basic token-a", "Bearer "}) {
    auto s = (*a)->Authenticate(bad, {"worker.internal"}).status();
    EXPECT_EQ(s.code(), absl::StatusCode::kUnauthenticated) << bad;
    EXPECT_EQ(s.message().find("token-"), std::string::npos) << "echoes the credential: " << s;
  }
  EXPECT_EQ((*a)->Authenticate(std::nullopt, {}).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_EQ((*a)->Authenticate(std::nullopt, {"other"}).status().code(),
            absl::StatusCode::kUnauthenticated);
}

TEST(AuthenticatorTest, ARemovedTokenStopsWorkingOnReload) {
  testing::TempDir dir(true);
  const std::string path = dir.Sub("auth.toml");
  std::ofstream(path) << Entry("a", "token-a") << Entry("b", "token-b");
  auto a = Authenticator::FromFile(path);
  ASSERT_TRUE(a.ok()) << a.status();
  ASSERT_TRUE((*a)->Authenticate("Bearer token-b", {}).ok());
  std::ofstream(path, std::ios::trunc) << Entry("a", "token-a");
  ASSERT_TRUE((*a)->Reload().ok());
  EXPECT_EQ((*a)->Authenticate("Bearer token-b", {}).status().code(),
            absl::StatusCode::kUnauthenticated);
  EXPECT_TRUE((*a)->Authenticate("Bearer token-a", {}).ok());
  EXPECT_EQ((*a)->principal_count(), 1u);
}

TEST(AuthenticatorTest, AFailedReloadKeepsThePrincipalsInUse) {
  testing::TempDir dir(true);
  const std::string path = dir.Sub("auth.toml");
  std::ofstream(path) << Entry("a", "token-a");
  auto a = Authenticator::FromFile(path);
  ASSERT_TRUE(a.ok()) << a.status();
  std::ofstream(path, std::ios::trunc) << "[[principal]]\nname = \"a\"\n";
  EXPECT_EQ((*a)->Reload().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE((*a)->Authenticate("Bearer token-a", {}).ok());
}

TEST(TokenBucketTest, AdmitsTheBurstThenTheRate) {
  const auto t0 = std::chrono::steady_clock::time_point() + std::chrono::hours(1);
  TokenBucket b(10, 3, t0);  // 10/s, burst 3
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(b.Take(t0).has_value()) << i;
  auto wait = b.Take(t0);
  ASSERT_TRUE(wait.has_value());
  EXPECT_GE(*wait, milliseconds(99));
  EXPECT_LE(*wait, milliseconds(101));
  EXPECT_FALSE(b.Take(t0 + milliseconds(100)).has_value());
  EXPECT_TRUE(b.Take(t0 + milliseconds(100)).has_value());
  // A step back of the clock refills nothing and breaks nothing.
  EXPECT_TRUE(b.Take(t0).has_value());
  // Never more than the burst, however long idle.
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(b.Take(t0 + std::chrono::hours(1)).has_value());
  EXPECT_TRUE(b.Take(t0 + std::chrono::hours(1)).has_value());
}

TEST(TokenBucketTest, ZeroRateIsUnlimited) {
  TokenBucket b(0, 0, std::chrono::steady_clock::now());
  for (int i = 0; i < 1000; ++i) EXPECT_FALSE(b.Take(std::chrono::steady_clock::now()));
}

}  // namespace
}  // namespace ratchet::server::auth
