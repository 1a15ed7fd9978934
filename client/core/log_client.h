#ifndef PARLEY_CLIENT_CORE_LOG_CLIENT_H_
#define PARLEY_CLIENT_CORE_LOG_CLIENT_H_

// Client-side log verification: checkpoints verified under the log's
// verifier key (pinned per profile), consistency with the last checkpoint
// this profile trusted, inclusion proofs, and a full audit that recomputes
// the tree from the entries. LogClient is what `parley log` needs without
// the passphrase; DeviceLog adds what an enrolled device keeps: entries
// proven once and cached in its sealed state.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/core/auth.h"
#include "client/core/directory.h"
#include "client/core/local_state.h"
#include "client/core/profile.h"
#include "client/core/session.h"
#include "storage/tlog/checkpoint.h"
#include "storage/tlog/note.h"

namespace parley {

// The profile's trust in one log: its verifier key and the newest checkpoint
// verified consistent with every earlier one. Stored in PROFILE/checkpoint.json:
// the profile's one record of it, advanced both by `parley log verify` and by
// every device command that meets a newer checkpoint (Device::NoteCheckpoint).
// In clear: a signed note is public and verified on every read, and the
// `parley log` commands read it without the passphrase.
struct CheckpointTrust {
  std::string verifier_key;
  std::string checkpoint_note;  // empty until the first verify
};

absl::StatusOr<std::optional<CheckpointTrust>> LoadCheckpointTrust(const Profile& profile);
absl::Status SaveCheckpointTrust(const Profile& profile, const CheckpointTrust& trust);

struct VerifiedInclusion {
  uint64_t index = 0;
  uint64_t size = 0;
  std::string leaf;       // exact entry bytes; empty when withheld
                          // from this member (PROTOCOL.md 11.13)
  std::string leaf_hash;
  std::vector<std::string> proof;
  SignedCheckpoint checkpoint;
  std::string tlog_proof;  // c2sp.org/tlog-proof@v1 text
};

struct VerifiedConsistency {
  uint64_t size1 = 0, size2 = 0;
  std::string root1, root2;
  std::vector<std::string> proof;
};

struct LogVerifyResult {
  SignedCheckpoint previous;  // size 0 / empty note on first use
  SignedCheckpoint current;
  bool first_use = false;
};

// Talks to parley.v1.Log. Thread-compatible. `auth` may be null for the
// public calls (checkpoints); entries and proofs need it.
class LogClient {
 public:
  LogClient(const Session& session, SessionAuthenticator* auth,
            const Profile& profile)
      : session_(session), auth_(auth), profile_(profile) {}

  // The verifier to trust: `pinned` if given (it must then match the
  // server's), else the profile's, else the server's on first use (and it
  // is remembered). PermissionDenied if the server's key differs from the
  // trusted one.
  absl::StatusOr<NoteVerifier> TrustedVerifier(const std::string& pinned);

  // The current checkpoint, its signature verified. `fresh` asks the server
  // to sign one covering everything appended so far.
  absl::StatusOr<SignedCheckpoint> Checkpoint(const NoteVerifier& verifier,
                                              bool fresh = false);

  // `parley log verify`: fetch the checkpoint, check its signature and its
  // consistency with the last trusted one, and store it as trusted. On a
  // failed check both notes are written to PROFILE/evidence/ and DataLoss is
  // returned naming the files.
  absl::StatusOr<LogVerifyResult> VerifyAndAdvance(const std::string& pinned);

  // Inclusion of `index` in the tree of `size` (0: the latest checkpoint),
  // verified against a signed checkpoint.
  absl::StatusOr<VerifiedInclusion> Inclusion(const NoteVerifier& verifier,
                                              uint64_t index, uint64_t size);
  // A consistency proof between sizes `size1` < `size2`, checked against
  // the roots the server sent with it: the caller compares those with
  // checkpoints it verified (CheckConsistent does).
  absl::StatusOr<VerifiedConsistency> Consistency(uint64_t size1,
                                                  uint64_t size2);
  // OK if `offered` and `trusted` (both verified) are the same tree or one
  // extends the other; DataLoss otherwise.
  absl::Status CheckConsistent(const SignedCheckpoint& trusted,
                               const SignedCheckpoint& offered);

