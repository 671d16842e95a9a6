#include "run_command.h"

#include <sys/wait.h>

#include <cstdio>

namespace ratchet::testing {

CommandResult RunCommand(const std::string& command) {
  CommandResult result;
  FILE* pipe = popen((command + " 2>&1").c_str(), "r");
  if (pipe == nullptr) return result;
  char buf[512];
  while (fgets(buf, sizeof(buf), pipe)) result.output += buf;
  int status = pclose(pipe);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return result;
}

}  // namespace ratchet::testing
