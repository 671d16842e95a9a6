// A ratchetd child process for end-to-end tests: started on a data
// directory and a fixed loopback port, stopped by SIGTERM or SIGKILL.
#ifndef RATCHET_TESTS_E2E_RATCHETD_PROCESS_H_
#define RATCHET_TESTS_E2E_RATCHETD_PROCESS_H_

#include <sys/types.h>

#include <string>
#include <vector>

namespace ratchet::testing {

// A free loopback TCP port (bound once, then released).
int FreePort();

class RatchetdProcess {
 public:
  // `binary` is the ratchetd executable; `extra` are additional flags.
  RatchetdProcess(std::string binary, std::string data_dir, int port,
                  std::vector<std::string> extra = {});
  // SIGKILLs the child if it is still running.
  ~RatchetdProcess();

  // Starts the child and waits (up to 15 s) until it serves. False if it
  // exited or did not come up.
  bool Start();
  // Sends `signal` and returns (e.g. SIGHUP).
  void Signal(int signal);
  // Sends `signal` and waits for the child; returns its wait status.
  int Stop(int signal);
  bool running() const { return pid_ > 0; }
  const std::string& log_path() const { return log_; }

 private:
  std::string binary_, data_dir_, port_file_, log_;
  int port_;
  std::vector<std::string> extra_;
  pid_t pid_ = -1;
};

}  // namespace ratchet::testing

#endif  // RATCHET_TESTS_E2E_RATCHETD_PROCESS_H_
