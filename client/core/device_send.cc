// Device: sealing to a channel and sending through the outbox
// (client/core/device.h, "Channels" and "Offline outbox").

#include <set>

#include "absl/strings/str_cat.h"
#include "client/core/device.h"
#include "client/core/retry.h"
#include "crypto/encoding.h"
#include "crypto/envelope.h"
#include "crypto/prekey.h"

namespace parley {

absl::StatusOr<OutboxItem> Device::SealForChannel(
    const std::string& channel, const std::string& content_type,
    const std::string& payload, RelayMode relay_mode, uint64_t relay_of,
    Reach& reach, ChainState* chain_after) {
  std::vector<std::string> members;
  std::optional<ChainState> server_chain;
  if (reach.online()) {
    absl::StatusOr<v1::ChannelInfo> info = FindChannel(channel);
    if (info.ok()) {
      members.assign(info->members().begin(), info->members().end());
      if (info->last_hash().size() == kEnvelopeHashSize) {
        // The server's record of our chain wins: it survives lost state.
        server_chain = ChainState{info->next_sequence(), info->last_hash()};
      }
    } else if (IsTransient(info.status())) {
      reach.MarkOffline(info.status());
    } else {
      return info.status();
    }
  }
  if (!reach.online()) {
    if (require_online_) {
      return absl::UnavailableError(absl::StrCat(
          reach.offline_cause().message(),
          "; not sent and not queued (--require-online)"));
    }
    std::optional<std::vector<std::string>> cached =
        state_.CachedChannelMembers(channel);
    if (!cached.has_value()) {
      return CannotSealOffline(
          absl::StrCat("never seen the members of channel \"", channel, "\""),
          reach.offline_cause());
    }
    members = *std::move(cached);
  }

  std::vector<EnvelopeRecipient> recipients;
  for (const std::string& member : members) {
    if (absl::Status s = state_.CheckSendable(member); !s.ok()) return s;
    KeyBundle bundle;
    if (member == identity_.name) {
      bundle = keys_.Bundle();
    } else if (reach.online()) {
      absl::StatusOr<v1::KeyBundleRecord> record =
          FetchVerifiedBundle(member, &bundle);
      if (IsMemberRevoked(record.status())) {
        continue;  // the server expects only unrevoked members
      }
      if (!record.ok()) {
        return absl::Status(record.status().code(),
                            absl::StrCat("cannot encrypt to ", member, ": ",
                                         record.status().message()));
      }
      if (absl::Status s = state_.CheckSendable(member); !s.ok()) return s;
    } else {
      absl::StatusOr<KeyBundle> cached =
          recipients_.CachedBundle(member, reach.offline_cause());
      if (!cached.ok()) return cached.status();
      bundle = *std::move(cached);
    }
    recipients.push_back(EnvelopeRecipient{bundle.identity_public_key,
                                           bundle.signed_prekey, std::nullopt});
  }

  ChainState chain = state_.Chain(channel);
  if (reach.online() && server_chain.has_value()) chain = *server_chain;
  EnvelopeMetadata metadata;
  metadata.channel_id = channel;
  metadata.client_message_id = random_.Bytes(kClientMessageIdSize);
  metadata.sequence = chain.next_sequence;
  metadata.previous_hash = chain.last_hash;
  metadata.created_at = absl::ToUnixSeconds(clock_.Now());
  metadata.content_type = content_type;
  absl::StatusOr<std::string> envelope = SealEnvelope(
      keys_.identity(), metadata, recipients, payload, random_);
  if (!envelope.ok()) return envelope.status();
  if (absl::Status s = CheckEnvelopeFits(
          envelope->size(), max_message_bytes_, "the message",
          "Send less text or a smaller file.");
      !s.ok()) {
    return s;
  }

  OutboxItem item;
  item.id = HexEncode(metadata.client_message_id);
  item.kind = kOutboxSend;
  item.channel = channel;
  item.request = *std::move(envelope);
  item.relay_mode = relay_mode;
  item.relay_of = relay_of;
  item.content_type = content_type;
  item.payload = payload;
  item.created_at = metadata.created_at;
  *chain_after = ChainState{metadata.sequence + 1, EnvelopeHash(item.request)};
  return item;
}

absl::StatusOr<SendResult> Device::SealAndSend(const std::string& channel,
                                               const std::string& content_type,
                                               const std::string& payload,
                                               RelayMode relay_mode,
                                               uint64_t relay_of) {
  absl::Status flushed = outbox_.Flush();
  if (!flushed.ok() && !IsRetryable(flushed)) {
    return flushed;
  }
  // Not flushed for a reason worth retrying: the server is out of reach.
  Reach reach = flushed.ok() ? Reach() : Reach::Offline(flushed);
  if (!reach.online() && require_online_) {
    return absl::UnavailableError(absl::StrCat(
        flushed.message(), "; not sent and not queued (--require-online)"));
  }
  ChainState chain_after;
  absl::StatusOr<OutboxItem> item = SealForChannel(
      channel, content_type, payload, relay_mode, relay_of, reach,
      &chain_after);
  if (!item.ok()) return item.status();
  absl::StatusOr<ParsedEnvelope> parsed = ParseEnvelope(item->request);
  if (!parsed.ok()) return parsed.status();
  SendResult result;
  result.channel = channel;
  result.sequence = parsed->header.metadata.sequence;
  result.envelope_hash = parsed->hash;
  result.id = item->id;
  absl::StatusOr<SubmitResult> submitted =
      outbox_.Submit(*std::move(item), chain_after);
  if (!submitted.ok()) return submitted.status();
  result.queued = submitted->queued;
  result.queued_reason = submitted->reason;
  result.log_index = submitted->answer.log_index;
  result.duplicate = submitted->answer.duplicate;
  return result;
}

absl::StatusOr<std::vector<SendResult>> Device::ResendHeld(
    const std::string& id) {
  const OutboxItem* held = state_.FindOutboxItem(id);
  if (held == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "nothing queued with id ", id, " (`parley outbox` lists the ids)"));
  }
  if (held->held.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(
        id, " was not refused; `parley sync` sends it"));
  }
  if (held->kind != kOutboxSend) {
    // A held notification or answer was sealed for a version the server
    // no longer takes; sealing it again means deciding again what to say.
    return absl::FailedPreconditionError(absl::StrCat(
        "held ", held->kind, " work is not sealed again automatically: "
        "drop it (`parley outbox drop ", id, "`) and notify or answer "
        "again"));
  }
  const std::string channel = held->channel;
  // This item and everything after it for the channel, in order.
  std::vector<OutboxItem> redo;
  bool from_here = false;
  for (const OutboxItem& item : state_.outbox()) {
    if (item.id == id) from_here = true;
    if (from_here && item.channel == channel && item.kind == kOutboxSend) {
      redo.push_back(item);
    }
  }
  // Hold them all first, so no flush sends an old one meanwhile; each is
  // then replaced in place (a crash leaves either the old or the new).
  for (OutboxItem item : redo) {
    if (!item.held.empty()) continue;
    item.held = "waiting to be sealed again (`parley outbox resend`)";
    if (absl::Status s = state_.UpdateOutboxItem(item.id, item); !s.ok()) {
      return s;
    }
  }
  std::vector<SendResult> results;
  for (const OutboxItem& old : redo) {
    Reach reach;
    ChainState chain_after;
    absl::StatusOr<OutboxItem> fresh =
        SealForChannel(channel, old.content_type, old.payload, old.relay_mode,
                       old.relay_of, reach, &chain_after);
    if (!fresh.ok()) return fresh.status();
    if (!reach.online()) {
      return absl::UnavailableError(
          "the server cannot be reached; resending needs it");
    }
    fresh->queued_at_ms = old.queued_at_ms;
    const std::string fresh_id = fresh->id;
    if (absl::Status s = state_.UpdateOutboxItem(old.id, *fresh); !s.ok()) {
      return s;
    }
    if (absl::Status s = state_.SetChain(channel, chain_after); !s.ok()) {
      return s;
    }
    absl::Status flushed = outbox_.Flush();
    if (!flushed.ok() && !IsRetryable(flushed)) {
      return flushed;
    }
    SendResult r;
    r.channel = channel;
    r.id = fresh_id;
    const OutboxItem* still = state_.FindOutboxItem(fresh_id);
    if (still != nullptr && !still->held.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("the server refused it again: ", still->held));
    }
    if (still != nullptr) {
      r.queued = true;
      r.queued_reason = std::string(flushed.message());
      results.push_back(std::move(r));
      break;
    }
    if (std::optional<OutboxAnswer> answer = outbox_.TakeAnswer(fresh_id)) {
      r.log_index = answer->log_index;
      r.duplicate = answer->duplicate;
    }
    results.push_back(std::move(r));
  }
  return results;
}

