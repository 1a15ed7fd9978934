// Movement and site notifications (PROTOCOL.md sections 15, 16).

#include <algorithm>
#include <atomic>
#include <map>
#include <set>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/core/notification_client.h"
#include "client/core/retry.h"
#include "client/deconfliction/proof_bundle.h"
#include "client/deconfliction/vocabulary.h"
#include "crypto/encoding.h"
#include "crypto/envelope.h"
#include "crypto/receipt.h"
#include "grpcpp/client_context.h"
#include "nlohmann/json.hpp"
#include "parley/v1/identity.grpc.pb.h"
#include "parley/v1/log.grpc.pb.h"
#include "parley/v1/notifications.grpc.pb.h"
#include "storage/tlog/checkpoint.h"
#include "storage/tlog/log_entry.h"
#include "storage/tlog/merkle.h"

namespace parley {
namespace {

constexpr char kObjectionContentType[] =
    "application/vnd.parley.objection+json";
constexpr char kCancelContentType[] = "application/vnd.parley.cancel+json";
constexpr char kStatusContentType[] = "application/vnd.parley.status+json";

std::string Channel(const std::string& id) { return NotificationChannel(id); }

std::string FormatUnix(int64_t seconds) {
  return seconds == 0 ? std::string("-")
                      : FormatRfc3339Utc(absl::FromUnixSeconds(seconds));
}

// Audience of a notification (PROTOCOL.md section 12) issued by `issuer`
// from `organisation`: the issuer, its parties (unless only the issuer side
// is wanted) and everyone JoinsNotificationAudience admits.
std::vector<std::string> AudienceOf(const std::vector<v1::Member>& members,
                                    const std::string& issuer,
                                    const std::vector<std::string>& parties,
                                    const std::string& organisation,
                                    bool include_parties) {
  std::set<std::string> names = {issuer};
  if (include_parties) names.insert(parties.begin(), parties.end());
  for (const v1::Member& m : members) {
    if (JoinsNotificationAudience(static_cast<MemberRole>(m.role()),
                                  m.revoked(), m.organisation(),
                                  organisation)) {
      names.insert(m.name());
    }
  }
  return {names.begin(), names.end()};
}

// Recipients of an objection, cancellation or status envelope about the
// version whose envelope is `version_envelope` (PROTOCOL.md 15.4a): that
// version's own recipients, fixed when it was logged, less members revoked
// since, and for an objection (`issuer_side`) less the parties. Without the
// version's envelope (answering offline from what Sync stored), the
// audience as the cached directory gives it, less revoked members.
std::vector<std::string> SideAudience(const std::string& version_envelope,
                                      const std::vector<v1::Member>& members,
                                      const std::string& issuer,
                                      const std::vector<std::string>& parties,
                                      const std::string& organisation,
                                      bool issuer_side) {
  std::set<std::string> names;
  absl::StatusOr<ParsedEnvelope> version = ParseEnvelope(version_envelope);
  if (version.ok()) {
    std::map<std::string, std::string> by_key;  // identity key -> name
    for (const v1::Member& m : members) by_key[m.identity_key()] = m.name();
    for (const EnvelopeRecipientEntry& r : version->header.recipients) {
      auto it = by_key.find(r.identity_public_key);
      if (it != by_key.end()) names.insert(it->second);
    }
  } else {
    std::vector<std::string> all =
        AudienceOf(members, issuer, parties, organisation, true);
    names.insert(all.begin(), all.end());
  }
  for (const v1::Member& m : members) {
    if (m.revoked()) names.erase(m.name());
  }
  if (issuer_side) {
    for (const std::string& party : parties) names.erase(party);
  }
  return {names.begin(), names.end()};
}

// The text of a side envelope's JSON payload, for people.
std::string SideText(const std::string& payload, const char* member) {
  nlohmann::json j = nlohmann::json::parse(payload, nullptr, false);
  if (!j.is_object() || !j.contains(member) || !j[member].is_string()) {
    return "(unreadable)";
  }
  std::string text = j[member].get<std::string>();
  if (j.contains("note") && j["note"].is_string() &&
      !j["note"].get<std::string>().empty()) {
    absl::StrAppend(&text, " (", j["note"].get<std::string>(), ")");
  }
  return text;
}

}  // namespace

// ---------------------------------------------------------------------------
// Helpers

absl::StatusOr<std::string> NotificationClient::SealNotificationEnvelope(
    const std::string& channel, const std::vector<std::string>& audience,
    const std::string& content_type, const std::string& payload,
    uint64_t sequence, const std::string& previous_hash, const Reach& reach,
    std::string* client_message_id) {
  absl::StatusOr<std::vector<EnvelopeRecipient>> recipients =
      recipients_.Recipients(audience, reach);
  if (!recipients.ok()) return recipients.status();
  EnvelopeMetadata metadata;
  metadata.channel_id = channel;
  metadata.client_message_id = random_.Bytes(kClientMessageIdSize);
  if (client_message_id != nullptr) {
    *client_message_id = metadata.client_message_id;
  }
  metadata.sequence = sequence;
  metadata.previous_hash = previous_hash;
  metadata.created_at = absl::ToUnixSeconds(clock_.Now());
  metadata.content_type = content_type;
  absl::StatusOr<std::string> envelope =
      SealEnvelope(keys_.identity(), metadata, *recipients, payload, random_);
  if (!envelope.ok()) return envelope.status();
  if (absl::Status s = CheckEnvelopeFits(
          envelope->size(), options_.max_message_bytes,
          absl::StrCat("the sealed content for ", channel),
          "Use fewer points (simplify the route or polygon) or shorter "
          "text.");
      !s.ok()) {
    return s;
  }
  return envelope;
}

absl::StatusOr<OpenedEnvelope> NotificationClient::OpenSigned(const std::string& envelope,
                                                  const std::string& signer,
                                                  const std::string& channel) {
  absl::StatusOr<OpenedEnvelope> opened =
      OpenEnvelope(envelope, identity_.identity_key, keys_.prekeys());
  if (!opened.ok()) return opened.status();
  absl::StatusOr<std::string> key = directory_.member_key(signer);
  if (!key.ok()) return key.status();
  if (*key != opened->header.sender_identity) {
    return absl::DataLossError(absl::StrCat(
        "REJECTED: signed by a key that is not ", signer, "'s directory key"));
  }
  if (opened->header.metadata.channel_id != channel) {
    return absl::DataLossError(absl::StrCat(
        "REJECTED: the envelope names channel \"",
        opened->header.metadata.channel_id, "\", not \"", channel, "\""));
  }
  return opened;
}

absl::StatusOr<v1::NotificationState> NotificationClient::GetNotificationState(
    const std::string& id) {
  auto api = v1::Notifications::NewStub(session_.channel());
  v1::GetNotificationRequest request;
  request.set_id(id);
  v1::NotificationState state;
  absl::Status s = auth_.Call([&](grpc::ClientContext* c) {
    return api->GetNotification(c, request, &state);
  });
  if (!s.ok()) return s;
  return state;
}

NotificationVersionView NotificationClient::OpenVersion(uint64_t index,
                                                    const LogEntry& entry) {
  NotificationVersionView view;
  view.log_index = index;
  view.logged_at_ms = entry.logged_at_ms;
  const auto* v = std::get_if<NotificationVersion>(&entry.body);
  if (v == nullptr) {
    view.error = "not a notification entry";
    return view;
  }
  view.version = v->version;
  view.late = (v->flags & kNotificationLate) != 0;
  view.envelope_hash = EnvelopeHash(v->envelope);
  absl::StatusOr<OpenedEnvelope> opened =
      OpenSigned(v->envelope, v->issuer, Channel(v->id));
  if (!opened.ok()) {
    view.error = absl::StrCat("cannot open: ", opened.status().message());
    return view;
  }
  absl::StatusOr<NotificationContent> content =
      ParseContent(opened->payload);
  if (!content.ok()) {
    view.error = absl::StrCat("content: ", content.status().message());
    return view;
  }
  if (ContentId(*content) != v->id || ContentVersion(*content) != v->version) {
    view.error = "REJECTED: the content names another id or version than "
                 "the logged metadata";
    return view;
  }
  if (opened->header.metadata.sequence + 1 != v->version) {
    view.error = "REJECTED: envelope sequence does not match the version";
    return view;
  }
  view.content = *std::move(content);
  return view;
}

NotificationEvent NotificationClient::DescribeNotificationEntry(
    uint64_t index, const LogEntry& entry) {
  NotificationEvent e;
  e.index = index;
  e.logged_at_ms = entry.logged_at_ms;
  e.kind = std::string(EntryTypeName(entry.type()));
  if (const auto* v = std::get_if<NotificationVersion>(&entry.body)) {
    e.version = v->version;
    e.member = v->issuer;
    e.text = absl::StrCat(
        v->kind == NotificationKind::kMovement ? "movement " : "site ", v->id,
        " version ", v->version, " notified by ", v->issuer, " to ",
        absl::StrJoin(v->parties, ", "));
    if (v->ack_by != 0) {
      absl::StrAppend(&e.text, "; acknowledge receipt by ",
                      FormatUnix(v->ack_by));
    }
    if (v->flags & kNotificationLate) {
      absl::StrAppend(&e.text, "; LATE (below the required lead time of ",
                      v->required_lead_seconds / 3600, " h)");
    }
  } else if (const auto* a = std::get_if<NotificationAck>(&entry.body)) {
    e.version = a->version;
    e.member = a->party;
    absl::StatusOr<Receipt> receipt = ParseReceipt(a->receipt);
    const bool objected =
        receipt.ok() && receipt->level == ReceiptLevel::kObjected;
    if (!objected) {
      e.text = absl::StrCat(a->party, " acknowledged receipt of ", a->id,
                            " version ", a->version);
    } else {
      e.text = absl::StrCat(a->party, " objected to ", a->id, " version ",
                            a->version);
      absl::StatusOr<OpenedEnvelope> reason = OpenSigned(
          a->reason_envelope, a->party, Channel(a->id) + "/objection");
      if (reason.ok()) {
        absl::StrAppend(&e.text, ": ", SideText(reason->payload, "reason"));
      } else if (absl::IsInvalidArgument(reason.status()) ||
                 absl::IsNotFound(reason.status())) {
        absl::StrAppend(&e.text, " (reason encrypted to the issuer side)");
      } else {
        e.error = std::string(reason.status().message());
      }
    }
  } else if (const auto* x = std::get_if<Escalation>(&entry.body);
             x != nullptr && x->step == EscalationStep::kReviewDue) {
    e.version = x->version;
    e.member = x->party;
    e.step = EscalationName(static_cast<uint32_t>(x->step));
    e.text = absl::StrCat(
        "REVIEW DUE: site ", x->id, " version ", x->version,
        " reached its review-by date (", FormatUnix(x->deadline), "); ",
        x->party,
        " is asked to review it: amend it with a new review-by date, "
        "deactivate it, or cancel it");
  } else if (const auto* x = std::get_if<Escalation>(&entry.body)) {
    e.version = x->version;
    e.member = x->party;
    e.step = EscalationName(static_cast<uint32_t>(x->step));
    const char* step = x->step == EscalationStep::kReminder ? "REMINDER"
                       : x->step == EscalationStep::kEscalation
                           ? "ESCALATION"
                           : "SECOND ESCALATION";
    e.text = absl::StrCat(step, ": ", x->party,
                          x->step == EscalationStep::kReminder
                              ? " is asked to acknowledge receipt of "
                              : " has not acknowledged receipt of ",
                          x->id, " version ", x->version, " (deadline ",
                          FormatUnix(x->deadline), ")");
  } else if (const auto* c = std::get_if<NotificationCancelled>(&entry.body)) {
    e.version = c->version;
    e.member = c->cancelled_by;
    e.text = absl::StrCat(c->id, " cancelled by ", c->cancelled_by);
    absl::StatusOr<OpenedEnvelope> reason = OpenSigned(
        c->reason_envelope, c->cancelled_by, Channel(c->id) + "/cancel");
    if (reason.ok()) {
      absl::StrAppend(&e.text, ": ", SideText(reason->payload, "reason"));
    } else {
      e.error = std::string(reason.status().message());
    }
  } else if (const auto* st = std::get_if<NotificationStatus>(&entry.body)) {
    e.version = st->version;
    e.member = st->posted_by;
    e.text = absl::StrCat(st->id, st->final ? " outcome" : " status", ": ");
    absl::StatusOr<OpenedEnvelope> opened = OpenSigned(
        st->envelope, st->posted_by, Channel(st->id) + "/status");
    if (opened.ok()) {
      absl::StrAppend(&e.text, SideText(opened->payload, "status"));
    } else {
      e.error = std::string(opened.status().message());
    }
  } else if (const auto* r = std::get_if<ReceiptEntry>(&entry.body)) {
    e.member = r->recipient;
    absl::StatusOr<Receipt> receipt = ParseReceipt(r->receipt);
    e.text = absl::StrCat(
        r->recipient, " signed a ",
        receipt.ok() ? std::string(ReceiptLevelName(receipt->level)) : "?",
        " receipt for entry ", r->envelope_index);
  } else {
    e.text = e.kind;
  }
  return e;
}

// ---------------------------------------------------------------------------
// Issuing

absl::StatusOr<NotifyResult> NotificationClient::Notify(
    const NotificationContent& content) {
  Reach reach;
  NotifyResult result;
  absl::StatusOr<OutboxItem> item = SealNotification(content, reach, &result);
  if (!item.ok()) return item.status();
  absl::StatusOr<SubmitResult> submitted = outbox_.Submit(*std::move(item));
  if (!submitted.ok()) return submitted.status();
  if (submitted->queued) {
    result.queued = true;
    result.outbox_id = submitted->id;
    result.queued_reason = submitted->reason;
    return result;
  }
  return NotifyAnswered(submitted->answer, std::move(result));
}

NotifyResult NotificationClient::NotifyAnswered(const OutboxAnswer& answer,
                                            NotifyResult sealed) {
  sealed.log_index = answer.log_index;
  sealed.duplicate = answer.duplicate;
  if (answer.notify.has_value()) {
    sealed.version = answer.notify->version;
    sealed.late = answer.notify->late;
    sealed.lead_time_seconds = answer.notify->lead_time_seconds;
    sealed.required_lead_time_seconds =
        answer.notify->required_lead_time_seconds;
  }
  return sealed;
}

absl::StatusOr<OutboxItem> NotificationClient::SealNotification(
    const NotificationContent& content, Reach& reach, NotifyResult* result) {
  if (std::vector<std::string> problems = ValidateContent(content);
      !problems.empty()) {
    return absl::InvalidArgumentError(absl::StrJoin(problems, "; "));
  }
  const VisibleMetadata meta = ComputeVisibleMetadata(content);
  const uint32_t version = ContentVersion(content);
  const uint32_t supersedes =
      std::visit([](const auto& c) { return c.supersedes; }, content);
  std::string previous_hash(kEnvelopeHashSize, '\0');
  if (version > 1) {
    absl::StatusOr<v1::NotificationState> current =
        GetNotificationState(meta.id);
    if (!current.ok()) return current.status();
    if (current->version() != supersedes || supersedes + 1 != version) {
      return absl::FailedPreconditionError(absl::StrCat(
          "version ", version, " must supersede the current version ",
          current->version()));
    }
    previous_hash = EnvelopeHash(current->envelope());
    absl::StatusOr<OpenedEnvelope> old = OpenSigned(
        current->envelope(), current->issuer(), Channel(meta.id));
    if (old.ok()) {
      absl::StatusOr<NotificationContent> before = ParseContent(old->payload);
      if (before.ok()) result->changes = DiffContent(*before, content);
    }
  }
  absl::StatusOr<std::vector<v1::Member>> members = recipients_.Members(reach);
  if (!members.ok()) return members.status();
  const std::vector<std::string> audience =
      AudienceOf(*members, identity_.name, meta.parties,
                 identity_.organisation, true);
  std::string client_message_id;
  absl::StatusOr<std::string> envelope = SealNotificationEnvelope(
      Channel(meta.id), audience, std::string(ContentTypeOf(content)),
      SerializeContent(content), version - 1, previous_hash, reach,
      &client_message_id);
  if (!envelope.ok()) return envelope.status();

  v1::NotifyRequest request;
  v1::NotificationMetadata* m = request.mutable_metadata();
  m->set_id(meta.id);
  m->set_kind(meta.movement ? v1::MOVEMENT : v1::SITE);
  for (const std::string& p : meta.parties) m->add_parties(p);
  m->set_depart_at(meta.depart_at);
  m->set_ack_by(meta.ack_by);
  m->set_valid_from(meta.valid_from);
  m->set_valid_until(meta.valid_until);
  m->set_emergency(meta.emergency);
  request.set_envelope(*envelope);
  request.set_supersedes(version > 1 ? supersedes : 0);
  OutboxItem item;
  item.id = HexEncode(client_message_id);
  item.kind = kOutboxNotify;
  item.channel = Channel(meta.id);
  item.request = request.SerializeAsString();
  item.created_at = absl::ToUnixSeconds(clock_.Now());
  item.description = absl::StrCat(
      "notify ", meta.movement ? "movement " : "site ", meta.id, " version ",
      version, " to ", absl::StrJoin(meta.parties, ", "));
  result->version = version;
  return item;
}

absl::StatusOr<std::string> NotificationClient::SealForAudience(
    const v1::NotificationState& current, const std::string& side,
    const std::string& content_type, const nlohmann::json& payload) {
  absl::StatusOr<std::vector<v1::Member>> members = directory_.list_members();
  if (!members.ok()) return members.status();
  const std::string& id = current.metadata().id();
  std::vector<std::string> parties(current.metadata().parties().begin(),
                                   current.metadata().parties().end());
  return SealNotificationEnvelope(
      absl::StrCat(Channel(id), "/", side),
      SideAudience(current.envelope(), *members, current.issuer(), parties,
                   current.organisation(), /*issuer_side=*/false),
      content_type, payload.dump(), 0, std::string(kEnvelopeHashSize, '\0'));
}

absl::StatusOr<uint64_t> NotificationClient::CancelNotification(
    const std::string& id, const std::string& reason) {
  absl::StatusOr<v1::NotificationState> current = GetNotificationState(id);
  if (!current.ok()) return current.status();
  absl::StatusOr<std::string> envelope = SealForAudience(
      *current, "cancel", kCancelContentType,
      {{"schema", "parley-cancel/v1"},
       {"id", id},
       {"version", current->version()},
       {"reason", reason}});
  if (!envelope.ok()) return envelope.status();
  auto api = v1::Notifications::NewStub(session_.channel());
  v1::CancelRequest request;
  request.set_id(id);
  request.set_reason_envelope(*envelope);
  v1::CancelResponse response;
  absl::Status s = auth_.Call([&](grpc::ClientContext* c) {
    return api->Cancel(c, request, &response);
  });
  if (!s.ok()) return s;
  return response.log_index();
}

absl::StatusOr<uint64_t> NotificationClient::PostNotificationStatus(
    const std::string& id, const std::string& status, const std::string& note,
    bool final) {
  absl::StatusOr<v1::NotificationState> current = GetNotificationState(id);
  if (!current.ok()) return current.status();
  absl::StatusOr<std::string> envelope = SealForAudience(
      *current, "status", kStatusContentType,
      {{"schema", "parley-status/v1"},
       {"id", id},
       {"version", current->version()},
       {"status", status},
       {"note", note},
       {"final", final},
       {"at", FormatRfc3339Utc(clock_.Now())}});
  if (!envelope.ok()) return envelope.status();
  auto api = v1::Notifications::NewStub(session_.channel());
  v1::PostStatusRequest request;
  request.set_id(id);
  request.set_envelope(*envelope);
  request.set_final(final);
  v1::PostStatusResponse response;
  absl::Status s = auth_.Call([&](grpc::ClientContext* c) {
    return api->PostStatus(c, request, &response);
  });
  if (!s.ok()) return s;
  return response.log_index();
}

// ---------------------------------------------------------------------------
// Reading

absl::StatusOr<std::vector<v1::NotificationState>>
NotificationClient::ListNotifications() {
  auto api = v1::Notifications::NewStub(session_.channel());
  v1::ListNotificationsResponse response;
  absl::Status s = auth_.Call([&](grpc::ClientContext* c) {
    return api->ListNotifications(c, v1::ListNotificationsRequest(),
                                   &response);
  });
  if (!s.ok()) return s;
  listed_.clear();
  prefetched_ = false;
  for (const v1::NotificationState& n : response.notifications()) {
    listed_[n.metadata().id()] = n;
  }
  return std::vector<v1::NotificationState>(response.notifications().begin(),
                                            response.notifications().end());
}

namespace {

// The entries ShowNotification reads for `state`.
std::vector<uint64_t> ShownIndexes(const v1::NotificationState& state) {
  std::vector<uint64_t> indexes(state.entry_indexes().begin(),
                                state.entry_indexes().end());
  if (indexes.empty()) indexes.push_back(state.log_index());  // a party
  std::sort(indexes.begin(), indexes.end());
  return indexes;
}

}  // namespace

absl::StatusOr<NotificationView> NotificationClient::ShowNotification(
    const std::string& id) {
  auto listed = listed_.find(id);
  if (listed == listed_.end()) {
    absl::StatusOr<v1::NotificationState> state = GetNotificationState(id);
    if (!state.ok()) return state.status();
    return ShowState(*state);
  }
  if (!prefetched_) {
    // `notifications export`: every listed notification's entries in one
    // batch, not one round of proofs per notification.
    std::vector<uint64_t> all;
    for (const auto& [unused, n] : listed_) {
      for (uint64_t index : ShownIndexes(n)) all.push_back(index);
    }
    if (absl::StatusOr<std::map<uint64_t, std::string>> fetched =
            log_.FetchVerifiedEntries(all);
        !fetched.ok()) {
      return fetched.status();
    }
    prefetched_ = true;
  }
  return ShowState(listed->second);
}

absl::StatusOr<NotificationView> NotificationClient::ShowState(
    const v1::NotificationState& state) {
  NotificationView view;
  view.state = state;
  const std::vector<uint64_t> indexes = ShownIndexes(state);
  absl::StatusOr<std::map<uint64_t, std::string>> entries =
      log_.FetchVerifiedEntries(indexes);
  if (!entries.ok()) return entries.status();
  for (uint64_t index : indexes) {
    absl::StatusOr<LogEntry> entry = DecodeLogEntry(entries->at(index));
    if (!entry.ok()) return entry.status();
    if (std::holds_alternative<NotificationVersion>(entry->body)) {
      view.versions.push_back(OpenVersion(index, *entry));
    }
    if (!state.entry_indexes().empty()) {
      view.events.push_back(DescribeNotificationEntry(index, *entry));
    }
  }
  return view;
}

// ---------------------------------------------------------------------------
// Parties

absl::StatusOr<AckResult> NotificationClient::AcknowledgeNotification(
    const std::string& id, const std::string& objection) {
  for (const OutboxItem& queued : state_.outbox()) {
    if (queued.kind == kOutboxAck && queued.channel == Channel(id)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "an answer to ", id, " is already queued as ", queued.id,
          " (", queued.description, "); `parley sync` sends it, `parley "
          "outbox` shows it"));
    }
  }
  // What is answered: the current version as the server has it, or, when
  // the server cannot be reached, the latest version Sync stored.
  Reach reach;
  uint32_t version = 0;
  std::string issuer, envelope_hash;
  std::vector<std::string> known_parties;  // offline: the stored version's
  absl::StatusOr<v1::NotificationState> state = GetNotificationState(id);
  if (state.ok()) {
    // Answer only what this device could open and check: the bytes the
    // receipt names are the bytes the person read.
    absl::StatusOr<OpenedEnvelope> opened =
        OpenSigned(state->envelope(), state->issuer(), Channel(id));
    if (!opened.ok()) {
      return absl::Status(opened.status().code(),
                          absl::StrCat("cannot open version ",
                                       state->version(), " of ", id, ": ",
                                       opened.status().message()));
    }
    version = state->version();
    issuer = state->issuer();
    envelope_hash = opened->hash;
  } else if (IsTransient(state.status())) {
    reach.MarkOffline(state.status());
    if (options_.require_online) {
      return absl::UnavailableError(absl::StrCat(
          state.status().message(),
          "; not sent and not queued (--require-online)"));
    }
    absl::StatusOr<const std::map<uint64_t, KnownVersion>*> known =
        KnownVersions();
    if (!known.ok()) return known.status();
    const KnownVersion* latest = nullptr;
    for (const auto& [index, v] : **known) {
      if (v.id == id && (latest == nullptr || v.version > latest->version)) {
        latest = &v;
      }
    }
    if (latest == nullptr || !latest->opened) {
      return absl::UnavailableError(absl::StrCat(
          state.status().message(), "; and ", id,
          latest == nullptr ? " was never received by this device"
                            : " could not be opened by this device",
          ", so it cannot be acknowledged offline. Nothing was queued. Run "
          "`parley inbox` while the server is reachable, read it, then "
          "acknowledge it"));
    }
    if (std::find(latest->parties.begin(), latest->parties.end(),
                  identity_.name) == latest->parties.end()) {
      return absl::NotFoundError(
          absl::StrCat("no notification \"", id, "\" for you"));
    }
    version = latest->version;
    issuer = latest->issuer;
    envelope_hash = latest->envelope_hash;
    known_parties = latest->parties;
  } else {
    return state.status();
  }

  v1::AcknowledgeRequest request;
  request.set_id(id);
  request.set_version(version);
  absl::StatusOr<std::string> receipt;
  if (objection.empty()) {
    receipt = SignReceipt(keys_.identity(), envelope_hash,
                          ReceiptLevel::kAcknowledged, clock_.Now());
  } else {
    absl::StatusOr<std::vector<v1::Member>> members =
        recipients_.Members(reach);
    if (!members.ok()) return members.status();
    std::string organisation;
    std::vector<std::string> parties;
    if (state.ok()) {
      organisation = state->organisation();
      parties.assign(state->metadata().parties().begin(),
                     state->metadata().parties().end());
    } else {
      for (const v1::Member& m : *members) {
        if (m.name() == issuer) organisation = m.organisation();
      }
      parties = known_parties;
    }
    const nlohmann::json payload = {{"schema", "parley-objection/v1"},
                                    {"id", id},
                                    {"version", version},
                                    {"reason", objection}};
    // The issuer side only: never the other parties.
    absl::StatusOr<std::string> reason = SealNotificationEnvelope(
        Channel(id) + "/objection",
        SideAudience(state.ok() ? state->envelope() : std::string(), *members,
                     issuer, parties, organisation, /*issuer_side=*/true),
        kObjectionContentType,
        payload.dump(), 0, std::string(kEnvelopeHashSize, '\0'), reach);
    if (!reason.ok()) return reason.status();
    request.set_reason_envelope(*reason);
    receipt = SignReceipt(keys_.identity(), envelope_hash,
                          ReceiptLevel::kObjected, clock_.Now(),
                          EnvelopeHash(*reason));
  }
  if (!receipt.ok()) return receipt.status();
  request.set_receipt(*receipt);

  // The server recognises a retry by the identical signed receipt; the
  // outbox id only names the item locally.
  OutboxItem item;
  item.id = HexEncode(random_.Bytes(kClientMessageIdSize));
  item.kind = kOutboxAck;
  item.channel = Channel(id);
  item.request = request.SerializeAsString();
  item.created_at = absl::ToUnixSeconds(clock_.Now());
  item.description =
      objection.empty()
          ? absl::StrCat("acknowledge receipt of ", id, " version ", version)
          : absl::StrCat("object to ", id, " version ", version);
  absl::StatusOr<SubmitResult> submitted = outbox_.Submit(std::move(item));
  if (!submitted.ok()) return submitted.status();
  AckResult result;
  result.version = version;
  result.outbox_id = submitted->id;
  if (submitted->queued) {
    result.queued = true;
    result.queued_reason = submitted->reason;
    return result;
  }
  result.log_index = submitted->answer.log_index;
  result.duplicate = submitted->answer.duplicate;
  return result;
}

