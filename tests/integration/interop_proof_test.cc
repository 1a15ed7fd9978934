// docs/PROTOCOL.md must be enough for a third party to verify proof bundles.
// tests/interop/verify_proof.py is such a third-party verifier (Python 3
// standard library plus python3-cryptography, written from the document
// alone). This test produces a bundle with real parleyd and parley processes
// (amendment, delivery receipts, acknowledgement, objection with a reason
// envelope, status), checks that the independent verifier accepts it and
// rejects it after single flipped bytes in the checkpoint signature, a leaf
// and an inclusion-proof hash; and that the reference verifier accepts
// tests/interop/synthetic_bundle.json, a bundle built from the document by
// an independent producer (tests/interop/make_synthetic_bundle.py).
//
// python3 and python3-cryptography are test dependencies
// (deploy/debian-deps.sh, installed by test.sh): if they are missing the
// test FAILS, it never skips.

#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "client/deconfliction/notification_content.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/testing/parley_processes.h"
#include "tests/testing/paths.h"
#include "tests/testing/subprocess.h"

namespace parley {
namespace {

using ::parley::testing::Slurp;
using ::parley::testing::WriteFile;
using ::parley::testing::ParleyCli;
using ::parley::testing::ParleyPath;
using ::parley::testing::ProcessResult;
using ::parley::testing::RunProcess;
using ::parley::testing::TempDir;
using ::testing::HasSubstr;
using ::testing::Not;
using Json = nlohmann::json;
using Server = ::parley::testing::ParleydProcess;

std::string SourcePath(const std::string& relative) {
  return absl::StrCat(::parley::testing::SourceDir(), "/", relative);
}

// Debian's python3-cryptography installs for /usr/bin/python3; fall back to
// the first python3 on PATH.
std::string Python3() {
  if (access("/usr/bin/python3", X_OK) == 0) return "/usr/bin/python3";
  const char* path = std::getenv("PATH");
  for (absl::string_view dir :
       absl::StrSplit(path == nullptr ? "" : path, ':')) {
    const std::string candidate = absl::StrCat(dir, "/python3");
    if (!dir.empty() && access(candidate.c_str(), X_OK) == 0) return candidate;
  }
  return "/usr/bin/python3";
}

std::string FlipBase64Byte(const std::string& b64, size_t at) {
  std::string raw;
  EXPECT_TRUE(absl::Base64Unescape(b64, &raw)) << b64;
  EXPECT_LT(at, raw.size());
  raw[at] ^= 0x01;
  return absl::Base64Escape(raw);
}

// The checkpoint with one byte of the log's Ed25519 signature flipped, in
// the bundle's `checkpoint` and in every tlog_proof (so that only the
// signature check can reject it).
Json FlipCheckpointSignature(Json bundle) {
  const std::string cp = bundle["checkpoint"].get<std::string>();
  const size_t space = cp.rfind(' ');
  EXPECT_NE(space, std::string::npos);
  std::string sig_b64 = cp.substr(space + 1);
  sig_b64.pop_back();  // "\n"
  // Bytes 0..3 are the key id; flip inside the 64-byte signature.
  const std::string flipped_cp =
      cp.substr(0, space + 1) + FlipBase64Byte(sig_b64, 20) + "\n";
  bundle["checkpoint"] = flipped_cp;
  for (Json& e : bundle["entries"]) {
    std::string proof = e["tlog_proof"].get<std::string>();
    const size_t at = proof.find(cp);
    EXPECT_NE(at, std::string::npos);
    proof.replace(at, cp.size(), flipped_cp);
    e["tlog_proof"] = proof;
  }
  return bundle;
}

class InteropProofTest : public ::testing::Test {
 protected:
  // `python3 tests/interop/verify_proof.py ARGS...`
  ProcessResult PyVerify(const std::vector<std::string>& args) {
    std::vector<std::string> argv = {Python3(),
                                     SourcePath("tests/interop/verify_proof.py")};
    argv.insert(argv.end(), args.begin(), args.end());
    return RunProcess(argv);
  }