absl::StatusOr<size_t> Device::RefreshOfflineCache() {
  absl::StatusOr<std::vector<v1::ChannelInfo>> channels = ListChannels();
  if (!channels.ok()) return channels.status();
  std::set<std::string> members;
  for (const v1::ChannelInfo& c : *channels) {
    members.insert(c.members().begin(), c.members().end());
  }
  // Notification work seals to the notification's audience: remember the
  // directory and the keys a coordinator (parties, mediators,
  // coordinators) or a party (the issuer side) may need offline.
  if (identity_.role == MemberRole::kCoordinator ||
      identity_.role == MemberRole::kParty) {
    absl::StatusOr<std::vector<v1::Member>> directory = ListMembers();
    if (!directory.ok()) return directory.status();
    for (const v1::Member& m : *directory) {
      if (m.revoked()) continue;
      if (m.role() == v1::ROLE_MEDIATOR || m.role() == v1::ROLE_COORDINATOR ||
          (m.role() == v1::ROLE_PARTY &&
           identity_.role == MemberRole::kCoordinator)) {
        members.insert(m.name());
      }
    }
  }
  for (const std::string& m : members) {
    if (m == identity_.name) continue;
    KeyBundle bundle;
    absl::StatusOr<v1::KeyBundleRecord> record = FetchVerifiedBundle(m, &bundle);
    if (!record.ok()) {
      if (IsTransient(record.status())) return record.status();
      warnings_.push_back(absl::StrCat("cannot cache the key of ", m, ": ",
                                       record.status().message()));
    }
  }
  return channels->size();
}

}  // namespace parley
