// `parley log ...` against real parleyd processes: checkpoints, proofs,
// consistency, verify with trust on first use, audit, and a forked log
// detected with the evidence kept.

#include <signal.h>

#include <filesystem>
#include <regex>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "crypto/encoding.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "storage/tlog/checkpoint.h"
#include "storage/tlog/merkle.h"
#include "storage/tlog/note.h"
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
using Json = nlohmann::json;

using LogServer = ::parley::testing::ParleydProcess;

class LogCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    init_ = ::parley::testing::InitParleydData(
        tmp_.Sub("data"), {"--origin", "logcli.test/log"});
    ASSERT_TRUE(init_.is_object());
    server_ = std::make_unique<LogServer>(tmp_.Sub("data"));
    ASSERT_TRUE(server_->ready());
  }

  ProcessResult Run(const std::vector<std::string>& args,
                    const std::string& profile = "admin") {
    std::vector<std::string> argv = {BinaryPath("client/parley"), "--json",
                                     "--home", tmp_.Sub("clients"),
                                     "--profile", profile, "--server",
                                     server_->address(), "--ca-fingerprint",
                                     init_["ca_fingerprint"]};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv, {{"PARLEY_PASSPHRASE", "pass"}}, absl::Seconds(60));
  }

  Json RunOk(const std::vector<std::string>& args,
             const std::string& profile = "admin") {
    ProcessResult r = Run(args, profile);
    EXPECT_EQ(r.exit_code, 0) << ::testing::PrintToString(args) << "\n"
                              << r.err;
    Json j = Json::parse(r.out, nullptr, false);
    EXPECT_TRUE(j.is_object()) << r.out;
    return j;
  }

  void EnrollAdminAndGrow(int invites) {
    RunOk({"enroll", "--invite", init_["bootstrap_invite"], "--name",
           "admin"});
    for (int i = 0; i < invites; ++i) {
      RunOk({"admin", "invite", "--role", "party", "--name",
             absl::StrCat("p", i), "--expires", "1h"});
    }
  }

  TempDir tmp_;
  Json init_;
  std::unique_ptr<LogServer> server_;
};

TEST_F(LogCliTest, CheckpointProofConsistencyAndAuditVerify) {
  EnrollAdminAndGrow(5);
  Json cp = RunOk({"log", "checkpoint", "--fresh"});
  EXPECT_EQ(cp["origin"], "logcli.test/log");
  EXPECT_EQ(cp["verifier_key"], init_["verifier_key"]);
  const uint64_t size = cp["size"].get<uint64_t>();
  EXPECT_GE(size, 7u);  // bootstrap invite, admin, 5 invites
  // The note verifies independently of the client.
  absl::StatusOr<NoteVerifier> verifier =
      ParseVerifierKey(init_["verifier_key"].get<std::string>());
  ASSERT_TRUE(verifier.ok());
  absl::StatusOr<SignedCheckpoint> parsed = VerifyCheckpointNote(
      cp["note"].get<std::string>(), *verifier, "logcli.test/log");
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(Base64Encode(parsed->root_hash), cp["root_hash"]);

  Json proof = RunOk({"log", "proof", "--index", "1"});
  EXPECT_EQ(proof["index"], 1);
  absl::StatusOr<std::string> leaf =
      Base64Decode(proof["leaf"].get<std::string>());
  ASSERT_TRUE(leaf.ok());
  EXPECT_EQ(Base64Encode(LeafHash(*leaf)), proof["leaf_hash"]);
  EXPECT_TRUE(VerifyTlogProof(proof["tlog_proof"].get<std::string>(), *leaf,
                              *verifier, "logcli.test/log")
                  .ok());

  Json consistency = RunOk({"log", "consistency", "--from", "2"});
  EXPECT_EQ(consistency["size1"], 2);
  EXPECT_EQ(consistency["size2"], size);
  EXPECT_TRUE(consistency["proof"].is_array());

  Json first = RunOk({"log", "verify"});
  EXPECT_EQ(first["first_use"], true);
  RunOk({"admin", "invite", "--role", "party", "--name", "late", "--expires",
         "1h"});
  RunOk({"log", "checkpoint", "--fresh"});
  Json second = RunOk({"log", "verify"});
  EXPECT_EQ(second["first_use"], false);
  EXPECT_GT(second["size"].get<uint64_t>(),
            second["previous_size"].get<uint64_t>());

  Json audit = RunOk({"log", "audit"});
  EXPECT_EQ(audit["audited"], true);
  Json partial = RunOk({"log", "audit", "--from", "3"});
  EXPECT_EQ(partial["audited"], true);
}