  // Downloads entries [from, size) of the latest signed checkpoint,
  // recomputes every leaf hash and the root (for from > 0 the hashes left of
  // `from` come from the inclusion proof of `from`), and compares with the
  // checkpoint. DataLoss names the first bad index. `progress(done, total)`
  // is called after each page.
  absl::StatusOr<SignedCheckpoint> Audit(
      const NoteVerifier& verifier, uint64_t from,
      const std::function<void(uint64_t, uint64_t)>& progress);

 private:
  absl::Status Call(
      const std::function<grpc::Status(grpc::ClientContext*)>& rpc);

  const Session& session_;
  SessionAuthenticator* const auth_;
  const Profile& profile_;
};

// One entry proven in the tree of a checkpoint.
struct ProvenEntry {
  std::string leaf;        // exact entry bytes
  std::string tlog_proof;  // the server's c2sp.org/tlog-proof@v1 text
};

// The log as one enrolled device sees it: every checkpoint it meets is
// checked against every checkpoint the profile trusts and recorded when
// newer (NoteCheckpoint), and entries are proven once and kept in the
// device's sealed state. Not thread-safe; one per Device. Everything it is
// given must outlive it.
class DeviceLog {
 public:
  // `verifier_key` is the key the device was enrolled with (its text form,
  // as PROFILE/checkpoint.json holds it); `trust` the same, parsed.
  DeviceLog(const Session& session, SessionAuthenticator& auth,
            Profile profile, LocalState& state, const LogTrust& trust,
            std::string verifier_key)
      : profile_(std::move(profile)),
        client_(session, &auth, profile_),
        session_(session),
        auth_(auth),
        state_(state),
        trust_(trust),
        verifier_key_(std::move(verifier_key)) {}

  // Checks `checkpoint` (verified under the pinned key; `note` its signed
  // text) against every checkpoint this profile trusts and, if it is the
  // newest, records it. The one record is PROFILE/checkpoint.json (shared
  // with `parley log verify`); what an older client kept in state.bin is
  // checked too and, once the record covers it, dropped. DataLoss when the
  // log forked or the record is not this log's.
  absl::Status NoteCheckpoint(const SignedCheckpoint& checkpoint,
                              const std::string& note);
  // Verifies `note` under the pinned key and notes it (NoteCheckpoint).
  // DataLoss if it does not verify.
  absl::StatusOr<SignedCheckpoint> NoteCheckpointText(const std::string& note);
  // A checkpoint signed now over everything logged so far, verified and
  // noted; `note` receives its text.
  absl::StatusOr<SignedCheckpoint> FreshCheckpoint(std::string* note);

  // Entry `index` (exact leaf bytes) proven in the latest checkpoint (a
  // fresh one when the latest does not cover it yet); the checkpoint is
  // noted.
  absl::StatusOr<std::string> FetchEntry(uint64_t index);
  // Entries `indexes`, each verified: from the cache, else fetched in
  // parallel and proven against one checkpoint (consistent with the
  // trusted one), then cached.
  absl::StatusOr<std::map<uint64_t, std::string>> FetchVerifiedEntries(
      const std::vector<uint64_t>& indexes);
  // Inclusion proofs of `indexes` (distinct) in the tree of `checkpoint`,
  // which this device verified, fetched several at a time and each checked
  // against the checkpoint's root. With a non-empty `checkpoint_note`, each
  // proof must also carry exactly that note and a tlog-proof (for proof
  // bundles). DataLoss names the first entry that fails.
  absl::StatusOr<std::map<uint64_t, ProvenEntry>> ProveEntries(
      const std::vector<uint64_t>& indexes, const SignedCheckpoint& checkpoint,
      const std::string& checkpoint_note);

  // Called on the calling thread while entries are proven, with how many
  // are done and the total; for a progress bar.
  void set_progress(std::function<void(uint64_t, uint64_t)> progress) {
    progress_ = std::move(progress);
  }

 private:
  // The latest checkpoint (a fresh one with `fresh`), verified and noted.
  absl::StatusOr<SignedCheckpoint> GetCheckpoint(bool fresh,
                                                 std::string* note);

  const Profile profile_;
  LogClient client_;
  const Session& session_;
  SessionAuthenticator& auth_;
  LocalState& state_;
  const LogTrust& trust_;
  const std::string verifier_key_;
  std::function<void(uint64_t, uint64_t)> progress_;
  // The checkpoint FetchVerifiedEntries proves against.
  std::optional<SignedCheckpoint> proof_checkpoint_;
};

}  // namespace parley

#endif  // PARLEY_CLIENT_CORE_LOG_CLIENT_H_
