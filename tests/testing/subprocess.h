#ifndef PARLEY_TESTS_TESTING_SUBPROCESS_H_
#define PARLEY_TESTS_TESTING_SUBPROCESS_H_

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"

namespace parley::testing {

// Result of a finished process.
struct ProcessResult {
  int exit_code = -1;    // valid when !signaled
  int term_signal = 0;   // non-zero when killed by a signal
  std::string out;
  std::string err;
};

// Runs `argv` to completion (killed after `timeout`), capturing stdout and
// stderr. `env` entries are added to (or replace) the inherited environment.
ProcessResult RunProcess(const std::vector<std::string>& argv,
                         const std::map<std::string, std::string>& env = {},
                         absl::Duration timeout = absl::Seconds(60),
                         const std::string& stdin_text = "");

// Runs `argv` to completion with stderr on a pseudo-terminal and stdout on a
// pipe, as a person at a terminal whose output is piped would (NO_COLOR
// set), and returns what each stream got. Killed after `timeout`.
ProcessResult RunWithStderrOnTerminal(
    const std::vector<std::string>& argv,
    const std::map<std::string, std::string>& env = {},
    absl::Duration timeout = absl::Seconds(240));

// A background process with stdout and stderr captured to files; the
// destructor SIGKILLs it if it still runs.
class ChildProcess {
 public:
  ChildProcess(const std::vector<std::string>& argv,
               const std::map<std::string, std::string>& env = {});
  ~ChildProcess();
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Waits until stdout contains `text` (true) or the process exits or
  // `timeout` passes (false).
  bool WaitForOutput(const std::string& text, absl::Duration timeout);
  void Signal(int signal_number);
  // Waits for exit up to `timeout`; nullopt on timeout.
  std::optional<ProcessResult> Wait(absl::Duration timeout);
  std::string Stdout() const;
  std::string Stderr() const;

 private:
  pid_t pid_ = -1;
  std::string out_path_;
  std::string err_path_;
  std::optional<ProcessResult> result_;
};

// A fresh directory under $TMPDIR, removed by the destructor.
class TempDir {
 public:
  TempDir();
  ~TempDir();
  const std::string& path() const { return path_; }
  std::string Sub(const std::string& name) const { return path_ + "/" + name; }

 private:
  std::string path_;
};

// Path of a built binary, e.g. BinaryPath("server/parleyd").
std::string BinaryPath(const std::string& relative);

}  // namespace parley::testing

#endif  // PARLEY_TESTS_TESTING_SUBPROCESS_H_
