// The whole backchannel flow with real parleyd and parley processes: admin,
// mediator, coordinator, two parties and an observer, each in a profile of
// its own; channels, sending, delivery with receipts, relay with and without
// attribution, refusals, and that no plaintext reaches the server's disk.

#include <signal.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "crypto/encoding.h"
#include "crypto/random.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/testing/parley_processes.h"
#include "tests/testing/subprocess.h"

namespace parley {
namespace {

using ::parley::testing::BinaryPath;
using ::parley::testing::ChildProcess;
using ::parley::testing::ProcessResult;
using ::parley::testing::RunProcess;
using ::parley::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;
using Server = ::parley::testing::ParleydProcess;
using ::parley::testing::ParleyCli;
using ::parley::testing::ParleyPath;
using ::parley::testing::ParleydPath;


class BackchannelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    init_ = ::parley::testing::InitParleydData(tmp_.Sub("data"));
    ASSERT_TRUE(init_.is_object());
    server_ = std::make_unique<Server>(tmp_.Sub("data"));
    ASSERT_TRUE(server_->ready()) << server_->process().Stderr();
  }

  // `parley --json --home CLIENTS --profile WHO ARGS...` as WHO.
  ProcessResult Run(const std::string& who,
                    const std::vector<std::string>& args) {
    return cli_.Run(who, args);
  }
  // Run, expecting exit 0 and one JSON document.
  Json RunOk(const std::string& who, const std::vector<std::string>& args) {
    return cli_.RunOk(who, args);
  }
  void EnrollEveryone() {
    cli_.EnrollCast(server_->address(), init_,
                    {{"mediator", "mediator"},
                     {"coordinator", "coordinator"},
                     {"partya", "party"},
                     {"partyb", "party"},
                     {"observer", "observer"}});
  }

  TempDir tmp_;
  ParleyCli cli_{tmp_.Sub("clients")};
  Json init_;
  std::unique_ptr<Server> server_;
};

// Every file under `dir`, read byte for byte, does not contain `needle`.
void ExpectNowhereUnder(const std::string& dir, const std::string& needle) {
  size_t files = 0;
  for (const auto& entry :
       std::filesystem::recursive_directory_iterator(dir)) {
    if (!entry.is_regular_file()) continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)),
                      std::istreambuf_iterator<char>());
    ++files;
    EXPECT_EQ(bytes.find(needle), std::string::npos)
        << "plaintext found in " << entry.path();
  }
  EXPECT_GT(files, 0u);
}

std::vector<Json> Messages(const Json& inbox) {
  std::vector<Json> out;
  for (const Json& m : inbox["messages"]) out.push_back(m);
  return out;
}

