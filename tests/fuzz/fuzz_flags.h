// PrependFuzzerFlags: a fuzz target's default libFuzzer flags. Called from
// LLVMFuzzerInitialize, which libFuzzer runs before it parses its command
// line (libFuzzer documents that the hook may modify argc/argv); the
// defaults go right after argv[0], so the same flag given on the command
// line comes later and wins.
#ifndef RATCHET_TESTS_FUZZ_FUZZ_FLAGS_H_
#define RATCHET_TESTS_FUZZ_FUZZ_FLAGS_H_

#include <initializer_list>
#include <vector>

inline void PrependFuzzerFlags(int* argc, char*** argv, std::initializer_list<const char*> flags) {
  // libFuzzer keeps using argv after the hook returns: it must live on.
  static std::vector<char*>* args = new std::vector<char*>();
  args->assign(*argv, *argv + *argc);
  args->insert(args->begin() + (args->empty() ? 0 : 1), flags.size(), nullptr);
  int i = args->empty() ? 0 : 1;
  for (const char* f : flags) (*args)[i++] = const_cast<char*>(f);
  args->push_back(nullptr);  // argv[argc] is null
  *argc = static_cast<int>(args->size()) - 1;
  *argv = args->data();
}

#endif  // RATCHET_TESTS_FUZZ_FUZZ_FLAGS_H_
