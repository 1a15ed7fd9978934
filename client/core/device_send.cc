// Device: the offline outbox (client/core/device.h, "Offline outbox").

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "client/core/device.h"
#include "client/core/retry.h"
#include "crypto/encoding.h"
#include "crypto/envelope.h"
#include "crypto/prekey.h"
#include "grpcpp/client_context.h"
#include "parley/v1/channels.grpc.pb.h"
#include "parley/v1/notifications.grpc.pb.h"

namespace parley {
namespace {

constexpr char kSendKind[] = "send";
constexpr char kNotifyKind[] = "notify";
constexpr char kAckKind[] = "ack";
// A batch stays within the server's SendBatch limit (100) and below its
// default message limit (256 KiB).
constexpr size_t kMaxBatchSends = 100;
constexpr size_t kMaxBatchBytes = 192 * 1024;

// Failures after which the queued work stays queued and the pass ends.
bool IsRetryable(const absl::Status& s) {
  return IsTransient(s) || absl::IsUnauthenticated(s);
}

v1::SendRequest ToSendRequest(const OutboxItem& send) {
  v1::SendRequest request;
  request.set_channel(send.channel);
  request.set_envelope(send.request);
  request.set_relay_mode(static_cast<v1::RelayMode>(send.relay_mode));
  request.set_relay_of(send.relay_of);
  return request;
}

}  // namespace

absl::StatusOr<SendResult> Device::RecordSent(const OutboxItem& send,
                                              const ParsedEnvelope& parsed,
                                              const v1::SendResponse& response) {
  const uint64_t sequence = parsed.header.metadata.sequence;
  if (state_.Chain(send.channel).next_sequence <= sequence) {
    if (absl::Status c = state_.SetChain(send.channel,
                                         ChainState{sequence + 1, parsed.hash});
        !c.ok()) {
      return c;
    }
  }
  SendResult result;
  result.log_index = response.log_index();
  result.duplicate = response.duplicate();
  result.channel = send.channel;
  result.sequence = sequence;
  result.envelope_hash = parsed.hash;
  result.id = send.id;
  return result;
}

absl::StatusOr<SendResult> Device::SendEnvelope(const OutboxItem& send) {
  absl::StatusOr<ParsedEnvelope> parsed = ParseEnvelope(send.request);
  if (!parsed.ok()) return parsed.status();
  auto api = v1::Channels::NewStub(session_->channel());
  const v1::SendRequest request = ToSendRequest(send);
  v1::SendResponse response;
  absl::Status s = auth_.Call([&](grpc::ClientContext* c) {
    return api->Send(c, request, &response);
  });
  if (!s.ok()) return s;
  return RecordSent(send, *parsed, response);
}

absl::Status Device::SendEnvelopeBatch(const std::vector<OutboxItem>& sends) {
  std::vector<ParsedEnvelope> parsed;
  v1::SendBatchRequest request;
  for (const OutboxItem& send : sends) {
    absl::StatusOr<ParsedEnvelope> p = ParseEnvelope(send.request);
    if (!p.ok()) return p.status();
    parsed.push_back(*std::move(p));
    *request.add_sends() = ToSendRequest(send);
  }
  auto api = v1::Channels::NewStub(session_->channel());
  v1::SendBatchResponse response;
  absl::Status s = auth_.Call([&](grpc::ClientContext* c) {
    return api->SendBatch(c, request, &response);
  });
  if (!s.ok()) return s;
  if (response.results_size() != static_cast<int>(sends.size())) {
    return absl::InternalError(absl::StrCat(
        "the server answered a batch of ", sends.size(), " sends with ",
        response.results_size(), " results"));
  }
  std::set<std::string> sent;
  for (size_t i = 0; i < sends.size(); ++i) {
    absl::StatusOr<SendResult> r =
        RecordSent(sends[i], parsed[i], response.results(i));
    if (!r.ok()) return r.status();
    sent.insert(sends[i].id);
    flushed_.push_back(FlushedItem{
        sends[i], OutboxAnswer{r->log_index, r->duplicate, ""}});
  }
  return state_.ChangeOutbox(sent, {});
}

absl::StatusOr<OutboxAnswer> Device::SendOutboxItem(const OutboxItem& item) {
  if (item.kind == kSendKind) {
    absl::StatusOr<SendResult> r = SendEnvelope(item);
    if (!r.ok()) return r.status();
    return OutboxAnswer{r->log_index, r->duplicate, ""};
  }
  if (item.kind == kNotifyKind || item.kind == kAckKind) {
    auto api = v1::Notifications::NewStub(session_->channel());
    if (item.kind == kNotifyKind) {
      v1::NotifyRequest request;
      if (!request.ParseFromString(item.request)) {
        return absl::DataLossError("the queued notification is malformed");
      }
      v1::NotifyResponse response;
      absl::Status s = auth_.Call([&](grpc::ClientContext* c) {
        return api->Notify(c, request, &response);
      });
      if (!s.ok()) return s;
      return OutboxAnswer{response.log_index(), response.duplicate(),
                          response.SerializeAsString()};
    }
    v1::AcknowledgeRequest request;
    if (!request.ParseFromString(item.request)) {
      return absl::DataLossError("the queued acknowledgement is malformed");
    }
    v1::AcknowledgeResponse response;
    absl::Status s = auth_.Call([&](grpc::ClientContext* c) {
      return api->Acknowledge(c, request, &response);
    });
    if (!s.ok()) return s;
    return OutboxAnswer{response.log_index(), response.duplicate(),
                        response.SerializeAsString()};
  }
  return absl::UnimplementedError(absl::StrCat(
      "this version of parley cannot send queued work of kind \"", item.kind,
      "\""));
}

absl::Status Device::FlushOutbox() {
  std::vector<std::string> ids;
  for (const OutboxItem& item : state_.outbox()) ids.push_back(item.id);
  std::set<std::string> held_keys;  // ordering keys with held work
  size_t singles_until = 0;  // items before this go one at a time
  for (size_t k = 0; k < ids.size(); ++k) {
    const std::string& id = ids[k];
    const OutboxItem* queued = state_.FindOutboxItem(id);
    if (queued == nullptr) continue;
    OutboxItem item = *queued;
    if (!item.held.empty()) {
      held_keys.insert(item.channel);
      continue;
    }
    if (held_keys.contains(item.channel)) continue;
    // A failure the same request may survive (unreachable, rate limited,
    // signed out): count the try, keep the reason, end this pass.
    auto wait_for_retry = [&](const absl::Status& failure) {
      ++item.attempts;
      item.last_error = std::string(failure.message());
      absl::Status s = state_.UpdateOutboxItem(id, item);
      return s.ok() ? failure : s;
    };
    if (k >= singles_until && item.kind == kSendKind) {
      // The envelopes queued from here on, up to the next other work, go
      // in one Channels/SendBatch: one round trip instead of one each.
      std::vector<OutboxItem> run;
      size_t bytes = 0;
      for (size_t j = k; j < ids.size() && run.size() < kMaxBatchSends; ++j) {
        const OutboxItem* next = state_.FindOutboxItem(ids[j]);
        if (next == nullptr || next->kind != kSendKind ||
            !next->held.empty() || held_keys.contains(next->channel) ||
            bytes + next->request.size() > kMaxBatchBytes) {
          break;
        }
        bytes += next->request.size();
        run.push_back(*next);
      }
      if (run.size() >= 2) {
        absl::Status batch = SendEnvelopeBatch(run);
        if (batch.ok()) {
          k += run.size() - 1;
          continue;
        }
        if (IsRetryable(batch)) return wait_for_retry(batch);
        // Refused (nothing of it was logged), or a server without
        // SendBatch: one at a time, so each refusal lands on its own item.
        singles_until = k + run.size();
      }
    }
    absl::StatusOr<OutboxAnswer> answer = SendOutboxItem(item);
    if (answer.ok()) {
      if (absl::Status s = state_.RemoveFromOutbox(id); !s.ok()) return s;
      flushed_.push_back(FlushedItem{std::move(item), *answer});
      continue;
    }
    if (IsRetryable(answer.status())) return wait_for_retry(answer.status());
    // Refused for good: keep it, with the reason, for the user to decide.
    ++item.attempts;
    refusals_[id] = answer.status();
    item.held = absl::StrCat(absl::StatusCodeToString(answer.status().code()),
                             ": ", answer.status().message());
    if (absl::Status s = state_.UpdateOutboxItem(id, item); !s.ok()) return s;
    held_keys.insert(item.channel);
    warnings_.push_back(absl::StrCat(
        "queued ", item.kind, " ", item.id, " for ", item.channel,
        " was refused by the server and is held in the outbox: ",
        answer.status().message(),
        " (`parley outbox` lists it; `parley outbox resend ", item.id,
        "` or `parley outbox drop ", item.id, "`)"));
  }
  return absl::OkStatus();
}

absl::Status Device::FlushOutboxWithRetries(int attempts,
                                            absl::Duration budget) {
  const absl::Time deadline = clock_.Now() + budget;
  Backoff backoff(absl::Milliseconds(250), absl::Seconds(8), random_);
  for (int attempt = 1;; ++attempt) {
    absl::Status s = FlushOutbox();
    if (s.ok() || !IsTransient(s)) return s;
    if (attempt >= attempts || stop_.load()) return s;
    const absl::Duration sleep = backoff.Next();
    if (clock_.Now() + sleep >= deadline) return s;
    SleepUnlessStopped(clock_, sleep, stop_, absl::Milliseconds(50));
    // A channel that saw its server die can be slow to notice it is back.
    session_->ResetChannel();
  }
}

absl::StatusOr<SubmitResult> Device::SubmitQueued(
    OutboxItem item, const std::optional<ChainState>& chain_after) {
  if (item.id.empty()) {
    return absl::InvalidArgumentError("outbox work needs an idempotency id");
  }
  if (item.queued_at_ms == 0) {
    item.queued_at_ms = absl::ToUnixMillis(clock_.Now());
  }
  const ChainState chain_before = state_.Chain(item.channel);
  const std::string id = item.id;
  const std::string key = item.channel;
  if (absl::Status s = state_.AddToOutbox(item, chain_after); !s.ok()) {
    return s;
  }
  // Takes the item out again: refused, or not allowed to wait.
  auto withdraw = [&]() -> absl::Status {
    if (absl::Status s = state_.RemoveFromOutbox(id); !s.ok()) return s;
    if (chain_after.has_value() &&
        state_.Chain(key).next_sequence == chain_after->next_sequence) {
      return state_.SetChain(key, chain_before);
    }
    return absl::OkStatus();
  };
  absl::Status flushed = FlushOutbox();
  if (!flushed.ok() && !IsRetryable(flushed)) {
    return flushed;  // local state could not be written
  }
  SubmitResult result;
  result.id = id;
  const OutboxItem* still = state_.FindOutboxItem(id);
  if (still == nullptr) {
    for (const FlushedItem& f : flushed_) {
      if (f.item.id == id) result.answer = f.answer;
    }
    std::erase_if(flushed_, [&](const FlushedItem& f) { return f.item.id == id; });
    return result;
  }
  if (!still->held.empty()) {
    // Refused at once: the user sees why now, so it need not wait.
    std::string why = still->held;
    warnings_.erase(std::remove_if(warnings_.begin(), warnings_.end(),
                                   [&](const std::string& w) {
                                     return w.find(id) != std::string::npos;
                                   }),
                    warnings_.end());
    if (absl::Status s = withdraw(); !s.ok()) return s;
    auto refusal = refusals_.find(id);
    if (item.kind != kSendKind && refusal != refusals_.end()) {
      // Notification work: the server's own answer (not found, permission
      // denied, ...), as when it was sent directly.
      return refusal->second;
    }
    return absl::FailedPreconditionError(
        absl::StrCat("the server refused it: ", why));
  }
  const std::string reason =
      !flushed.ok()
          ? std::string(flushed.message())
          : absl::StrCat("earlier work for ", key,
                         " is held in the outbox (see `parley outbox`)");
  if (require_online_) {
    if (absl::Status s = withdraw(); !s.ok()) return s;
    return absl::UnavailableError(absl::StrCat(
        reason, "; not sent and not queued (--require-online)"));
  }
  if (still->last_error.empty()) {
    // Not tried (earlier work failed first): say why it waits anyway.
    OutboxItem noted = *still;
    noted.last_error = reason;
    if (absl::Status s = state_.UpdateOutboxItem(id, noted); !s.ok()) return s;
  }
  result.queued = true;
  result.reason = reason;
  return result;
}

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
  item.kind = kSendKind;
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
  absl::Status flushed = FlushOutbox();
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
      SubmitQueued(*std::move(item), chain_after);
  if (!submitted.ok()) return submitted.status();
  result.queued = submitted->queued;
  result.queued_reason = submitted->reason;
  result.log_index = submitted->answer.log_index;
  result.duplicate = submitted->answer.duplicate;
  return result;
}

