// The log test vector published in docs/PROTOCOL.md (log section): the
// roots.json leaves, and a checkpoint of all eight signed with a fixed seed.
// If this test changes, the document must change with it.

#include <string>
#include <vector>

#include "crypto/ed25519.h"
#include "crypto/encoding.h"
#include "gtest/gtest.h"
#include "storage/tlog/checkpoint.h"
#include "storage/tlog/merkle.h"
#include "storage/tlog/note.h"
#include "tests/testing/status_matchers.h"

namespace parley {
namespace {

constexpr char kOrigin[] = "parley.example/log";
// Seed 00 01 02 ... 1f.
std::string Seed() {
  std::string seed;
  for (int i = 0; i < 32; ++i) seed.push_back(static_cast<char>(i));
  return seed;
}

constexpr char kVerifierKey[] =
    "parley.example/log+ce1df221+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4";
constexpr char kNote[] =
    "parley.example/log\n"
    "8\n"
    "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n"
    "\n"
    "\xE2\x80\x94 parley.example/log "
    "zh3yIewF0stHXfyNJjRSXpoYCZ53W1WyGWxbFZSuFiEIV5DIKhUl7+dseVWMfRGvm0zouXBsGR"
    "jgfGddT+w+NQvaQwc=\n";

TEST(ProtocolVectorTest, SignedCheckpointOfReferenceTree) {
  ASSERT_OK(InitCrypto());
  ASSERT_OK_AND_ASSIGN(Ed25519PrivateKey key, Ed25519PrivateKey::FromSeed(Seed()));
  std::vector<std::string> leaves;
  for (const char* hex : {"", "00", "10", "2021", "3031", "40414243",
                          "5051525354555657",
                          "606162636465666768696a6b6c6d6e6f"}) {
    leaves.push_back(*HexDecode(hex));
  }
  std::string root = RootFromLeaves(leaves);
  EXPECT_EQ(Base64Encode(root), "XcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=");
  ASSERT_OK_AND_ASSIGN(std::string vkey,
                       FormatVerifierKey(kOrigin, key.public_key()));
  ASSERT_OK_AND_ASSIGN(
      std::string note,
      SignNote(FormatCheckpoint({kOrigin, 8, root, {}}), kOrigin, key));
  EXPECT_EQ(vkey, kVerifierKey);
  EXPECT_EQ(note, kNote);
  ASSERT_OK_AND_ASSIGN(NoteVerifier v, ParseVerifierKey(kVerifierKey));
  EXPECT_OK(VerifyCheckpointNote(kNote, v, kOrigin).status());
}

// The tlog-proof example: entry 2 (the single byte 0x10) of that tree.
TEST(ProtocolVectorTest, TlogProofExampleVerifies) {
  ASSERT_OK(InitCrypto());
  const std::string proof = std::string(
      "c2sp.org/tlog-proof@v1\n"
      "index 2\n"
      "B1Bqhf2d0vEg62lPhgEeW7RmLlxBWmKRcDPUqWJEh+c=\n"
      "+sVCA+fMaWzw38tCySodnbr3CtnmIfS9jZhmLwDjwSU=\n"
      "a0eq8p7jwq+a+Im8H7klTavTEXfxYjLdaqsDXKOb9uQ=\n"
      "\n") + kNote;
  ASSERT_OK_AND_ASSIGN(NoteVerifier v, ParseVerifierKey(kVerifierKey));
  ASSERT_OK_AND_ASSIGN(SignedCheckpoint cp,
                       VerifyTlogProof(proof, std::string(1, '\x10'), v, kOrigin));
  EXPECT_EQ(cp.size, 8u);
  EXPECT_FALSE(VerifyTlogProof(proof, std::string(1, '\x11'), v, kOrigin).ok());
}

}  // namespace
}  // namespace parley
