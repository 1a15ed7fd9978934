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
#include "client/core/message_limit.h"
#include "client/core/profile.h"
#include "client/core/recipients.h"
#include "client/core/session.h"
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

// The server's answer to one piece of outbox work.
struct OutboxAnswer {
  uint64_t log_index = 0;
  bool duplicate = false;  // the server had it already (a retry)
  std::string response;    // the server's whole answer, serialized proto
};

// What Device::SubmitQueued did with one piece of work.
struct SubmitResult {
  std::string id;
  bool queued = false;  // true: in the outbox, "queued, not yet sent"
  OutboxAnswer answer;  // when sent
  std::string reason;   // when queued: why it was not sent now
};

// One outbox item the server accepted during a flush.
struct FlushedItem {
  OutboxItem item;
  OutboxAnswer answer;
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
  enum class Kind { kMessage, kReceipt, kChannel, kNotification, kWarning };
  Kind kind = Kind::kMessage;
  uint64_t index = 0;
  StoredMessage message;     // kMessage
  ReceiptView receipt;       // kReceipt
  uint64_t envelope_index = 0;  // kReceipt: which envelope
  std::string channel;       // kChannel
  std::vector<std::string> members;  // kChannel
  std::string text;          // kChannel, kNotification, kWarning
  // kNotification: a logged event about a notification (a version, an
  // acknowledgement or objection, an escalation step, a cancellation, a
  // status); kReceipt for a notification version: its id.
  std::string notification_id;
  std::string entry_type;    // kNotification: log entry type name
  uint32_t version = 0;      // kNotification
  std::string member;        // kNotification: issuer, party, poster
  std::string error;         // kNotification: could not open or verify
  // kNotification, escalation entries: "reminder", "escalation",
  // "second-escalation" or "review-due" (EscalationName).
  std::string step;
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

  // Offline outbox (device_outbox.cc)
  //
  // Seal now, queue, try to send, report queued: the one path for work that
  // must reach the server exactly once even over a broken network. `item`
  // is already signed and carries its idempotency id; its kind must be one
  // SendOutboxItem knows (add a case there for a new kind). Records it in
  // the outbox (with `chain_after` as the channel's chain, in the same
  // write), then sends the outbox in order. Returns:
  //   sent:     answer filled (duplicate: the server had it already);
  //   queued:   the server could not be reached, or earlier work in the
  //             same ordering key is held; it stays in the outbox;
  //   an error: the server refused it for good (it is taken out again), or
  //             Unavailable with Options::require_online (taken out again;
  //             if the request did reach the server, a later retry of the
  //             same bytes would be answered as a duplicate).
  absl::StatusOr<SubmitResult> SubmitQueued(
      OutboxItem item,
      const std::optional<ChainState>& chain_after = std::nullopt);
  // Sends queued work in order, retrying transient failures with
  // exponential backoff and jitter, at most `attempts` times within
  // `budget`. Work the server refuses for good is held with the reason
  // (never dropped) and holds back later work with the same ordering key.
  // OK when nothing sendable is left; else the last transient error.
  absl::Status FlushOutboxWithRetries(int attempts, absl::Duration budget);
  // Items the server accepted since the last call, in order.
  std::vector<FlushedItem> TakeFlushed() { return std::move(flushed_); }
  // `parley outbox drop ID`: forgets queued work (NotFound if unknown).
  // Refuses (FailedPrecondition) a "send" that is not held, unless `force`:
  // it may already have reached the server.
  absl::Status DropQueued(const std::string& id, bool force);
  // `parley outbox resend ID`: seals the held send `id` and every later
  // send queued for its channel again, for the channel's current members,
  // after the server's record of this device's chain, with new ids and
  // creation times, then flushes. Online only.
  absl::StatusOr<std::vector<SendResult>> ResendHeld(const std::string& id);
  // Remembers every channel's members and their verified key bundles, so
  // `send` can seal while the server cannot be reached. Returns how many
  // channels were refreshed.
  absl::StatusOr<size_t> RefreshOfflineCache();