// ---------------------------------------------------------------------------
// Delivery

absl::Status NotificationClient::HandleDelivery(
    uint64_t index, const LogEntry& entry,
    const std::function<void(const SyncEvent&)>& sink) {
  std::optional<PendingReceipt> receipt;
  SyncEvent event;
  event.index = index;
  event.kind = SyncEvent::Kind::kNotification;
  NotificationEvent described = DescribeNotificationEntry(index, entry);
  event.text = described.text;
  event.entry_type = described.kind;
  event.version = described.version;
  event.member = described.member;
  event.error = described.error;
  event.step = described.step;
  std::visit(
      [&](const auto& body) {
        if constexpr (requires { body.id; }) {
          event.notification_id = body.id;
        }
      },
      entry.body);
  if (!event.notification_id.empty()) {
    event.channel = Channel(event.notification_id);
  }
  if (const auto* v = std::get_if<NotificationVersion>(&entry.body)) {
    event.members = v->parties;
    NotificationVersionView view = OpenVersion(index, entry);
    if (!state_.HasNotification(index)) {
      nlohmann::json line = {{"index", index},
                             {"id", v->id},
                             {"version", v->version},
                             {"issuer", v->issuer},
                             {"parties", v->parties},
                             {"logged_at_ms", entry.logged_at_ms},
                             {"late", view.late},
                             {"envelope_hash", HexEncode(view.envelope_hash)}};
      if (view.content.has_value()) {
        line["content"] = ContentToJson(*view.content);
      } else {
        line["error"] = view.error;
      }
      if (absl::Status s = state_.AppendNotification(index, line.dump());
          !s.ok()) {
        return s;
      }
      if (known_versions_.has_value()) {
        (*known_versions_)[index] =
            KnownVersion{v->id, v->version, v->issuer, view.envelope_hash,
                         v->parties, view.content.has_value()};
      }
    }
    if (!view.error.empty()) {
      if (event.error.empty()) event.error = view.error;
      absl::StrAppend(&event.text, " [", view.error, "]");
    }
    const bool addressed = std::find(v->parties.begin(), v->parties.end(),
                                     identity_.name) != v->parties.end();
    if (addressed && view.content.has_value()) {
      absl::StatusOr<std::string> signed_receipt =
          SignReceipt(keys_.identity(), view.envelope_hash,
                      ReceiptLevel::kDelivered, clock_.Now());
      if (!signed_receipt.ok()) return signed_receipt.status();
      receipt = PendingReceipt{index, *std::move(signed_receipt)};
    }
  } else if (!described.error.empty()) {
    absl::StrAppend(&event.text, " [", described.error, "]");
  }
  if (absl::Status s = state_.CommitDelivery(index, std::nullopt, receipt);
      !s.ok()) {
    return s;
  }
  sink(event);
  return absl::OkStatus();
}

