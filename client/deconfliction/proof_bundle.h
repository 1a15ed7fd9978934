#ifndef PARLEY_CLIENT_DECONFLICTION_PROOF_BUNDLE_H_
#define PARLEY_CLIENT_DECONFLICTION_PROOF_BUNDLE_H_

// Offline proof bundles ("parley-proof/v1"): a self-contained JSON file that
// proves, to anyone and without a server, which log entries about a
// notification exist in the log (each version, delivery receipts,
// acknowledgements and objections, escalations, cancellation, status) and
// that every signature inside them verifies against keys registered in the
// same log. Format and verification algorithm are normative in
// docs/PROTOCOL.md ("Proof bundles"); this header is the API.
//
//   {"format": "parley-proof/v1",
//    "verifier_key": "<C2SP verifier key of the log>",
//    "checkpoint": "<signed checkpoint note>",
//    "entries": [{"kind", "index", "leaf" (base64), "tlog_proof"}],
//    "identities": [{"name", "role", "identity_key" (base64),
//                    "registration_index"}]}
//
// What a bundle proves: that the log holding the verifier key's private key
// committed to these exact entries in the checkpoint's tree. What it cannot
// prove offline: that nothing else exists (a later key rotation, a
// revocation, an acknowledgement left out of the bundle) — only a full
// audit of the log shows absence. And trust rests on the verifier key: a
// verifier must compare it with the key the log publishes (pass it as
// ProofBundleVerifyOptions::expected_verifier_key).
//
// Pure and thread-safe. REQUIRES: InitCrypto() was called.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace parley {

inline constexpr std::string_view kProofBundleFormat = "parley-proof/v1";

// One log entry as fetched from the server.
struct ProofBundleEntry {
  uint64_t index = 0;
  std::string leaf;        // the exact entry bytes
  std::string tlog_proof;  // c2sp.org/tlog-proof@v1 text against the
                           // bundle's checkpoint (same note, verbatim)
};

struct ProofBundleIdentity {
  std::string name;
  std::string role;          // "coordinator", "party", ...
  std::string identity_key;  // 32 raw bytes
  uint64_t registration_index = 0;  // member-registered or
                                    // key-bundle-published entry

  bool operator==(const ProofBundleIdentity&) const = default;
};

// Builds the bundle JSON (entries sorted by index, "kind" from each leaf)
// and checks it with VerifyProofBundle before returning it, so a bundle
// that would not verify is never written: the error names the problem
// (e.g. a tlog-proof against another checkpoint, a missing registration).
// The CLI fetches the checkpoint, the entries and their proofs (at the
// checkpoint's size) from the server.
absl::StatusOr<std::string> BuildProofBundle(
    std::string_view verifier_key, std::string_view checkpoint_note,
    std::vector<ProofBundleEntry> entries,
    std::vector<ProofBundleIdentity> identities);

// The identities registered by the member-registered and
// key-bundle-published entries among `entries` (role of a key rotation:
// the role of the same name's member-registered entry, which must also be
// among `entries`). InvalidArgument if an entry does not decode.
absl::StatusOr<std::vector<ProofBundleIdentity>> IdentitiesFromEntries(
    const std::vector<ProofBundleEntry>& entries);

struct ProofBundleVerifyOptions {
  // The log's verifier key as the verifier knows it independently (pinned
  // on first use, published by the operator). Empty: the bundle's own key
  // is used and the report says that it was not compared.
  std::string expected_verifier_key;
};

// Per party and version, what the bundle shows.
struct PartyProgressReport {
  std::string party;
  std::optional<uint64_t> delivered_index;  // receipt entry
  int64_t delivered_logged_ms = 0;
  int64_t delivered_signed_at = 0;  // receipt time, the device's clock
  std::optional<uint64_t> answer_index;  // acknowledgement or objection
  bool objected = false;
  int64_t answer_logged_ms = 0;
  int64_t answer_signed_at = 0;
  int escalation = 0;  // highest escalation step logged
};

// A notification-ack entry signed by a member who is not one of the
// version's parties (PROTOCOL.md 16.3): reported, never counted.
struct NonPartyAnswer {
  std::string member;
  uint64_t index = 0;
  bool objected = false;
  int64_t logged_ms = 0;
  int64_t signed_at = 0;  // receipt time, the device's clock
};

struct VersionReport {
  std::string id;
  uint32_t version = 0;
  bool movement = true;
  uint64_t index = 0;
  int64_t logged_at_ms = 0;
  std::string issuer;
  std::vector<std::string> parties;
  int64_t depart_at = 0;
  int64_t ack_by = 0;
  int64_t valid_from = 0;
  int64_t valid_until = 0;
  bool emergency = false;
  bool late = false;
  std::string envelope_hash;  // 32 raw bytes
  std::vector<PartyProgressReport> progress;  // one per party, sorted
  // Answers from members who are not parties of this version.
  std::vector<NonPartyAnswer> non_party_answers;
  // A site: the first review-due escalation (step 4) for this version,
  // and whom it asks to review (its `party`: the issuer).
  std::optional<uint64_t> review_due_index;
  int64_t review_due_logged_ms = 0;
  std::string review_due_to;
};

struct ProofReport {
  std::string origin;
  uint64_t tree_size = 0;
  std::string root_hash;  // 32 raw bytes
  std::string verifier_key;
  bool verifier_key_pinned = false;  // compared with expected_verifier_key
  std::vector<ProofBundleIdentity> identities;
  std::vector<VersionReport> versions;  // by id, then version
  // One line per entry, in log order, e.g.
  // "entry 9, logged 2026-05-01T06:00:01.250Z: bob acknowledged receipt of
  //  mv-1 version 1 (signed at 2026-05-01T06:00:00Z)".
  std::vector<std::string> timeline;
  // The whole human report (summary, per-party table, timeline).
  std::string text;
};

// Verifies everything in the bundle offline (algorithm in PROTOCOL.md). On
// success returns what it proves. On any failure returns InvalidArgument
// (malformed bundle), Unauthenticated (a signature that does not verify)
// or DataLoss (a leaf or proof that does not match the checkpoint), with a
// message naming the entry or field, e.g.
//   "entries[3] (index 41): tlog_proof: root mismatch".
absl::StatusOr<ProofReport> VerifyProofBundle(
    std::string_view json_text, const ProofBundleVerifyOptions& options = {});

// A verified report as JSON, as `parley proof verify --json` and
// `parley-verify bundle --json` print it: {"verified": true, origin,
// tree_size, verifier_key_pinned, versions: [{id, version, index, issuer,
// late, parties: [{party, delivered_index, answer_index, objected,
// escalation}], non_party_answers, review_due_index}], timeline, report}.
nlohmann::json ProofReportJson(const ProofReport& report);

}  // namespace parley

#endif  // PARLEY_CLIENT_DECONFLICTION_PROOF_BUNDLE_H_
