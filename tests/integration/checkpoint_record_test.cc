// The one record of the log checkpoint a profile trusts
// (PROFILE/checkpoint.json), end to end with real parleyd and parley
// processes: device commands and `parley log verify` advance the same
// record and each checks the other's; the checkpoint an older client kept
// in the sealed state.bin is checked and migrated into it; a record of
// another log, or a state.bin checkpoint the log contradicts, is refused.

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "client/core/identity.h"
#include "client/core/local_state.h"
#include "client/core/sealed_file.h"
#include "crypto/encoding.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/testing/parley_processes.h"
#include "tests/testing/subprocess.h"

namespace parley {
namespace {

using ::parley::testing::Slurp;
using ::parley::testing::ParleyCli;
using ::parley::testing::ProcessResult;
using ::parley::testing::TempDir;
using ::testing::AnyOf;
using ::testing::HasSubstr;
using Json = nlohmann::json;
using Server = ::parley::testing::ParleydProcess;

// The tree size a checkpoint note states (its second line).
uint64_t NoteSize(const std::string& note) {
  std::vector<std::string> lines = absl::StrSplit(note, '\n');
  uint64_t size = 0;
  if (lines.size() < 2 || !absl::SimpleAtoi(lines[1], &size)) return 0;
  return size;
}

class CheckpointRecordTest : public ::parley::testing::EnrolledServerTest {
 protected:
  std::vector<std::vector<std::string>> Cast() const override {
    return {{"mediator", "mediator", "org-mediator"},
            {"partya", "party", "org-partya"},
            {"partyb", "party", "org-partyb"}};
  }
  void SetUp() override {
    EnrolledServerTest::SetUp();
    if (HasFatalFailure()) return;
    cli_.RunOk("mediator",
               {"channel", "create", "bc-1", "--members", "partya,partyb"});
  }

  std::string Dir(const std::string& who) {
    return tmp_.Sub("clients/" + who);
  }
  Json Record(const std::string& who) {
    return Json::parse(Slurp(Dir(who) + "/checkpoint.json"), nullptr, false);
  }
  // A device command that proves key bundles, so it meets a checkpoint.
  ProcessResult Send(const std::string& text) {
    return cli_.Run("partya", {"send", "bc-1", "--text", text});
  }
  // partya's sealed state, opened as the device would.
  absl::StatusOr<LocalState> OpenState() {
    absl::StatusOr<DeviceKeys> keys =
        DeviceKeys::Load(Dir("partya") + "/keystore", "pass-partya");
    if (!keys.ok()) return keys.status();
    return LocalState::Open(Dir("partya"), DeriveStateKey(keys->identity()));
  }
};

TEST_F(CheckpointRecordTest, DeviceCommandsAndLogVerifyShareOneRecord) {
  ASSERT_EQ(Send("one").exit_code, 0);
  Json record = Record("partya");
  ASSERT_TRUE(record.is_object());
  const uint64_t seen = NoteSize(record["checkpoint"].get<std::string>());
  EXPECT_GT(seen, 0u) << record;
  Json checkpoint = cli_.RunOk("partya", {"log", "checkpoint"});
  EXPECT_EQ(record["verifier_key"], checkpoint["verifier_key"]);

  // `log verify` starts from what the device trusted, not afresh.
  Json verified = cli_.RunOk("partya", {"log", "verify"});
  EXPECT_FALSE(verified["first_use"].get<bool>()) << verified;
  EXPECT_EQ(verified["previous_size"].get<uint64_t>(), seen);

  // And the device goes on from what `log verify` recorded.
  ASSERT_EQ(Send("two").exit_code, 0);
  ASSERT_EQ(cli_.Run("partyb", {"inbox"}).exit_code, 0);
  ASSERT_EQ(Send("three").exit_code, 0);
  EXPECT_GE(NoteSize(Record("partya")["checkpoint"].get<std::string>()),
            verified["size"].get<uint64_t>());
  absl::StatusOr<LocalState> state = OpenState();
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->trusted_size(), 0u) << "state.bin holds a second record";
}

TEST_F(CheckpointRecordTest, CheckpointOfAnOlderClientIsCheckedAndMigrated) {
  ASSERT_EQ(Send("one").exit_code, 0);
  Json checkpoint = cli_.RunOk("partya", {"log", "checkpoint"});
  const uint64_t size = checkpoint["size"].get<uint64_t>();
  absl::StatusOr<std::string> root =
      Base64Decode(checkpoint["root_hash"].get<std::string>());
  ASSERT_TRUE(root.ok());
  // As an older client left the profile: the checkpoint in state.bin only.
  std::filesystem::remove(Dir("partya") + "/checkpoint.json");
  {
    absl::StatusOr<LocalState> state = OpenState();
    ASSERT_TRUE(state.ok()) << state.status();
    ASSERT_TRUE(state->SetTrustedCheckpoint(size, *root).ok());
  }
  ASSERT_EQ(Send("two").exit_code, 0);
  Json record = Record("partya");
  ASSERT_TRUE(record.is_object());
  EXPECT_GE(NoteSize(record["checkpoint"].get<std::string>()), size);
  absl::StatusOr<LocalState> state = OpenState();
  ASSERT_TRUE(state.ok()) << state.status();
  EXPECT_EQ(state->trusted_size(), 0u);
}

TEST_F(CheckpointRecordTest, ContradictedOrForeignCheckpointIsRefused) {
  ASSERT_EQ(Send("one").exit_code, 0);
  Json checkpoint = cli_.RunOk("partya", {"log", "checkpoint"});
  const uint64_t size = checkpoint["size"].get<uint64_t>();
  const std::string record_path = Dir("partya") + "/checkpoint.json";
  const std::string saved = Slurp(record_path);

  // state.bin of an older client names another root for a size the log
  // has: the log was rewritten (or the file was), and nothing is sent.
  {
    absl::StatusOr<LocalState> state = OpenState();
    ASSERT_TRUE(state.ok()) << state.status();
    ASSERT_TRUE(state->SetTrustedCheckpoint(size, std::string(32, 'x')).ok());
  }
  ProcessResult forked = Send("two");
  EXPECT_EQ(forked.exit_code, 5) << forked.err;
  EXPECT_THAT(forked.err, AnyOf(HasSubstr("two different roots"),
                                HasSubstr("not consistent")));
  {
    absl::StatusOr<LocalState> state = OpenState();
    ASSERT_TRUE(state.ok()) << state.status();
    ASSERT_TRUE(state->SetTrustedCheckpoint(0, "").ok());
  }

  // A record of another log is not silently replaced.
  Json foreign = Json::parse(saved);
  foreign["verifier_key"] = "other.example/log+01234567+AAAA";
  std::ofstream(record_path, std::ios::trunc) << foreign.dump();
  ProcessResult other = Send("three");
  EXPECT_EQ(other.exit_code, 5) << other.err;
  EXPECT_THAT(other.err, HasSubstr("checkpoint.json"));
  EXPECT_THAT(other.err, HasSubstr("another log"));
  std::ofstream(record_path, std::ios::trunc) << saved;
  EXPECT_EQ(Send("four").exit_code, 0);
}

}  // namespace
}  // namespace parley
