#include "storage/tlog/log_entry.h"

#include <algorithm>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "crypto/wire.h"

namespace parley {
namespace {

constexpr size_t kHashSize = 32;
constexpr size_t kSignatureSize = 64;
constexpr size_t kMaxMembers = 1000;

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

void WriteNames(WireWriter& w, const std::vector<std::string>& names) {
  w.U16(static_cast<uint16_t>(names.size()));
  for (const std::string& n : names) w.Bytes8(n);
}

bool ReadNames(WireReader& r, std::vector<std::string>* names) {
  uint16_t count = 0;
  if (!r.U16("member count", &count)) return false;
  if (count > kMaxMembers) return r.Fail("member count", "over 1000");
  for (uint16_t i = 0; i < count; ++i) {
    std::string_view name;
    if (!r.Bytes8("member", &name)) return false;
    names->emplace_back(name);
  }
  return true;
}

bool ReadString8(WireReader& r, std::string_view field, std::string* out) {
  std::string_view v;
  if (!r.Bytes8(field, &v)) return false;
  out->assign(v);
  return true;
}

bool ReadFixed(WireReader& r, std::string_view field, size_t n,
               std::string* out) {
  std::string_view v;
  if (!r.Fixed(field, n, &v)) return false;
  out->assign(v);
  return true;
}

// The optional salt that ends a ChannelCreated, ChannelMembersChanged or
// Escalation entry: nothing (entries written before salts existed) or
// exactly kEntrySaltSize bytes; anything else is left for Finish to refuse.
bool ReadSalt(WireReader& r, std::string* salt) {
  if (!r.ok() || r.remaining() != kEntrySaltSize) return r.ok();
  return ReadFixed(r, "salt", kEntrySaltSize, salt);
}

bool ReadRole(WireReader& r, MemberRole* role) {
  uint8_t v = 0;
  if (!r.U8("role", &v)) return false;
  if (v < 1 || v > 5) return r.Fail("role", "unknown role");
  *role = static_cast<MemberRole>(v);
  return true;
}

}  // namespace

bool JoinsNotificationAudience(MemberRole role, bool revoked,
                               std::string_view organisation,
                               std::string_view issuer_organisation) {
  if (revoked) return false;
  if (role == MemberRole::kMediator) return true;
  return role == MemberRole::kCoordinator && !issuer_organisation.empty() &&
         organisation == issuer_organisation;
}

std::string_view RoleName(MemberRole role) {
  switch (role) {
    case MemberRole::kAdmin:
      return "admin";
    case MemberRole::kMediator:
      return "mediator";
    case MemberRole::kCoordinator:
      return "coordinator";
    case MemberRole::kParty:
      return "party";
    case MemberRole::kObserver:
      return "observer";
  }
  return "";
}

absl::StatusOr<MemberRole> ParseRoleName(std::string_view name) {
  for (int i = 1; i <= 5; ++i) {
    auto role = static_cast<MemberRole>(i);
    if (RoleName(role) == name) return role;
  }
  return absl::InvalidArgumentError(
      absl::StrCat("unknown role \"", std::string(name),
                   "\": use admin, mediator, coordinator, party or observer"));
}

std::string_view EntryTypeName(EntryType type) {
  switch (type) {
    case EntryType::kInviteCreated:
      return "invite-created";
    case EntryType::kMemberRegistered:
      return "member-registered";
    case EntryType::kKeyBundlePublished:
      return "key-bundle-published";
    case EntryType::kMemberRevoked:
      return "member-revoked";
    case EntryType::kChannelCreated:
      return "channel-created";
    case EntryType::kChannelMembersChanged:
      return "channel-members-changed";
    case EntryType::kEnvelope:
      return "envelope";
    case EntryType::kReceipt:
      return "receipt";
    case EntryType::kNotificationVersion:
      return "notification";
    case EntryType::kNotificationAck:
      return "notification-ack";
    case EntryType::kEscalation:
      return "escalation";
    case EntryType::kNotificationCancelled:
      return "notification-cancelled";
    case EntryType::kNotificationStatus:
      return "notification-status";
  }
  return "unknown";
}

EntryType LogEntry::type() const {
  return std::visit(
      Overloaded{
          [](const InviteCreated&) { return EntryType::kInviteCreated; },
          [](const MemberRegistered&) { return EntryType::kMemberRegistered; },
          [](const KeyBundlePublished&) {
            return EntryType::kKeyBundlePublished;
          },
          [](const MemberRevoked&) { return EntryType::kMemberRevoked; },
          [](const ChannelCreated&) { return EntryType::kChannelCreated; },
          [](const ChannelMembersChanged&) {
            return EntryType::kChannelMembersChanged;
          },
          [](const EnvelopeEntry&) { return EntryType::kEnvelope; },
          [](const ReceiptEntry&) { return EntryType::kReceipt; },
          [](const NotificationVersion&) {
            return EntryType::kNotificationVersion;
          },
          [](const NotificationAck&) { return EntryType::kNotificationAck; },
          [](const Escalation&) { return EntryType::kEscalation; },
          [](const NotificationCancelled&) {
            return EntryType::kNotificationCancelled;
          },
          [](const NotificationStatus&) {
            return EntryType::kNotificationStatus;
          },
      },
      body);
}

absl::Status ValidateName(std::string_view kind, std::string_view name) {
  if (name.empty() || name.size() > 64) {
    return absl::InvalidArgumentError(
        absl::StrCat(std::string(kind), " name must be 1 to 64 characters"));
  }
  auto ok = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  };
  if (!std::all_of(name.begin(), name.end(), ok) || !ok(name[0]) ||
      name[0] == '.' || name[0] == '_' || name[0] == '-') {
    return absl::InvalidArgumentError(absl::StrCat(
        std::string(kind), " name \"", std::string(name),
        "\" may hold only lower-case letters, digits, '.', '_' and '-', "
        "starting with a letter or digit"));
  }
  return absl::OkStatus();
}