TEST_F(BackchannelTest, WholeFlowWithRelayReceiptsAndRefusals) {
  ASSERT_NO_FATAL_FAILURE(EnrollEveryone());

  Json directory = RunOk("partyb", {"directory"});
  ASSERT_EQ(directory["members"].size(), 6u) << directory;

  Json bc1 = RunOk("mediator",
                   {"channel", "create", "bc-1", "--members", "partya,partyb"});
  EXPECT_EQ(bc1["members"], Json({"mediator", "partya", "partyb"}));
  RunOk("mediator",
        {"channel", "create", "bc-2", "--members", "partyb,coordinator"});
  Json list = RunOk("partya", {"channel", "list"});
  ASSERT_EQ(list["channels"].size(), 1u);
  EXPECT_EQ(list["channels"][0]["name"], "bc-1");

  // A marker that must never reach the server's disk in the clear.
  const std::string marker =
      absl::StrCat("marker-", HexEncode(SystemRandom().Bytes(16)));
  Json sent = RunOk("partya", {"send", "bc-1", "--text", marker});
  const uint64_t index = sent["log_index"].get<uint64_t>();
  EXPECT_FALSE(sent["duplicate"].get<bool>());
  EXPECT_EQ(sent["sequence"], 0);
  Json second = RunOk("partya", {"send", "bc-1", "--text", "second"});
  EXPECT_EQ(second["sequence"], 1);

  for (const std::string who : {"partyb", "mediator"}) {
    Json inbox = RunOk(who, {"inbox"});
    std::vector<Json> messages = Messages(inbox);
    ASSERT_EQ(messages.size(), 2u) << who << ": " << inbox;
    EXPECT_EQ(messages[0]["text"], marker);
    EXPECT_EQ(messages[0]["sender"], "partya");
    EXPECT_EQ(messages[0]["index"], index);
    EXPECT_EQ(messages[1]["text"], "second");
    // Nothing is shown twice.
    Json again = RunOk(who, {"inbox"});
    EXPECT_TRUE(Messages(again).empty()) << again;
  }

  // The sender sees signed, verified delivered receipts from both.
  Json receipts = RunOk("partya", {"receipts", std::to_string(index)});
  std::set<std::string> delivered;
  for (const Json& r : receipts["receipts"]) {
    EXPECT_TRUE(r["verified"].get<bool>()) << r;
    EXPECT_EQ(r["level"], "delivered");
    delivered.insert(r["recipient"].get<std::string>());
  }
  EXPECT_EQ(delivered, (std::set<std::string>{"mediator", "partyb"}));

  // Relay without attribution into bc-2: the coordinator reads the text
  // and nothing names party A.
  Json relayed = RunOk("mediator", {"relay", std::to_string(index), "--to",
                                    "bc-2", "--anonymous"});
  EXPECT_EQ(relayed["channel"], "bc-2");
  ProcessResult coordinator_inbox = Run("coordinator", {"inbox"});
  ASSERT_EQ(coordinator_inbox.exit_code, 0) << coordinator_inbox.err;
  EXPECT_THAT(coordinator_inbox.out, Not(HasSubstr("partya")));
  std::vector<Json> relayed_messages =
      Messages(Json::parse(coordinator_inbox.out));
  ASSERT_EQ(relayed_messages.size(), 1u) << coordinator_inbox.out;
  EXPECT_EQ(relayed_messages[0]["text"], marker);
  EXPECT_EQ(relayed_messages[0]["sender"], "mediator");
  EXPECT_EQ(relayed_messages[0]["relay"]["mode"], "anonymous");

  // Verbatim relay: the original author is shown, verified.
  RunOk("mediator", {"relay", std::to_string(index), "--to", "bc-2",
                     "--verbatim"});
  std::vector<Json> verbatim = Messages(RunOk("coordinator", {"inbox"}));
  ASSERT_EQ(verbatim.size(), 1u);
  EXPECT_EQ(verbatim[0]["text"], marker);
  EXPECT_EQ(verbatim[0]["relay"]["original_sender"], "partya");
  EXPECT_TRUE(verbatim[0]["relay"]["original_verified"].get<bool>());

  // Non-members are refused (exit code 4, PERMISSION_DENIED).
  ProcessResult observer_send = Run("observer", {"send", "bc-1", "--text", "x"});
  EXPECT_EQ(observer_send.exit_code, 4) << observer_send.err;
  EXPECT_THAT(observer_send.err, HasSubstr("PERMISSION_DENIED"));
  ProcessResult observer_receipts =
      Run("observer", {"receipts", std::to_string(index)});
  EXPECT_EQ(observer_receipts.exit_code, 4) << observer_receipts.err;
  ProcessResult coordinator_relay =
      Run("coordinator", {"relay", std::to_string(index), "--to", "bc-2",
                          "--anonymous"});
  EXPECT_NE(coordinator_relay.exit_code, 0);
  Json observer_inbox = RunOk("observer", {"inbox"});
  EXPECT_TRUE(Messages(observer_inbox).empty());

  // Files travel with their name.
  const std::string file = tmp_.Sub("route.txt");
  std::ofstream(file) << "waypoint " << marker;
  RunOk("partyb", {"send", "bc-1", "--file", file});
  std::vector<Json> with_file = Messages(RunOk("partya", {"inbox"}));
  ASSERT_FALSE(with_file.empty());
  EXPECT_EQ(with_file.back()["filename"], "route.txt");
  EXPECT_EQ(with_file.back()["content_type"], "application/octet-stream");

  // Out-of-band verification: the right fingerprint is recorded and a pair
  // fingerprint printed; a wrong one is refused (exit code 5).
  std::string fingerprint;
  const Json members = RunOk("partyb", {"directory"})["members"];
  for (const Json& m : members) {
    if (m["name"] == "partya") fingerprint = m["fingerprint"].get<std::string>();
  }
  ASSERT_FALSE(fingerprint.empty());
  Json verified = RunOk("partyb", {"verify", "partya", fingerprint});
  EXPECT_EQ(verified["pair_fingerprint"].get<std::string>().size(), 71u);
  std::string wrong = fingerprint;
  wrong[0] = wrong[0] == '1' ? '2' : '1';
  EXPECT_EQ(Run("partyb", {"verify", "partya", wrong}).exit_code, 5);

  server_->process().Signal(SIGTERM);
  ASSERT_TRUE(server_->process().Wait(absl::Seconds(30)).has_value());
  ExpectNowhereUnder(tmp_.Sub("data"), marker);
}

