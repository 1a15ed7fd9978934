#ifndef PARLEY_STORAGE_TLOG_LOG_ENTRY_H_
#define PARLEY_STORAGE_TLOG_LOG_ENTRY_H_

// Typed, versioned log entries: the events parleyd records, one per Merkle
// leaf. The encoding is canonical (crypto/wire.h) and normative in
// docs/PROTOCOL.md ("Log entries"), so auditors and clients decode exactly
// what was hashed into the tree. Pure: no RocksDB, no I/O. Thread-safe.

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"

namespace parley {

inline constexpr uint8_t kLogEntryVersion = 1;

enum class EntryType : uint8_t {
  kInviteCreated = 1,
  kMemberRegistered = 2,
  kKeyBundlePublished = 3,
  kMemberRevoked = 4,
  kChannelCreated = 5,
  kChannelMembersChanged = 6,
  kEnvelope = 7,
  kReceipt = 8,
  kNotificationVersion = 9,
  kNotificationAck = 10,
  kEscalation = 11,
  kNotificationCancelled = 12,
  kNotificationStatus = 13,
};

// Role numbers match parley.v1.Role.
enum class MemberRole : uint8_t {
  kAdmin = 1,
  kMediator = 2,
  kCoordinator = 3,
  kParty = 4,
  kObserver = 5,
};

// "admin", "mediator", ...; empty for an unknown value.
std::string_view RoleName(MemberRole role);
// Parses a role name; InvalidArgument listing the valid names otherwise.
absl::StatusOr<MemberRole> ParseRoleName(std::string_view name);

// The audience rule of docs/PROTOCOL.md section 12, for everyone but the
// issuer and the parties (who are always in it): whether a member with
// `role`, `revoked` and `organisation` hears of a notification issued from
// `issuer_organisation`. Every unrevoked mediator does, and every unrevoked
// coordinator of the issuer's organisation; an issuer without an
// organisation shares its notifications with no other coordinator. The
// server, the client and the load generator all decide with this.
bool JoinsNotificationAudience(MemberRole role, bool revoked,
                               std::string_view organisation,
                               std::string_view issuer_organisation);

// Relay modes match parley.v1.RelayMode.
enum class RelayMode : uint8_t { kNone = 0, kVerbatim = 1, kAnonymous = 2 };

struct InviteCreated {
  std::string invite_hash;  // SHA-256 of the invite code (32 bytes)
  MemberRole role = MemberRole::kParty;
  std::string name;
  std::string organisation;
  int64_t expires_at = 0;   // Unix seconds
  std::string created_by;   // admin's name; "" for the bootstrap invite
};

struct MemberRegistered {
  std::string name;
  MemberRole role = MemberRole::kParty;
  std::string organisation;
  std::string invite_hash;  // the invite redeemed
  std::string key_bundle;   // crypto/prekey.h KeyBundle bytes
  std::string signature;    // enrollment statement signature (64 bytes)
};

struct KeyBundlePublished {
  std::string name;
  std::string key_bundle;
  std::string signature;    // rotation statement signature (64 bytes)
};

struct MemberRevoked {
  std::string name;
  std::string revoked_by;
  std::string reason;
};

struct ChannelCreated {
  std::string channel;
  std::string created_by;
  std::vector<std::string> members;  // sorted, creator included
  // 16 random bytes, or empty in entries written before salts existed.
  // Only for the leaf hash: this entry holds no signature or ciphertext, so
  // without it a member who may not read it could confirm a guess of its
  // fields against the leaf hash it is sent (PROTOCOL.md 11.13).
  std::string salt;
};

struct ChannelMembersChanged {
  std::string channel;
  std::string changed_by;
  std::vector<std::string> members;  // the full new list, sorted
  // 16 random bytes, or empty in entries written before salts existed.
  // Only for the leaf hash: this entry holds no signature or ciphertext, so
  // without it a member who may not read it could confirm a guess of its
  // fields against the leaf hash it is sent (PROTOCOL.md 11.13).
  std::string salt;
};

struct EnvelopeEntry {
  std::string channel;
  std::string sender;        // member name of the envelope's signer
  RelayMode relay_mode = RelayMode::kNone;
  uint64_t relay_of = 0;     // index of the relayed envelope, if any
  std::string envelope;      // exact signed envelope bytes
};

struct ReceiptEntry {
  uint64_t envelope_index = 0;
  std::string recipient;     // member name of the receipt's signer
  std::string receipt;       // exact signed receipt bytes
};

// Notification kinds match parley.v1.NotificationKind.
enum class NotificationKind : uint8_t { kMovement = 1, kSite = 2 };

// Flags of a notification version.
inline constexpr uint8_t kNotificationEmergency = 0x01;
inline constexpr uint8_t kNotificationLate = 0x02;

// One version of a movement or site notification: the server-visible
// metadata and the end-to-end encrypted content.
struct NotificationVersion {
  std::string id;
  uint32_t version = 1;
  NotificationKind kind = NotificationKind::kMovement;
  std::string issuer;
  std::vector<std::string> parties;  // sorted
  int64_t depart_at = 0;             // Unix seconds; 0 for sites
  int64_t ack_by = 0;                // 0: no deadline
  int64_t valid_from = 0;
  int64_t valid_until = 0;           // 0: open-ended
  uint8_t flags = 0;                 // kNotificationEmergency | kNotificationLate
  int64_t required_lead_seconds = 0; // the server's minimum when logged
  std::string envelope;              // exact signed envelope bytes
};

// A party acknowledged receipt of (or objected to) one version.
struct NotificationAck {
  std::string id;
  uint32_t version = 0;
  std::string party;
  std::string receipt;          // signed receipt, level acknowledged/objected
  std::string reason_envelope;  // objection reason; empty otherwise
};

// Escalation steps: steps 1-3 are the ladder of a party's acknowledge-by
// deadline; step 4 is a static site's review-by date falling due.
enum class EscalationStep : uint8_t {
  kReminder = 1,          // before the deadline, to the party
  kEscalation = 2,        // at the deadline, to coordinators and mediators
  kSecondEscalation = 3,  // after the deadline
  kReviewDue = 4,         // a site's review-by, to the issuer's coordinators
};

// A deadline of one notification version fell due on the server's clock.
struct Escalation {
  std::string id;
  uint32_t version = 0;
  // Who is asked to act: the party that has not answered (steps 1-3), or
  // the issuing coordinator (kReviewDue).
  std::string party;
  EscalationStep step = EscalationStep::kReminder;
  // Unix seconds: the ack-by deadline (steps 1-3) or the site's review-by
  // date, its valid_until (kReviewDue).
  int64_t deadline = 0;
  // 16 random bytes, or empty in entries written before salts existed.
  // Only for the leaf hash: this entry holds no signature or ciphertext, so
  // without it a member who may not read it could confirm a guess of its
  // fields against the leaf hash it is sent (PROTOCOL.md 11.13).
  std::string salt;
};

struct NotificationCancelled {
  std::string id;
  uint32_t version = 0;
  std::string cancelled_by;
  std::string reason_envelope;
};

struct NotificationStatus {
  std::string id;
  uint32_t version = 0;
  std::string posted_by;
  bool final = false;    // an outcome (facilitated, impeded, denied)
  std::string envelope;  // the status or outcome, end-to-end encrypted
};

using EntryBody =
    std::variant<InviteCreated, MemberRegistered, KeyBundlePublished,
                 MemberRevoked, ChannelCreated, ChannelMembersChanged,
                 EnvelopeEntry, ReceiptEntry, NotificationVersion,
                 NotificationAck, Escalation, NotificationCancelled,
                 NotificationStatus>;

// Size of the salt of ChannelCreated, ChannelMembersChanged and Escalation.
inline constexpr size_t kEntrySaltSize = 16;

struct LogEntry {
  int64_t logged_at_ms = 0;  // server clock when appended, Unix ms
  EntryBody body;

