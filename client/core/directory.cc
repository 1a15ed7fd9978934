#include "client/core/directory.h"

#include <vector>

#include "absl/strings/cord.h"
#include "absl/strings/str_cat.h"
#include "storage/tlog/log_entry.h"
#include "storage/tlog/merkle.h"

namespace parley {

absl::StatusOr<LogTrust> MakeLogTrust(std::string origin,
                                      std::string_view verifier_key) {
  absl::StatusOr<NoteVerifier> verifier = ParseVerifierKey(verifier_key);
  if (!verifier.ok()) return verifier.status();
  return LogTrust{std::move(origin), *std::move(verifier)};
}

absl::StatusOr<SignedCheckpoint> VerifyEntryInclusion(
    std::string_view entry, const v1::InclusionProof& proof,
    const LogTrust& trust) {
  if (!proof.leaf().empty() && proof.leaf() != entry) {
    return absl::DataLossError(absl::StrCat(
        "the server's inclusion proof for entry ", proof.index(),
        " is for different bytes than the entry it returned"));
  }
  absl::StatusOr<SignedCheckpoint> checkpoint = VerifyCheckpointNote(
      proof.checkpoint().note(), trust.verifier, trust.origin);
  if (!checkpoint.ok()) {
    return absl::Status(
        checkpoint.status().code() == absl::StatusCode::kUnauthenticated
            ? absl::StatusCode::kUnauthenticated
            : absl::StatusCode::kDataLoss,
        absl::StrCat("the log checkpoint does not verify under the pinned "
                     "verifier key: ",
                     checkpoint.status().message()));
  }
  if (checkpoint->size != proof.tree_size()) {
    return absl::DataLossError(absl::StrCat(
        "inclusion proof is for tree size ", proof.tree_size(),
        " but its checkpoint is for size ", checkpoint->size));
  }
  std::vector<std::string> hashes(proof.hashes().begin(),
                                  proof.hashes().end());
  absl::Status s = VerifyInclusion(proof.index(), proof.tree_size(),
                                   LeafHash(entry), hashes,
                                   checkpoint->root_hash);
  if (!s.ok()) {
    return absl::DataLossError(absl::StrCat(
        "log entry ", proof.index(), " is not proven to be in the log: ",
        s.message()));
  }
  return checkpoint;
}

absl::StatusOr<KeyBundle> VerifyKeyBundleRecord(
    const v1::KeyBundleRecord& record, const v1::InclusionProof& proof,
    const LogTrust& trust, std::optional<absl::Time> usable_at) {
  const std::string& name = record.member().name();
  absl::StatusOr<LogEntry> entry = DecodeLogEntry(record.entry());
  if (!entry.ok()) {
    return absl::DataLossError(absl::StrCat(
        "the directory's log entry for ", name,
        " does not decode: ", entry.status().message()));
  }
  std::string entry_name;
  std::string entry_bundle;
  if (const auto* r = std::get_if<MemberRegistered>(&entry->body)) {
    entry_name = r->name;
    entry_bundle = r->key_bundle;
  } else if (const auto* p = std::get_if<KeyBundlePublished>(&entry->body)) {
    entry_name = p->name;
    entry_bundle = p->key_bundle;
  } else {
    return absl::DataLossError(absl::StrCat(
        "the directory's log entry for ", name, " is a ",
        std::string(EntryTypeName(entry->type())), " entry, not a key registration"));
  }
  if (entry_name != name || entry_bundle != record.key_bundle()) {
    return absl::DataLossError(absl::StrCat(
        "the directory's key bundle for ", name,
        " is not the one its log entry records"));
  }
  if (proof.index() != record.member().registration_index()) {
    return absl::DataLossError(absl::StrCat(
        "inclusion proof is for entry ", proof.index(), ", not ",
        record.member().registration_index()));
  }
  if (absl::StatusOr<SignedCheckpoint> c =
          VerifyEntryInclusion(record.entry(), proof, trust);
      !c.ok()) {
    return c.status();
  }
  absl::StatusOr<KeyBundle> bundle = ParseKeyBundle(record.key_bundle());
  if (!bundle.ok()) {
    return absl::DataLossError(absl::StrCat("the key bundle of ", name,
                                            " is malformed: ",
                                            bundle.status().message()));
  }
  if (bundle->identity_public_key != record.member().identity_key()) {
    return absl::DataLossError(absl::StrCat(
        "the key bundle of ", name,
        " names another identity key than the directory"));
  }
  // Without a time of use, check signatures at a time every prekey is
  // valid at: its own creation.
  absl::Time at = usable_at.has_value()
                      ? *usable_at
                      : absl::FromUnixSeconds(bundle->signed_prekey.created_at);
  absl::Status s = VerifyKeyBundleAt(*bundle, at);
  if (!usable_at.has_value() && absl::IsFailedPrecondition(s)) {
    s = absl::OkStatus();  // one-time prekeys of other ages
  }
  if (!s.ok()) {
    return absl::Status(s.code(), absl::StrCat("the key bundle of ", name,
                                               " is not usable: ",
                                               s.message()));
  }
  return bundle;
}

absl::Status MemberRevokedError(std::string_view name) {
  absl::Status s = absl::PermissionDeniedError(
      absl::StrCat(std::string(name), " has been revoked"));
  s.SetPayload(kMemberRevokedPayload, absl::Cord(std::string(name)));
  return s;
}

bool IsMemberRevoked(const absl::Status& status) {
  return absl::IsPermissionDenied(status) &&
         status.GetPayload(kMemberRevokedPayload).has_value();
}

absl::StatusOr<std::string> NormalizeIdentityFingerprint(
    std::string_view typed) {
  std::string digits;
  for (char c : typed) {
    if (c >= '0' && c <= '9') {
      digits.push_back(c);
    } else if (c != ' ' && c != '-' && c != ':') {
      return absl::InvalidArgumentError(
          "a fingerprint is 60 digits, e.g. \"12345 67890 ...\"");
    }
  }
  if (digits.size() != 60) {
    return absl::InvalidArgumentError(absl::StrCat(
        "a fingerprint is 60 digits; got ", digits.size()));
  }
  std::string out;
  for (size_t i = 0; i < 60; i += 5) {
    if (!out.empty()) out.push_back(' ');
    out.append(digits, i, 5);
  }
  return out;
}

}  // namespace parley
