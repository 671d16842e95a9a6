#include "authenticator.h"

#include <algorithm>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "auth_file.h"
#include "ratchet/base/status.h"

namespace ratchet::server::auth {
namespace {

Principal Anonymous() {
  Principal p;
  p.name = "anonymous";
  p.grants = {Grant{Role::kAdmin, "*"}};
  p.requests_per_second = 0;
  return p;
}

absl::Status Unauthenticated(absl::string_view why) {
  return absl::UnauthenticatedError(absl::StrCat(why, " (docs/operations.md, \"Authentication\")"));
}

}  // namespace

std::optional<std::chrono::milliseconds> TokenBucket::Take(Time now) {
  if (rate_ <= 0) return std::nullopt;  // unlimited
  absl::MutexLock lock(&mu_);
  if (now > at_) {
    const double elapsed = std::chrono::duration<double>(now - at_).count();
    tokens_ = std::min(burst_, tokens_ + elapsed * rate_);
    at_ = now;
  }
  if (tokens_ >= 1) {
    tokens_ -= 1;
    return std::nullopt;
  }
  const double wait_s = std::min((1 - tokens_) / rate_, 86400.0);  // rate_ >= 0.001
  return std::chrono::milliseconds(static_cast<int64_t>(wait_s * 1000) + 1);
}

Authenticator::Authenticator()
    : anonymous_(std::make_shared<const Caller>(Anonymous(), std::chrono::steady_clock::now())) {}

absl::StatusOr<std::unique_ptr<Authenticator>> Authenticator::FromFile(std::string path) {
  std::unique_ptr<Authenticator> a(new Authenticator(std::move(path)));
  RATCHET_RETURN_IF_ERROR(a->Reload());
  return a;
}

absl::Status Authenticator::Reload() {
  if (path_.empty()) return absl::OkStatus();
  RATCHET_ASSIGN_OR_RETURN(std::vector<PrincipalEntry> entries, LoadAuthFile(path_));
  auto table = std::make_shared<Table>();
  const auto now = std::chrono::steady_clock::now();
  for (PrincipalEntry& e : entries) {
    auto caller = std::make_shared<const Caller>(std::move(e.principal), now);
    for (const std::string& h : e.token_sha256) table->by_token_hash[h] = caller;
    if (!e.tls_identity.empty()) table->by_identity[e.tls_identity] = caller;
  }
  table->principals = entries.size();
  absl::MutexLock lock(&mu_);
  table_ = std::move(table);
  return absl::OkStatus();
}

size_t Authenticator::principal_count() const {
  auto t = table();
  return t ? t->principals : 1;
}

std::shared_ptr<const Authenticator::Table> Authenticator::table() const {
  absl::ReaderMutexLock lock(&mu_);
  return table_;
}

absl::StatusOr<std::shared_ptr<const Caller>> Authenticator::Authenticate(
    std::optional<absl::string_view> authorization,
    absl::Span<const std::string> certificate_names) const {
  if (!enabled()) return anonymous_;
  std::shared_ptr<const Table> t = table();
  if (authorization) {
    absl::string_view value = *authorization;
    constexpr absl::string_view kBearer = "Bearer ";
    if (value.size() <= kBearer.size() || !absl::StartsWithIgnoreCase(value, kBearer)) {
      return Unauthenticated("the authorization metadata is not 'Bearer <token>'");
    }
    auto it = t->by_token_hash.find(
        Sha256Hex(std::string_view(value.data() + kBearer.size(), value.size() - kBearer.size())));
    if (it == t->by_token_hash.end()) return Unauthenticated("the bearer token is not recognized");
    return it->second;
  }
  for (const std::string& name : certificate_names) {
    auto it = t->by_identity.find(name);
    if (it != t->by_identity.end()) return it->second;
  }
  if (!certificate_names.empty()) {
    return Unauthenticated(
        "the client certificate names no principal, and no bearer token was sent");
  }
  return Unauthenticated(
      "no credentials: send 'authorization: Bearer <token>' metadata or a client certificate");
}

}  // namespace ratchet::server::auth