  EntryType type() const;
};

// Canonical bytes: u8 version || u8 type || u64 logged_at_ms || body.
// REQUIRES: fields within the limits ValidateMemberName etc. enforce; a
// salt empty or kEntrySaltSize bytes.
std::string EncodeLogEntry(const LogEntry& entry);
// Strict: InvalidArgument on an unknown version or type, a bad length,
// trailing bytes, or a field outside its limits.
absl::StatusOr<LogEntry> DecodeLogEntry(std::string_view bytes);
// Type byte without a full decode; InvalidArgument if too short.
absl::StatusOr<EntryType> PeekEntryType(std::string_view bytes);
// "invite-created", "member-registered", ... for output and proof bundles.
std::string_view EntryTypeName(EntryType type);

// The channel id of notification `id`'s envelopes: "n/" + id. Its
// objection, cancel and status envelopes append "/objection", "/cancel" and
// "/status" to it.
std::string NotificationChannel(std::string_view notification_id);

// Member and channel names: 1 to 64 characters of [a-z0-9._-], starting with
// a letter or digit. InvalidArgument naming the rule otherwise.
absl::Status ValidateName(std::string_view kind, std::string_view name);

}  // namespace parley

#endif  // PARLEY_STORAGE_TLOG_LOG_ENTRY_H_
