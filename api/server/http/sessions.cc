#include "sessions.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <array>
#include <cstdlib>

#include "absl/strings/escaping.h"

namespace ratchet::server::http {

std::string RandomToken() {
  std::array<unsigned char, 32> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) std::abort();
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
}

bool SecretsEqual(absl::string_view a, absl::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

Session SessionStore::Create(std::string principal, std::optional<std::string> authorization,
                             Clock::time_point now) {
  Session s{.id = RandomToken(),
            .csrf_token = RandomToken(),
            .principal = std::move(principal),
            .authorization = std::move(authorization)};
  absl::MutexLock lock(&mu_);
  // One principal's sign-ins evict its own oldest session, not others'.
  size_t mine = 0;
  auto oldest_mine = lru_.end();
  for (auto it = lru_.begin(); it != lru_.end(); ++it) {
    if (sessions_.at(*it).session.principal == s.principal) {
      ++mine;
      oldest_mine = it;
    }
  }
  if (mine >= kMaxPerPrincipal) {
    sessions_.erase(*oldest_mine);
    lru_.erase(oldest_mine);
  }
  while (sessions_.size() >= kMaxSessions && !lru_.empty()) {
    sessions_.erase(lru_.back());
    lru_.pop_back();
  }
  lru_.push_front(s.id);
  sessions_.emplace(s.id, Entry{.session = s, .created = now, .used = now, .lru = lru_.begin()});
  return s;
}

std::optional<Session> SessionStore::Find(absl::string_view id, Clock::time_point now) {
  absl::MutexLock lock(&mu_);
  auto it = sessions_.find(std::string(id));
  if (it == sessions_.end()) return std::nullopt;
  Entry& e = it->second;
  if (now - e.used > kIdle || now - e.created > kLifetime) {
    lru_.erase(e.lru);
    sessions_.erase(it);
    return std::nullopt;
  }
  // The map was found by an exact key; compare in constant time anyway.
  if (!SecretsEqual(e.session.id, id)) return std::nullopt;
  e.used = now;
  lru_.splice(lru_.begin(), lru_, e.lru);
  return e.session;
}

void SessionStore::Remove(absl::string_view id) {
  absl::MutexLock lock(&mu_);
  auto it = sessions_.find(std::string(id));
  if (it == sessions_.end()) return;
  lru_.erase(it->second.lru);
  sessions_.erase(it);
}

size_t SessionStore::size() const {
  absl::MutexLock lock(&mu_);
  return sessions_.size();
}

}  // namespace ratchet::server::http
