// Fuzzes ParseVerifierKey, ParseNote and VerifyNote: C2SP signed notes
// (checkpoints and cosignatures) that clients and auditors take from the
// log and witnesses, and the verifier keys they are configured with.
//
// The first input byte selects a mode; the rest is its argument:
//   0  raw verifier key: one that parses has exactly one form, the input.
//   1  raw note, verified against the fixed log key.
//   2  tamper: the rest is a list of edits (see ApplyEdits) to a valid note
//      signed by the log and by a witness, built once from fixed seeds. A
//      tampered note that verifies for the log has the original text and
//      only the log's original signature (other lines are not the log's to
//      vouch for).
//   3  tamper verifier key: a key that parses to something other than the
//      log's verifier does not verify the original note.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "crypto/ed25519.h"
#include "storage/tlog/note.h"
#include "tests/fuzz/fuzz_util.h"

namespace parley {
namespace {

struct Fixture {
  Fixture()
      : log_key(*Ed25519PrivateKey::FromSeed(std::string(32, '\x4c'))),
        witness_key(*Ed25519PrivateKey::FromSeed(std::string(32, '\x57'))) {
    verifier_key =
        *FormatVerifierKey("parley.example/log", log_key.public_key());
    verifier = *ParseVerifierKey(verifier_key);
    // A witness cosignature is one more signature line over the same text.
    const std::string cosigned =
        *SignNote(text, "witness.example/w1", witness_key);
    note = *SignNote(text, "parley.example/log", log_key) +
           cosigned.substr(text.size() + 1);
    log_signature = ParseNote(note)->signatures[0].signature;
  }

  Ed25519PrivateKey log_key;
  Ed25519PrivateKey witness_key;
  const std::string text =
      "parley.example/log\n7\nn4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=\n";
  std::string verifier_key;
  NoteVerifier verifier;
  std::string note;
  std::string log_signature;
};

const Fixture& GetFixture() {
  static const Fixture* fixture = [] {
    if (!InitCrypto().ok()) std::abort();
    return new Fixture();
  }();
  return *fixture;
}

// Verifies `note` for the log; true on success, after checking that the
// parse agrees.
bool CheckNote(const Fixture& f, std::string_view note) {
  absl::StatusOr<Note> parsed = ParseNote(note);
  absl::StatusOr<std::string> text = VerifyNote(note, f.verifier);
  if (!text.ok()) return false;
  PARLEY_FUZZ_CHECK(parsed.ok() && parsed->text == *text);
  PARLEY_FUZZ_CHECK(!parsed->signatures.empty() &&
                    parsed->signatures.size() <= kMaxNoteSignatures);
  return true;
}

}  // namespace
}  // namespace parley

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace parley;
  const Fixture& f = GetFixture();
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1,
                              size - 1);
  switch (data[0] % 4) {
    case 0: {
      absl::StatusOr<NoteVerifier> v = ParseVerifierKey(rest);
      if (v.ok()) {
        absl::StatusOr<std::string> formatted =
            FormatVerifierKey(v->name, v->public_key);
        PARLEY_FUZZ_CHECK(formatted.ok() && *formatted == rest);
        PARLEY_FUZZ_CHECK(v->key_id ==
                          Ed25519NoteKeyId(v->name, v->public_key));
      }
      break;
    }
    case 1:
      CheckNote(f, rest);
      break;
    case 2: {
      const std::string tampered = ApplyEdits(f.note, rest);
      const bool verified = CheckNote(f, tampered);
      if (tampered == f.note) PARLEY_FUZZ_CHECK(verified);
      if (!verified) break;
      const Note parsed = *ParseNote(tampered);
      PARLEY_FUZZ_CHECK(parsed.text == f.text);
      for (const NoteSignature& sig : parsed.signatures) {
        if (sig.name != f.verifier.name || sig.key_id != f.verifier.key_id) {
          continue;
        }
        PARLEY_FUZZ_CHECK(sig.signature == f.log_signature);
      }
      break;
    }
    case 3: {
      const std::string tampered = ApplyEdits(f.verifier_key, rest);
      absl::StatusOr<NoteVerifier> v = ParseVerifierKey(tampered);
      if (!v.ok()) break;
      const bool same = v->name == f.verifier.name &&
                        v->key_id == f.verifier.key_id &&
                        v->public_key == f.verifier.public_key;
      PARLEY_FUZZ_CHECK(same == (tampered == f.verifier_key));
      PARLEY_FUZZ_CHECK(same == VerifyNote(f.note, *v).ok());
      break;
    }
  }
  return 0;
}
