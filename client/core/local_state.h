#ifndef PARLEY_CLIENT_CORE_LOCAL_STATE_H_
#define PARLEY_CLIENT_CORE_LOCAL_STATE_H_

// What a device remembers between runs, in its profile directory (all files
// 0600, written atomically, the directory 0700):
//
//   identity.json   who this device is: member name, role, identity key, and
//                   the server's log origin and verifier key (trusted on
//                   first use at enrollment). Public facts, kept in clear:
//                   it is read before the passphrase is asked.
//   contacts.bin    members' identity keys as first seen (TOFU) and which of
//                   them were verified out of band
//   state.bin       the delivery cursor, this device's chain per channel,
//                   (older clients: the last checkpoint it trusted, now in
//                   checkpoint.json, client/core/log_client.h), receipts not
//                   yet submitted, work not yet accepted by the server (the
//                   outbox), and what offline sealing needs: the members of
//                   each channel and their verified key bundles
//   messages.bin    decrypted messages, one record each, appended and synced
//                   before the cursor moves past them
//   notifications.bin
//                   decrypted notification versions, one record each, kept
//                   like messages.bin
//   entries.bin     log entries whose inclusion this device verified (a
//                   cache: an entry verified once is not fetched again)
//
// The .bin files are sealed with the state key (client/core/sealed_file.h);
// files of an older client (contacts.json, state.json, messages.jsonl,
// notifications.jsonl) are sealed and removed when a profile is opened.
//
// Not thread-safe; one process uses a profile at a time.

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "crypto/secure_buffer.h"
#include "storage/tlog/log_entry.h"

namespace parley {

// The enrolled identity of this profile.
struct ProfileIdentity {
  std::string name;
  MemberRole role = MemberRole::kParty;
  std::string organisation;
  std::string identity_key;  // 32-byte Ed25519 public key
  std::string origin;        // the log's origin line
  std::string verifier_key;  // C2SP verifier key of the log, pinned
  uint64_t registration_index = 0;
  // Key id of the signed prekey the server last accepted from this device.
  uint32_t published_prekey_id = 0;
  // The largest envelope the server accepts, as it reported it at enrollment
  // (Info/GetServerInfo max_message_bytes); 0 if it did not.
  uint64_t server_max_message_bytes = 0;
};

// A member's identity key as this device knows it.
struct Contact {
  std::string name;
  std::string identity_key;  // the key last seen in the verified directory
  // The key the user verified out of band, if any. Sending is refused while
  // it differs from identity_key.
  std::string verified_key;
  std::string previous_key;  // the key before the last change, if any

  bool verified() const {
    return !verified_key.empty() && verified_key == identity_key;
  }
  bool verified_key_changed() const {
    return !verified_key.empty() && verified_key != identity_key;
  }
};

// What ObserveMemberKey found.
enum class KeyObservation {
  kFirstSeen,  // trusted on first use
  kSame,
  kChanged,    // a different key than before: say so loudly
};

// This device's own hash chain in one channel.
struct ChainState {
  uint64_t next_sequence = 0;
  std::string last_hash = std::string(32, '\0');
};

// A receipt signed but not yet accepted by the server.
struct PendingReceipt {
  uint64_t envelope_index = 0;
  std::string receipt;
};

// Work signed and recorded before it is sent, so a retry after a crash or a
// lost answer sends the same bytes (the server deduplicates on the sender and
// the idempotency id, and answers a retry with the original log index).
struct OutboxItem {
  // The idempotency id, hex: the envelope's client message id for "send"
  // and "notify"; for "ack" a local id (the server recognises a retry by
  // the identical signed receipt).
  std::string id;
  // What `request` is: "send" (a sealed envelope), "notify" (a serialized
  // parley.v1.NotifyRequest), "ack" (a serialized
  // parley.v1.AcknowledgeRequest). Outbox::Send (client/core/outbox.cc)
  // sends each kind.
  std::string kind = "send";
  // Ordering key (the channel for "send", "n/" + id for notification
  // work): items with the same key go in the order queued, and one refused
  // for good holds back those after it.
  std::string channel;
  // For people (`parley outbox`): what the item does, e.g. "acknowledge
  // receipt of mv-1 version 2". Empty for "send" (the channel says it).
  std::string description;
  std::string request;
  RelayMode relay_mode = RelayMode::kNone;
  uint64_t relay_of = 0;
  // What was sealed ("send"), so `parley outbox resend` can seal it again
  // for the channel's current members after a refusal.
  std::string content_type;
  std::string payload;
  int64_t created_at = 0;    // unix seconds, as signed (servers refuse > 7 d)
  int64_t queued_at_ms = 0;  // when it entered the outbox
  uint32_t attempts = 0;     // sends tried that got no answer
  std::string last_error;    // the last transient failure
  // Non-empty: the server refused it for good (too old, recipients changed,
  // out of order, not a member any more) and why. It stays until the user
  // resends or drops it.
  std::string held;
};
using PendingSend = OutboxItem;

// A member as the directory last listed it, for sealing notification work
// while the server cannot be reached (the audience depends on roles and
// organisations).
struct CachedMember {
  std::string name;
  MemberRole role = MemberRole::kParty;
  std::string organisation;
  bool revoked = false;
};

// A message as received and opened, or the reason it could not be opened.
struct StoredMessage {
  uint64_t index = 0;
  int64_t logged_at_ms = 0;
  std::string channel;
  std::string sender;        // member name (the envelope's signer)
  uint64_t sequence = 0;
  int64_t created_at = 0;
  std::string content_type;  // of the payload as shown (after unwrapping)
  std::string body;          // plaintext (file payload: the file's bytes)
  std::string filename;      // for application/octet-stream
  std::string envelope_hash;
  RelayMode relay_mode = RelayMode::kNone;
  uint64_t relay_of = 0;
  // Verbatim relays: the original author and whether their key matched the
  // key directory. Anonymous relays leave these empty.
  std::string original_sender;
  bool original_verified = false;
  std::string error;  // non-empty: the envelope could not be opened
};

class LocalState {
 public:
  // Loads the state files from `dir` (missing files are empty state),
  // opening them with `state_key` (DeriveStateKey, client/core/sealed_file.h).
  // DataLoss naming the file if one is corrupted, truncated, or sealed under
  // another key (another identity's profile). Unknown files are ignored.
  static absl::StatusOr<LocalState> Open(const std::string& dir,
                                         SecureBuffer state_key);