  // Notifications (device_notifications.cc)
  //
  // Movement and site notifications (PROTOCOL.md section 15). Content is
  // sealed to the audience: the parties, every unrevoked mediator and the
  // coordinators of this device's organisation, each key bundle verified
  // against the log. "Acknowledged" always means acknowledged receipt.
  struct NotifyResult {
    uint64_t log_index = 0;
    uint32_t version = 0;
    bool duplicate = false;
    bool late = false;
    int64_t lead_time_seconds = 0;
    int64_t required_lead_time_seconds = 0;
    std::vector<FieldChange> changes;  // amendments: against the old version
    // Sealed and signed but not yet accepted (the server could not be
    // reached): it waits in the outbox as `outbox_id`; log_index is 0.
    bool queued = false;
    std::string outbox_id;
    std::string queued_reason;
  };
  // What AcknowledgeNotification did.
  struct AckResult {
    uint32_t version = 0;  // the version answered
    uint64_t log_index = 0;
    bool duplicate = false;
    bool queued = false;  // as NotifyResult::queued
    std::string outbox_id;
    std::string queued_reason;
  };
  // One logged event about a notification, opened where it is encrypted.
  struct NotificationEvent {
    uint64_t index = 0;
    int64_t logged_at_ms = 0;
    std::string kind;   // log entry type name ("notification-ack", ...)
    uint32_t version = 0;
    std::string member;  // party, poster or canceller
    std::string text;    // what happened, for people
    std::string error;   // could not open or verify
    std::string step;    // escalation entries: as SyncEvent::step
  };
  struct NotificationVersionView {
    uint32_t version = 0;
    uint64_t log_index = 0;
    int64_t logged_at_ms = 0;
    bool late = false;
    std::string envelope_hash;
    std::optional<NotificationContent> content;
    std::string error;  // non-empty: content could not be opened
  };
  struct NotificationView {
    v1::NotificationState state;
    // Ascending; a party sees only the current version.
    std::vector<NotificationVersionView> versions;
    std::vector<NotificationEvent> events;  // log order (not for parties)
  };
  // Validates `content` (InvalidArgument listing every problem), seals it
  // and submits it through the outbox (SubmitQueued, kind "notify", the
  // envelope's client message id as idempotency id). Version 1 is new; a
  // later version must supersede the current one (FailedPrecondition
  // otherwise) and needs the server. A new notification can be sealed
  // while the server cannot be reached from the member list and verified
  // key bundles this device cached when online; then it is queued
  // (NotifyResult::queued). Unavailable, saying why, when the cache lacks
  // them or with Options::require_online.
  absl::StatusOr<NotifyResult> Notify(const NotificationContent& content);
  // One notification of NotifyBatch.
  struct BatchNotification {
    NotificationContent content;
    // The id was derived from the notification's source (a line of a file,
    // DeriveNotificationId), so the same source always names the same
    // notification: the server's "already exists" for a version 1 this
    // device's member issued is then answered as a duplicate (an earlier
    // run logged it), not as an error.
    bool derived_id = false;
  };
  struct BatchOptions {
    // Notify calls in flight at once.
    int max_in_flight = 8;
    // Called on this thread with each item's index and result, as each
    // group of items is answered.
    std::function<void(size_t, const absl::StatusOr<NotifyResult>&)> on_result;
  };
  // `notify --from-file`: Notify for every item, in bulk. The directory is
  // listed once and each audience member's key bundle verified once for the
  // whole batch (a member first named by a later item is verified then;
  // if the server says the audience changed meanwhile, both are fetched
  // again and the item sealed again, once). New notifications (version 1)
  // are sealed and recorded in the outbox a group at a time (one state
  // write per group, not per item) and sent with up to max_in_flight calls
  // in flight; calls the server's rate limit refuses wait and go again
  // (SessionAuthenticator::Call), so a long batch runs at the server's pace.
  // Amendments, and notifications with work already queued under the same
  // id, go one at a time through Notify, in their place. Returns one result
  // per item, in order, each as Notify's: queued when the server cannot be
  // reached, the server's refusal otherwise.
  std::vector<absl::StatusOr<NotifyResult>> NotifyBatch(
      const std::vector<BatchNotification>& items,
      const BatchOptions& options);
  // A notification id derived from `source` and this device's identity
  // secret: `prefix` and 16 hex digits, the same for the same source on
  // every run, unlinkable to the source by anyone without the keystore.
  std::string DeriveNotificationId(std::string_view prefix,
                                   std::string_view source) const;
  // Also remembers the states for this Device's lifetime: ShowNotification
  // of a listed id then uses the listed state, and its first call fetches
  // the entries of every listed notification in one batch (`notifications
  // export` lists then shows each).
  absl::StatusOr<std::vector<v1::NotificationState>> ListNotifications();
  // NotFound if this device is not in the notification's audience. Log
  // entries come from the verified-entry cache (LocalState::VerifiedEntry)
  // or are fetched in parallel and verified against one checkpoint.
  absl::StatusOr<NotificationView> ShowNotification(const std::string& id);
  // Called on the calling thread while log entries are fetched and proven
  // (ShowNotification, ExportProofBundle) with how many of the entries
  // being fetched are done, and the total; for a progress bar.
  void set_entry_progress(std::function<void(uint64_t, uint64_t)> progress) {
    entry_progress_ = std::move(progress);
  }
  // Parties: acknowledged receipt of the current version, or (with a
  // non-empty `objection`) objected, the reason sealed to the issuer side.
  // Signed, then submitted through the outbox (kind "ack"). When the
  // server cannot be reached, answers the latest version this device
  // received and opened (Sync stored it) and queues the answer
  // (AckResult::queued); if that version was superseded meanwhile the
  // server refuses it and it is held. Unavailable, saying why, when this
  // device never received the notification, or with require_online.
  // FailedPrecondition if an answer to `id` is already queued.
  absl::StatusOr<AckResult> AcknowledgeNotification(
      const std::string& id, const std::string& objection);
  absl::StatusOr<uint64_t> CancelNotification(const std::string& id,
                                              const std::string& reason);
  absl::StatusOr<uint64_t> PostNotificationStatus(const std::string& id,
                                                  const std::string& status,
                                                  const std::string& note,
                                                  bool final);
  // A parley-proof/v1 bundle of every entry this device may see about `id`
  // against one fresh checkpoint (a party: its own view), with the
  // registrations of every signer. Checked before it is returned.
  absl::StatusOr<std::string> ExportProofBundle(const std::string& id);
  // Notifications opened by Sync, as stored in the profile.
  absl::StatusOr<std::vector<NotificationVersionView>> StoredNotifications()
      const;

