#include "tests/testing/subprocess.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/match.h"
#include "absl/time/clock.h"
#include "tests/testing/paths.h"

namespace parley::testing {
namespace {

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

pid_t Spawn(const std::vector<std::string>& argv,
            const std::map<std::string, std::string>& env, int stdin_fd,
            int out_fd, int err_fd) {
  pid_t pid = fork();
  if (pid == 0) {
    setpgid(0, 0);
    dup2(stdin_fd, 0);
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> args;
    for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

ProcessResult Decode(int status) {
  ProcessResult r;
  if (WIFEXITED(status)) r.exit_code = WEXITSTATUS(status);
  if (WIFSIGNALED(status)) r.term_signal = WTERMSIG(status);
  return r;
}

std::string TempBase() {
  const char* t = std::getenv("TMPDIR");
  return t && *t ? t : "/tmp";
}

}  // namespace

TempDir::TempDir() {
  std::string tmpl = TempBase() + "/parley-test-XXXXXX";
  char* p = mkdtemp(tmpl.data());
  path_ = p ? p : "";
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

std::string BinaryPath(const std::string& relative) {
  return BinaryDir() + "/" + relative;
}

ProcessResult RunProcess(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& env,
                         absl::Duration timeout,
                         const std::string& stdin_text) {
  TempDir dir;
  std::string in_path = dir.Sub("in"), out_path = dir.Sub("out"),
              err_path = dir.Sub("err");
  {
    std::ofstream in(in_path);
    in << stdin_text;
  }
  int in_fd = open(in_path.c_str(), O_RDONLY | O_CLOEXEC);
  int out_fd = open(out_path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  int err_fd = open(err_path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
  pid_t pid = Spawn(argv, env, in_fd, out_fd, err_fd);
  close(in_fd);
  close(out_fd);
  close(err_fd);
  absl::Time deadline = absl::Now() + timeout;
  int status = 0;
  while (true) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (absl::Now() > deadline) {
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    absl::SleepFor(absl::Milliseconds(5));
  }
  ProcessResult result = Decode(status);
  result.out = Slurp(out_path);
  result.err = Slurp(err_path);
  return result;
}

ChildProcess::ChildProcess(const std::vector<std::string>& argv,
                           const std::map<std::string, std::string>& env) {
  std::string base = TempBase() + "/parley-child-XXXXXX";
  int out_fd = mkstemp(base.data());
  out_path_ = base;
  std::string base2 = TempBase() + "/parley-child-XXXXXX";
  int err_fd = mkstemp(base2.data());
  err_path_ = base2;
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  pid_ = Spawn(argv, env, null_fd, out_fd, err_fd);
  close(null_fd);
  close(out_fd);
  close(err_fd);
}

ChildProcess::~ChildProcess() {
  if (!result_.has_value() && pid_ > 0) {
    kill(-pid_, SIGKILL);
    int status;
    waitpid(pid_, &status, 0);
  }
  unlink(out_path_.c_str());
  unlink(err_path_.c_str());
}

bool ChildProcess::WaitForOutput(const std::string& text,
                                 absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (absl::Now() < deadline) {
    if (absl::StrContains(Stdout(), text)) return true;
    int status;
    if (!result_.has_value() && waitpid(pid_, &status, WNOHANG) == pid_) {
      result_ = Decode(status);
      return absl::StrContains(Stdout(), text);
    }
    if (result_.has_value()) return false;
    absl::SleepFor(absl::Milliseconds(10));
  }
  return false;
}

void ChildProcess::Signal(int signal_number) {
  if (!result_.has_value()) kill(pid_, signal_number);
}

std::optional<ProcessResult> ChildProcess::Wait(absl::Duration timeout) {
  absl::Time deadline = absl::Now() + timeout;
  while (!result_.has_value()) {
    int status;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      result_ = Decode(status);
      break;
    }
    if (absl::Now() > deadline) return std::nullopt;
    absl::SleepFor(absl::Milliseconds(10));
  }
  ProcessResult r = *result_;
  r.out = Stdout();
  r.err = Stderr();
  return r;
}

std::string ChildProcess::Stdout() const { return Slurp(out_path_); }
std::string ChildProcess::Stderr() const { return Slurp(err_path_); }

ProcessResult RunWithStderrOnTerminal(
    const std::vector<std::string>& argv,
    const std::map<std::string, std::string>& env, absl::Duration timeout) {
  ProcessResult result;
  const int master = posix_openpt(O_RDWR | O_NOCTTY);
  if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0) {
    result.err = "cannot open a pseudo-terminal";
    return result;
  }
  const std::string slave_name = ptsname(master);
  int out_pipe[2];
  if (pipe(out_pipe) != 0) {
    close(master);
    result.err = "cannot create a pipe";
    return result;
  }
  const pid_t pid = fork();
  if (pid == 0) {
    setsid();
    const int slave = open(slave_name.c_str(), O_RDWR);
    const int null = open("/dev/null", O_RDONLY);
    dup2(null, 0);
    dup2(out_pipe[1], 1);
    dup2(slave, 2);
    close(master);
    close(out_pipe[0]);
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    setenv("NO_COLOR", "1", 1);
    std::vector<char*> args;
    for (const std::string& a : argv) {
      args.push_back(const_cast<char*>(a.c_str()));
    }
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  close(out_pipe[1]);
  pollfd fds[2] = {{master, POLLIN, 0}, {out_pipe[0], POLLIN, 0}};
  bool open_fds[2] = {true, true};
  const absl::Time deadline = absl::Now() + timeout;
  char buf[4096];
  while ((open_fds[0] || open_fds[1]) && absl::Now() < deadline) {
    for (int i = 0; i < 2; ++i) {
      fds[i].fd = open_fds[i] ? (i == 0 ? master : out_pipe[0]) : -1;
    }
    if (poll(fds, 2, 1000) < 0) break;
    for (int i = 0; i < 2; ++i) {
      if (!open_fds[i] || fds[i].revents == 0) continue;
      const ssize_t n = read(fds[i].fd, buf, sizeof buf);
      if (n <= 0) {
        open_fds[i] = false;  // EOF, or EIO once the terminal's last user left
        continue;
      }
      (i == 0 ? result.err : result.out).append(buf, n);
    }
  }
  if (open_fds[0] || open_fds[1]) kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  close(master);
  close(out_pipe[0]);
  if (WIFEXITED(status)) {
    result.exit_code = WEXITSTATUS(status);
  } else if (WIFSIGNALED(status)) {
    result.term_signal = WTERMSIG(status);
  }
  return result;
}

}  // namespace parley::testing
