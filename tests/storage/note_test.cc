#include "storage/tlog/note.h"

#include <string>

#include "crypto/ed25519.h"
#include "crypto/encoding.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/tlog/checkpoint.h"
#include "storage/tlog/merkle.h"
#include "tests/testing/status_matchers.h"

namespace parley {
namespace {

using ::parley::testing::StatusIs;

// The C2SP signed-note example (C2SP signed-note specification).
constexpr char kExampleVerifierKey[] =
    "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
constexpr char kExampleNote[] =
    "This is an example message.\n"
    "\n"
    "\xE2\x80\x94 example.com/foo "
    "Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmR"
    "KuwHjG1Yu72IneyaQM=\n";

class NoteTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(InitCrypto()); }
  Ed25519PrivateKey Key(char fill = 7) {
    return *Ed25519PrivateKey::FromSeed(std::string(32, fill));
  }
};

TEST_F(NoteTest, ExampleVerifierKeyParses) {
  ASSERT_OK_AND_ASSIGN(NoteVerifier v, ParseVerifierKey(kExampleVerifierKey));
  EXPECT_EQ(v.name, "example.com/foo");
  EXPECT_EQ(v.key_id, 0x530d903au);
  EXPECT_EQ(v.public_key.size(), 32u);
  ASSERT_OK_AND_ASSIGN(std::string formatted,
                       FormatVerifierKey(v.name, v.public_key));
  EXPECT_EQ(formatted, kExampleVerifierKey);
}

TEST_F(NoteTest, ExampleNoteVerifies) {
  ASSERT_OK_AND_ASSIGN(NoteVerifier v, ParseVerifierKey(kExampleVerifierKey));
  ASSERT_OK_AND_ASSIGN(std::string text, VerifyNote(kExampleNote, v));
  EXPECT_EQ(text, "This is an example message.\n");
}

TEST_F(NoteTest, FlippingAnyByteOfTheExampleFails) {
  ASSERT_OK_AND_ASSIGN(NoteVerifier v, ParseVerifierKey(kExampleVerifierKey));
  std::string note = kExampleNote;
  for (size_t i = 0; i < note.size(); ++i) {
    for (unsigned char bit : {0x01, 0x20}) {
      std::string bad = note;
      bad[i] = static_cast<char>(bad[i] ^ bit);
      EXPECT_FALSE(VerifyNote(bad, v).ok()) << "byte " << i << " bit " << int(bit);
    }
  }
}

TEST_F(NoteTest, VerifierKeysRoundTripEvenWithPlusInBase64) {
  int with_plus = 0;
  for (char fill = 0; fill < 40; ++fill) {
    Ed25519PrivateKey key = Key(fill);
    ASSERT_OK_AND_ASSIGN(std::string vkey,
                         FormatVerifierKey("parley.test/log", key.public_key()));
    with_plus += vkey.find('+', std::string("parley.test/log+12345678+").size()) !=
                 std::string::npos;
    ASSERT_OK_AND_ASSIGN(NoteVerifier v, ParseVerifierKey(vkey));
    EXPECT_EQ(v.public_key, key.public_key());
  }
  EXPECT_GT(with_plus, 0);
}

