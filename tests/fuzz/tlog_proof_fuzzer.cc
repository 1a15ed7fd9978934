// Fuzzes ParseTlogProof and VerifyTlogProof: c2sp.org/tlog-proof@v1 texts,
// the offline proofs that an entry is in the log, which anyone may hand to
// an auditor.
//
// The first input byte selects a mode; the rest is its argument:
//   0  raw proof text: one that parses has exactly one form, the input
//      (FormatTlogProof gives it back); it is then verified for a fixed
//      entry, log key and origin.
//   1  tamper: the rest is a list of edits (see ApplyEdits) to a valid
//      proof of leaf 3 in a 7-leaf log, built once from fixed data. A
//      tampered proof that verifies carries the original checkpoint size
//      and root, index and hashes (only the "extra" line is
//      unauthenticated); the unchanged proof verifies.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "crypto/ed25519.h"
#include "storage/tlog/checkpoint.h"
#include "storage/tlog/merkle.h"
#include "storage/tlog/note.h"
#include "tests/fuzz/fuzz_util.h"

namespace parley {
namespace {

struct Fixture {
  Fixture() : log_key(*Ed25519PrivateKey::FromSeed(std::string(32, '\x4c'))) {
    verifier =
        *ParseVerifierKey(*FormatVerifierKey(origin, log_key.public_key()));
    std::vector<std::string> leaves;
    for (int i = 0; i < 7; ++i) leaves.push_back("entry " + std::to_string(i));
    entry = leaves[3];
    auto read = [&](int level, uint64_t index) -> absl::StatusOr<std::string> {
      const auto first =
          leaves.begin() + static_cast<ptrdiff_t>(index << level);
      return RootFromLeaves({first, first + (ptrdiff_t{1} << level)});
    };
    Checkpoint checkpoint{origin, leaves.size(), RootFromLeaves(leaves), {}};
    proof.extra = "unauthenticated extra";
    proof.index = 3;
    proof.hashes = *BuildInclusionProof(3, leaves.size(), read);
    proof.checkpoint = *SignNote(FormatCheckpoint(checkpoint), origin, log_key);
    root = checkpoint.root_hash;
    size = checkpoint.size;
    text = FormatTlogProof(proof);
  }

  const std::string origin = "parley.example/log";
  Ed25519PrivateKey log_key;
  NoteVerifier verifier;
  std::string entry;
  std::string root;
  uint64_t size = 0;
  TlogProof proof;
  std::string text;
};

const Fixture& GetFixture() {
  static const Fixture* fixture = [] {
    if (!InitCrypto().ok()) std::abort();
    return new Fixture();
  }();
  return *fixture;
}

}  // namespace
}  // namespace parley

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace parley;
  const Fixture& f = GetFixture();
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1,
                              size - 1);
  const std::string text =
      data[0] % 2 == 0 ? std::string(rest) : ApplyEdits(f.text, rest);
  absl::StatusOr<TlogProof> proof = ParseTlogProof(text);
  if (proof.ok()) PARLEY_FUZZ_CHECK(FormatTlogProof(*proof) == text);
  absl::StatusOr<SignedCheckpoint> cp =
      VerifyTlogProof(text, f.entry, f.verifier, f.origin);
  if (data[0] % 2 == 1 && text == f.text) PARLEY_FUZZ_CHECK(cp.ok());
  if (!cp.ok()) return 0;
  PARLEY_FUZZ_CHECK(proof.ok());
  PARLEY_FUZZ_CHECK(cp->size == f.size && cp->root_hash == f.root);
  PARLEY_FUZZ_CHECK(proof->index == f.proof.index);
  PARLEY_FUZZ_CHECK(proof->hashes == f.proof.hashes);
  return 0;
}