std::string EncodeLogEntry(const LogEntry& entry) {
  WireWriter w;
  w.U8(kLogEntryVersion);
  w.U8(static_cast<uint8_t>(entry.type()));
  w.U64(static_cast<uint64_t>(entry.logged_at_ms));
  std::visit(
      Overloaded{
          [&](const InviteCreated& e) {
            w.Fixed(e.invite_hash);
            w.U8(static_cast<uint8_t>(e.role));
            w.Bytes8(e.name);
            w.Bytes8(e.organisation);
            w.U64(static_cast<uint64_t>(e.expires_at));
            w.Bytes8(e.created_by);
          },
          [&](const MemberRegistered& e) {
            w.Bytes8(e.name);
            w.U8(static_cast<uint8_t>(e.role));
            w.Bytes8(e.organisation);
            w.Fixed(e.invite_hash);
            w.Bytes32(e.key_bundle);
            w.Fixed(e.signature);
          },
          [&](const KeyBundlePublished& e) {
            w.Bytes8(e.name);
            w.Bytes32(e.key_bundle);
            w.Fixed(e.signature);
          },
          [&](const MemberRevoked& e) {
            w.Bytes8(e.name);
            w.Bytes8(e.revoked_by);
            w.Bytes16(e.reason);
          },
          [&](const ChannelCreated& e) {
            w.Bytes8(e.channel);
            w.Bytes8(e.created_by);
            WriteNames(w, e.members);
            w.Fixed(e.salt);
          },
          [&](const ChannelMembersChanged& e) {
            w.Bytes8(e.channel);
            w.Bytes8(e.changed_by);
            WriteNames(w, e.members);
            w.Fixed(e.salt);
          },
          [&](const EnvelopeEntry& e) {
            w.Bytes8(e.channel);
            w.Bytes8(e.sender);
            w.U8(static_cast<uint8_t>(e.relay_mode));
            w.U64(e.relay_of);
            w.Bytes32(e.envelope);
          },
          [&](const ReceiptEntry& e) {
            w.U64(e.envelope_index);
            w.Bytes8(e.recipient);
            w.Bytes32(e.receipt);
          },
          [&](const NotificationVersion& e) {
            w.Bytes8(e.id);
            w.U32(e.version);
            w.U8(static_cast<uint8_t>(e.kind));
            w.Bytes8(e.issuer);
            WriteNames(w, e.parties);
            w.U64(static_cast<uint64_t>(e.depart_at));
            w.U64(static_cast<uint64_t>(e.ack_by));
            w.U64(static_cast<uint64_t>(e.valid_from));
            w.U64(static_cast<uint64_t>(e.valid_until));
            w.U8(e.flags);
            w.U64(static_cast<uint64_t>(e.required_lead_seconds));
            w.Bytes32(e.envelope);
          },
          [&](const NotificationAck& e) {
            w.Bytes8(e.id);
            w.U32(e.version);
            w.Bytes8(e.party);
            w.Bytes32(e.receipt);
            w.Bytes32(e.reason_envelope);
          },
          [&](const Escalation& e) {
            w.Bytes8(e.id);
            w.U32(e.version);
            w.Bytes8(e.party);
            w.U8(static_cast<uint8_t>(e.step));
            w.U64(static_cast<uint64_t>(e.deadline));
            w.Fixed(e.salt);
          },
          [&](const NotificationCancelled& e) {
            w.Bytes8(e.id);
            w.U32(e.version);
            w.Bytes8(e.cancelled_by);
            w.Bytes32(e.reason_envelope);
          },
          [&](const NotificationStatus& e) {
            w.Bytes8(e.id);
            w.U32(e.version);
            w.Bytes8(e.posted_by);
            w.U8(e.final ? 1 : 0);
            w.Bytes32(e.envelope);
          },
      },
      entry.body);
  return w.Release();
}

