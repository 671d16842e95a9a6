// Sessions: the dashboard's signed-in browsers (docs/operations.md,
// "Dashboard"). Signing in with a bearer token makes a session: a random
// 256-bit id (the HttpOnly, SameSite=Strict cookie) and a random 256-bit
// CSRF token the page sends back in X-CSRF-Token on every POST.
//
// A session keeps the token it was made with and every request
// authenticates it again through the gate, so a token removed from the auth
// file (and a SIGHUP) ends its sessions at once, and rate limits and
// grants apply as they do to gRPC. Sessions live in memory only: a restart
// signs everyone out.
//
// Bounds: at most kMaxPerPrincipal per principal (its least recently used
// goes first) and kMaxSessions in all (likewise); a session ends after kIdle
// without a request or kLifetime after sign-in.
//
// Thread safety: safe from any thread.
#ifndef RATCHET_API_SERVER_HTTP_SESSIONS_H_
#define RATCHET_API_SERVER_HTTP_SESSIONS_H_

#include <chrono>
#include <list>
#include <optional>
#include <string>
#include <unordered_map>

#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"

namespace ratchet::server::http {

struct Session {
  std::string id;                            // the cookie's value, 64 hex digits
  std::string csrf_token;                    // 64 hex digits
  std::string principal;                     // as authenticated at sign-in
  std::optional<std::string> authorization;  // "Bearer <token>"; none: anonymous
};

class SessionStore {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr size_t kMaxSessions = 10000;
  static constexpr size_t kMaxPerPrincipal = 64;
  static constexpr std::chrono::minutes kIdle{60};
  static constexpr std::chrono::hours kLifetime{12};

  // A new session for `principal`, signed in with `authorization`.
  Session Create(std::string principal, std::optional<std::string> authorization,
                 Clock::time_point now = Clock::now());
  // The live session with this id (and marks it used), or nullopt.
  std::optional<Session> Find(absl::string_view id, Clock::time_point now = Clock::now());
  void Remove(absl::string_view id);
  size_t size() const;

 private:
  struct Entry {
    Session session;
    Clock::time_point created, used;
    std::list<std::string>::iterator lru;  // in lru_, most recent at the front
  };
  mutable absl::Mutex mu_;
  std::unordered_map<std::string, Entry> sessions_ ABSL_GUARDED_BY(mu_);
  std::list<std::string> lru_ ABSL_GUARDED_BY(mu_);
};

// Constant-time comparison of two secrets (OpenSSL's CRYPTO_memcmp).
bool SecretsEqual(absl::string_view a, absl::string_view b);
// 32 random bytes from OpenSSL's CSPRNG, as 64 hex digits.
std::string RandomToken();

}  // namespace ratchet::server::http

#endif  // RATCHET_API_SERVER_HTTP_SESSIONS_H_
