#ifndef PARLEY_TESTS_TESTING_PARLEY_PROCESSES_H_
#define PARLEY_TESTS_TESTING_PARLEY_PROCESSES_H_

// Real parleyd and parley processes for end-to-end tests.

#include <signal.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "crypto/rfc3339.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/testing/subprocess.h"

namespace parley::testing {

std::string ParleydPath();
std::string ParleyPath();

// A whole file's bytes ("" if it cannot be read), and a file written with
// exactly `bytes` (replaced if it exists).
std::string Slurp(const std::string& path);
void WriteFile(const std::string& path, const std::string& bytes);

// `t` in RFC 3339 UTC at whole seconds, the form the CLI takes.
inline std::string Rfc3339(absl::Time t) {
  return FormatRfc3339Utc(absl::FromUnixSeconds(absl::ToUnixSeconds(t)));
}

// `parleyd init --data DIR --json ARGS...`; a discarded JSON value if init
// failed (the caller's expectation on it reports the failure).
nlohmann::json InitParleydData(const std::string& dir,
                               const std::vector<std::string>& args = {});

// A parleyd started with --data and --listen (port 0 unless given) plus
// `args`; ready() once it printed "parleyd ready on port N". The destructor
// SIGKILLs it if it still runs.
class ParleydProcess {
 public:
  explicit ParleydProcess(const std::string& data,
                          const std::string& listen = "127.0.0.1:0",
                          const std::vector<std::string>& args = {"--log-level",
                                                                  "warn"});
  bool ready() const { return ready_; }
  int port() const { return port_; }
  std::string address() const;
  ChildProcess& process() { return *process_; }
  // Sends `signal_number` and waits for the exit.
  void Stop(int signal_number = SIGTERM);

 private:
  std::unique_ptr<ChildProcess> process_;
  bool ready_ = false;
  int port_ = 0;
};

// Runs the parley CLI with --home HOME, one profile per person, each with
// the passphrase "pass-" + person in PARLEY_PASSPHRASE.
class ParleyCli {
 public:
  explicit ParleyCli(std::string home) : home_(std::move(home)) {}

  // `parley [--json] --home HOME --profile PROFILE ARGS...` with the
  // passphrase of `who` (default: the profile's own).
  ProcessResult Run(const std::string& profile,
                    const std::vector<std::string>& args, bool json = true,
                    const std::string& who = "") const;
  // Run with --json; EXPECTs exit 0 and one JSON document, and returns it.
  nlohmann::json RunOk(const std::string& profile,
                       const std::vector<std::string>& args) const;
  // `enroll --server --ca-fingerprint --invite --name PROFILE`.
  void Enroll(const std::string& profile, const std::string& server,
              const std::string& ca_fingerprint,
              const std::string& invite) const;
  // Enrolls "admin" with the bootstrap invite, then each (name, role,
  // organisation) of `cast` with an invite from the admin.
  void EnrollCast(
      const std::string& server, const nlohmann::json& init,
      const std::vector<std::vector<std::string>>& cast) const;

 private:
  std::string home_;
};

// The members most end-to-end tests enroll: (name, role, organisation).
inline const std::vector<std::vector<std::string>> kFieldCast = {
    {"mediator", "mediator", "org-mediator"},
    {"coordinator", "coordinator", "org-coordinator"},
    {"partya", "party", "org-partya"},
    {"partyb", "party", "org-partyb"}};

// A fixture: a fresh data directory (init_ holds `parleyd init`'s JSON),
// parleyd started on it (with ServerConfig() as its TOML config when not
// empty), and Cast() enrolled, each member in its own profile under
// tmp_/clients.
class EnrolledServerTest : public ::testing::Test {
 protected:
  void SetUp() override;
  virtual std::string ServerConfig() const { return ""; }
  virtual std::vector<std::vector<std::string>> Cast() const {
    return kFieldCast;
  }

  TempDir tmp_;
  ParleyCli cli_{tmp_.Sub("clients")};
  nlohmann::json init_;
  std::unique_ptr<ParleydProcess> server_;
};

}  // namespace parley::testing

#endif  // PARLEY_TESTS_TESTING_PARLEY_PROCESSES_H_
