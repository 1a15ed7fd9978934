#ifndef PARLEY_CLIENT_CORE_DIRECTORY_H_
#define PARLEY_CLIENT_CORE_DIRECTORY_H_

// Client-side checks of what the key directory and the log say. Pure
// functions (no RPCs), so every rule is unit-tested with fabricated entries
// and proofs.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "crypto/prekey.h"
#include "parley/v1/identity.pb.h"
#include "parley/v1/log.pb.h"
#include "storage/tlog/checkpoint.h"
#include "storage/tlog/note.h"

namespace parley {

// The log this device trusts: origin and verifier key pinned at enrollment.
struct LogTrust {
  std::string origin;
  NoteVerifier verifier;
};

// Parses a verifier key string into a LogTrust (InvalidArgument if bad).
absl::StatusOr<LogTrust> MakeLogTrust(std::string origin,
                                      std::string_view verifier_key);

// Verifies that `entry` (exact leaf bytes) is leaf `proof.index()` of the log
// and returns the signed checkpoint it was proven against. Checks that the
// checkpoint note is signed by the trusted verifier for the trusted origin,
// that its size is proof.tree_size(), that proof.leaf() (if present) is
// `entry`, and the RFC 9162 inclusion proof. DataLoss on any mismatch
// (a lying or broken server); Unauthenticated for a bad note signature.
absl::StatusOr<SignedCheckpoint> VerifyEntryInclusion(
    std::string_view entry, const v1::InclusionProof& proof,
    const LogTrust& trust);

// Checks a directory answer before anything is encrypted to it:
//  - record.entry() decodes to a MemberRegistered or KeyBundlePublished log
//    entry for record.member().name() holding exactly record.key_bundle();
//  - `proof` is for index record.member().registration_index() and proves
//    the entry's inclusion (VerifyEntryInclusion);
//  - the bundle parses, names record.member().identity_key(), and, when
//    `usable_at` is set, every prekey verifies at that time
//    (VerifyKeyBundleAt); without it (to learn a sender's identity key, not
//    to encrypt) prekey signatures are checked but not their validity.
// Returns the bundle. DataLoss when the server's answer is inconsistent or
// unproven; the prekey's own error (e.g. FailedPrecondition, expired) when
// the bundle is stale.
absl::StatusOr<KeyBundle> VerifyKeyBundleRecord(
    const v1::KeyBundleRecord& record, const v1::InclusionProof& proof,
    const LogTrust& trust, std::optional<absl::Time> usable_at);

// The directory answered that `name` has been revoked: PermissionDenied
// saying so, carrying kMemberRevokedPayload so that callers can tell it from
// other refusals without reading the message (a channel's sender skips
// revoked members; everyone else reports it).
absl::Status MemberRevokedError(std::string_view name);
bool IsMemberRevoked(const absl::Status& status);
// Type URL of that payload.
inline constexpr char kMemberRevokedPayload[] = "parley.dev/member-revoked";

// Normalises a fingerprint as typed (spaces, dashes optional) to the
// canonical "12345 67890 ..." form. InvalidArgument unless 60 digits.
absl::StatusOr<std::string> NormalizeIdentityFingerprint(
    std::string_view typed);

}  // namespace parley

#endif  // PARLEY_CLIENT_CORE_DIRECTORY_H_
