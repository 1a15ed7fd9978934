#include "tests/testing/parley_processes.h"

#include <fstream>
#include <iterator>

#include <regex>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace parley::testing {

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in),
                     std::istreambuf_iterator<char>());
}

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

std::string ParleydPath() { return BinaryPath("server/parleyd"); }
std::string ParleyPath() { return BinaryPath("client/parley"); }

nlohmann::json InitParleydData(const std::string& dir,
                               const std::vector<std::string>& args) {
  std::vector<std::string> argv = {ParleydPath(), "init", "--data", dir,
                                   "--json"};
  argv.insert(argv.end(), args.begin(), args.end());
  ProcessResult r = RunProcess(argv);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return nlohmann::json::parse(r.out, nullptr, false);
}

ParleydProcess::ParleydProcess(const std::string& data,
                               const std::string& listen,
                               const std::vector<std::string>& args) {
  std::vector<std::string> argv = {ParleydPath(), "--data", data, "--listen",
                                   listen};
  argv.insert(argv.end(), args.begin(), args.end());
  process_ = std::make_unique<ChildProcess>(argv);
  ready_ = process_->WaitForOutput("parleyd ready on port", absl::Seconds(30));
  std::smatch m;
  std::string out = process_->Stdout();
  if (std::regex_search(out, m, std::regex("ready on port ([0-9]+)"))) {
    (void)absl::SimpleAtoi(m[1].str(), &port_);
  }
}

std::string ParleydProcess::address() const {
  return absl::StrCat("127.0.0.1:", port_);
}

void ParleydProcess::Stop(int signal_number) {
  process_->Signal(signal_number);
  process_->Wait(absl::Seconds(30));
}

ProcessResult ParleyCli::Run(const std::string& profile,
                             const std::vector<std::string>& args, bool json,
                             const std::string& who) const {
  std::vector<std::string> argv = {ParleyPath(), "--home", home_,
                                   "--profile", profile};
  if (json) argv.push_back("--json");
  argv.insert(argv.end(), args.begin(), args.end());
  return RunProcess(
      argv, {{"PARLEY_PASSPHRASE", "pass-" + (who.empty() ? profile : who)}},
      absl::Seconds(90));
}

nlohmann::json ParleyCli::RunOk(const std::string& profile,
                                const std::vector<std::string>& args) const {
  ProcessResult r = Run(profile, args);
  EXPECT_EQ(r.exit_code, 0) << profile << " "
                            << ::testing::PrintToString(args) << "\n"
                            << r.err;
  nlohmann::json j = nlohmann::json::parse(r.out, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << r.out;
  return j;
}

void ParleyCli::Enroll(const std::string& profile, const std::string& server,
                       const std::string& ca_fingerprint,
                       const std::string& invite) const {
  RunOk(profile, {"enroll", "--server", server, "--ca-fingerprint",
                  ca_fingerprint, "--invite", invite, "--name", profile});
}

void ParleyCli::EnrollCast(
    const std::string& server, const nlohmann::json& init,
    const std::vector<std::vector<std::string>>& cast) const {
  const std::string fp = init["ca_fingerprint"].get<std::string>();
  Enroll("admin", server, fp, init["bootstrap_invite"].get<std::string>());
  for (const std::vector<std::string>& member : cast) {
    std::vector<std::string> args = {"admin", "invite", "--role", member[1],
                                     "--name", member[0], "--expires", "1h"};
    if (member.size() > 2) {
      args.push_back("--org");
      args.push_back(member[2]);
    }
    nlohmann::json invite = RunOk("admin", args);
    ASSERT_TRUE(invite["code"].is_string()) << invite;
    Enroll(member[0], server, fp, invite["code"].get<std::string>());
  }
}

void EnrolledServerTest::SetUp() {
  init_ = InitParleydData(tmp_.Sub("data"));
  ASSERT_TRUE(init_.is_object());
  std::vector<std::string> args = {"--log-level", "warn"};
  if (const std::string config = ServerConfig(); !config.empty()) {
    WriteFile(tmp_.Sub("parleyd.toml"), config);
    args.insert(args.end(), {"--config", tmp_.Sub("parleyd.toml")});
  }
  server_ = std::make_unique<ParleydProcess>(tmp_.Sub("data"), "127.0.0.1:0",
                                             args);
  ASSERT_TRUE(server_->ready()) << server_->process().Stderr();
  ASSERT_NO_FATAL_FAILURE(cli_.EnrollCast(server_->address(), init_, Cast()));
}

}  // namespace parley::testing