  // identity.json of `dir`. NotFound (saying to enroll) if it has none.
  static absl::StatusOr<ProfileIdentity> LoadIdentityFrom(
      const std::string& dir);
  static bool HasIdentityIn(const std::string& dir);

  const std::string& dir() const { return dir_; }

  absl::StatusOr<ProfileIdentity> LoadIdentity() const {
    return LoadIdentityFrom(dir_);
  }
  bool HasIdentity() const { return HasIdentityIn(dir_); }
  absl::Status SaveIdentity(const ProfileIdentity& identity);

  // Contacts.
  std::optional<Contact> FindContact(const std::string& name) const;
  std::optional<Contact> FindContactByKey(const std::string& key) const;
  const std::map<std::string, Contact>& contacts() const { return contacts_; }
  // Records `key` as the current key of `name` (from a verified directory
  // answer) and says whether it is new, the same, or changed.
  absl::StatusOr<KeyObservation> ObserveMemberKey(const std::string& name,
                                                  const std::string& key);
  // Records that the user verified `key` for `name` out of band.
  absl::Status MarkVerified(const std::string& name, const std::string& key);
  // OK unless `name` was verified and its key has changed since:
  // FailedPrecondition carrying KeyChangedPayload, saying to verify again.
  absl::Status CheckSendable(const std::string& name) const;

  // Delivery cursor: the last log index processed, if any.
  std::optional<uint64_t> cursor() const { return cursor_; }

  ChainState Chain(const std::string& channel) const;
  absl::Status SetChain(const std::string& channel, const ChainState& chain);

  // The largest checkpoint an older client verified (size 0: none). Kept
  // only until Device::NoteCheckpoint migrates it into the profile's one
  // record, checkpoint.json (it then sets size 0).
  uint64_t trusted_size() const { return trusted_size_; }
  const std::string& trusted_root() const { return trusted_root_; }
  absl::Status SetTrustedCheckpoint(uint64_t size, const std::string& root);

  const std::vector<PendingReceipt>& pending_receipts() const {
    return pending_receipts_;
  }
  // Forgets the first `n` pending receipts (accepted by the server).
  absl::Status DropPendingReceipts(size_t n);

  // The outbox, in the order queued.
  const std::vector<OutboxItem>& outbox() const { return outbox_; }
  const OutboxItem* FindOutboxItem(const std::string& id) const;
  // Appends `item` and, in the same atomic write, sets the chain of
  // item.channel to `chain_after` if given (the chain then includes it).
  absl::Status AddToOutbox(const OutboxItem& item,
                           const std::optional<ChainState>& chain_after =
                               std::nullopt);
  // Appends `items`, in order, in one atomic write (a batch of work sealed
  // together: one write instead of one per item).
  absl::Status AddToOutbox(const std::vector<OutboxItem>& items);
  // Replaces the item with id `id` in place (NotFound if there is none).
  absl::Status UpdateOutboxItem(const std::string& id, const OutboxItem& item);
  absl::Status RemoveFromOutbox(const std::string& id);
  // In one atomic write: removes the items whose ids are in `remove` and
  // replaces in place each queued item with the id of one in `update`
  // (ids not queued are ignored).
  absl::Status ChangeOutbox(const std::set<std::string>& remove,
                            const std::vector<OutboxItem>& update);

