// Random: the injectable source of randomness (backoff jitter). Tests and the
// property model pass a seeded instance so every run replays.
//
// Thread safety: Random instances are NOT thread-safe; the engine calls its
// instance only from its own sequencer thread.
#ifndef RATCHET_BASE_RANDOM_H_
#define RATCHET_BASE_RANDOM_H_

#include <cstdint>
#include <memory>
#include <random>

namespace ratchet {

class Random {
 public:
  virtual ~Random() = default;
  // A uniformly distributed integer in [lo, hi]. Requires lo <= hi.
  virtual int64_t UniformInt(int64_t lo, int64_t hi) = 0;
};

// std::mt19937_64 seeded with `seed`. Deterministic for a given seed.
class SeededRandom final : public Random {
 public:
  explicit SeededRandom(uint64_t seed) : gen_(seed) {}
  int64_t UniformInt(int64_t lo, int64_t hi) override {
    return std::uniform_int_distribution<int64_t>(lo, hi)(gen_);
  }

 private:
  std::mt19937_64 gen_;
};

// A SeededRandom seeded from std::random_device.
std::unique_ptr<Random> NewDefaultRandom();

}  // namespace ratchet

#endif  // RATCHET_BASE_RANDOM_H_
