// Fuzzes ParseCheckpoint and VerifyCheckpointNote: the C2SP checkpoints
// (signed tree heads) that clients and auditors take from the log.
//
// The first input byte selects a mode; the rest is its argument:
//   0  raw checkpoint body: one that parses has exactly one form, the
//      input (FormatCheckpoint gives it back).
//   1  raw signed note, verified against the fixed log key and origin.
//   2  tamper: the rest is a list of edits (see ApplyEdits) to a valid
//      signed checkpoint with an extension line, built once from a fixed
//      seed. A tampered note that verifies names the original origin, size
//      and root; the unchanged note verifies.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

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
    checkpoint.origin = origin;
    checkpoint.size = 7;
    checkpoint.root_hash = LeafHash("fuzz root");
    checkpoint.extensions = {"parley-time 1790000000"};
    note = *SignNote(FormatCheckpoint(checkpoint), origin, log_key);
  }

  const std::string origin = "parley.example/log";
  Ed25519PrivateKey log_key;
  NoteVerifier verifier;
  Checkpoint checkpoint;
  std::string note;
};

const Fixture& GetFixture() {
  static const Fixture* fixture = [] {
    if (!InitCrypto().ok()) std::abort();
    return new Fixture();
  }();
  return *fixture;
}

absl::StatusOr<SignedCheckpoint> CheckNote(const Fixture& f,
                                           std::string_view note) {
  absl::StatusOr<SignedCheckpoint> cp =
      VerifyCheckpointNote(note, f.verifier, f.origin);
  if (cp.ok()) {
    PARLEY_FUZZ_CHECK(cp->origin == f.origin && cp->note == note);
    PARLEY_FUZZ_CHECK(cp->root_hash.size() == kMerkleHashSize);
  }
  return cp;
}

}  // namespace
}  // namespace parley

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace parley;
  const Fixture& f = GetFixture();
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1,
                              size - 1);
  switch (data[0] % 3) {
    case 0: {
      absl::StatusOr<Checkpoint> cp = ParseCheckpoint(rest);
      if (cp.ok()) {
        PARLEY_FUZZ_CHECK(cp->root_hash.size() == kMerkleHashSize);
        PARLEY_FUZZ_CHECK(FormatCheckpoint(*cp) == rest);
      }
      break;
    }
    case 1:
      CheckNote(f, rest).IgnoreError();
      break;
    case 2: {
      const std::string tampered = ApplyEdits(f.note, rest);
      absl::StatusOr<SignedCheckpoint> cp = CheckNote(f, tampered);
      if (tampered == f.note) PARLEY_FUZZ_CHECK(cp.ok());
      if (!cp.ok()) break;
      PARLEY_FUZZ_CHECK(cp->size == f.checkpoint.size);
      PARLEY_FUZZ_CHECK(cp->root_hash == f.checkpoint.root_hash);
      break;
    }
  }
  return 0;
}
