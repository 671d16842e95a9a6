// PerAddressLimiter: a token bucket per client address (the dashboard's
// sign-ins), so that one client cannot use up everyone's attempts. At most
// kMaxAddresses buckets are kept; past that the table starts over (every
// bucket full again), which bounds memory whatever the number of clients.
//
// Thread safety: safe from any thread.
#ifndef RATCHET_API_SERVER_HTTP_LIMITER_H_
#define RATCHET_API_SERVER_HTTP_LIMITER_H_

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

#include "absl/synchronization/mutex.h"
#include "auth/authenticator.h"

namespace ratchet::server::http {

class PerAddressLimiter {
 public:
  static constexpr size_t kMaxAddresses = 4096;
  PerAddressLimiter(double rate, double burst) : rate_(rate), burst_(burst) {}

  // Takes one token from `address`'s bucket: nullopt when taken, else the
  // wait until one is there.
  std::optional<std::chrono::milliseconds> Take(const std::string& address,
                                                auth::TokenBucket::Time now) {
    absl::MutexLock lock(&mu_);
    auto it = buckets_.find(address);
    if (it == buckets_.end()) {
      if (buckets_.size() >= kMaxAddresses) buckets_.clear();
      it = buckets_.emplace(address, std::make_unique<auth::TokenBucket>(rate_, burst_, now)).first;
    }
    return it->second->Take(now);
  }

 private:
  const double rate_, burst_;
  absl::Mutex mu_;
  std::unordered_map<std::string, std::unique_ptr<auth::TokenBucket>> buckets_ ABSL_GUARDED_BY(mu_);
};

}  // namespace ratchet::server::http

#endif  // RATCHET_API_SERVER_HTTP_LIMITER_H_
