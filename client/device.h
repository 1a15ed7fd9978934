#ifndef PARLEY_CLIENT_DEVICE_H_
#define PARLEY_CLIENT_DEVICE_H_

// The client core: one enrolled device talking to its server. Every
// front end (the CLI's command files, later the GUI) calls this API and only
// parses and prints. It holds the device's keys, its local state, a pinned
// TLS session and a session token, and does all the verifying, sealing,
// opening and bookkeeping.
//
// Not thread-safe except RequestStop; one Device per process and profile.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/auth.h"
#include "client/directory.h"
#include "client/identity.h"
#include "client/local_state.h"
#include "client/profile.h"
#include "client/session.h"
#include "crypto/clock.h"
#include "crypto/random.h"
#include "parley/v1/channels.pb.h"
#include "parley/v1/identity.pb.h"

namespace parley {

struct EnrollParams {
  std::string invite;  // as typed; surrounding whitespace is ignored
  std::string name;    // required for the bootstrap invite
};

// One row of `parley directory`.
struct DirectoryEntry {
  v1::Member member;
  std::string fingerprint;  // IdentityFingerprint of member.identity_key
  bool verified = false;    // verified out of band, key unchanged
  bool key_changed = false; // verified before, key differs now
};

struct VerifyResult {
  std::string name;
  std::string fingerprint;
  std::string pair_fingerprint;  // between this device and `name`
};

struct SendResult {
  uint64_t log_index = 0;
  bool duplicate = false;  // a retry of an envelope already logged
  std::string channel;
  uint64_t sequence = 0;
  std::string envelope_hash;
};

// A verified receipt from ListReceipts.
struct ReceiptView {
  uint64_t log_index = 0;
  std::string recipient;
  std::string level;  // "delivered", "acknowledged", "objected"
  int64_t time = 0;
  bool verified = false;
  std::string problem;  // why it did not verify
};

// What Sync reports, in log order.
struct SyncEvent {
  enum class Kind { kMessage, kReceipt, kChannel, kWarning };
  Kind kind = Kind::kMessage;
  uint64_t index = 0;
  StoredMessage message;     // kMessage
  ReceiptView receipt;       // kReceipt
  uint64_t envelope_index = 0;  // kReceipt: which envelope
  std::string channel;       // kChannel
  std::vector<std::string> members;  // kChannel
  std::string text;          // kChannel, kWarning: what happened
};

struct SyncOptions {
  // Stop after this long in total (inbox --wait N).
  absl::Duration wait = absl::ZeroDuration();
  // Stop once caught up: no delivery for `idle` (inbox --wait 0).
  bool until_caught_up = true;
  absl::Duration idle = absl::Seconds(1);
  // Run until RequestStop, reconnecting with backoff (watch).
  bool follow = false;
};

class Device {
 public:
  struct Options {
    ConnectOptions connect;
    PassphraseSource passphrase;
    Clock* clock = &SystemClock();
    Random* random = &SystemRandom();
  };

  // Creates the keystore and keys in `profile`, registers the device with
  // the invite and remembers the identity, the log origin and verifier key.
  // AlreadyExists if the profile is enrolled already. The keystore is
  // written before the server is asked, so a lost answer loses no key.
  static absl::StatusOr<std::unique_ptr<Device>> Enroll(
      const Profile& profile, const Options& options,
      const EnrollParams& params);

  // Opens an enrolled profile (asks for the passphrase).
  static absl::StatusOr<std::unique_ptr<Device>> Open(const Profile& profile,
                                                      const Options& options);

  const ProfileIdentity& identity() const { return identity_; }
  Session& session() { return *session_; }
  LocalState& state() { return state_; }

  // Online housekeeping every command runs first: rotates the signed prekey
  // when due (and erases private prekeys past grace), submits pending
  // receipts and sends queued envelopes. Returns warnings for the user.
  absl::StatusOr<std::vector<std::string>> Maintain();

  // Admin.
  absl::StatusOr<v1::Invite> CreateInvite(MemberRole role,
                                          const std::string& name,
                                          const std::string& organisation,
                                          absl::Duration expires_in);
  absl::StatusOr<uint64_t> Revoke(const std::string& name,
                                  const std::string& reason);