absl::StatusOr<const std::map<uint64_t, NotificationClient::KnownVersion>*>
NotificationClient::KnownVersions() {
  if (known_versions_.has_value()) return &*known_versions_;
  absl::StatusOr<std::vector<std::string>> records =
      state_.NotificationRecords();
  if (!records.ok()) return records.status();
  std::map<uint64_t, KnownVersion> known;
  for (const std::string& record : *records) {
    nlohmann::json j = nlohmann::json::parse(record, nullptr, false);
    if (!j.is_object()) continue;
    KnownVersion v;
    v.id = j.value("id", std::string());
    v.version = j.value("version", 0u);
    v.issuer = j.value("issuer", std::string());
    absl::StatusOr<std::string> hash =
        HexDecode(j.value("envelope_hash", std::string()));
    if (hash.ok()) v.envelope_hash = *std::move(hash);
    if (j.contains("parties") && j["parties"].is_array()) {
      for (const nlohmann::json& p : j["parties"]) {
        if (p.is_string()) v.parties.push_back(p.get<std::string>());
      }
    }
    // Records of older clients have no parties: only the content names them.
    v.opened = j.contains("content") && hash.ok() &&
               v.envelope_hash.size() == kEnvelopeHashSize;
    if (v.parties.empty() && v.opened) {
      absl::StatusOr<NotificationContent> content =
          ContentFromJson(j["content"]);
      if (content.ok()) v.parties = ComputeVisibleMetadata(*content).parties;
    }
    known[j.value("index", uint64_t{0})] = std::move(v);
  }
  known_versions_ = std::move(known);
  return &*known_versions_;
}

