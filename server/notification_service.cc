#include "server/notification_service.h"

#include <algorithm>
#include <map>
#include <vector>

#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "crypto/encoding.h"
#include "crypto/envelope.h"
#include "crypto/receipt.h"
#include "crypto/rfc3339.h"
#include "server/status_util.h"
#include "spdlog/spdlog.h"
#include "storage/log_schema.h"
#include "storage/tlog/log_entry.h"

namespace parley {
namespace {


std::string Channel(const std::string& id) { return NotificationChannel(id); }

std::set<std::string> IssuerSide(const NotificationRecord& n) {
  std::set<std::string> out;
  for (const std::string& name : n.audience) {
    if (!n.parties.contains(name)) out.insert(name);
  }
  return out;
}

std::string Rfc3339(int64_t unix_seconds) {
  return FormatRfc3339Utc(absl::FromUnixSeconds(unix_seconds));
}

v1::PartyState::State ToProto(PartyProgress::State s) {
  return static_cast<v1::PartyState::State>(s);
}

}  // namespace

v1::NotificationState::Overall OverallState(const NotificationRecord& n,
                                            absl::Time now) {
  using O = v1::NotificationState;
  if (n.cancelled) return O::CANCELLED;
  if (n.completed) return O::COMPLETED;
  if (n.current.valid_until != 0 &&
      absl::ToUnixSeconds(now) >= n.current.valid_until) {
    return O::EXPIRED;
  }
  size_t acknowledged = 0;
  for (const auto& [name, p] : n.parties) {
    if (p.state == PartyProgress::State::kObjected) return O::OBJECTED;
    if (p.state == PartyProgress::State::kAcknowledged) ++acknowledged;
  }
  if (acknowledged == n.parties.size()) return O::ACKNOWLEDGED_BY_ALL;
  if (n.current.ack_by != 0 && absl::ToUnixSeconds(now) >= n.current.ack_by) {
    return O::OVERDUE;
  }
  return acknowledged > 0 ? O::PARTIALLY_ACKNOWLEDGED : O::PENDING;
}

void NotificationService::FillState(const NotificationRecord& record,
                                    const Caller& viewer,
                                    v1::NotificationState* out) const {
  NotificationRecord own;
  const bool party_view = record.parties.contains(viewer.name);
  if (party_view) {
    own = record;
    own.parties = {{viewer.name, record.parties.at(viewer.name)}};
  }
  const NotificationRecord& n = party_view ? own : record;
  v1::NotificationMetadata* m = out->mutable_metadata();
  m->set_id(n.current.id);
  m->set_kind(static_cast<v1::NotificationKind>(n.current.kind));
  for (const std::string& p : n.current.parties) m->add_parties(p);
  m->set_depart_at(n.current.depart_at);
  m->set_ack_by(n.current.ack_by);
  m->set_valid_from(n.current.valid_from);
  m->set_valid_until(n.current.valid_until);
  m->set_emergency(n.current.flags & kNotificationEmergency);
  out->set_version(n.current.version);
  out->set_issuer(n.current.issuer);
  out->set_organisation(n.organisation);
  out->set_overall(OverallState(n, core_->clock->Now()));
  out->set_late(n.current.flags & kNotificationLate);
  for (const auto& [name, p] : n.parties) {
    v1::PartyState* ps = out->add_parties();
    ps->set_party(name);
    ps->set_state(ToProto(p.state));
    ps->set_logged_at(p.logged_at_ms / 1000);
    ps->set_delivered_at(p.delivered_at_ms / 1000);
    ps->set_acknowledged_at(p.acknowledged_at_ms / 1000);
    ps->set_objected_at(p.objected_at_ms / 1000);
    ps->set_escalation(p.escalation);
    ps->set_delivered_index(p.delivered_index);
    ps->set_acknowledged_index(p.acknowledged_index);
  }
  if (!party_view) {
    for (uint64_t i : n.entry_indexes) out->add_entry_indexes(i);
  } else if (auto own = record.party_entry_indexes.find(viewer.name);
             own != record.party_entry_indexes.end()) {
    // What was addressed to this party, and its own answers; never another
    // party's (PROTOCOL.md 15.6).
    for (uint64_t i : own->second) out->add_entry_indexes(i);
  }
  out->set_envelope(n.current.envelope);
  out->set_log_index(n.log_index);
}

absl::StatusOr<ParsedEnvelope> NotificationService::CheckSideEnvelope(
    const Caller& caller, const std::string& bytes, const std::string& channel,
    const std::set<std::string>& recipients,
    std::string_view recipients_are) const {
  absl::StatusOr<ParsedEnvelope> envelope =
      core_->CheckSignedEnvelope(caller, bytes, channel);
  if (!envelope.ok()) return envelope.status();
  // ParseEnvelope already ties a zero previous hash to sequence 0.
  if (envelope->header.metadata.sequence != 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the envelope on ", Quote(channel), " carries sequence ",
        envelope->header.metadata.sequence,
        "; an objection, cancellation or status envelope stands alone: "
        "sequence 0 and a zero previous hash"));
  }
  if (absl::Status s = CheckRecipients(*envelope, recipients, recipients_are);
      !s.ok()) {
    return s;
  }
  return envelope;
}