TEST_F(NoteTest, VerifierKeyWithWrongIdIsRejected) {
  std::string bad = kExampleVerifierKey;
  bad[std::string("example.com/foo+").size()] = '6';
  EXPECT_THAT(ParseVerifierKey(bad),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(ParseVerifierKey("example.com/foo+530d903a"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

// One key has one spelling: an upper-case key id would make the same key
// compare unequal as a string, and a changed case go unnoticed.
TEST_F(NoteTest, VerifierKeyIdMustBeLowerCaseHex) {
  std::string upper = kExampleVerifierKey;
  upper.replace(std::string("example.com/foo+").size(), 8, "530D903A");
  absl::StatusOr<NoteVerifier> parsed = ParseVerifierKey(upper);
  EXPECT_THAT(parsed, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(parsed.status().message()),
              ::testing::HasSubstr("lower-case hex"));
}

TEST_F(NoteTest, SignThenVerifyRoundTrip) {
  Ed25519PrivateKey key = Key();
  ASSERT_OK_AND_ASSIGN(std::string note,
                       SignNote("hello\nworld\n", "parley.test/log", key));
  ASSERT_OK_AND_ASSIGN(std::string vkey,
                       FormatVerifierKey("parley.test/log", key.public_key()));
  ASSERT_OK_AND_ASSIGN(NoteVerifier v, ParseVerifierKey(vkey));
  ASSERT_OK_AND_ASSIGN(std::string text, VerifyNote(note, v));
  EXPECT_EQ(text, "hello\nworld\n");

  // Another key with the same name is not this verifier.
  Ed25519PrivateKey other = Key(9);
  ASSERT_OK_AND_ASSIGN(std::string other_note,
                       SignNote("hello\nworld\n", "parley.test/log", other));
  EXPECT_THAT(VerifyNote(other_note, v),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(NoteTest, UnknownSignaturesAreIgnoredButBadKnownOnesFail) {
  Ed25519PrivateKey key = Key();
  Ed25519PrivateKey witness = Key(3);
  ASSERT_OK_AND_ASSIGN(std::string note, SignNote("x\n", "log", key));
  ASSERT_OK_AND_ASSIGN(std::string wnote, SignNote("x\n", "witness", witness));
  std::string both = note + wnote.substr(std::string("x\n\n").size());
  ASSERT_OK_AND_ASSIGN(NoteVerifier v,
                       ParseVerifierKey(*FormatVerifierKey("log", key.public_key())));
  EXPECT_OK(VerifyNote(both, v));

  // A signature line that claims to be the log's key but does not verify
  // fails the note, even next to a good one.
  std::string sig_line = note.substr(std::string("x\n\n").size());
  std::string forged = sig_line;
  forged[forged.size() - 6] = forged[forged.size() - 6] == 'A' ? 'B' : 'A';
  EXPECT_THAT(VerifyNote(note + forged, v),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(NoteTest, MalformedNotesAreRejected) {
  Ed25519PrivateKey key = Key();
  EXPECT_FALSE(SignNote("no newline", "log", key).ok());
  EXPECT_FALSE(SignNote("tab\there\n", "log", key).ok());
  EXPECT_FALSE(SignNote("x\n", "bad name", key).ok());
  EXPECT_FALSE(SignNote("x\n", "bad+name", key).ok());
  EXPECT_FALSE(SignNote("x\n", "", key).ok());
  EXPECT_FALSE(ParseNote("x\n").ok());
  EXPECT_FALSE(ParseNote("x\n\n").ok());
  EXPECT_FALSE(ParseNote("x\n\n- log AAAAAAAA\n").ok());
  EXPECT_FALSE(ParseNote("\xff\n\n\xE2\x80\x94 log AAAAAAAA\n").ok());
}

TEST_F(NoteTest, CheckpointFormatAndStrictParse) {
  std::string root = EmptyRootHash();
  std::string text = FormatCheckpoint({"parley.test/log", 42, root, {}});
  EXPECT_EQ(text, "parley.test/log\n42\n" + Base64Encode(root) + "\n");
  ASSERT_OK_AND_ASSIGN(Checkpoint cp, ParseCheckpoint(text));
  EXPECT_EQ(cp.origin, "parley.test/log");
  EXPECT_EQ(cp.size, 42u);
  EXPECT_EQ(cp.root_hash, root);

  std::string b64 = Base64Encode(root);
  EXPECT_FALSE(ParseCheckpoint("o\n042\n" + b64 + "\n").ok());
  EXPECT_FALSE(ParseCheckpoint("o\n-1\n" + b64 + "\n").ok());
  EXPECT_FALSE(ParseCheckpoint("o\n18446744073709551616\n" + b64 + "\n").ok());
  EXPECT_FALSE(ParseCheckpoint("o\n1\n" + b64).ok());
  EXPECT_FALSE(ParseCheckpoint("o\n1\n" + Base64Encode("short") + "\n").ok());
  EXPECT_FALSE(ParseCheckpoint("\n1\n" + b64 + "\n").ok());
  EXPECT_FALSE(ParseCheckpoint("o\n1\n" + b64 + "\n\n").ok());
  ASSERT_OK_AND_ASSIGN(Checkpoint ext,
                       ParseCheckpoint("o\n0\n" + b64 + "\nextension\n"));
  EXPECT_EQ(ext.extensions, std::vector<std::string>{"extension"});
}

TEST_F(NoteTest, TlogProofRoundTripVerifiesOffline) {
  Ed25519PrivateKey key = Key();
  const std::string origin = "parley.test/log";
  std::vector<std::string> entries = {"a", "b", "c", "d", "e"};
  std::vector<std::string> leaf_hashes;
  for (const std::string& e : entries) leaf_hashes.push_back(LeafHash(e));
  std::string root = RootFromLeafHashes(leaf_hashes);
  ASSERT_OK_AND_ASSIGN(
      std::string note,
      SignNote(FormatCheckpoint({origin, 5, root, {}}), origin, key));
  // Inclusion proof of entry 2 ("c") in 5 leaves, by hand:
  // sibling d, then MTH(a,b), then e.
  TlogProof proof;
  proof.index = 2;
  proof.hashes = {leaf_hashes[3], NodeHash(leaf_hashes[0], leaf_hashes[1]),
                  leaf_hashes[4]};
  proof.checkpoint = note;
  proof.extra = std::string("ctx");
  std::string text = FormatTlogProof(proof);
  EXPECT_TRUE(text.starts_with("c2sp.org/tlog-proof@v1\nextra Y3R4\nindex 2\n"));

  ASSERT_OK_AND_ASSIGN(TlogProof parsed, ParseTlogProof(text));
  EXPECT_EQ(parsed.index, 2u);
  EXPECT_EQ(parsed.hashes, proof.hashes);
  EXPECT_EQ(parsed.extra, proof.extra);
  EXPECT_EQ(parsed.checkpoint, note);

  ASSERT_OK_AND_ASSIGN(NoteVerifier v,
                       ParseVerifierKey(*FormatVerifierKey(origin, key.public_key())));
  ASSERT_OK_AND_ASSIGN(SignedCheckpoint cp, VerifyTlogProof(text, "c", v, origin));
  EXPECT_EQ(cp.size, 5u);
  EXPECT_THAT(VerifyTlogProof(text, "x", v, origin),
              StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_FALSE(VerifyTlogProof(text, "c", v, "other.origin").ok());
  std::string no_header = text.substr(text.find('\n') + 1);
  EXPECT_FALSE(ParseTlogProof(no_header).ok());
}

}  // namespace
}  // namespace parley
