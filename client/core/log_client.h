#ifndef PARLEY_CLIENT_CORE_LOG_CLIENT_H_
#define PARLEY_CLIENT_CORE_LOG_CLIENT_H_

// Client-side log verification: checkpoints verified under the log's
// verifier key (pinned per profile), consistency with the last checkpoint
// this profile trusted, inclusion proofs, and a full audit that recomputes
// the tree from the entries.

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/core/auth.h"
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
  absl::StatusOr<VerifiedConsistency> Consistency(
      const NoteVerifier& verifier, uint64_t size1, uint64_t size2);

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

}  // namespace parley

#endif  // PARLEY_CLIENT_CORE_LOG_CLIENT_H_