absl::Status NotificationService::CheckRecipients(
    const ParsedEnvelope& envelope, const std::set<std::string>& names,
    std::string_view recipients_are) const {
  const ServerState& state = core_->ledger->state();
  std::map<std::string, std::string> expected;  // identity key -> name
  for (const std::string& name : names) {
    std::optional<MemberRecord> m = state.MemberByName(name);
    // Revoked since the version was logged: its key may be the reason for
    // the revocation; nothing new is encrypted to it.
    if (m.has_value() && !m->revoked) expected[m->identity_key] = name;
  }
  std::set<std::string> actual;
  for (const EnvelopeRecipientEntry& r : envelope.header.recipients) {
    actual.insert(r.identity_public_key);
  }
  std::vector<std::string> extra, missing;
  bool sender_extra = false;
  for (const std::string& key : actual) {
    if (expected.contains(key)) continue;
    if (key == envelope.header.sender_identity) {
      sender_extra = true;
      continue;
    }
    std::optional<MemberRecord> m = state.MemberByKey(key);
    extra.push_back(!m.has_value() ? "a key of no member"
                    : m->revoked   ? absl::StrCat(m->name, " (revoked)")
                                   : m->name);
  }
  if (sender_extra) extra.insert(extra.begin(), "yourself (the sender)");
  for (const auto& [key, name] : expected) {
    if (!actual.contains(key)) missing.push_back(name);
  }
  if (extra.empty() && missing.empty()) return absl::OkStatus();
  auto some = [](const std::vector<std::string>& names) {
    constexpr size_t kShown = 5;
    std::vector<std::string> shown;
    for (size_t i = 0; i < names.size() && i < kShown; ++i) {
      shown.push_back(Quote(names[i]));
    }
    std::string out = absl::StrJoin(shown, ", ");
    if (names.size() > kShown) {
      absl::StrAppend(&out, " and ", names.size() - kShown, " more");
    }
    return out;
  };
  std::string problem = absl::StrCat(
      "the envelope must be encrypted to exactly the ", expected.size(),
      " unrevoked members of ", std::string(recipients_are), " (",
      actual.size(), " given)");
  if (!extra.empty()) absl::StrAppend(&problem, "; not to ", some(extra));
  if (!missing.empty()) {
    absl::StrAppend(&problem, "; missing ", some(missing));
  }
  absl::StrAppend(&problem,
                  "; fetch the directory again and re-encrypt (PROTOCOL.md "
                  "15.1, 15.4a)");
  return absl::FailedPreconditionError(problem);
}