absl::StatusOr<EntryType> PeekEntryType(std::string_view bytes) {
  if (bytes.size() < 10) {
    return absl::InvalidArgumentError("log entry: shorter than its header");
  }
  if (static_cast<uint8_t>(bytes[0]) != kLogEntryVersion) {
    return absl::InvalidArgumentError(
        absl::StrCat("log entry: unknown version ",
                     static_cast<int>(static_cast<uint8_t>(bytes[0]))));
  }
  uint8_t type = static_cast<uint8_t>(bytes[1]);
  if (type < 1 || type > 13) {
    return absl::InvalidArgumentError(
        absl::StrCat("log entry: unknown type ", static_cast<int>(type)));
  }
  return static_cast<EntryType>(type);
}

absl::StatusOr<LogEntry> DecodeLogEntry(std::string_view bytes) {
  absl::StatusOr<EntryType> type = PeekEntryType(bytes);
  if (!type.ok()) return type.status();
  WireReader r(bytes, "log entry");
  uint8_t version = 0, type_byte = 0;
  uint64_t logged_at = 0;
  r.U8("version", &version);
  r.U8("type", &type_byte);
  r.U64("logged_at", &logged_at);
  LogEntry entry;
  entry.logged_at_ms = static_cast<int64_t>(logged_at);
  switch (*type) {
    case EntryType::kInviteCreated: {
      InviteCreated e;
      uint64_t expires = 0;
      ReadFixed(r, "invite hash", kHashSize, &e.invite_hash);
      ReadRole(r, &e.role);
      ReadString8(r, "name", &e.name);
      ReadString8(r, "organisation", &e.organisation);
      r.U64("expires_at", &expires);
      ReadString8(r, "created_by", &e.created_by);
      e.expires_at = static_cast<int64_t>(expires);
      entry.body = std::move(e);
      break;
    }
    case EntryType::kMemberRegistered: {
      MemberRegistered e;
      std::string_view bundle;
      ReadString8(r, "name", &e.name);
      ReadRole(r, &e.role);
      ReadString8(r, "organisation", &e.organisation);
      ReadFixed(r, "invite hash", kHashSize, &e.invite_hash);
      if (r.Bytes32("key bundle", &bundle)) e.key_bundle.assign(bundle);
      ReadFixed(r, "signature", kSignatureSize, &e.signature);
      entry.body = std::move(e);
      break;
    }
    case EntryType::kKeyBundlePublished: {
      KeyBundlePublished e;
      std::string_view bundle;
      ReadString8(r, "name", &e.name);
      if (r.Bytes32("key bundle", &bundle)) e.key_bundle.assign(bundle);
      ReadFixed(r, "signature", kSignatureSize, &e.signature);
      entry.body = std::move(e);
      break;
    }
    case EntryType::kMemberRevoked: {
      MemberRevoked e;
      std::string_view reason;
      ReadString8(r, "name", &e.name);
      ReadString8(r, "revoked_by", &e.revoked_by);
      if (r.Bytes16("reason", &reason)) e.reason.assign(reason);
      entry.body = std::move(e);
      break;
    }
    case EntryType::kChannelCreated: {
      ChannelCreated e;
      ReadString8(r, "channel", &e.channel);
      ReadString8(r, "created_by", &e.created_by);
      ReadNames(r, &e.members);
      ReadSalt(r, &e.salt);
      entry.body = std::move(e);
      break;
    }
    case EntryType::kChannelMembersChanged: {
      ChannelMembersChanged e;
      ReadString8(r, "channel", &e.channel);
      ReadString8(r, "changed_by", &e.changed_by);
      ReadNames(r, &e.members);
      ReadSalt(r, &e.salt);
      entry.body = std::move(e);
      break;
    }
    case EntryType::kEnvelope: {
      EnvelopeEntry e;
      uint8_t mode = 0;
      std::string_view envelope;
      ReadString8(r, "channel", &e.channel);
      ReadString8(r, "sender", &e.sender);
      if (r.U8("relay mode", &mode) && mode > 2) {
        r.Fail("relay mode", "unknown relay mode");
      }
      e.relay_mode = static_cast<RelayMode>(mode);
      r.U64("relay_of", &e.relay_of);
      if (r.Bytes32("envelope", &envelope)) e.envelope.assign(envelope);
      entry.body = std::move(e);
      break;
    }
    case EntryType::kReceipt: {
      ReceiptEntry e;
      std::string_view receipt;
      r.U64("envelope index", &e.envelope_index);
      ReadString8(r, "recipient", &e.recipient);
      if (r.Bytes32("receipt", &receipt)) e.receipt.assign(receipt);
      entry.body = std::move(e);
      break;
    }
    case EntryType::kNotificationVersion: {
      NotificationVersion e;
      uint8_t kind = 0;
      uint64_t depart = 0, ack_by = 0, from = 0, until = 0, lead = 0;
      std::string_view envelope;
      ReadString8(r, "id", &e.id);
      r.U32("version", &e.version);
      if (r.U8("kind", &kind) && (kind < 1 || kind > 2)) {
        r.Fail("kind", "unknown notification kind");
      }
      e.kind = static_cast<NotificationKind>(kind);
      ReadString8(r, "issuer", &e.issuer);
      ReadNames(r, &e.parties);
      r.U64("depart_at", &depart);
      r.U64("ack_by", &ack_by);
      r.U64("valid_from", &from);
      r.U64("valid_until", &until);
      r.U8("flags", &e.flags);
      r.U64("required_lead_seconds", &lead);
      if (r.Bytes32("envelope", &envelope)) e.envelope.assign(envelope);
      e.depart_at = static_cast<int64_t>(depart);
      e.ack_by = static_cast<int64_t>(ack_by);
      e.valid_from = static_cast<int64_t>(from);
      e.valid_until = static_cast<int64_t>(until);
      e.required_lead_seconds = static_cast<int64_t>(lead);
      entry.body = std::move(e);
      break;
    }
    case EntryType::kNotificationAck: {
      NotificationAck e;
      std::string_view receipt, reason;
      ReadString8(r, "id", &e.id);
      r.U32("version", &e.version);
      ReadString8(r, "party", &e.party);
      if (r.Bytes32("receipt", &receipt)) e.receipt.assign(receipt);
      if (r.Bytes32("reason envelope", &reason)) e.reason_envelope.assign(reason);
      entry.body = std::move(e);
      break;
    }
    case EntryType::kEscalation: {
      Escalation e;
      uint8_t step = 0;
      uint64_t deadline = 0;
      ReadString8(r, "id", &e.id);
      r.U32("version", &e.version);
      ReadString8(r, "party", &e.party);
      if (r.U8("step", &step) &&
          (step < 1 || step > static_cast<uint8_t>(EscalationStep::kReviewDue))) {
        r.Fail("step", "unknown escalation step");
      }
      e.step = static_cast<EscalationStep>(step);
      r.U64("deadline", &deadline);
      e.deadline = static_cast<int64_t>(deadline);
      ReadSalt(r, &e.salt);
      entry.body = std::move(e);
      break;
    }
    case EntryType::kNotificationCancelled: {
      NotificationCancelled e;
      std::string_view reason;
      ReadString8(r, "id", &e.id);
      r.U32("version", &e.version);
      ReadString8(r, "cancelled_by", &e.cancelled_by);
      if (r.Bytes32("reason envelope", &reason)) e.reason_envelope.assign(reason);
      entry.body = std::move(e);
      break;
    }
    case EntryType::kNotificationStatus: {
      NotificationStatus e;
      uint8_t final = 0;
      std::string_view envelope;
      ReadString8(r, "id", &e.id);
      r.U32("version", &e.version);
      ReadString8(r, "posted_by", &e.posted_by);
      if (r.U8("final", &final) && final > 1) r.Fail("final", "must be 0 or 1");
      e.final = final == 1;
      if (r.Bytes32("envelope", &envelope)) e.envelope.assign(envelope);
      entry.body = std::move(e);
      break;
    }
  }
  if (absl::Status s = r.Finish(); !s.ok()) return s;
  return entry;
}

std::string NotificationChannel(std::string_view notification_id) {
  return std::string("n/").append(notification_id);
}

}  // namespace parley