TEST_F(BackchannelTest, WatchFollowsNewMessagesAndStopsOnSigint) {
  ASSERT_NO_FATAL_FAILURE(EnrollEveryone());
  RunOk("mediator",
        {"channel", "create", "bc-1", "--members", "partya,partyb"});
  ChildProcess watch(
      {ParleyPath(), "--json", "--home", tmp_.Sub("clients"), "--profile",
       "partyb", "watch"},
      {{"PARLEY_PASSPHRASE", "pass-partyb"}});
  RunOk("partya", {"send", "bc-1", "--text", "first while watching"});
  ASSERT_TRUE(watch.WaitForOutput("first while watching", absl::Seconds(20)))
      << watch.Stderr();
  watch.Signal(SIGINT);
  std::optional<ProcessResult> done = watch.Wait(absl::Seconds(20));
  ASSERT_TRUE(done.has_value());
  EXPECT_EQ(done->exit_code, 0) << done->err;
  // Every stdout line is a JSON document.
  std::istringstream lines(watch.Stdout());
  for (std::string line; std::getline(lines, line);) {
    EXPECT_FALSE(Json::parse(line, nullptr, false).is_discarded()) << line;
  }
  // The watch stored it: the inbox shows nothing new.
  EXPECT_TRUE(Messages(RunOk("partyb", {"inbox"})).empty());
}

TEST_F(BackchannelTest, WatchResumesAfterTheServerIsKilled) {
  ASSERT_NO_FATAL_FAILURE(EnrollEveryone());
  RunOk("mediator",
        {"channel", "create", "bc-1", "--members", "partya,partyb"});
  const std::string address = server_->address();
  ChildProcess watch(
      {ParleyPath(), "--json", "--home", tmp_.Sub("clients"), "--profile",
       "partyb", "watch"},
      {{"PARLEY_PASSPHRASE", "pass-partyb"}});
  RunOk("partya", {"send", "bc-1", "--text", "before the crash"});
  ASSERT_TRUE(watch.WaitForOutput("before the crash", absl::Seconds(20)));

  server_->process().Signal(SIGKILL);
  server_->process().Wait(absl::Seconds(10));
  server_ = std::make_unique<Server>(tmp_.Sub("data"), address);
  ASSERT_TRUE(server_->ready()) << server_->process().Stderr();
  RunOk("partya", {"send", "bc-1", "--text", "after the restart"});
  // Resumes within the first backoff steps (well under the 15 s cap).
  ASSERT_TRUE(watch.WaitForOutput("after the restart", absl::Seconds(20)))
      << watch.Stdout() << watch.Stderr();
  watch.Signal(SIGINT);
  ASSERT_TRUE(watch.Wait(absl::Seconds(20)).has_value());
  // Each message exactly once.
  const std::string out = watch.Stdout();
  EXPECT_EQ(out.find("before the crash"), out.rfind("before the crash"));
  EXPECT_EQ(out.find("after the restart"), out.rfind("after the restart"));
}

}  // namespace
}  // namespace parley