absl::Status NotificationService::DoNotify(const Caller& caller,
                                           const v1::NotifyRequest& request,
                                           v1::NotifyResponse* response) {
  const v1::NotificationMetadata& m = request.metadata();
  const ServerState& state = core_->ledger->state();
  if (absl::Status s = ValidateName("notification", m.id()); !s.ok()) {
    return absl::InvalidArgumentError(absl::StrCat("id: ", s.message()));
  }
  if (m.kind() != v1::MOVEMENT && m.kind() != v1::SITE) {
    return absl::InvalidArgumentError("kind must be MOVEMENT or SITE");
  }
  std::set<std::string> parties(m.parties().begin(), m.parties().end());
  if (parties.empty()) {
    return absl::InvalidArgumentError("parties: name at least one party");
  }
  if (parties.size() != static_cast<size_t>(m.parties_size())) {
    return absl::InvalidArgumentError("parties: a party is listed twice");
  }
  for (const std::string& name : parties) {
    std::optional<MemberRecord> member = state.MemberByName(name);
    if (!member.has_value()) {
      return absl::NotFoundError(absl::StrCat(
          "parties: no member named ", Quote(name), " (see parley directory)"));
    }
    if (member->role != MemberRole::kParty) {
      return absl::InvalidArgumentError(absl::StrCat(
          "parties: ", name, " is a ", std::string(RoleName(member->role)),
          ", not a party"));
    }
    if (member->revoked) {
      return absl::FailedPreconditionError(
          absl::StrCat("parties: ", name, " has been revoked"));
    }
  }
  const bool movement = m.kind() == v1::MOVEMENT;
  if (movement && m.depart_at() <= 0) {
    return absl::InvalidArgumentError("depart_at: a movement needs a departure");
  }
  if (!movement && m.depart_at() != 0) {
    return absl::InvalidArgumentError("depart_at: a site has no departure");
  }
  if (m.ack_by() < 0 || m.valid_from() < 0 || m.valid_until() < 0) {
    return absl::InvalidArgumentError("times must be Unix seconds, not negative");
  }
  if (m.valid_until() != 0 && m.valid_until() < m.valid_from()) {
    return absl::InvalidArgumentError(
        "valid_until must not be before valid_from");
  }
  if (movement && m.ack_by() != 0 && m.ack_by() >= m.depart_at()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "ack_by (", Rfc3339(m.ack_by()), ") must be before departure (",
        Rfc3339(m.depart_at()), ")"));
  }

  absl::MutexLock lock(&LockFor(m.id()));
  absl::StatusOr<ParsedEnvelope> envelope =
      core_->CheckSignedEnvelope(caller, request.envelope(), Channel(m.id()));
  if (!envelope.ok()) return envelope.status();

  // A retry of a version already logged answers with its index, before the
  // checks that depend on what happened since (a later version, a member
  // who joined the audience): the version is logged, whatever came after.
  // The id's lock, held to the commit, makes "logged" and "not logged" the
  // only answers: two notifications sent at once under one id cannot both
  // be logged.
  const std::string msgid = envelope->header.sender_identity +
                            envelope->header.metadata.client_message_id;
  absl::MutexLock id_lock(&core_->ledger->ClientMessageIdLock(msgid));
  absl::StatusOr<std::optional<std::string>> seen =
      core_->ledger->log().GetIndex(index_cf::kMessageId, msgid);
  if (!seen.ok()) return seen.status();
  if (seen->has_value() && (*seen)->size() == 40) {
    if ((*seen)->substr(0, 32) != envelope->hash) {
      return absl::AlreadyExistsError(
          "this client message id was already used for a different envelope; "
          "a retry must resend the same bytes");
    }
    const uint64_t index =
        log_schema::DecodeU64Key(std::string_view(**seen).substr(32))
            .value_or(0);
    absl::StatusOr<std::string> bytes = core_->ledger->log().GetEntry(index);
    if (!bytes.ok()) return bytes.status();
    absl::StatusOr<LogEntry> logged = DecodeLogEntry(*bytes);
    if (!logged.ok()) return logged.status();
    const auto* logged_version = std::get_if<NotificationVersion>(&logged->body);
    if (logged_version == nullptr) {
      return absl::InternalError(absl::StrCat(
          "the entry at ", index, " is not a notification version"));
    }
    response->set_log_index(index);
    response->set_version(logged_version->version);
    response->set_duplicate(true);
    response->set_late(logged_version->flags & kNotificationLate);
    if (logged_version->kind == NotificationKind::kMovement) {
      response->set_lead_time_seconds(logged_version->depart_at -
                                      logged->logged_at_ms / 1000);
    }
    response->set_required_lead_time_seconds(
        logged_version->required_lead_seconds);
    return absl::OkStatus();
  }

  std::optional<NotificationRecord> existing = state.Notification(m.id());
  uint32_t version = 1;
  std::string previous_hash(32, '\0');
  if (request.supersedes() == 0) {
    if (existing.has_value()) {
      return absl::AlreadyExistsError(absl::StrCat(
          "notification ", Quote(m.id()), " already exists; amend it instead"));
    }
  } else {
    if (!existing.has_value() || !existing->audience.contains(caller.name)) {
      return absl::NotFoundError(
          absl::StrCat("no notification ", Quote(m.id())));
    }
    if (existing->current.issuer != caller.name) {
      return absl::PermissionDeniedError(
          "only the issuing coordinator may amend a notification");
    }
    if (existing->cancelled) {
      return absl::FailedPreconditionError(
          "this notification was cancelled; notify a new one instead");
    }
    if (request.supersedes() != existing->current.version) {
      return absl::FailedPreconditionError(absl::StrCat(
          "amendment supersedes version ", request.supersedes(),
          " but the current version is ", existing->current.version));
    }
    const bool was_movement =
        existing->current.kind == NotificationKind::kMovement;
    if (movement != was_movement) {
      return absl::InvalidArgumentError(absl::StrCat(
          "kind: ", Quote(m.id()), " is a ", was_movement ? "movement" : "site",
          "; an amendment keeps the kind (notify a new id instead)"));
    }
    version = request.supersedes() + 1;
    previous_hash = EnvelopeHash(existing->current.envelope);
  }
  std::set<std::string> audience =
      state.NotificationAudience(caller.name,
                                 std::vector<std::string>(parties.begin(),
                                                          parties.end()));
  if (absl::Status s = CheckRecipients(*envelope, audience,
                                      "the notification's audience");
      !s.ok()) {
    return s;
  }
  if (envelope->header.metadata.sequence != version - 1 ||
      envelope->header.metadata.previous_hash != previous_hash) {
    return absl::FailedPreconditionError(absl::StrCat(
        "the envelope of version ", version, " must carry sequence ",
        version - 1, " and the previous version's envelope hash"));
  }

  const absl::Time now = core_->clock->Now();
  NotificationVersion entry;
  entry.id = m.id();
  entry.version = version;
  entry.kind = movement ? NotificationKind::kMovement : NotificationKind::kSite;
  entry.issuer = caller.name;
  entry.parties.assign(parties.begin(), parties.end());
  entry.depart_at = m.depart_at();
  entry.ack_by = m.ack_by();
  entry.valid_from = m.valid_from();
  entry.valid_until = m.valid_until();
  entry.envelope = request.envelope();
  int64_t lead = 0, required = 0;
  if (m.emergency()) entry.flags |= kNotificationEmergency;
  if (movement) {
    required = absl::ToInt64Seconds(m.emergency() ? options_.emergency_lead
                                                  : options_.movement_lead);
    lead = m.depart_at() - absl::ToUnixSeconds(now);
    if (lead < required) entry.flags |= kNotificationLate;
  }
  entry.required_lead_seconds = required;
  const bool late = entry.flags & kNotificationLate;

  EnvelopeFacts facts;
  facts.hash = envelope->hash;
  facts.sender_identity = envelope->header.sender_identity;
  facts.client_message_id = envelope->header.metadata.client_message_id;
  facts.sequence = envelope->header.metadata.sequence;
  facts.recipient_names.assign(audience.begin(), audience.end());
  absl::StatusOr<uint64_t> index =
      core_->ledger->Commit(std::move(entry), &facts);
  if (!index.ok()) return index.status();
  if (late) {
    spdlog::info("notification {} v{} logged late: lead time {} s < {} s",
                 m.id(), version, lead, required);
  }
  response->set_log_index(*index);
  response->set_version(version);
  response->set_duplicate(false);
  response->set_late(late);
  response->set_lead_time_seconds(lead);
  response->set_required_lead_time_seconds(required);
  return absl::OkStatus();
}