  // Writes `bundle` to a file and runs the independent verifier on it,
  // expecting a rejection whose message contains `why`.
  void ExpectRejected(const Json& bundle, const std::string& name,
                      const std::string& why) {
    const std::string path = tmp_.Sub(name + ".json");
    WriteFile(path, bundle.dump(1));
    ProcessResult r = PyVerify({path});
    EXPECT_EQ(r.exit_code, 1) << name << "\n" << r.out << r.err;
    EXPECT_THAT(r.err, HasSubstr(why)) << name;
    // The reference verifier agrees.
    ProcessResult ref = RunProcess({ParleyPath(), "proof", "verify", path});
    EXPECT_NE(ref.exit_code, 0) << name << "\n" << ref.out;
  }

  TempDir tmp_;
  ParleyCli cli_{tmp_.Sub("clients")};
};

TEST_F(InteropProofTest, PythonAndCryptographyAreInstalled) {
  ProcessResult r = RunProcess(
      {Python3(), "-c",
       "from cryptography.hazmat.primitives.asymmetric.ed25519 import "
       "Ed25519PublicKey; print('ok')"});
  ASSERT_EQ(r.exit_code, 0)
      << Python3() << " cannot import cryptography: install python3 and "
      << "python3-cryptography (deploy/debian-deps.sh, PARLEY_TEST_PACKAGES)\n"
      << r.err;
}

TEST_F(InteropProofTest, IndependentVerifierAgreesOnARealBundle) {
  Json init = ::parley::testing::InitParleydData(tmp_.Sub("data"));
  ASSERT_TRUE(init.is_object());
  Server server(tmp_.Sub("data"));
  ASSERT_TRUE(server.ready()) << server.process().Stderr();
  ASSERT_NO_FATAL_FAILURE(cli_.EnrollCast(
      server.address(), init,
      {{"mediator", "mediator", "org-mediator"},
       {"coordinator", "coordinator", "org-coordinator"},
       {"partya", "party", "org-partya"},
       {"partyb", "party", "org-partyb"}}));

  const std::string route = tmp_.Sub("route.geojson");
  WriteFile(route,
            R"({"type":"LineString","coordinates":[[36.20,37.10],[36.30,37.15]]})");
  const absl::Time now = absl::FromUnixSeconds(absl::ToUnixSeconds(absl::Now()));
  cli_.RunOk("coordinator",
             {"notify", "movement", "--id", "mv-7", "--to", "partya,partyb",
              "--route", route, "--depart",
              FormatRfc3339Utc(now + absl::Hours(72)), "--arrive",
              FormatRfc3339Utc(now + absl::Hours(75)), "--ack-by",
              FormatRfc3339Utc(now + absl::Hours(60)), "--vehicles",
              "2xtruck:soft-skin", "--personnel", "4", "--cargo", "water",
              "--contact", "Ops desk,+41221234567"});
  for (const std::string who : {"partya", "partyb"}) cli_.RunOk(who, {"inbox"});
  cli_.RunOk("partya", {"ack", "mv-7"});
  // Version 2 chains to version 1; answers reset.
  cli_.RunOk("coordinator", {"notification", "amend", "mv-7", "--personnel", "5"});
  for (const std::string who : {"partya", "partyb"}) cli_.RunOk(who, {"inbox"});
  cli_.RunOk("partya", {"ack", "mv-7", "--object", "road closed at km 12"});
  cli_.RunOk("partyb", {"ack", "mv-7"});
  cli_.RunOk("coordinator", {"notification", "status", "mv-7", "departed"});

  const std::string bundle_path = tmp_.Sub("mv-7.proof.json");
  cli_.RunOk("coordinator", {"proof", "export", "mv-7", "--out", bundle_path});
  ProcessResult ref = RunProcess({ParleyPath(), "proof", "verify", bundle_path});
  ASSERT_EQ(ref.exit_code, 0) << ref.out << ref.err;

  ProcessResult py = PyVerify({bundle_path});
  ASSERT_EQ(py.exit_code, 0) << py.out << py.err;
  EXPECT_THAT(py.out, HasSubstr("Movement mv-7 version 1 from coordinator"));
  EXPECT_THAT(py.out, HasSubstr("Movement mv-7 version 2 from coordinator"));
  EXPECT_THAT(py.out, HasSubstr("partya acknowledged receipt of mv-7 version 1"));
  EXPECT_THAT(py.out, HasSubstr("partya objected to mv-7 version 2"));
  EXPECT_THAT(py.out, HasSubstr("partyb acknowledged receipt of mv-7 version 2"));
  EXPECT_THAT(py.out,
              HasSubstr("a device of partyb signed a delivered receipt for "
                        "mv-7 version 2"));
  EXPECT_THAT(py.out, HasSubstr("coordinator posted a status for mv-7 version 2"));
  // Both verifiers report the same log and identity fingerprints.
  for (absl::string_view line : absl::StrSplit(ref.out, '\n')) {
    if (absl::StrContains(line, "fingerprint ") ||
        absl::StartsWith(line, "Log ") ||
        absl::StrContains(line, "envelope hash ")) {
      EXPECT_THAT(py.out, HasSubstr(std::string(line)));
    }
  }

  // Pinned to the key the server publishes: accepted; to another: rejected.
  Json status = cli_.RunOk("coordinator", {"status"});
  ASSERT_TRUE(status["verifier_key"].is_string()) << status;
  const std::string vkey = status["verifier_key"].get<std::string>();
  py = PyVerify({bundle_path, "--verifier-key", vkey, "--quiet"});
  EXPECT_EQ(py.exit_code, 0) << py.err;
  py = PyVerify({bundle_path, "--verifier-key",
                 "other.example/log+ce1df221+"
                 "AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4",
                 "--quiet"});
  EXPECT_EQ(py.exit_code, 1);
  EXPECT_THAT(py.err, HasSubstr("verifier_key differs"));

  const std::string text = Slurp(bundle_path);
  const Json bundle = Json::parse(text, nullptr, false);
  ASSERT_TRUE(bundle.is_object());
  ASSERT_GE(bundle["entries"].size(), 8u) << bundle.dump(1);

  ExpectRejected(FlipCheckpointSignature(bundle), "checkpoint-signature",
                 "checkpoint signature does not verify");
  {
    // One byte in the middle of the first notification's leaf.
    Json b = bundle;
    for (Json& e : b["entries"]) {
      if (e["kind"] != "notification") continue;
      std::string leaf;
      ASSERT_TRUE(absl::Base64Unescape(e["leaf"].get<std::string>(), &leaf));
      e["leaf"] = FlipBase64Byte(e["leaf"].get<std::string>(), leaf.size() / 2);
      break;
    }
    ExpectRejected(b, "leaf", "computed root differs");
  }
  {
    // One byte of the first hash of an acknowledgement's inclusion proof.
    Json b = bundle;
    for (Json& e : b["entries"]) {
      if (e["kind"] != "notification-ack") continue;
      std::vector<std::string> lines =
          absl::StrSplit(e["tlog_proof"].get<std::string>(), '\n');
      ASSERT_GE(lines.size(), 3u);
      ASSERT_TRUE(absl::StartsWith(lines[1], "index ")) << lines[1];
      ASSERT_FALSE(lines[2].empty()) << "no proof hashes";
      lines[2] = FlipBase64Byte(lines[2], 7);
      e["tlog_proof"] = absl::StrJoin(lines, "\n");
      break;
    }
    ExpectRejected(b, "proof-hash", "computed root differs");
  }
  {
    // One byte of a registered identity key.
    Json b = bundle;
    b["identities"][0]["identity_key"] =
        FlipBase64Byte(b["identities"][0]["identity_key"].get<std::string>(), 3);
    ExpectRejected(b, "identity-key", "identity_key differs");
  }
  {
    // A raw byte in the middle of the file.
    std::string bytes = text;
    bytes[bytes.size() / 2] ^= 0x01;
    const std::string path = tmp_.Sub("raw-flip.json");
    WriteFile(path, bytes);
    ProcessResult r = PyVerify({path});
    EXPECT_EQ(r.exit_code, 1) << r.out;
    EXPECT_THAT(r.err, HasSubstr("REJECTED"));
  }
}

TEST_F(InteropProofTest, ReferenceVerifierAcceptsAnIndependentlyBuiltBundle) {
  const std::string path = SourcePath("tests/interop/synthetic_bundle.json");
  ProcessResult ref = RunProcess({ParleyPath(), "proof", "verify", path});
  ASSERT_EQ(ref.exit_code, 0) << ref.out << ref.err;
  EXPECT_THAT(ref.out, HasSubstr("partya objected to convoy-9 version 2"));
  EXPECT_THAT(ref.out, HasSubstr("cora published a new key bundle"));
  ProcessResult py = PyVerify({path});
  ASSERT_EQ(py.exit_code, 0) << py.out << py.err;
  // A site's review-due escalation (step 4) is the issuer's reminder, in
  // both reports; not a party's escalation step.
  const std::string review =
      "review due: cora is asked to review site site-3 version 1 (review-by "
      "2026-09-21T14:13:22Z)";
  EXPECT_THAT(ref.out, HasSubstr(review));
  EXPECT_THAT(py.out, HasSubstr(review));
  for (const std::string* out : {&ref.out, &py.out}) {
    // (Whole seconds: the reference writes "22Z", the other "22.000Z".)
    EXPECT_THAT(*out, HasSubstr("  review due: reminder to cora logged "
                                "2026-09-21T14:13:22"));
    EXPECT_THAT(*out, HasSubstr("Z (entry 18)\n"));
  }
  // The generator is deterministic: the checked-in file is its output.
  ProcessResult regen = RunProcess(
      {Python3(), SourcePath("tests/interop/make_synthetic_bundle.py")});
  ASSERT_EQ(regen.exit_code, 0) << regen.err;
  EXPECT_EQ(regen.out, Slurp(path))
      << "regenerate tests/interop/synthetic_bundle.json";
}

// Bundles crafted from the document (make_synthetic_bundle.py VARIANT),
// each a real log under the made-up key: both verifiers reach the same
// verdict, and report what they accept in the same words.
TEST_F(InteropProofTest, BothVerifiersAgreeOnCraftedBundles) {
  struct Variant {
    std::string name;
    bool accepted;
    std::vector<std::string> in_both;    // accepted: both reports say it
    std::vector<std::string> in_neither; // accepted: neither report says it
    std::string py_error, ref_error;     // rejected: the reasons
  };
  const std::vector<Variant> variants = {
      {"signed-slot-one-time", false, {}, {},
       "prekey kind 2, expected 1", "signed prekey slot holds a one-time prekey"},
      {"escalation-step-5", false, {}, {},
       "unknown escalation step 5", "unknown escalation step"},
      {"ack-by-issuer", true,
       {"cora, who is not a party to convoy-9 version 1, signed an answer of "
        "level acknowledged for it",
        "NOT counted as a party's answer",
        "answer from a non-party, NOT counted: cora signed level "
        "acknowledged"},
       {"cora acknowledged receipt"}, "", ""},
      {"receipt-level-2", true,
       {"a device of partyb signed a receipt of level acknowledged for "
        "convoy-9 version 1",
        "through SubmitReceipts: not an acknowledgement of the notification",
        "partyb: notified; no delivery receipt in this bundle; no "
        "acknowledgement in this bundle\n"},
       {"partyb acknowledged receipt", "signed a acknowledged"}, "", ""},
  };
  for (const Variant& v : variants) {
    SCOPED_TRACE(v.name);
    ProcessResult made = RunProcess(
        {Python3(), SourcePath("tests/interop/make_synthetic_bundle.py"),
         v.name});
    ASSERT_EQ(made.exit_code, 0) << made.err;
    const std::string path = tmp_.Sub(v.name + ".json");
    WriteFile(path, made.out);
    ProcessResult py = PyVerify({path});
    ProcessResult ref = RunProcess({ParleyPath(), "proof", "verify", path});
    if (!v.accepted) {
      EXPECT_EQ(py.exit_code, 1) << py.out;
      EXPECT_THAT(py.err, HasSubstr(v.py_error));
      EXPECT_NE(ref.exit_code, 0) << ref.out;
      EXPECT_THAT(ref.err, HasSubstr(v.ref_error));
      continue;
    }
    ASSERT_EQ(py.exit_code, 0) << py.err;
    ASSERT_EQ(ref.exit_code, 0) << ref.err;
    for (const std::string& text : v.in_both) {
      EXPECT_THAT(py.out, HasSubstr(text));
      EXPECT_THAT(ref.out, HasSubstr(text));
    }
    for (const std::string& text : v.in_neither) {
      EXPECT_THAT(py.out, Not(HasSubstr(text)));
      EXPECT_THAT(ref.out, Not(HasSubstr(text)));
    }
  }
}

}  // namespace
}  // namespace parley
