#ifndef PARLEY_STORAGE_TLOG_CHECKPOINT_H_
#define PARLEY_STORAGE_TLOG_CHECKPOINT_H_

// C2SP tlog-checkpoint bodies (https://c2sp.org/tlog-checkpoint) and
// c2sp.org/tlog-proof@v1 texts, on top of storage/tlog/note.h. Pure: no
// RocksDB, no I/O, safe for clients.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "storage/tlog/note.h"

namespace parley {

// A checkpoint body: origin line, decimal size, base64 root hash, and
// optional extension lines.
struct Checkpoint {
  std::string origin;
  uint64_t size = 0;
  std::string root_hash;  // 32 raw bytes.
  std::vector<std::string> extensions;
};

// A checkpoint signed by the log, with the whole note kept verbatim.
struct SignedCheckpoint {
  std::string origin;
  uint64_t size = 0;
  std::string root_hash;  // 32 raw bytes.
  std::string note;       // Body, blank line, signature line(s).
};

// "<origin>\n<size>\n<base64 root>\n" followed by "<extension>\n" lines.
// REQUIRES: a valid origin (see ValidateKeyName), a 32-byte root, and
// non-empty extension lines without newlines.
std::string FormatCheckpoint(const Checkpoint& checkpoint);

// Parses a checkpoint body strictly: at least three lines, each ending in
// '\n'; a non-empty origin; the size in decimal without leading zeros; the
// root a 32-byte hash in padded standard base64. InvalidArgument otherwise.
absl::StatusOr<Checkpoint> ParseCheckpoint(std::string_view text);

// Verifies a signed checkpoint note from the log `verifier` whose origin
// must equal `origin`. Returns the parsed checkpoint; Unauthenticated on a
// bad or missing signature, InvalidArgument on malformed text or an origin
// mismatch.
absl::StatusOr<SignedCheckpoint> VerifyCheckpointNote(
    std::string_view note, const NoteVerifier& verifier,
    std::string_view origin);

// c2sp.org/tlog-proof@v1.
struct TlogProof {
  std::optional<std::string> extra;  // Raw bytes; unauthenticated.
  uint64_t index = 0;
  std::vector<std::string> hashes;   // Inclusion proof, leaf sibling first.
  std::string checkpoint;            // The signed checkpoint note verbatim.
};

inline constexpr std::string_view kTlogProofHeader = "c2sp.org/tlog-proof@v1";

std::string FormatTlogProof(const TlogProof& proof);
// Syntax only; does not check signatures or hashes. InvalidArgument on any
// deviation from the format.
absl::StatusOr<TlogProof> ParseTlogProof(std::string_view text);

// Verifies, offline, that `entry` (the exact leaf bytes) is in the log:
// parses `text`, verifies the checkpoint note against `verifier` and
// `origin`, then the inclusion proof against the checkpoint's root. Returns
// the checkpoint on success. DataLoss on a root mismatch.
absl::StatusOr<SignedCheckpoint> VerifyTlogProof(std::string_view text,
                                                 std::string_view entry,
                                                 const NoteVerifier& verifier,
                                                 std::string_view origin);

}  // namespace parley

#endif  // PARLEY_STORAGE_TLOG_CHECKPOINT_H_