absl::Status Device::DropQueued(const std::string& id, bool force) {
  const OutboxItem* item = state_.FindOutboxItem(id);
  if (item == nullptr) {
    return absl::NotFoundError(absl::StrCat(
        "nothing queued with id ", id, " (`parley outbox` lists the ids)"));
  }
  if (item->held.empty() && !force) {
    return absl::FailedPreconditionError(absl::StrCat(
        id, " is still waiting to be sent and may already have reached the "
            "server; drop it only with --force"));
  }
  return state_.RemoveFromOutbox(id);
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
  if (held->kind != kSendKind) {
    return absl::UnimplementedError(absl::StrCat(
        "resending held ", held->kind, " work is not supported; drop it and "
        "do it again"));
  }
  const std::string channel = held->channel;
  // This item and everything after it for the channel, in order.
  std::vector<OutboxItem> redo;
  bool from_here = false;
  for (const OutboxItem& item : state_.outbox()) {
    if (item.id == id) from_here = true;
    if (from_here && item.channel == channel && item.kind == kSendKind) {
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
    absl::Status flushed = FlushOutbox();
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
    for (const FlushedItem& f : flushed_) {
      if (f.item.id == fresh_id) {
        r.log_index = f.answer.log_index;
        r.duplicate = f.answer.duplicate;
      }
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