// A party reads in full only the directory and what concerns it
// (PROTOCOL.md 11.13), yet audits the whole tree and proves any entry by
// its leaf hash.
TEST_F(LogCliTest, PartyAuditsTheWholeLogOverWithheldEntries) {
  EnrollAdminAndGrow(3);  // invites naming p0, p1, p2
  Json invite = RunOk({"admin", "invite", "--role", "party", "--name",
                       "reader", "--expires", "1h"});
  ASSERT_TRUE(invite["code"].is_string()) << invite;
  RunOk({"enroll", "--invite", invite["code"].get<std::string>(), "--name",
         "reader"},
        "reader");
  RunOk({"log", "checkpoint", "--fresh"}, "reader");

  Json audit = RunOk({"log", "audit"}, "reader");
  EXPECT_EQ(audit["audited"], true);
  // Index 1 is the admin's registration (the directory); index 2 the
  // invite naming p0, withheld from "reader" but proven by its hash.
  Json directory = RunOk({"log", "proof", "--index", "1"}, "reader");
  EXPECT_EQ(directory["withheld"], false);
  EXPECT_FALSE(directory["leaf"].get<std::string>().empty());
  Json other = RunOk({"log", "proof", "--index", "2"}, "reader");
  EXPECT_EQ(other["withheld"], true);
  EXPECT_EQ(other["leaf"], "");
  Json same = RunOk({"log", "proof", "--index", "2"});  // the admin's view
  EXPECT_EQ(same["withheld"], false);
  EXPECT_EQ(same["leaf_hash"], other["leaf_hash"]);
}

TEST_F(LogCliTest, WrongPinnedVerifierKeyIsRefused) {
  ProcessResult r = Run({"log", "checkpoint", "--verifier-key",
                         "other.test/log+01020304+AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA="});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.exit_code, 134);
}

TEST_F(LogCliTest, ForkedLogIsDetectedAndEvidenceKept) {
  EnrollAdminAndGrow(2);
  RunOk({"log", "checkpoint", "--fresh"});
  server_->Stop();
  // A copy of the data directory becomes a fork of the same log.
  std::filesystem::copy(tmp_.Sub("data"), tmp_.Sub("fork"),
                        std::filesystem::copy_options::recursive);
  // The admin's device also remembers checkpoints (and would refuse the
  // fork itself): the fork is grown from a copy of its profile.
  std::filesystem::copy(tmp_.Sub("clients/admin"), tmp_.Sub("clients/admin-b"),
                        std::filesystem::copy_options::recursive);
  server_ = std::make_unique<LogServer>(tmp_.Sub("data"));
  ASSERT_TRUE(server_->ready());
  RunOk({"admin", "invite", "--role", "party", "--name", "branch-a",
         "--expires", "1h"});
  RunOk({"log", "checkpoint", "--fresh"});
  Json trusted = RunOk({"log", "verify"}, "auditor");
  server_->Stop();

  server_ = std::make_unique<LogServer>(tmp_.Sub("fork"));
  ASSERT_TRUE(server_->ready());
  for (int i = 0; i < 3; ++i) {
    RunOk({"admin", "invite", "--role", "party", "--name",
           absl::StrCat("branch-b-", i), "--expires", "1h"},
          "admin-b");
  }
  RunOk({"log", "checkpoint", "--fresh"}, "admin-b");
  ProcessResult forked = Run({"log", "verify"}, "auditor");
  EXPECT_EQ(forked.exit_code, 5) << forked.err;
  EXPECT_THAT(forked.err, HasSubstr("NOT consistent"));
  std::vector<std::string> evidence;
  for (const auto& f : std::filesystem::directory_iterator(
           tmp_.Sub("clients/auditor/evidence"))) {
    evidence.push_back(f.path().filename().string());
  }
  EXPECT_EQ(evidence.size(), 2u);
}

}  // namespace
}  // namespace parley
