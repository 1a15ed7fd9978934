// parley-verify, the offline verifier for inquiries and auditors, against
// evidence made by real parleyd and parley processes: it accepts a genuine
// proof bundle and checkpoint, agrees with `parley proof verify`, and
// refuses a changed byte, a different log's key and bad arguments with the
// documented exit codes (0 verified, 1 unreadable, 2 usage, 5 not verified).

#include <cctype>
#include <fstream>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "crypto/ed25519.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "storage/tlog/note.h"
#include "tests/testing/parley_processes.h"
#include "tests/testing/paths.h"
#include "tests/testing/subprocess.h"

namespace parley {
namespace {

using ::parley::testing::BinaryDir;
using ::parley::testing::ParleyPath;
using ::parley::testing::ProcessResult;
using ::parley::testing::Rfc3339;
using ::parley::testing::RunProcess;
using ::parley::testing::Slurp;
using ::testing::HasSubstr;
using Json = nlohmann::json;

std::string VerifyPath() { return BinaryDir() + "/client/parley-verify"; }

void WriteFile(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

class ParleyVerifyTest : public ::parley::testing::EnrolledServerTest {
 protected:
  void SetUp() override {
    EnrolledServerTest::SetUp();
    ASSERT_TRUE(InitCrypto().ok());
    const absl::Time t = absl::Now() + absl::Hours(72);
    const std::string route = tmp_.Sub("route.geojson");
    WriteFile(route,
              R"({"type":"LineString","coordinates":[[36.2,37.1],[36.4,37.2]]})");
    cli_.RunOk("coordinator",
               {"notify", "movement", "--id", "mv-v", "--to", "partya",
                "--route", route, "--depart", Rfc3339(t), "--arrive",
                Rfc3339(t + absl::Hours(3)), "--vehicles", "1xtruck:soft-skin",
                "--personnel", "2", "--contact", "Ops,+41221234567", "--type",
                "cargo"});
    cli_.RunOk("partya", {"inbox"});
    cli_.RunOk("partya", {"ack", "mv-v"});
    bundle_ = tmp_.Sub("bundle.json");
    cli_.RunOk("coordinator", {"proof", "export", "mv-v", "--out", bundle_});
    verifier_key_ = init_["verifier_key"].get<std::string>();
  }

  // A well-formed verifier key under the same name as the log's, for a key
  // the log never had.
  std::string OtherLogsKey() const {
    absl::StatusOr<NoteVerifier> real = ParseVerifierKey(verifier_key_);
    EXPECT_TRUE(real.ok());
    Ed25519PrivateKey other = Ed25519PrivateKey::Generate();
    return FormatVerifierKey(real->name, other.public_key()).value();
  }

  std::string bundle_;
  std::string verifier_key_;
};

TEST_F(ParleyVerifyTest, AcceptsAGenuineBundleAndAgreesWithTheCli) {
  ProcessResult pinned = RunProcess({VerifyPath(), "--json", "bundle", bundle_,
                                     "--verifier-key", verifier_key_});
  ASSERT_EQ(pinned.exit_code, 0) << pinned.out << pinned.err;
  Json report = Json::parse(pinned.out);
  EXPECT_EQ(report["verified"], true);
  EXPECT_EQ(report["verifier_key_pinned"], true);
  ASSERT_EQ(report["versions"].size(), 1u) << report;
  EXPECT_EQ(report["versions"][0]["id"], "mv-v");
  EXPECT_EQ(report["versions"][0]["parties"][0]["party"], "partya");
  EXPECT_FALSE(report["versions"][0]["parties"][0]["answer_index"].is_null());

  // The same document as `parley proof verify --json` with the same key.
  ProcessResult cli = RunProcess({ParleyPath(), "--json", "proof", "verify",
                                  bundle_, "--verifier-key", verifier_key_});
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  EXPECT_EQ(Json::parse(cli.out), report);

  // Without a key it still verifies, and says the key was not compared.
  ProcessResult unpinned = RunProcess({VerifyPath(), "bundle", bundle_});
  ASSERT_EQ(unpinned.exit_code, 0) << unpinned.err;
  EXPECT_THAT(unpinned.out, HasSubstr("mv-v"));
}

TEST_F(ParleyVerifyTest, RefusesAChangedBundleOrAnotherLogsKey) {
  const std::string bytes = Slurp(bundle_);
  ASSERT_GT(bytes.size(), 1000u);
  // Flipped bytes spread over the whole file: each must be detected (a
  // change that still parses as the same JSON cannot reach this far, so
  // only positions where the value matters are tried: letters and digits
  // inside the bundle's strings and numbers).
  int tried = 0;
  for (size_t pos = 7; pos < bytes.size() && tried < 12;
       pos += bytes.size() / 13) {
    size_t p = pos;
    while (p < bytes.size() && !std::isalnum(static_cast<unsigned char>(bytes[p]))) {
      ++p;
    }
    if (p >= bytes.size()) break;
    std::string changed = bytes;
    changed[p] = changed[p] == 'A' ? 'B' : 'A';
    const std::string file = tmp_.Sub(absl::StrCat("changed-", p, ".json"));
    WriteFile(file, changed);
    ProcessResult r = RunProcess({VerifyPath(), "bundle", file,
                                  "--verifier-key", verifier_key_});
    EXPECT_EQ(r.exit_code, 5) << "byte " << p << " ('" << bytes[p]
                              << "') changed, yet: " << r.out;
    EXPECT_THAT(r.err, HasSubstr("does NOT verify")) << "byte " << p;
    ++tried;
  }
  EXPECT_GE(tried, 10);

  ProcessResult other = RunProcess(
      {VerifyPath(), "bundle", bundle_, "--verifier-key", OtherLogsKey()});
  EXPECT_EQ(other.exit_code, 5) << other.out;
}

TEST_F(ParleyVerifyTest, VerifiesACheckpointNote) {
  Json checkpoint = cli_.RunOk("partyb", {"log", "checkpoint"});
  const std::string note = checkpoint["note"].get<std::string>();
  const std::string file = tmp_.Sub("checkpoint.txt");
  WriteFile(file, note);

  ProcessResult ok = RunProcess({VerifyPath(), "--json", "checkpoint", file,
                                 "--verifier-key", verifier_key_});
  ASSERT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  Json out = Json::parse(ok.out);
  EXPECT_EQ(out["verified"], true);
  EXPECT_EQ(out["origin"], checkpoint["origin"]);
  EXPECT_EQ(out["tree_size"], checkpoint["size"]);

  // The size line changed: the signature no longer covers it.
  std::string changed = note;
  const size_t size_line = changed.find('\n') + 1;
  changed[size_line] = changed[size_line] == '9' ? '8' : '9';
  WriteFile(file + ".changed", changed);
  ProcessResult bad = RunProcess({VerifyPath(), "checkpoint", file + ".changed",
                                  "--verifier-key", verifier_key_});
  EXPECT_EQ(bad.exit_code, 5) << bad.out;
  EXPECT_THAT(bad.err, HasSubstr("does NOT verify"));

  ProcessResult other = RunProcess(
      {VerifyPath(), "checkpoint", file, "--verifier-key", OtherLogsKey()});
  EXPECT_EQ(other.exit_code, 5) << other.out;
}

TEST_F(ParleyVerifyTest, BadArgumentsAndMissingFilesHaveTheirOwnCodes) {
  // No key for a checkpoint: usage.
  ProcessResult no_key = RunProcess({VerifyPath(), "checkpoint", bundle_});
  EXPECT_EQ(no_key.exit_code, 2) << no_key.err;
  // A key that is not a verifier key: usage, naming the option.
  ProcessResult bad_key = RunProcess(
      {VerifyPath(), "checkpoint", bundle_, "--verifier-key", "not-a-key"});
  EXPECT_EQ(bad_key.exit_code, 2);
  EXPECT_THAT(bad_key.err, HasSubstr("--verifier-key"));
  // No subcommand: usage.
  EXPECT_EQ(RunProcess({VerifyPath()}).exit_code, 2);
  // A file that is not there: the file's problem, not a verdict.
  ProcessResult missing =
      RunProcess({VerifyPath(), "--json", "bundle", tmp_.Sub("absent.json")});
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_TRUE(Json::parse(missing.err).contains("error")) << missing.err;
}

}  // namespace
}  // namespace parley