 private:
  absl::Status HandleNotificationDelivery(
      uint64_t index, const LogEntry& entry,
      const std::function<void(const SyncEvent&)>& sink);
  // The member directory from the server, cached in the state.
  absl::StatusOr<std::vector<v1::Member>> ListMembers();
  // Validates and seals `content` into a "notify" outbox item, not yet
  // queued; fills result->version and, for an amendment, result->changes.
  // While `reach` is online it asks the server (the current version of an
  // amendment, the directory, key bundles); it marks `reach` offline when
  // the server cannot be reached and the cached directory and bundles were
  // used instead.
  absl::StatusOr<OutboxItem> SealNotification(
      const NotificationContent& content, Reach& reach, NotifyResult* result);
  // `result` completed with the server's answer to a "notify" item.
  absl::StatusOr<NotifyResult> NotifyAnswered(const OutboxAnswer& answer,
                                              NotifyResult result);
  // For a derived id (BatchNotification::derived_id) the server refused
  // with AlreadyExists: the notification as logged, as a duplicate, when
  // this device's member issued it; else `refused`.
  absl::StatusOr<NotifyResult> LoggedBefore(const std::string& id,
                                            const absl::Status& refused);
  // Seals, queues and sends `indexes` of `items` together (NotifyBatch).
  void NotifyGroup(const std::vector<BatchNotification>& items,
                   const std::vector<size_t>& indexes, int max_in_flight,
                   std::vector<absl::StatusOr<NotifyResult>>* results);
  absl::StatusOr<std::string> SealNotificationEnvelope(
      const std::string& channel, const std::vector<std::string>& audience,
      const std::string& content_type, const std::string& payload,
      uint64_t sequence, const std::string& previous_hash,
      const Reach& reach = Reach(), std::string* client_message_id = nullptr);
  // A notification version as Sync stored it (notifications.bin).
  struct KnownVersion {
    std::string id;
    uint32_t version = 0;
    std::string issuer;
    std::string envelope_hash;
    std::vector<std::string> parties;
    bool opened = false;  // its content opened and checked
  };
  // Stored versions by log index, read once per Device.
  absl::StatusOr<const std::map<uint64_t, KnownVersion>*> KnownVersions();
  // Entries `indexes` (exact leaf bytes), each verified: from the cache,
  // else fetched in parallel and proven against one checkpoint (consistent
  // with the trusted one), then cached.
  absl::StatusOr<std::map<uint64_t, std::string>> FetchVerifiedEntries(
      const std::vector<uint64_t>& indexes);
  // One entry proven in the tree of a checkpoint.
  struct ProvenEntry {
    std::string leaf;        // exact entry bytes
    std::string tlog_proof;  // the server's c2sp.org/tlog-proof@v1 text
  };
  // Inclusion proofs of `indexes` (distinct) in the tree of `checkpoint`,
  // which this device verified, fetched kProofFetchThreads at a time and
  // each checked against the checkpoint's root. With a non-empty
  // `checkpoint_note`, each proof must also carry exactly that note and a
  // tlog-proof (for bundles). DataLoss names the first entry that fails.
  absl::StatusOr<std::map<uint64_t, ProvenEntry>> ProveEntries(
      const std::vector<uint64_t>& indexes, const SignedCheckpoint& checkpoint,
      const std::string& checkpoint_note);
  absl::StatusOr<NotificationView> ShowState(
      const v1::NotificationState& state);
  absl::StatusOr<OpenedEnvelope> OpenSigned(const std::string& envelope,
                                            const std::string& signer,
                                            const std::string& channel);
  absl::StatusOr<v1::NotificationState> GetNotificationState(
      const std::string& id);
  NotificationEvent DescribeNotificationEntry(uint64_t index,
                                              const LogEntry& entry);
  NotificationVersionView OpenVersion(uint64_t index, const LogEntry& entry);
  // End of notifications.