  // What sealing offline needs, refreshed whenever the server answers.
  std::optional<std::vector<std::string>> CachedChannelMembers(
      const std::string& channel) const;
  absl::Status CacheChannelMembers(const std::string& channel,
                                   const std::vector<std::string>& members);
  // A serialized KeyBundle verified against the log when it was fetched.
  std::optional<std::string> CachedKeyBundle(const std::string& name) const;
  absl::Status CacheKeyBundle(const std::string& name,
                              const std::string& bundle);

  // The directory's member list, as last fetched (empty: never).
  const std::vector<CachedMember>& cached_members() const {
    return cached_members_;
  }
  absl::Status CacheMembers(const std::vector<CachedMember>& members);

  // Notification versions opened by Sync: each record is a JSON object
  // with at least "index" (the log index), written by Device. Appended and
  // synced like messages; the count is committed with the next state write
  // (CommitDelivery).
  bool HasNotification(uint64_t index) const {
    return notification_indexes_.count(index);
  }
  absl::Status AppendNotification(uint64_t index, const std::string& record);
  // Every record in the order stored. DataLoss if the file is corrupted.
  absl::StatusOr<std::vector<std::string>> NotificationRecords() const;

  // Log entries whose inclusion was verified against a checkpoint this
  // device trusted (entries never change once logged). Loaded on first
  // use; DataLoss if entries.bin is corrupted.
  absl::StatusOr<std::optional<std::string>> VerifiedEntry(uint64_t index);
  // Appends `entries` (index, exact leaf bytes) in one synced write.
  absl::Status AddVerifiedEntries(
      const std::vector<std::pair<uint64_t, std::string>>& entries);

  // Messages.
  bool HasMessage(uint64_t index) const { return message_indexes_.count(index); }
  absl::StatusOr<std::vector<StoredMessage>> Messages() const;
  absl::StatusOr<std::optional<StoredMessage>> FindMessage(
      uint64_t index) const;

  // Records that log entry `index` was processed: appends `message` (if
  // any, and not already stored) to messages.bin and syncs it, then, in
  // one atomic write of state.bin, adds `receipt` (if any) to the pending
  // receipts and moves the cursor to `index`. A crash in between leaves the
  // message stored and the cursor behind, so the entry is delivered again
  // and recognised by its index.
  absl::Status CommitDelivery(uint64_t index,
                              const std::optional<StoredMessage>& message,
                              const std::optional<PendingReceipt>& receipt);

 private:
  LocalState(std::string dir, SecureBuffer key)
      : dir_(std::move(dir)), key_(std::move(key)) {}
  // Reads sealed file `file` (or, if absent, the legacy plaintext
  // `legacy`, noting it for migration); nullopt if neither exists.
  absl::StatusOr<std::optional<std::string>> ReadSealed(const char* file,
                                                        const char* role,
                                                        const char* legacy);
  absl::Status WriteSealed(const char* file, const char* role,
                           const std::string& plaintext) const;
  absl::Status LoadContacts();
  absl::Status LoadState();
  absl::Status LoadMessageIndexes();
  absl::Status LoadNotificationIndexes();
  absl::Status LoadVerifiedEntries();
  absl::Status MigrateLegacyFiles();
  absl::Status SaveContacts() const;
  absl::Status SaveState() const;
  std::string Path(const char* file) const;

  std::string dir_;
  SecureBuffer key_;
  std::vector<std::string> legacy_files_;
  // Records in messages.bin as of the last state write: fewer on disk means
  // committed messages were lost.
  uint64_t message_records_ = 0;
  uint64_t notification_records_ = 0;  // likewise for notifications.bin
  std::vector<CachedMember> cached_members_;
  std::set<uint64_t> notification_indexes_;
  std::optional<std::map<uint64_t, std::string>> verified_entries_;
  std::map<std::string, std::vector<std::string>> channel_members_;
  std::map<std::string, std::string> key_bundles_;
  std::map<std::string, Contact> contacts_;
  std::optional<uint64_t> cursor_;
  std::map<std::string, ChainState> chains_;
  uint64_t trusted_size_ = 0;
  std::string trusted_root_;
  std::vector<PendingReceipt> pending_receipts_;
  std::vector<OutboxItem> outbox_;
  std::set<uint64_t> message_indexes_;
};

// Type URL of the payload that CheckSendable attaches to its error, so
// front ends can tell a changed verified key from other preconditions.
inline constexpr char kKeyChangedPayload[] = "parley.dev/key-changed";

}  // namespace parley

#endif  // PARLEY_CLIENT_CORE_LOCAL_STATE_H_
