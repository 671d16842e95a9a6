// FUZZ_CHECK(cond): the fuzz targets' oracle. A property that fails aborts,
// which libFuzzer reports as a crash and saves the input (crash-<sha1>).
#ifndef RATCHET_TESTS_FUZZ_FUZZ_CHECK_H_
#define RATCHET_TESTS_FUZZ_FUZZ_CHECK_H_

#include <cstdio>
#include <cstdlib>

#define FUZZ_CHECK(cond)                                                                 \
  do {                                                                                   \
    if (!(cond)) {                                                                       \
      std::fprintf(stderr, "%s:%d: FUZZ_CHECK failed: %s\n", __FILE__, __LINE__, #cond); \
      std::abort();                                                                      \
    }                                                                                    \
  } while (0)

#endif  // RATCHET_TESTS_FUZZ_FUZZ_CHECK_H_