  // Key directory.
  absl::StatusOr<std::vector<DirectoryEntry>> ListDirectory();
  // Fetches `name`'s key bundle, verifies it against the log
  // (VerifyKeyBundleRecord) and records the identity key in the contact
  // table. A changed key is reported through `warnings`.
  absl::StatusOr<v1::KeyBundleRecord> FetchVerifiedBundle(
      const std::string& name, KeyBundle* bundle);
  // Records an out-of-band verification. DataLoss if `fingerprint` is not
  // the fingerprint of the key the verified directory holds.
  absl::StatusOr<VerifyResult> VerifyMember(const std::string& name,
                                            const std::string& fingerprint);

  // Channels.
  absl::StatusOr<v1::ChannelInfo> CreateChannel(
      const std::string& name, const std::vector<std::string>& members);
  absl::StatusOr<std::vector<v1::ChannelInfo>> ListChannels();

  // Seals `payload` to every current member of `channel` (each key bundle
  // verified against the log; a verified member whose key changed refuses
  // the send with FailedPrecondition), chains it after this device's last
  // envelope there, records it in the outbox and sends it.
  absl::StatusOr<SendResult> Send(const std::string& channel,
                                  const std::string& content_type,
                                  const std::string& payload);
  // Mediators: relays envelope `index` (which this device received) into
  // `channel`, verbatim (the original author verifiable) or anonymously.
  absl::StatusOr<SendResult> Relay(uint64_t index, const std::string& channel,
                                   RelayMode mode);

  // Receipts for envelope `index`, each verified against the recipient's
  // directory key and the envelope's hash.
  absl::StatusOr<std::vector<ReceiptView>> Receipts(uint64_t index);

  // Subscribes from the stored cursor: opens, verifies and stores every
  // envelope, signs and submits delivered receipts, moves the cursor, and
  // reports each new event to `sink` exactly once (entries already stored
  // are not reported again).
  absl::Status Sync(const SyncOptions& options,
                    const std::function<void(const SyncEvent&)>& sink);
  // Makes a running Sync return soon (from a signal-handling thread).
  void RequestStop() { stop_.store(true); }

  // Warnings collected by the last call (changed keys, ...).
  std::vector<std::string> TakeWarnings() { return std::move(warnings_); }

 private:
  Device(std::unique_ptr<Session> session, LocalState state,
         ProfileIdentity identity, DeviceKeys keys, SecureBuffer passphrase,
         LogTrust trust, const Options& options, std::string profile_dir);

  std::string KeystorePath() const;
  absl::StatusOr<std::string> MemberKey(const std::string& name);
  absl::StatusOr<std::string> MemberNameForKey(const std::string& key);
  absl::StatusOr<v1::ChannelInfo> FindChannel(const std::string& name);
  absl::StatusOr<SendResult> SendEnvelope(const PendingSend& send);
  absl::StatusOr<SendResult> SealAndSend(const std::string& channel,
                                         const std::string& content_type,
                                         const std::string& payload,
                                         RelayMode relay_mode,
                                         uint64_t relay_of);
  absl::Status FlushReceipts();
  absl::Status FlushOutbox();
  absl::StatusOr<std::string> FetchEntry(uint64_t index);
  absl::Status NoteCheckpoint(const SignedCheckpoint& checkpoint);
  // Opens one envelope entry into a StoredMessage (error filled on failure).
  StoredMessage OpenEntry(uint64_t index, int64_t logged_at_ms,
                          const EnvelopeEntry& entry);
  absl::Status HandleDelivery(const v1::Delivery& delivery,
                              const std::function<void(const SyncEvent&)>& sink);
  absl::Status SyncOnce(const SyncOptions& options, absl::Time deadline,
                        const std::function<void(const SyncEvent&)>& sink,
                        bool* received_any);

  std::unique_ptr<Session> session_;
  LocalState state_;
  ProfileIdentity identity_;
  DeviceKeys keys_;
  SecureBuffer passphrase_;
  LogTrust trust_;
  Clock& clock_;
  Random& random_;
  std::string profile_dir_;
  Authenticator auth_;
  std::vector<std::string> warnings_;
  std::atomic<bool> stop_{false};
};

}  // namespace parley

#endif  // PARLEY_CLIENT_DEVICE_H_
