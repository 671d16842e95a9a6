// The auth file's parser and the grant rules (auth/auth_file.h,
// auth/permissions.h).
#include "auth/auth_file.h"

#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "auth/permissions.h"

namespace ratchet::server::auth {
namespace {

const std::string kHash(64, 'a');

absl::Status ParseError(const std::string& text) {
  return ParseAuthFile(text, "test.toml").status();
}

TEST(AuthFileTest, Sha256IsTheStandardDigest) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST(AuthFileTest, TheShippedExampleParses) {
  auto entries = LoadAuthFile(std::string(RATCHET_SOURCE_DIR) + "/deploy/auth.example.toml");
  ASSERT_TRUE(entries.ok()) << entries.status();
  ASSERT_EQ(entries->size(), 4u);
  const PrincipalEntry& api = (*entries)[0];
  EXPECT_EQ(api.principal.name, "billing-api");
  // A placeholder, not the hash of a published token (the example never
  // works as is).
  EXPECT_EQ(api.token_sha256[0].size(), 64u);
  EXPECT_NE(api.token_sha256[0], Sha256Hex("billing-api-example-token"));
  EXPECT_EQ(api.principal.requests_per_second, 200);
  EXPECT_EQ(api.principal.burst, 400);
  EXPECT_TRUE(api.principal.Allows(Permission::kEnqueue, "billing.invoices"));
  EXPECT_FALSE(api.principal.Allows(Permission::kEnqueue, "payroll"));
  EXPECT_FALSE(api.principal.Allows(Permission::kWork, "billing.invoices"));
  EXPECT_EQ((*entries)[1].tls_identity, "billing-worker.internal");
}

TEST(AuthFileTest, ErrorsNameTheEntryAndField) {
  struct Bad {
    std::string text, field;
  } cases[] = {
      {"[[principal]]\nname = \"a\"\ntoken_sha256 = [\"xyz\"]\n", "principal[0].token_sha256[0]"},
      {"[[principal]]\nname = \"a\"\ntoken_sha256 = [\"" + kHash +
           "\"]\ngrants = [{ role = \"root\", queues = \"*\" }]\n",
       "principal[0].grants[0].role"},
      {"[[principal]]\nname = \"a\"\ntoken_sha256 = [\"" + kHash +
           "\"]\ngrants = [{ role = \"worker\", queues = \"a*b\" }]\n",
       "principal[0].grants[0].queues"},
      {"[[principal]]\nname = \"a\"\n", "principal[0].token_sha256"},
      {"[[principal]]\nname = \"a\"\ntoken = \"secret\"\n", "principal[0].token"},
      {"[[principal]]\nname = \"a\"\ntoken_sha256 = [\"" + kHash +
           "\"]\n[[principal]]\nname = \"a\"\ntls_identity = \"x\"\n",
       "principal[1].name"},
      {"[[principal]]\nname = \"a\"\ntoken_sha256 = [\"" + kHash +
           "\"]\n[[principal]]\nname = \"b\"\ntoken_sha256 = [\"" + kHash + "\"]\n",
       "principal[1].token_sha256"},
      {"[[principal]]\nname = \"a\"\ntls_identity = \"x\"\nrequests_per_second = -1\n",
       "principal[0].requests_per_second"},
      {"[[principal]]\nname = \"a\"\ntls_identity = \"x\"\nrequests_per_second = 1e-300\n",
       "principal[0].requests_per_second"},
      {"principals = 1\n", "principals"},
      {"[[principal]\n", "auth_file"},
  };
  for (const Bad& c : cases) {
    absl::Status s = ParseError(c.text);
    EXPECT_EQ(s.code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_TRUE(absl::StartsWith(s.message(), c.field + ":")) << c.field << " vs " << s;
  }
}

TEST(AuthFileTest, AnErrorNeverEchoesAHashOrToken) {
  absl::Status s = ParseError("[[principal]]\nname = \"a\"\ntoken_sha256 = [\"SeCrEt\"]\n");
  EXPECT_FALSE(absl::StrContains(s.message(), "SeCrEt")) << s;
}

TEST(AuthFileTest, AMissingFileIsNotFound) {
  EXPECT_EQ(LoadAuthFile("/nonexistent/auth.toml").status().code(), absl::StatusCode::kNotFound);
}

TEST(PermissionsTest, PatternsMatchExactPrefixOrEverything) {
  EXPECT_TRUE(PatternMatches("*", "anything"));
  EXPECT_TRUE(PatternMatches("billing.*", "billing.x"));
  EXPECT_TRUE(PatternMatches("billing.*", "billing."));
  EXPECT_FALSE(PatternMatches("billing.*", "billing"));
  EXPECT_FALSE(PatternMatches("billing.*", "payroll.billing.x"));
  EXPECT_TRUE(PatternMatches("billing", "billing"));
  EXPECT_FALSE(PatternMatches("billing", "billing2"));
}

TEST(PermissionsTest, RolesHoldTheirPermissionsOnly) {
  EXPECT_TRUE(RoleHas(Role::kProducer, Permission::kEnqueue));
  EXPECT_TRUE(RoleHas(Role::kProducer, Permission::kRead));
  EXPECT_FALSE(RoleHas(Role::kProducer, Permission::kWork));
  EXPECT_TRUE(RoleHas(Role::kWorker, Permission::kWork));
  EXPECT_FALSE(RoleHas(Role::kWorker, Permission::kRead));
  EXPECT_TRUE(RoleHas(Role::kOperator, Permission::kManage));
  EXPECT_FALSE(RoleHas(Role::kOperator, Permission::kAdmin));
  for (Permission p : kAllPermissions) EXPECT_TRUE(RoleHas(Role::kAdmin, p));
  Principal none{.name = "none"};
  for (Permission p : kAllPermissions) {
    EXPECT_FALSE(none.Allows(p, "q"));
    EXPECT_FALSE(none.AllowsAnywhere(p));
  }
}

}  // namespace
}  // namespace ratchet::server::auth