absl::StatusOr<std::vector<NotificationVersionView>>
NotificationClient::StoredNotifications() const {
  absl::StatusOr<std::vector<std::string>> records =
      state_.NotificationRecords();
  if (!records.ok()) return records.status();
  std::vector<NotificationVersionView> out;
  for (const std::string& record : *records) {
    nlohmann::json j = nlohmann::json::parse(record, nullptr, false);
    if (!j.is_object()) continue;
    NotificationVersionView view;
    view.log_index = j.value("index", uint64_t{0});
    view.version = j.value("version", 0u);
    view.logged_at_ms = j.value("logged_at_ms", int64_t{0});
    view.late = j.value("late", false);
    absl::StatusOr<std::string> hash =
        HexDecode(j.value("envelope_hash", std::string()));
    if (hash.ok()) view.envelope_hash = *std::move(hash);
    if (j.contains("content")) {
      absl::StatusOr<NotificationContent> content =
          ContentFromJson(j["content"]);
      if (content.ok()) view.content = *std::move(content);
    }
    view.error = j.value("error", std::string());
    out.push_back(std::move(view));
  }
  return out;
}

// ---------------------------------------------------------------------------
// Proof bundles

absl::StatusOr<std::string> NotificationClient::ExportProofBundle(const std::string& id) {
  absl::StatusOr<v1::NotificationState> state = GetNotificationState(id);
  if (!state.ok()) return state.status();
  std::set<uint64_t> indexes(state->entry_indexes().begin(),
                             state->entry_indexes().end());
  if (indexes.empty()) {
    // A party's own view: the current version and its own answers.
    indexes.insert(state->log_index());
    for (const v1::PartyState& p : state->parties()) {
      if (p.delivered_index() != 0) indexes.insert(p.delivered_index());
      if (p.acknowledged_index() != 0) indexes.insert(p.acknowledged_index());
    }
  }

  std::string note;
  absl::StatusOr<SignedCheckpoint> signed_checkpoint =
      log_.FreshCheckpoint(&note);
  if (!signed_checkpoint.ok()) return signed_checkpoint.status();
  const uint64_t size = signed_checkpoint->size;

  // Every entry is proven against this one checkpoint, in parallel, as
  // `notification show` proves its entries (ProveEntries); the leaves join
  // the verified-entry cache.
  std::map<uint64_t, ProvenEntry> proven;
  auto prove = [&](const std::set<uint64_t>& wanted) -> absl::Status {
    std::vector<uint64_t> missing;
    for (uint64_t index : wanted) {
      if (!proven.contains(index)) missing.push_back(index);
    }
    absl::StatusOr<std::map<uint64_t, ProvenEntry>> got =
        log_.ProveEntries(missing, *signed_checkpoint, note);
    if (!got.ok()) return got.status();
    proven.merge(*got);
    return absl::OkStatus();
  };
  if (absl::Status s = prove(indexes); !s.ok()) return s;

  std::set<std::string> signers;
  for (uint64_t index : indexes) {
    absl::StatusOr<LogEntry> entry = DecodeLogEntry(proven.at(index).leaf);
    if (!entry.ok()) return entry.status();
    if (const auto* v = std::get_if<NotificationVersion>(&entry->body)) {
      signers.insert(v->issuer);
    } else if (const auto* a = std::get_if<NotificationAck>(&entry->body)) {
      signers.insert(a->party);
    } else if (const auto* r = std::get_if<ReceiptEntry>(&entry->body)) {
      signers.insert(r->recipient);
    } else if (const auto* c =
                   std::get_if<NotificationCancelled>(&entry->body)) {
      signers.insert(c->cancelled_by);
    } else if (const auto* st = std::get_if<NotificationStatus>(&entry->body)) {
      signers.insert(st->posted_by);
    }
  }
  absl::StatusOr<std::vector<v1::Member>> members = directory_.list_members();
  if (!members.ok()) return members.status();
  std::set<uint64_t> registrations;
  for (const v1::Member& m : *members) {
    if (!signers.contains(m.name())) continue;
    for (uint64_t index : {m.enrolled_index(), m.registration_index()}) {
      if (index < size) registrations.insert(index);
    }
  }
  if (absl::Status s = prove(registrations); !s.ok()) return s;

  // A leaf the cache holds already must be the bytes proven now; the rest
  // are cached, so `notification show` need not fetch them again.
  std::vector<ProofBundleEntry> entries;
  std::vector<std::pair<uint64_t, std::string>> to_cache;
  for (auto& [index, e] : proven) {
    absl::StatusOr<std::optional<std::string>> cached =
        state_.VerifiedEntry(index);
    if (!cached.ok()) return cached.status();
    if (!cached->has_value()) {
      to_cache.emplace_back(index, e.leaf);
    } else if (**cached != e.leaf) {
      return absl::DataLossError(absl::StrCat(
          "the server proved other bytes for log entry ", index,
          " than it proved to this device before: the log was rewritten"));
    }
    entries.push_back({index, std::move(e.leaf), std::move(e.tlog_proof)});
  }
  if (absl::Status s = state_.AddVerifiedEntries(to_cache); !s.ok()) return s;
  absl::StatusOr<std::vector<ProofBundleIdentity>> identities =
      IdentitiesFromEntries(entries);
  if (!identities.ok()) return identities.status();
  return BuildProofBundle(identity_.verifier_key, note,
                          std::move(entries), *std::move(identities));
}

}  // namespace parley
