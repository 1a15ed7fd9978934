#include "server/channel_service.h"

#include <algorithm>
#include <limits>
#include <map>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "crypto/encoding.h"
#include "crypto/envelope.h"
#include "crypto/prekey.h"
#include "crypto/receipt.h"
#include "server/status_util.h"
#include "spdlog/spdlog.h"
#include "storage/log_schema.h"

namespace parley {
namespace {

constexpr size_t kMaxReceiptsPerCall = 500;

std::string ZeroHash() { return std::string(32, '\0'); }

// Holds a set of mutexes from construction to destruction. They are taken
// in address order (duplicates once), so two holders of overlapping sets
// cannot wait on each other. The set is only known at run time, which
// clang's thread-safety analysis cannot follow; hence no analysis here.
class OrderedLocks {
 public:
  explicit OrderedLocks(std::vector<absl::Mutex*> locks)
      ABSL_NO_THREAD_SAFETY_ANALYSIS : locks_(std::move(locks)) {
    std::sort(locks_.begin(), locks_.end());
    locks_.erase(std::unique(locks_.begin(), locks_.end()), locks_.end());
    for (absl::Mutex* m : locks_) m->Lock();
  }
  ~OrderedLocks() ABSL_NO_THREAD_SAFETY_ANALYSIS {
    for (auto it = locks_.rbegin(); it != locks_.rend(); ++it) {
      (*it)->Unlock();
    }
  }
  OrderedLocks(const OrderedLocks&) = delete;
  OrderedLocks& operator=(const OrderedLocks&) = delete;

