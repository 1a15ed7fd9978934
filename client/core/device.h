#ifndef PARLEY_CLIENT_CORE_DEVICE_H_
#define PARLEY_CLIENT_CORE_DEVICE_H_

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
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/core/auth.h"
#include "client/core/directory.h"
#include "client/core/identity.h"
#include "client/core/local_state.h"
#include "client/core/log_client.h"
#include "client/core/message_limit.h"
#include "client/core/notification_client.h"
#include "client/core/outbox.h"
#include "client/core/profile.h"
#include "client/core/recipients.h"
#include "client/core/session.h"
#include "client/core/sync_event.h"
#include "client/deconfliction/notification_content.h"
#include "crypto/clock.h"
#include "crypto/envelope.h"
#include "crypto/random.h"
#include "parley/v1/channels.pb.h"
#include "parley/v1/identity.pb.h"
#include "parley/v1/notifications.pb.h"

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
  // Sealed and signed but not yet accepted by the server: it waits in the
  // outbox (log_index is 0) and the next online command, `parley sync` or
  // `parley watch` sends it.
  bool queued = false;
  std::string id;             // idempotency id (client message id, hex)
  std::string queued_reason;  // why it could not be sent now
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
    // Fail (Unavailable) instead of queueing work when the server cannot be
    // reached (--require-online).
    bool require_online = false;
    // The largest sealed envelope the server accepts; a sealed message or
    // notification over it is refused (InvalidArgument) before anything is
    // queued. 0: the limit the server reported at enrollment
    // (identity.json), or the documented default (client/core/message_limit.h)
    // for a server that did not report one.
    uint64_t max_message_bytes = 0;
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
  // The device's session token source, for calls made outside Device
  // (log proofs and audits in client/core/log_client.h).
  SessionAuthenticator& auth() { return auth_; }

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
  // reports each new event to `sink` exactly once (entries already stored are
  // not reported again). An entry that fails verification (CheckDeliveredEntry:
  // it does not decode, or a signature in it does not verify) is never skipped:
  // the events before it are reported and committed, the cursor stays before
  // it, its bytes are kept as evidence (client/core/rejected_entries.h), and
  // Sync returns DataLoss naming its index and the reason; the next Sync asks
  // for it again.
  absl::Status Sync(const SyncOptions& options,
                    const std::function<void(const SyncEvent&)>& sink);
  // Makes a running Sync return soon (from a signal-handling thread).
  void RequestStop() { stop_.store(true); }

  // Warnings collected by the last call (changed keys, ...).
  std::vector<std::string> TakeWarnings() { return std::move(warnings_); }

  // Offline outbox (client/core/outbox.h; sending: device_send.cc)
  //
  // Every piece of work that must reach the server exactly once (a sealed
  // envelope, a notification version, an answer to one) is signed, then
  // submitted through the outbox, which keeps it across lost connections
  // and crashes until the server has answered.
  Outbox& outbox() { return outbox_; }
  // Outbox::FlushWithRetries, Outbox::TakeFlushed and Outbox::Drop.
  absl::Status FlushOutboxWithRetries(int attempts, absl::Duration budget) {
    return outbox_.FlushWithRetries(attempts, budget);
  }
  std::vector<FlushedItem> TakeFlushed() { return outbox_.TakeFlushed(); }
  absl::Status DropQueued(const std::string& id, bool force) {
    return outbox_.Drop(id, force);
  }
  // `parley outbox resend ID`: seals the held send `id` and every later
  // send queued for its channel again, for the channel's current members,
  // after the server's record of this device's chain, with new ids and
  // creation times, then flushes. Online only.
  absl::StatusOr<std::vector<SendResult>> ResendHeld(const std::string& id);
  // Remembers every channel's members and their verified key bundles, so
  // `send` can seal while the server cannot be reached. Returns how many
  // channels were refreshed.
  absl::StatusOr<size_t> RefreshOfflineCache();

  // Movement and site notifications (client/core/notification_client.h).
  NotificationClient& notifications() { return notifications_; }
  const NotificationClient& notifications() const { return notifications_; }
  // The views' names from before the notification client was split out.
  using NotificationView = parley::NotificationView;
  using NotificationVersionView = parley::NotificationVersionView;
  using NotificationEvent = parley::NotificationEvent;
  // Called on the calling thread while log entries are fetched and proven
  // (ShowNotification, ExportProofBundle) with how many of the entries
  // being fetched are done, and the total; for a progress bar.
  void set_entry_progress(std::function<void(uint64_t, uint64_t)> progress) {
    log_.set_progress(std::move(progress));
  }

 private:
  Device(std::unique_ptr<Session> session, LocalState state,
         ProfileIdentity identity, DeviceKeys keys, SecureBuffer passphrase,
         LogTrust trust, const Options& options, Profile profile);

  std::string KeystorePath() const;
  // The member directory from the server, cached in the state.
  absl::StatusOr<std::vector<v1::Member>> ListMembers();
  absl::StatusOr<std::string> MemberKey(const std::string& name);
  absl::StatusOr<std::string> MemberNameForKey(const std::string& key);
  absl::StatusOr<v1::ChannelInfo> FindChannel(const std::string& name);
  absl::StatusOr<SendResult> SealAndSend(const std::string& channel,
                                         const std::string& content_type,
                                         const std::string& payload,
                                         RelayMode relay_mode,
                                         uint64_t relay_of);
  absl::Status FlushReceipts();
  // `s` with "did you mean NAME?" added when it names an unknown member
  // close to one in the directory.
  absl::Status WithMemberSuggestion(absl::Status s);
  // Seals `payload` for `channel` into a "send" outbox item. While `reach`
  // is online it asks the server for the members, their bundles and this
  // device's chain (falling back to the offline cache if it cannot be
  // reached, then marking `reach` offline); else only the cache and the
  // local chain.
  absl::StatusOr<OutboxItem> SealForChannel(const std::string& channel,
                                            const std::string& content_type,
                                            const std::string& payload,
                                            RelayMode relay_mode,
                                            uint64_t relay_of, Reach& reach,
                                            ChainState* chain_after);
  // Opens one envelope entry into a StoredMessage (error filled on failure).
  StoredMessage OpenEntry(uint64_t index, int64_t logged_at_ms,
                          const EnvelopeEntry& entry);
  // Sync's answer to a delivered entry that failed verification (`failure`,
  // from CheckDeliveredEntry): keeps the bytes as evidence
  // (client/core/rejected_entries.h) and returns DataLoss naming the index, the
  // reason and where the bytes are. The cursor is not moved, so the entry
  // is fetched again on the next sync.
  absl::Status RefuseDelivery(uint64_t index, const v1::Delivery& delivery,
                              const absl::Status& failure);
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
  SessionAuthenticator auth_;
  std::vector<std::string> warnings_;
  std::atomic<bool> stop_{false};
  // Whom to seal to, with which verified keys (online or cached).
  RecipientResolver recipients_;
  Outbox outbox_;
  // Checkpoints met and entries proven (client/core/log_client.h).
  DeviceLog log_;
  NotificationClient notifications_;
  bool require_online_ = false;
  uint64_t max_message_bytes_ = kDefaultMaxMessageBytes;
};

}  // namespace parley

#endif  // PARLEY_CLIENT_CORE_DEVICE_H_
