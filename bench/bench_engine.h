// Shared by the embedded-engine benchmarks: opening an engine or exiting.
#ifndef RATCHET_BENCH_BENCH_ENGINE_H_
#define RATCHET_BENCH_BENCH_ENGINE_H_

#include <cstdio>
#include <cstdlib>
#include <memory>

#include "ratchet/engine/engine.h"

namespace ratchet::bench {

// Engine::Open(options), or a message on stderr and exit(1).
inline std::unique_ptr<Engine> OpenEngineOrExit(const EngineOptions& options) {
  auto engine = Engine::Open(options);
  if (!engine.ok()) {
    std::fprintf(stderr, "open %s: %s\n", options.data_dir.c_str(),
                 engine.status().ToString().c_str());
    std::exit(1);
  }
  return std::move(*engine);
}

}  // namespace ratchet::bench

#endif  // RATCHET_BENCH_BENCH_ENGINE_H_