absl::Status NotificationService::DoAcknowledge(
    const Caller& caller, const v1::AcknowledgeRequest& request,
    v1::AcknowledgeResponse* response) {
  absl::MutexLock lock(&LockFor(request.id()));
  std::optional<NotificationRecord> n =
      core_->ledger->state().Notification(request.id());
  if (!n.has_value() || !n->parties.contains(caller.name)) {
    return absl::NotFoundError(
        absl::StrCat("no notification ", Quote(request.id()), " for you"));
  }
  if (n->cancelled) {
    return absl::FailedPreconditionError("this notification was cancelled");
  }
  if (request.version() != n->current.version) {
    return absl::FailedPreconditionError(absl::StrCat(
        "version ", request.version(), " was superseded by version ",
        n->current.version, "; read the new version before acknowledging it"));
  }
  absl::StatusOr<Receipt> receipt =
      VerifyReceipt(request.receipt(), caller.identity_key,
                    EnvelopeHash(n->current.envelope));
  if (!receipt.ok()) {
    return absl::Status(receipt.status().code(),
                        absl::StrCat("receipt: ", receipt.status().message()));
  }
  if (receipt->level != ReceiptLevel::kAcknowledged &&
      receipt->level != ReceiptLevel::kObjected) {
    return absl::InvalidArgumentError(
        "an acknowledgement needs a receipt of level acknowledged or "
        "objected");
  }
  const PartyProgress& progress = n->parties.at(caller.name);
  if (progress.state == PartyProgress::State::kAcknowledged ||
      progress.state == PartyProgress::State::kObjected) {
    absl::StatusOr<std::string> earlier =
        core_->ledger->log().GetEntry(progress.acknowledged_index);
    if (earlier.ok()) {
      absl::StatusOr<LogEntry> entry = DecodeLogEntry(*earlier);
      if (entry.ok()) {
        const auto* ack = std::get_if<NotificationAck>(&entry->body);
        if (ack != nullptr && ack->receipt == request.receipt()) {
          response->set_log_index(progress.acknowledged_index);
          response->set_duplicate(true);
          return absl::OkStatus();
        }
      }
    }
    return absl::FailedPreconditionError(
        "you have already answered this version of the notification");
  }
  if (receipt->level == ReceiptLevel::kObjected) {
    absl::StatusOr<ParsedEnvelope> reason =
        CheckSideEnvelope(caller, request.reason_envelope(),
                          Channel(request.id()) + "/objection", IssuerSide(*n),
                          "the issuer side (never a party, the objecting "
                          "one included)");
    if (!reason.ok()) {
      return absl::Status(reason.status().code(),
                          absl::StrCat("objection reason: ",
                                       reason.status().message()));
    }
    if (reason->hash != receipt->reason_hash) {
      return absl::InvalidArgumentError(
          "the receipt's reason hash does not match the reason envelope");
    }
  } else if (!request.reason_envelope().empty()) {
    return absl::InvalidArgumentError(
        "a reason goes only with an objection");
  }
  NotificationAck entry{request.id(), request.version(), caller.name,
                        request.receipt(), request.reason_envelope()};
  absl::StatusOr<uint64_t> index = core_->ledger->Commit(std::move(entry));
  if (!index.ok()) return index.status();
  response->set_log_index(*index);
  response->set_duplicate(false);
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* NotificationService::Notify(
    grpc::CallbackServerContext* context, const v1::NotifyRequest* request,
    v1::NotifyResponse* response) {
  absl::StatusOr<Caller> caller =
      core_->Admit(context, "parley.v1.Notifications/Notify");
  if (!caller.ok()) return core_->Refuse(context, caller.status());
  return FinishUnaryOnPool(*core_, context, [=, this] {
    return DoNotify(*caller, *request, response);
  });
}

grpc::ServerUnaryReactor* NotificationService::Acknowledge(
    grpc::CallbackServerContext* context,
    const v1::AcknowledgeRequest* request, v1::AcknowledgeResponse* response) {
  absl::StatusOr<Caller> caller =
      core_->Admit(context, "parley.v1.Notifications/Acknowledge");
  if (!caller.ok()) return core_->Refuse(context, caller.status());
  return FinishUnaryOnPool(*core_, context, [=, this] {
    return DoAcknowledge(*caller, *request, response);
  });
}

absl::Mutex& NotificationService::LockFor(std::string_view id) {
  return locks_[absl::HashOf(id) % kLockStripes];
}

absl::StatusOr<NotificationRecord> NotificationService::IssuedByCaller(
    const Caller& caller, const std::string& id, std::string_view action) {
  std::optional<NotificationRecord> n = core_->ledger->state().Notification(id);
  if (!n.has_value() || !n->audience.contains(caller.name)) {
    return absl::NotFoundError(absl::StrCat("no notification ", Quote(id)));
  }
  if (n->current.issuer != caller.name) {
    return absl::PermissionDeniedError(absl::StrCat(
        "only the issuing coordinator may ", std::string(action)));
  }
  return *n;
}

grpc::ServerUnaryReactor* NotificationService::Cancel(
    grpc::CallbackServerContext* context, const v1::CancelRequest* request,
    v1::CancelResponse* response) {
  absl::StatusOr<Caller> caller =
      core_->Admit(context, "parley.v1.Notifications/Cancel");
  if (!caller.ok()) return core_->Refuse(context, caller.status());
  return FinishUnaryOnPool(*core_, context, [=, this]() -> absl::Status {
    absl::MutexLock lock(&LockFor(request->id()));
    absl::StatusOr<NotificationRecord> n =
        IssuedByCaller(*caller, request->id(), "cancel it");
    if (!n.ok()) return n.status();
    if (n->cancelled) {
      return absl::FailedPreconditionError("already cancelled");
    }
    absl::StatusOr<ParsedEnvelope> reason =
        CheckSideEnvelope(*caller, request->reason_envelope(),
                          Channel(request->id()) + "/cancel", n->audience,
                          "the current version's audience");
    if (!reason.ok()) return reason.status();
    NotificationCancelled entry{request->id(), n->current.version,
                                caller->name, request->reason_envelope()};
    absl::StatusOr<uint64_t> index = core_->ledger->Commit(std::move(entry));
    if (!index.ok()) return index.status();
    response->set_log_index(*index);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* NotificationService::PostStatus(
    grpc::CallbackServerContext* context, const v1::PostStatusRequest* request,
    v1::PostStatusResponse* response) {
  absl::StatusOr<Caller> caller =
      core_->Admit(context, "parley.v1.Notifications/PostStatus");
  if (!caller.ok()) return core_->Refuse(context, caller.status());
  return FinishUnaryOnPool(*core_, context, [=, this]() -> absl::Status {
    absl::MutexLock lock(&LockFor(request->id()));
    absl::StatusOr<NotificationRecord> n =
        IssuedByCaller(*caller, request->id(), "post status and outcome");
    if (!n.ok()) return n.status();
    if (n->current.kind != NotificationKind::kMovement) {
      return absl::InvalidArgumentError(
          "status and outcome apply to movements only");
    }
    if (n->cancelled) {
      return absl::FailedPreconditionError("this movement was cancelled");
    }
    absl::StatusOr<ParsedEnvelope> envelope =
        CheckSideEnvelope(*caller, request->envelope(),
                          Channel(request->id()) + "/status", n->audience,
                          "the current version's audience");
    if (!envelope.ok()) return envelope.status();
    NotificationStatus entry{request->id(), n->current.version, caller->name,
                             request->final(), request->envelope()};
    absl::StatusOr<uint64_t> index = core_->ledger->Commit(std::move(entry));
    if (!index.ok()) return index.status();
    response->set_log_index(*index);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* NotificationService::ListNotifications(
    grpc::CallbackServerContext* context, const v1::ListNotificationsRequest*,
    v1::ListNotificationsResponse* response) {
  absl::StatusOr<Caller> caller =
      core_->Admit(context, "parley.v1.Notifications/ListNotifications");
  if (!caller.ok()) return core_->Refuse(context, caller.status());
  for (const NotificationRecord& n :
       core_->ledger->state().NotificationsFor(caller->name)) {
    FillState(n, *caller, response->add_notifications());
  }
  return FinishUnary(context, absl::OkStatus());
}

grpc::ServerUnaryReactor* NotificationService::GetNotification(
    grpc::CallbackServerContext* context,
    const v1::GetNotificationRequest* request,
    v1::NotificationState* response) {
  absl::StatusOr<Caller> caller =
      core_->Admit(context, "parley.v1.Notifications/GetNotification");
  if (!caller.ok()) return core_->Refuse(context, caller.status());
  std::optional<NotificationRecord> n =
      core_->ledger->state().Notification(request->id());
  // Whoever is not in the audience learns nothing, not even existence.
  if (!n.has_value() || !n->audience.contains(caller->name)) {
    return FinishUnary(context, absl::NotFoundError(absl::StrCat(
                                    "no notification ", Quote(request->id()),
                                    "")));
  }
  FillState(*n, *caller, response);
  return FinishUnary(context, absl::OkStatus());
}

absl::StatusOr<int> NotificationService::RunDueDeadlines() {
  const int64_t now = absl::ToUnixSeconds(core_->clock->Now());
  int logged = 0;
  for (const NotificationRecord& n :
       core_->ledger->state().OpenNotificationsWithDeadline()) {
    const int64_t deadline = n.current.ack_by;
    const int64_t steps[3] = {
        deadline - absl::ToInt64Seconds(options_.reminder_before), deadline,
        deadline + absl::ToInt64Seconds(options_.second_escalation_after)};
    for (const auto& [party, progress] : n.parties) {
      if (progress.state == PartyProgress::State::kAcknowledged ||
          progress.state == PartyProgress::State::kObjected) {
        continue;
      }
      for (int step = progress.escalation + 1; step <= 3; ++step) {
        if (now < steps[step - 1]) break;
        absl::MutexLock lock(&LockFor(n.current.id));
        // Re-check under the lock: an ack may have just landed.
        std::optional<NotificationRecord> fresh =
            core_->ledger->state().Notification(n.current.id);
        if (!fresh || fresh->current.version != n.current.version ||
            fresh->cancelled) {
          break;
        }
        const PartyProgress& p = fresh->parties.at(party);
        if (p.state == PartyProgress::State::kAcknowledged ||
            p.state == PartyProgress::State::kObjected ||
            p.escalation >= step) {
          break;
        }
        Escalation entry{n.current.id, n.current.version, party,
                         static_cast<EscalationStep>(step), deadline,
                         core_->random->Bytes(kEntrySaltSize)};
        absl::StatusOr<uint64_t> index =
            core_->ledger->Commit(std::move(entry));
        if (!index.ok()) return index.status();
        ++logged;
      }
    }
  }
  for (const NotificationRecord& n :
       core_->ledger->state().SitesDueForReview(now)) {
    absl::MutexLock lock(&LockFor(n.current.id));
    // Re-check under the lock: an amendment or a cancellation may have
    // just landed.
    std::optional<NotificationRecord> fresh =
        core_->ledger->state().Notification(n.current.id);
    if (!fresh || fresh->current.version != n.current.version ||
        !ServerState::ReviewDue(*fresh, now)) {
      continue;
    }
    Escalation entry{n.current.id, n.current.version, n.current.issuer,
                     EscalationStep::kReviewDue, n.current.valid_until,
                     core_->random->Bytes(kEntrySaltSize)};
    absl::StatusOr<uint64_t> index = core_->ledger->Commit(std::move(entry));
    if (!index.ok()) return index.status();
    ++logged;
  }
  return logged;
}

DeadlineWatcher::DeadlineWatcher(NotificationService* service)
    : service_(service), thread_([this] {
        absl::MutexLock lock(&mu_);
        while (!stop_) {
          mu_.AwaitWithTimeout(absl::Condition(&stop_), absl::Seconds(1));
          if (stop_) break;
          mu_.Unlock();
          absl::StatusOr<int> logged = service_->RunDueDeadlines();
          if (!logged.ok()) {
            spdlog::error("deadline check failed: {}",
                          std::string(logged.status().message()));
          }
          mu_.Lock();
        }
      }) {}

DeadlineWatcher::~DeadlineWatcher() {
  {
    absl::MutexLock lock(&mu_);
    stop_ = true;
  }
  thread_.join();
}

}  // namespace parley
