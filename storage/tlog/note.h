#ifndef PARLEY_STORAGE_TLOG_NOTE_H_
#define PARLEY_STORAGE_TLOG_NOTE_H_

// C2SP signed-note (https://c2sp.org/signed-note) with Ed25519 signatures:
// signing, parsing, verification, and verifier keys in the form
// "name+hex(keyid)+base64(0x01 || pubkey)". Pure: no RocksDB, no I/O.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "crypto/ed25519.h"

namespace parley {

// Signature type byte for Ed25519 in key ids and verifier keys.
inline constexpr char kNoteEd25519Type = 0x01;
// Notes with more signature lines than this are rejected as abuse.
inline constexpr size_t kMaxNoteSignatures = 100;

// A key name is non-empty, valid UTF-8, and holds no whitespace, no control
// character and no '+'. Returns InvalidArgument naming the problem otherwise.
absl::Status ValidateKeyName(std::string_view name);

// First four bytes, big-endian, of SHA-256(name || "\n" || 0x01 || pubkey).
uint32_t Ed25519NoteKeyId(std::string_view name, std::string_view public_key);

// An Ed25519 note verifier: who signs, the key hint, and the 32-byte key.
struct NoteVerifier {
  std::string name;
  uint32_t key_id = 0;
  std::string public_key;
};

// "name+hex(keyid)+base64(0x01 || pubkey)", e.g.
// "example.com/foo+530d903a+AekyeRrm...". Fails on an invalid name or a
// public key that is not 32 bytes.
absl::StatusOr<std::string> FormatVerifierKey(std::string_view name,
                                              std::string_view public_key);
// Parses and checks a verifier key: the key id must match the name and key,
// and the type must be Ed25519. InvalidArgument otherwise.
absl::StatusOr<NoteVerifier> ParseVerifierKey(std::string_view verifier_key);

// One signature line of a note.
struct NoteSignature {
  std::string name;
  uint32_t key_id = 0;
  std::string signature;  // Raw signature bytes after the 4-byte key id.
};

// A syntactically valid note: text (every line ending in '\n') and at least
// one signature line.
struct Note {
  std::string text;
  std::vector<NoteSignature> signatures;
};

// Signs `text` (non-empty, UTF-8, no control characters other than '\n',
// ending in '\n') and returns the whole note: text, a blank line, and one
// line "— <name> <base64(keyid || signature)>".
absl::StatusOr<std::string> SignNote(std::string_view text,
                                     std::string_view name,
                                     const Ed25519PrivateKey& key);

// Splits a note into text and signature lines, checking the syntax only.
// InvalidArgument on any malformation.
absl::StatusOr<Note> ParseNote(std::string_view note);

// Returns the note text if `note` is well formed and carries a valid
// signature by `verifier`. Signatures by other keys are ignored; a line with
// the verifier's name and key id whose signature does not verify fails the
// whole note (Unauthenticated), as does the absence of any such line.
absl::StatusOr<std::string> VerifyNote(std::string_view note,
                                       const NoteVerifier& verifier);

}  // namespace parley

#endif  // PARLEY_STORAGE_TLOG_NOTE_H_
