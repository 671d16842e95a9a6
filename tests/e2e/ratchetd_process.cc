#include "ratchetd_process.h"

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <thread>

namespace ratchet::testing {

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr));
  socklen_t len = sizeof(addr);
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

RatchetdProcess::RatchetdProcess(std::string binary, std::string data_dir, int port,
                                 std::vector<std::string> extra)
    : binary_(std::move(binary)),
      data_dir_(std::move(data_dir)),
      port_file_(data_dir_ + ".port"),
      log_(data_dir_ + ".log"),
      port_(port),
      extra_(std::move(extra)) {}

RatchetdProcess::~RatchetdProcess() {
  if (pid_ > 0) Stop(SIGKILL);
}

bool RatchetdProcess::Start() {
  std::filesystem::remove(port_file_);
  std::vector<std::string> args = {binary_,      "--listen", "127.0.0.1:" + std::to_string(port_),
                                   "--data-dir", data_dir_,  "--port-file",
                                   port_file_};
  // Warnings and worse unless the test picks a level.
  if (std::find(extra_.begin(), extra_.end(), "--log-level") == extra_.end()) {
    args.insert(args.end(), {"--log-level", "warn"});
  }
  // The metrics listener on a free port unless the test picks one: tests
  // run in parallel, and the default (7071) would collide.
  if (std::find(extra_.begin(), extra_.end(), "--http-listen") == extra_.end()) {
    args.insert(args.end(), {"--http-listen", "127.0.0.1:0"});
  }
  args.insert(args.end(), extra_.begin(), extra_.end());
  pid_ = fork();
  if (pid_ == 0) {
    int fd = open(log_.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    dup2(fd, 1);
    dup2(fd, 2);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  for (int i = 0; i < 1500; ++i) {
    if (std::filesystem::exists(port_file_)) return true;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return false;
}

void RatchetdProcess::Signal(int signal) {
  if (pid_ > 0) kill(pid_, signal);
}

int RatchetdProcess::Stop(int signal) {
  if (pid_ <= 0) return -1;
  kill(pid_, signal);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return status;
}

}  // namespace ratchet::testing