 private:
  Device(std::unique_ptr<Session> session, LocalState state,
         ProfileIdentity identity, DeviceKeys keys, SecureBuffer passphrase,
         LogTrust trust, const Options& options, std::string profile_dir);

  std::string KeystorePath() const;
  absl::StatusOr<std::string> MemberKey(const std::string& name);
  absl::StatusOr<std::string> MemberNameForKey(const std::string& key);
  absl::StatusOr<v1::ChannelInfo> FindChannel(const std::string& name);
  absl::StatusOr<SendResult> SendEnvelope(const OutboxItem& send);
  // Queued envelopes in one Channels/SendBatch (all or none). On success
  // records each as SendEnvelope does, adds it to flushed_ and takes it out
  // of the outbox.
  absl::Status SendEnvelopeBatch(const std::vector<OutboxItem>& sends);
  // After the server logged `send` (`parsed` is its envelope): advances
  // the local chain.
  absl::StatusOr<SendResult> RecordSent(const OutboxItem& send,
                                        const ParsedEnvelope& parsed,
                                        const v1::SendResponse& response);
  absl::StatusOr<SendResult> SealAndSend(const std::string& channel,
                                         const std::string& content_type,
                                         const std::string& payload,
                                         RelayMode relay_mode,
                                         uint64_t relay_of);
  absl::Status FlushReceipts();
  // One pass over the outbox (see FlushOutboxWithRetries). Returns the
  // first transient error (later work is not tried) or a local error.
  absl::Status FlushOutbox();
  absl::StatusOr<OutboxAnswer> SendOutboxItem(const OutboxItem& item);
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
  absl::StatusOr<std::string> FetchEntry(uint64_t index);
  // Checks `checkpoint` (verified under the pinned key; `note` its signed
  // text) against every checkpoint this profile trusts and, if it is the
  // newest, records it. The one record is PROFILE/checkpoint.json
  // (client/core/log_client.h, shared with `parley log verify`); what an older
  // client kept in state.bin is checked too and, once the record covers it,
  // dropped. DataLoss when the log forked or the record is not this log's.
  absl::Status NoteCheckpoint(const SignedCheckpoint& checkpoint,
                              const std::string& note);
  // OK if `offered` and `trusted` are the same tree or one extends the
  // other (a consistency proof from the server); DataLoss otherwise.
  absl::Status CheckConsistent(const SignedCheckpoint& trusted,
                               const SignedCheckpoint& offered);
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
  std::vector<FlushedItem> flushed_;
  // Why the server refused outbox items for good, by id (this run).
  std::map<std::string, absl::Status> refusals_;
  std::optional<std::map<uint64_t, KnownVersion>> known_versions_;
  // Whom to seal to, with which verified keys (online or cached).
  RecipientResolver recipients_;
  // ListNotifications' answer (see there); prefetched_: its entries were
  // fetched.
  std::map<std::string, v1::NotificationState> listed_;
  bool prefetched_ = false;
  std::function<void(uint64_t, uint64_t)> entry_progress_;
  // The checkpoint FetchVerifiedEntries proves against, for this Device.
  std::optional<SignedCheckpoint> proof_checkpoint_;
  std::string proof_checkpoint_note_;
  bool require_online_ = false;
  uint64_t max_message_bytes_ = kDefaultMaxMessageBytes;
  std::atomic<bool> stop_{false};
};

}  // namespace parley

#endif  // PARLEY_CLIENT_CORE_DEVICE_H_