 private:
  std::vector<absl::Mutex*> locks_;
};

// The sender's chain in a channel: the next sequence number and the hash of
// its last envelope.
// The sender's chain in `channel`: the next sequence and the last hash
// ({0, zero hash} before its first envelope). A read error or a damaged
// value is an error (DataLoss or the read's), never a fresh chain: that would
// let a sender fork its chain.
absl::StatusOr<std::pair<uint64_t, std::string>> ReadChain(
    LogStore& log, const std::string& sender, const std::string& channel) {
  absl::StatusOr<std::optional<std::string>> value = log.GetIndex(
      index_cf::kChain, sender + std::string(1, '\0') + channel);
  if (!value.ok()) return value.status();
  if (!value->has_value()) return std::make_pair(uint64_t{0}, ZeroHash());
  std::optional<uint64_t> next =
      (*value)->size() == 40
          ? log_schema::DecodeU64Key(std::string_view(**value).substr(0, 8))
          : std::nullopt;
  if (!next.has_value()) {
    spdlog::error("the chain index of {} in channel {} is damaged", sender,
                  channel);
    return absl::DataLossError(
        "the server's chain index is damaged; the operator must run "
        "parleyd check");
  }
  return std::make_pair(*next, (*value)->substr(8));
}

}  // namespace

absl::Mutex* ChannelService::SenderLock(const std::string& sender) {
  absl::MutexLock lock(&senders_mu_);
  auto& slot = senders_[sender];
  if (!slot) slot = std::make_unique<absl::Mutex>();
  return slot.get();
}

absl::Status ChannelService::CheckMembers(
    const std::vector<std::string>& names) const {
  for (const std::string& name : names) {
    std::optional<MemberRecord> m = core_->ledger->state().MemberByName(name);
    if (!m.has_value()) {
      return absl::NotFoundError(absl::StrCat(
          "no member named ", Quote(name), " (see parley directory)"));
    }
    if (m->revoked) {
      return absl::FailedPreconditionError(
          absl::StrCat(name, " has been revoked and cannot join a channel"));
    }
    if (m->role == MemberRole::kAdmin) {
      return absl::InvalidArgumentError(absl::StrCat(
          name, " is an admin; admins operate the server and do not take "
                "part in channels"));
    }
  }
  return absl::OkStatus();
}

absl::Status ChannelService::FillChannel(const ChannelRecord& channel,
                                         const std::string& caller,
                                         v1::ChannelInfo* out) const {
  out->set_name(channel.name);
  for (const std::string& m : channel.members) out->add_members(m);
  out->set_created_by(channel.created_by);
  out->set_log_index(channel.log_index);
  absl::StatusOr<std::pair<uint64_t, std::string>> chain =
      ReadChain(core_->ledger->log(), caller, channel.name);
  if (!chain.ok()) return chain.status();
  out->set_next_sequence(chain->first);
  out->set_last_hash(chain->second);
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* ChannelService::CreateChannel(
    grpc::CallbackServerContext* context,
    const v1::CreateChannelRequest* request, v1::ChannelInfo* response) {
  absl::StatusOr<Caller> caller =
      core_->Admit(context, "parley.v1.Channels/CreateChannel");
  if (!caller.ok()) return core_->Refuse(context, caller.status());
  return FinishUnaryOnPool(*core_, context, [=, this]() -> absl::Status {
    if (absl::Status s = ValidateName("channel", request->name()); !s.ok()) {
      return s;
    }
    std::set<std::string> members(request->members().begin(),
                                  request->members().end());
    members.insert(caller->name);
    std::vector<std::string> list(members.begin(), members.end());
    if (list.size() > static_cast<size_t>(
                          core_->limiter->options().max_channel_members)) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "a channel may have at most ",
          core_->limiter->options().max_channel_members, " members"));
    }
    if (absl::Status s = CheckMembers(list); !s.ok()) return s;
    absl::MutexLock lock(&channels_mu_);
    if (core_->ledger->state().Channel(request->name()).has_value()) {
      return absl::AlreadyExistsError(
          absl::StrCat("a channel named ", Quote(request->name()),
                       " already exists"));
    }
    ChannelCreated entry{request->name(), caller->name, list,
                         core_->random->Bytes(kEntrySaltSize)};
    absl::StatusOr<uint64_t> index = core_->ledger->Commit(std::move(entry));
    if (!index.ok()) return index.status();
    std::optional<ChannelRecord> channel =
        core_->ledger->state().Channel(request->name());
    if (channel) return FillChannel(*channel, caller->name, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ChannelService::ChangeMembers(
    grpc::CallbackServerContext* context,
    const v1::ChangeMembersRequest* request, v1::ChannelInfo* response) {
  absl::StatusOr<Caller> caller =
      core_->Admit(context, "parley.v1.Channels/ChangeMembers");
  if (!caller.ok()) return core_->Refuse(context, caller.status());
  return FinishUnaryOnPool(*core_, context, [=, this]() -> absl::Status {
    absl::MutexLock lock(&channels_mu_);
    std::optional<ChannelRecord> channel =
        core_->ledger->state().Channel(request->channel());
    if (!channel.has_value()) {
      return absl::NotFoundError(
          absl::StrCat("no channel named ", Quote(request->channel())));
    }
    if (!channel->members.contains(caller->name)) {
      return absl::PermissionDeniedError(absl::StrCat(
          "you are not a member of channel ", Quote(request->channel())));
    }
    std::vector<std::string> added(request->add().begin(),
                                   request->add().end());
    if (absl::Status s = CheckMembers(added); !s.ok()) return s;
    std::set<std::string> members = channel->members;
    members.insert(added.begin(), added.end());
    for (const std::string& name : request->remove()) {
      if (!members.erase(name)) {
        return absl::NotFoundError(absl::StrCat(
            Quote(name), " is not a member of channel ",
            Quote(request->channel())));
      }
    }
    if (members.empty()) {
      return absl::InvalidArgumentError("a channel needs at least one member");
    }
    if (members.size() > static_cast<size_t>(
                             core_->limiter->options().max_channel_members)) {
      return absl::ResourceExhaustedError(absl::StrCat(
          "a channel may have at most ",
          core_->limiter->options().max_channel_members, " members"));
    }
    if (members == channel->members) {
      return FillChannel(*channel, caller->name, response);
    }
    ChannelMembersChanged entry{request->channel(), caller->name,
                                std::vector<std::string>(members.begin(),
                                                         members.end()),
                                core_->random->Bytes(kEntrySaltSize)};
    absl::StatusOr<uint64_t> index = core_->ledger->Commit(std::move(entry));
    if (!index.ok()) return index.status();
    std::optional<ChannelRecord> updated =
        core_->ledger->state().Channel(request->channel());
    if (updated) return FillChannel(*updated, caller->name, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ChannelService::ListChannels(
    grpc::CallbackServerContext* context, const v1::ListChannelsRequest*,
    v1::ListChannelsResponse* response) {
  absl::StatusOr<Caller> caller =
      core_->Admit(context, "parley.v1.Channels/ListChannels");
  if (!caller.ok()) return core_->Refuse(context, caller.status());
  for (const ChannelRecord& c :
       core_->ledger->state().ChannelsOf(caller->name)) {
    if (absl::Status s =
            FillChannel(c, caller->name, response->add_channels());
        !s.ok()) {
      return FinishUnary(context, s);
    }
  }
  return FinishUnary(context, absl::OkStatus());
}

absl::Status ChannelService::DoSend(const Caller& caller,
                                    const v1::SendRequest& request,
                                    v1::SendResponse* response) {
  std::vector<v1::SendResponse> results;
  if (absl::Status s = DoSendBatch(caller, {&request}, &results); !s.ok()) {
    return s;
  }
  *response = results[0];
  return absl::OkStatus();
}

absl::Status ChannelService::DoSendBatch(
    const Caller& caller, const std::vector<const v1::SendRequest*>& requests,
    std::vector<v1::SendResponse>* results) {
  const size_t n = requests.size();
  if (n == 0) {
    return absl::InvalidArgumentError("a batch needs at least one send");
  }
  if (n > kMaxSendsPerBatch) {
    return absl::InvalidArgumentError(
        absl::StrCat("a batch of ", n, " sends is over the limit of ",
                     kMaxSendsPerBatch, "; split it"));
  }
  // A failure names the item, so a client can find what to fix.
  auto item_error = [n](size_t i, const absl::Status& s) {
    if (n == 1) return s;
    return absl::Status(
        s.code(), absl::StrCat("send ", i + 1, " of ", n, ": ", s.message(),
                               " (nothing in this batch was logged)"));
  };
  uint64_t total_bytes = 0;
  for (const v1::SendRequest* r : requests) total_bytes += r->envelope().size();
  if (n > 1 && total_bytes > core_->max_message_bytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the batch's envelopes total ", total_bytes,
        " bytes, over the server's limit of ", core_->max_message_bytes,
        " per request; send fewer per batch"));
  }

  // Checks that need no lock: signature, signer, channel, membership.
  std::vector<ParsedEnvelope> envelopes;
  std::vector<ChannelRecord> channels;
  std::vector<std::string> msgids;
  envelopes.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    const v1::SendRequest& request = *requests[i];
    absl::StatusOr<ParsedEnvelope> envelope = core_->CheckSignedEnvelope(
        caller, request.envelope(), request.channel());
    if (!envelope.ok()) return item_error(i, envelope.status());
    std::optional<ChannelRecord> channel =
        core_->ledger->state().Channel(request.channel());
    if (!channel.has_value()) {
      return item_error(i, absl::NotFoundError(absl::StrCat(
                               "no channel named ", Quote(request.channel()))));
    }
    if (!channel->members.contains(caller.name)) {
      return item_error(i, absl::PermissionDeniedError(absl::StrCat(
                               "you are not a member of channel ",
                               Quote(request.channel()))));
    }
    if (request.relay_mode() < 0 || request.relay_mode() > 2) {
      return item_error(i, absl::InvalidArgumentError("unknown relay mode"));
    }
    std::string msgid = envelope->header.sender_identity +
                        envelope->header.metadata.client_message_id;
    for (size_t j = 0; j < i; ++j) {
      if (msgids[j] == msgid) {
        return item_error(i, absl::InvalidArgumentError(absl::StrCat(
                                 "repeats the client message id of send ",
                                 j + 1, "; each send needs its own")));
      }
    }
    msgids.push_back(std::move(msgid));
    envelopes.push_back(*std::move(envelope));
    channels.push_back(*std::move(channel));
  }

  absl::MutexLock lock(SenderLock(caller.name));
  // Idempotency first: a retry of a logged envelope answers with its index.
  // The ids' locks, held to the commit, also keep out a notification sent
  // at the same time under the same id (Notifications/Notify). Taken in
  // address order, so two batches cannot wait on each other.
  std::vector<absl::Mutex*> id_locks;
  for (const std::string& msgid : msgids) {
    id_locks.push_back(&core_->ledger->ClientMessageIdLock(msgid));
  }
  OrderedLocks held_id_locks(std::move(id_locks));

  results->assign(n, v1::SendResponse());
  // The caller's chains as this batch advances them, by channel.
  std::map<std::string, std::pair<uint64_t, std::string>> chains;
  std::vector<EnvelopeFacts> facts(n);
  std::vector<Ledger::Pending> pending;
  std::vector<size_t> pending_item;
  for (size_t i = 0; i < n; ++i) {
    const v1::SendRequest& request = *requests[i];
    const ParsedEnvelope& envelope = envelopes[i];
    const EnvelopeHeader& header = envelope.header;
    absl::StatusOr<std::optional<std::string>> seen =
        core_->ledger->log().GetIndex(index_cf::kMessageId, msgids[i]);
    if (!seen.ok()) return seen.status();
    if (seen->has_value() && (*seen)->size() == 40) {
      if ((*seen)->substr(0, 32) != envelope.hash) {
        return item_error(
            i, absl::AlreadyExistsError(
                   "this client message id was already used for a different "
                   "envelope; a retry must resend the same bytes"));
      }
      (*results)[i].set_log_index(
          log_schema::DecodeU64Key(std::string_view(**seen).substr(32))
              .value_or(0));
      (*results)[i].set_duplicate(true);
      continue;
    }
    auto chain = chains.find(request.channel());
    if (chain == chains.end()) {
      absl::StatusOr<std::pair<uint64_t, std::string>> stored =
          ReadChain(core_->ledger->log(), caller.name, request.channel());
      if (!stored.ok()) return item_error(i, stored.status());
      chain = chains.emplace(request.channel(), *std::move(stored)).first;
    }
    auto& [next_sequence, last_hash] = chain->second;
    if (header.metadata.sequence != next_sequence ||
        header.metadata.previous_hash != last_hash) {
      return item_error(
          i, absl::FailedPreconditionError(absl::StrCat(
                 "out of order: the envelope has sequence ",
                 header.metadata.sequence, " but the server expects ",
                 next_sequence, " after envelope ",
                 HexEncode(last_hash).substr(0, 16),
                 "; resynchronise from parley channel list")));
    }
    // Recipients: exactly the channel's current members, by current key.
    std::set<std::string> expected;
    std::vector<std::string> recipient_names;
    for (const std::string& name : channels[i].members) {
      std::optional<MemberRecord> m = core_->ledger->state().MemberByName(name);
      if (m && !m->revoked) expected.insert(m->identity_key);
    }
    std::set<std::string> actual;
    for (const EnvelopeRecipientEntry& r : header.recipients) {
      actual.insert(r.identity_public_key);
      std::optional<MemberRecord> m =
          core_->ledger->state().MemberByKey(r.identity_public_key);
      if (m) recipient_names.push_back(m->name);
    }
    if (actual != expected) {
      return item_error(
          i, absl::FailedPreconditionError(absl::StrCat(
                 "the envelope's recipients are not the channel's current "
                 "members (",
                 expected.size(), " expected, ", actual.size(),
                 " given); fetch the member list again and re-encrypt")));
    }
    RelayMode mode = static_cast<RelayMode>(request.relay_mode());
    if (mode != RelayMode::kNone) {
      if (caller.role != MemberRole::kMediator) {
        return item_error(i, absl::PermissionDeniedError(
                                 "only mediators relay messages"));
      }
      absl::StatusOr<std::optional<EnvelopeRecord>> looked_up =
          core_->ledger->LookupEnvelope(request.relay_of());
      if (!looked_up.ok()) return item_error(i, looked_up.status());
      const std::optional<EnvelopeRecord>& source = *looked_up;
      if (!source.has_value() ||
          std::find(source->recipients.begin(), source->recipients.end(),
                    caller.name) == source->recipients.end()) {
        return item_error(
            i, absl::PermissionDeniedError(
                   absl::StrCat("you did not receive an envelope at log index ",
                                request.relay_of())));
      }
    }
    next_sequence = header.metadata.sequence + 1;
    last_hash = envelope.hash;
    facts[i].hash = envelope.hash;
    facts[i].sender_identity = header.sender_identity;
    facts[i].client_message_id = header.metadata.client_message_id;
    facts[i].sequence = header.metadata.sequence;
    facts[i].recipient_names = std::move(recipient_names);
    EnvelopeEntry entry;
    entry.channel = request.channel();
    entry.sender = caller.name;
    entry.relay_mode = mode;
    entry.relay_of = mode == RelayMode::kNone ? 0 : request.relay_of();
    entry.envelope = request.envelope();
    pending.push_back(Ledger::Pending{std::move(entry), &facts[i]});
    pending_item.push_back(i);
  }
  if (pending.empty()) return absl::OkStatus();  // Every send was a retry.
  absl::StatusOr<uint64_t> first =
      core_->ledger->CommitMany(std::move(pending));
  if (!first.ok()) return first.status();
  for (size_t k = 0; k < pending_item.size(); ++k) {
    (*results)[pending_item[k]].set_log_index(*first + k);
    (*results)[pending_item[k]].set_duplicate(false);
  }
  return absl::OkStatus();
}

grpc::ServerUnaryReactor* ChannelService::Send(
    grpc::CallbackServerContext* context, const v1::SendRequest* request,
    v1::SendResponse* response) {
  absl::StatusOr<Caller> caller =
      core_->Admit(context, "parley.v1.Channels/Send");
  if (!caller.ok()) return core_->Refuse(context, caller.status());
  return FinishUnaryOnPool(*core_, context, [=, this] {
    return DoSend(*caller, *request, response);
  });
}

grpc::ServerUnaryReactor* ChannelService::SendBatch(
    grpc::CallbackServerContext* context, const v1::SendBatchRequest* request,
    v1::SendBatchResponse* response) {
  // One rate-limit token per send, so a batch is no way around the limit.
  const int tokens = std::clamp<int>(request->sends_size(), 1,
                                     static_cast<int>(kMaxSendsPerBatch));
  absl::StatusOr<Caller> caller =
      core_->Admit(context, "parley.v1.Channels/SendBatch", tokens);
  if (!caller.ok()) return core_->Refuse(context, caller.status());
  return FinishUnaryOnPool(*core_, context, [=, this] {
    std::vector<const v1::SendRequest*> sends;
    for (const v1::SendRequest& r : request->sends()) sends.push_back(&r);
    std::vector<v1::SendResponse> results;
    absl::Status s = DoSendBatch(*caller, sends, &results);
    if (s.ok()) {
      for (v1::SendResponse& r : results) {
        *response->add_results() = std::move(r);
      }
    }
    return s;
  });
}

grpc::ServerWriteReactor<v1::Delivery>* ChannelService::Subscribe(
    grpc::CallbackServerContext* context,
    const v1::SubscribeRequest* request) {
  using Refused = RefusedStream<v1::Delivery>;
  absl::StatusOr<Caller> caller =
      core_->Admit(context, "parley.v1.Channels/Subscribe");
  if (!caller.ok()) return new Refused(core_->pacer, caller.status());
  // Every check before the stream slot is taken: a refused call holds none.
  if (!request->from_start() &&
      request->cursor() == std::numeric_limits<uint64_t>::max()) {
    return new Refused(core_->pacer,
                       absl::InvalidArgumentError(
                           "cursor is the largest index there can be; "
                           "nothing follows it"));
  }
  if (absl::Status s = core_->limiter->OpenStream(caller->name); !s.ok()) {
    context->AddTrailingMetadata("retry-after-ms", "5000");
    return new Refused(core_->pacer, s);
  }
  uint64_t next = request->from_start() ? 0 : request->cursor() + 1;
  auto* sub = new Subscription(hub_, caller->name, next);
  std::string name = caller->name;
  RateLimiter* limiter = core_->limiter;
  hub_->Add(sub, [limiter, name] { limiter->CloseStream(name); });
  return sub;
}

grpc::ServerUnaryReactor* ChannelService::SubmitReceipts(
    grpc::CallbackServerContext* context,
    const v1::SubmitReceiptsRequest* request,
    v1::SubmitReceiptsResponse* response) {
  absl::StatusOr<Caller> caller =
      core_->Admit(context, "parley.v1.Channels/SubmitReceipts");
  if (!caller.ok()) return core_->Refuse(context, caller.status());
  return FinishUnaryOnPool(*core_, context, [=, this]() -> absl::Status {
    if (request->receipts_size() > static_cast<int>(kMaxReceiptsPerCall)) {
      return absl::InvalidArgumentError(absl::StrCat(
          "at most ", kMaxReceiptsPerCall, " receipts per call"));
    }
    // Validate everything before logging anything.
    std::vector<ReceiptEntry> entries;
    std::vector<std::string> keys;
    for (const v1::ReceiptSubmission& submission : request->receipts()) {
      absl::StatusOr<std::optional<EnvelopeRecord>> looked_up =
          core_->ledger->LookupEnvelope(submission.envelope_index());
      if (!looked_up.ok()) return looked_up.status();
      const std::optional<EnvelopeRecord>& envelope = *looked_up;
      if (!envelope.has_value()) {
        return absl::NotFoundError(absl::StrCat(
            "no envelope at log index ", submission.envelope_index()));
      }
      if (std::find(envelope->recipients.begin(), envelope->recipients.end(),
                    caller->name) == envelope->recipients.end()) {
        return absl::PermissionDeniedError(absl::StrCat(
            "you are not a recipient of the envelope at log index ",
            submission.envelope_index()));
      }
      absl::StatusOr<Receipt> receipt = VerifyReceipt(
          submission.receipt(), caller->identity_key, envelope->hash);
      if (!receipt.ok()) {
        return absl::Status(
            receipt.status().code(),
            absl::StrCat("receipt for log index ", submission.envelope_index(),
                         ": ", receipt.status().message()));
      }
      // A party answers a notification with Notifications/Acknowledge,
      // which checks it against the current version's parties; a level 2
      // or 3 receipt here would read like an answer and be none
      // (PROTOCOL.md 14.2).
      if (receipt->level != ReceiptLevel::kDelivered) {
        if (std::optional<std::pair<std::string, uint32_t>> n =
                core_->ledger->state().NotificationAt(
                    submission.envelope_index())) {
          return absl::InvalidArgumentError(absl::StrCat(
              "receipt for log index ", submission.envelope_index(),
              ": notification ", n->first, " version ", n->second,
              " is acknowledged or objected to with `parley ack` "
              "(Notifications/Acknowledge), not with a receipt of level ",
              std::string(ReceiptLevelName(receipt->level)),
              "; only delivered receipts are taken for notifications"));
        }
      }
      keys.push_back(absl::StrCat(
          log_schema::U64Key(submission.envelope_index()), caller->name,
          std::string(1, '\0'),
          std::string(1, static_cast<char>(receipt->level))));
      entries.push_back(ReceiptEntry{submission.envelope_index(), caller->name,
                                     submission.receipt()});
    }
    absl::MutexLock lock(SenderLock(caller->name));
    // One receipt per (envelope, recipient, level): a retry, or a repeat
    // within this call, gets the index of the one logged first. The new
    // ones are logged together, in request order, in one synced write.
    std::vector<uint64_t> logged(entries.size());      // already in the log
    std::vector<std::optional<size_t>> new_at(entries.size());  // in pending
    std::map<std::string, size_t> new_by_key;
    std::vector<Ledger::Pending> pending;
    for (size_t i = 0; i < entries.size(); ++i) {
      if (auto it = new_by_key.find(keys[i]); it != new_by_key.end()) {
        new_at[i] = it->second;
        continue;
      }
      absl::StatusOr<std::optional<std::string>> seen =
          core_->ledger->log().GetIndex(index_cf::kReceipt, keys[i]);
      if (!seen.ok()) return seen.status();
      if (seen->has_value()) {
        logged[i] = log_schema::DecodeU64Key(**seen).value_or(0);
        continue;
      }
      new_at[i] = pending.size();
      new_by_key.emplace(keys[i], pending.size());
      pending.push_back(Ledger::Pending{std::move(entries[i]), nullptr});
    }
    uint64_t first = 0;
    if (!pending.empty()) {
      absl::StatusOr<uint64_t> index =
          core_->ledger->CommitMany(std::move(pending));
      if (!index.ok()) return index.status();
      first = *index;
    }
    for (size_t i = 0; i < entries.size(); ++i) {
      response->add_log_indexes(new_at[i].has_value() ? first + *new_at[i]
                                                      : logged[i]);
    }
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* ChannelService::ListReceipts(
    grpc::CallbackServerContext* context,
    const v1::ListReceiptsRequest* request,
    v1::ListReceiptsResponse* response) {
  absl::StatusOr<Caller> caller =
      core_->Admit(context, "parley.v1.Channels/ListReceipts");
  if (!caller.ok()) return core_->Refuse(context, caller.status());
  absl::Status status = [&]() -> absl::Status {
    absl::StatusOr<std::optional<EnvelopeRecord>> looked_up =
        core_->ledger->LookupEnvelope(request->envelope_index());
    if (!looked_up.ok()) return looked_up.status();
    const std::optional<EnvelopeRecord>& envelope = *looked_up;
    if (!envelope.has_value()) {
      return absl::NotFoundError(absl::StrCat("no envelope at log index ",
                                              request->envelope_index()));
    }
    bool allowed =
        envelope->sender == caller->name ||
        std::find(envelope->recipients.begin(), envelope->recipients.end(),
                  caller->name) != envelope->recipients.end();
    if (!allowed && caller->role == MemberRole::kMediator) {
      std::optional<ChannelRecord> channel =
          core_->ledger->state().Channel(envelope->channel);
      allowed = channel && channel->members.contains(caller->name);
    }
    if (!allowed) {
      return absl::PermissionDeniedError(
          "only the sender, the recipients and the channel's mediators may "
          "see these receipts");
    }
    absl::StatusOr<std::vector<std::pair<std::string, std::string>>> rows =
        core_->ledger->log().ScanIndex(
            index_cf::kReceipt, log_schema::U64Key(request->envelope_index()),
            10000);
    if (!rows.ok()) return rows.status();
    // Every row names a logged receipt; anything else is damage, reported,
    // never skipped (a missing receipt would read as "not delivered").
    auto damaged = [&](const std::string& what) {
      spdlog::error("receipt index of envelope {}: {}",
                    request->envelope_index(), what);
      return absl::DataLossError(
          "the server's receipt index is damaged; the operator must run "
          "parleyd check");
    };
    for (const auto& [key, value] : *rows) {
      std::optional<uint64_t> index = log_schema::DecodeU64Key(value);
      if (!index.has_value()) return damaged("a row does not decode");
      absl::StatusOr<std::string> bytes = core_->ledger->log().GetEntry(*index);
      if (!bytes.ok()) return bytes.status();
      absl::StatusOr<LogEntry> entry = DecodeLogEntry(*bytes);
      if (!entry.ok()) return damaged(std::string(entry.status().message()));
      const auto* receipt = std::get_if<ReceiptEntry>(&entry->body);
      if (receipt == nullptr) {
        return damaged(absl::StrCat("entry ", *index, " is not a receipt"));
      }
      v1::ReceiptRecord* out = response->add_receipts();
      out->set_log_index(*index);
      out->set_recipient(receipt->recipient);
      out->set_receipt(receipt->receipt);
    }
    return absl::OkStatus();
  }();
  return FinishUnary(context, status);
}

}  // namespace parley
