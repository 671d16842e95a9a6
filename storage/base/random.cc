#include "ratchet/base/random.h"

namespace ratchet {

std::unique_ptr<Random> NewDefaultRandom() {
  std::random_device rd;
  uint64_t seed = (uint64_t{rd()} << 32) ^ rd();
  return std::make_unique<SeededRandom>(seed);
}

}  // namespace ratchet
