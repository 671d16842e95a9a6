// Runs a shell command and captures what it prints, for tests of binaries.
#ifndef RATCHET_TESTS_TESTING_RUN_COMMAND_H_
#define RATCHET_TESTS_TESTING_RUN_COMMAND_H_

#include <string>

namespace ratchet::testing {

struct CommandResult {
  int exit_code = -1;
  std::string output;  // stdout and stderr, interleaved
};

// Runs `command` through /bin/sh with stderr folded into stdout.
CommandResult RunCommand(const std::string& command);

}  // namespace ratchet::testing

#endif  // RATCHET_TESTS_TESTING_RUN_COMMAND_H_
