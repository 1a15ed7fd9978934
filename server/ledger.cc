#include "server/ledger.h"

#include <set>

#include "absl/hash/hash.h"
#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/time/time.h"
#include "crypto/envelope.h"
#include "crypto/receipt.h"
#include "crypto/wire.h"
#include "spdlog/spdlog.h"
#include "storage/log_schema.h"
#include "storage/tlog/log_entry.h"

namespace parley {

std::vector<std::string> LedgerIndexFamilies() {
  return {index_cf::kInbox, index_cf::kEnvelope, index_cf::kMessageId,
          index_cf::kChain, index_cf::kReceipt};
}

std::string EncodeEnvelopeRecord(const EnvelopeRecord& record) {
  WireWriter w;
  w.Bytes8(record.channel);
  w.Bytes8(record.sender);
  w.Fixed(record.hash);
  w.U16(static_cast<uint16_t>(record.recipients.size()));
  for (const std::string& r : record.recipients) w.Bytes8(r);
  return w.Release();
}

absl::StatusOr<EnvelopeRecord> DecodeEnvelopeRecord(std::string_view bytes) {
  WireReader r(bytes, "envelope record");
  EnvelopeRecord record;
  std::string_view channel, sender, hash;
  uint16_t count = 0;
  r.Bytes8("channel", &channel);
  r.Bytes8("sender", &sender);
  r.Fixed("hash", 32, &hash);
  r.U16("recipient count", &count);
  for (uint16_t i = 0; i < count && r.ok(); ++i) {
    std::string_view name;
    if (r.Bytes8("recipient", &name)) record.recipients.emplace_back(name);
  }
  if (absl::Status s = r.Finish(); !s.ok()) return s;
  record.channel.assign(channel);
  record.sender.assign(sender);
  record.hash.assign(hash);
  return record;
}

std::string InboxKey(const std::string& name, uint64_t index) {
  return absl::StrCat(name, std::string(1, '\0'), log_schema::U64Key(index));
}

namespace {

// Reads every entry [0, log.Size()) in order (verified pages, see
// LogStore::GetEntries), decodes it and calls `apply(index, entry)`; stops
// at the first error: DataLoss for an entry that does not decode.
absl::Status ForEachLogEntry(
    LogStore& log,
    const std::function<absl::Status(uint64_t, const LogEntry&)>& apply) {
  const uint64_t size = log.Size();
  uint64_t next = 0;
  while (next < size) {
    absl::StatusOr<std::vector<std::string>> page =
        log.GetEntries(next, size, 8 << 20);
    if (!page.ok()) return page.status();
    for (const std::string& bytes : *page) {
      absl::StatusOr<LogEntry> entry = DecodeLogEntry(bytes);
      if (!entry.ok()) {
        return absl::DataLossError(
            absl::StrCat("log entry ", next, " cannot be decoded: ",
                         entry.status().message()));
      }
      if (absl::Status s = apply(next, *entry); !s.ok()) return s;
      ++next;
    }
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::unique_ptr<Ledger>> Ledger::Open(LogStore* log,
                                                     const Clock* clock) {
  auto ledger = std::unique_ptr<Ledger>(new Ledger(log, clock));
  absl::Status replayed = ForEachLogEntry(
      *log, [&](uint64_t index, const LogEntry& entry) {
        ledger->state_.Apply(index, entry);
        return absl::OkStatus();
      });
  if (!replayed.ok()) return replayed;
  if (uint64_t bad = ledger->state_.inconsistent_entries(); bad > 0) {
    spdlog::warn("{} log entries were inconsistent with the state before them",
                 bad);
  }
  return ledger;
}

absl::StatusOr<Ledger::IndexPlan> Ledger::PlanIndexes(
    const LogEntry& entry, const EnvelopeFacts* facts) const {
  IndexPlan plan;
  auto inbox = [&](const std::string& name, DeliveryKind kind) {
    plan.inbox.emplace_back(name, kind);
  };
  if (const auto* e = std::get_if<EnvelopeEntry>(&entry.body)) {
    EnvelopeRecord record;
    record.channel = e->channel;
    record.sender = e->sender;
    record.hash = facts->hash;
    record.recipients = facts->recipient_names;
    std::string encoded = EncodeEnvelopeRecord(record);
    std::string msgid = facts->sender_identity + facts->client_message_id;
    std::string chain_key = e->sender + std::string(1, '\0') + e->channel;
    std::string chain_value = log_schema::U64Key(facts->sequence + 1) +
                              facts->hash;
    std::string hash = facts->hash;
    plan.extra = [=](uint64_t index, std::vector<IndexPut>* puts) {
      puts->push_back(
          {index_cf::kEnvelope, log_schema::U64Key(index), encoded});
      puts->push_back(
          {index_cf::kMessageId, msgid, hash + log_schema::U64Key(index)});
      puts->push_back({index_cf::kChain, chain_key, chain_value});
    };
    for (const std::string& name : facts->recipient_names) {
      inbox(name, DeliveryKind::kEnvelope);
    }
  } else if (const auto* e = std::get_if<ReceiptEntry>(&entry.body)) {
    absl::StatusOr<std::optional<std::pair<std::string, std::string>>>
        envelope = EnvelopeOrigin(e->envelope_index, log_->Size());
    if (!envelope.ok()) return envelope.status();
    absl::StatusOr<Receipt> receipt = ParseReceipt(e->receipt);
    uint8_t level = receipt.ok() ? static_cast<uint8_t>(receipt->level) : 0;
    std::string key = absl::StrCat(log_schema::U64Key(e->envelope_index),
                                   e->recipient, std::string(1, '\0'),
                                   std::string(1, static_cast<char>(level)));
    plan.extra = [key](uint64_t index, std::vector<IndexPut>* puts) {
      puts->push_back({index_cf::kReceipt, key, log_schema::U64Key(index)});
    };
    if (std::optional<std::pair<std::string, uint32_t>> notification =
            state_.NotificationAt(e->envelope_index)) {
      // A delivery receipt for a notification: to the issuer's side.
      if (std::optional<NotificationRecord> n =
              state_.Notification(notification->first)) {
        for (const std::string& name : n->audience) {
          if (!n->parties.contains(name)) {
            inbox(name, DeliveryKind::kReceipt);
          }
        }
      }
    } else if (envelope->has_value()) {
      const auto& [envelope_channel, envelope_sender] = **envelope;
      std::set<std::string> audience = {envelope_sender};
      if (std::optional<ChannelRecord> channel =
              state_.Channel(envelope_channel)) {
        for (const std::string& member : channel->members) {
          std::optional<MemberRecord> m = state_.MemberByName(member);
          if (m && m->role == MemberRole::kMediator) audience.insert(member);
        }
      }
      audience.erase(e->recipient);
      for (const std::string& name : audience) {
        inbox(name, DeliveryKind::kReceipt);
      }
    }
  } else if (const auto* e = std::get_if<NotificationVersion>(&entry.body)) {
    EnvelopeRecord record;
    record.channel = NotificationChannel(e->id);
    record.sender = e->issuer;
    record.hash = facts->hash;
    record.recipients = facts->recipient_names;
    std::string encoded = EncodeEnvelopeRecord(record);
    std::string msgid = facts->sender_identity + facts->client_message_id;
    std::string hash = facts->hash;
    plan.extra = [=](uint64_t index, std::vector<IndexPut>* puts) {
      puts->push_back(
          {index_cf::kEnvelope, log_schema::U64Key(index), encoded});
      puts->push_back(
          {index_cf::kMessageId, msgid, hash + log_schema::U64Key(index)});
    };
    for (const std::string& name : facts->recipient_names) {
      inbox(name, DeliveryKind::kNotification);
    }
  } else if (const auto* e = std::get_if<NotificationAck>(&entry.body)) {
    if (std::optional<NotificationRecord> n = state_.Notification(e->id)) {
      for (const std::string& name : n->audience) {
        if (!n->parties.contains(name)) {
          inbox(name, DeliveryKind::kNotificationAck);
        }
      }
    }
  } else if (const auto* e = std::get_if<Escalation>(&entry.body)) {
    if (e->step == EscalationStep::kReviewDue) {
      // A site's review-by: to the coordinators in its audience (the issuer
      // and its organisation's), not to the parties or the mediators.
      if (std::optional<NotificationRecord> n = state_.Notification(e->id)) {
        for (const std::string& name : n->audience) {
          std::optional<MemberRecord> m = state_.MemberByName(name);
          if (!n->parties.contains(name) && m.has_value() &&
              m->role == MemberRole::kCoordinator) {
            inbox(name, DeliveryKind::kEscalation);
          }
        }
      }
    } else {
      inbox(e->party, DeliveryKind::kEscalation);
    }
    if (e->step == EscalationStep::kEscalation ||
        e->step == EscalationStep::kSecondEscalation) {
      if (std::optional<NotificationRecord> n = state_.Notification(e->id)) {
        for (const std::string& name : n->audience) {
          if (!n->parties.contains(name)) {
            inbox(name, DeliveryKind::kEscalation);
          }
        }
      }
    }
  } else if (std::holds_alternative<NotificationCancelled>(entry.body) ||
             std::holds_alternative<NotificationStatus>(entry.body)) {
    const std::string& id =
        std::holds_alternative<NotificationCancelled>(entry.body)
            ? std::get<NotificationCancelled>(entry.body).id
            : std::get<NotificationStatus>(entry.body).id;
    if (std::optional<NotificationRecord> n = state_.Notification(id)) {
      for (const std::string& name : n->audience) {
        inbox(name, DeliveryKind::kNotification);
      }
    }
  } else if (const auto* e = std::get_if<ChannelCreated>(&entry.body)) {
    for (const std::string& name : e->members) {
      inbox(name, DeliveryKind::kChannel);
    }
  } else if (const auto* e = std::get_if<ChannelMembersChanged>(&entry.body)) {
    std::set<std::string> audience(e->members.begin(), e->members.end());
    if (std::optional<ChannelRecord> before = state_.Channel(e->channel)) {
      audience.insert(before->members.begin(), before->members.end());
    }
    for (const std::string& name : audience) {
      inbox(name, DeliveryKind::kChannel);
    }
  }
  return plan;
}

absl::StatusOr<uint64_t> Ledger::Commit(EntryBody body,
                                        const EnvelopeFacts* facts) {
  std::vector<Pending> one;
  one.push_back(Pending{std::move(body), facts});
  return Append(std::move(one));
}

absl::StatusOr<uint64_t> Ledger::CommitMany(std::vector<Pending> pending) {
  for (const Pending& p : pending) {
    if (!std::holds_alternative<EnvelopeEntry>(p.body) &&
        !std::holds_alternative<ReceiptEntry>(p.body)) {
      return absl::InternalError(
          "CommitMany takes only envelopes and receipts");
    }
  }
  return Append(std::move(pending));
}

absl::StatusOr<uint64_t> Ledger::Append(std::vector<Pending> pending) {
  if (pending.empty()) {
    return absl::InternalError("nothing to commit");
  }
  const int64_t now_ms = absl::ToUnixMillis(clock_->Now());
  std::vector<LogEntry> entries;
  std::vector<std::string> bytes;
  std::vector<IndexPlan> plans;
  entries.reserve(pending.size());
  for (Pending& p : pending) {
    if ((std::holds_alternative<EnvelopeEntry>(p.body) ||
         std::holds_alternative<NotificationVersion>(p.body)) &&
        p.facts == nullptr) {
      return absl::InternalError("envelope committed without its facts");
    }
    LogEntry& entry = entries.emplace_back();
    entry.logged_at_ms = now_ms;
    entry.body = std::move(p.body);
    bytes.push_back(EncodeLogEntry(entry));
    absl::StatusOr<IndexPlan> plan = PlanIndexes(entry, p.facts);
    if (!plan.ok()) return plan.status();
    plans.push_back(*std::move(plan));
  }
  // Runs inside the log's commit, possibly on another appender's thread:
  // pure, no locks, no reads.
  absl::StatusOr<uint64_t> first =
      log_->AppendMany(bytes, [&plans](uint64_t start) {
        std::vector<IndexPut> puts;
        for (size_t i = 0; i < plans.size(); ++i) {
          plans[i].AddPuts(start + i, &puts);
        }
        return puts;
      });
  if (!first.ok()) return first.status();
  for (size_t i = 0; i < entries.size(); ++i) {
    Publish(*first + i, entries[i], plans[i]);
  }
  return *first;
}

void Ledger::IndexPlan::AddPuts(uint64_t index,
                                std::vector<IndexPut>* puts) const {
  for (const auto& [name, kind] : inbox) {
    puts->push_back({index_cf::kInbox, InboxKey(name, index),
                     std::string(1, static_cast<char>(kind))});
  }
  if (extra) extra(index, puts);
}

void Ledger::Publish(uint64_t index, const LogEntry& entry,
                     const IndexPlan& plan) {
  state_.Apply(index, entry);
  if (plan.inbox.empty()) return;
  std::vector<std::string> notify;
  for (const auto& [name, kind] : plan.inbox) notify.push_back(name);
  std::function<void(const std::vector<std::string>&, uint64_t)> listener;
  {
    absl::MutexLock lock(&listener_mu_);
    listener = listener_;
  }
  if (listener) listener(notify, index);
}

void Ledger::SetListener(
    std::function<void(const std::vector<std::string>&, uint64_t)> listener) {
  absl::MutexLock lock(&listener_mu_);
  listener_ = std::move(listener);
}

absl::Mutex& Ledger::ClientMessageIdLock(std::string_view message_id) {
  return message_id_locks_[absl::HashOf(message_id) % kMessageIdStripes];
}

absl::StatusOr<std::optional<EnvelopeRecord>> Ledger::LookupEnvelope(
    uint64_t index) const {
  absl::StatusOr<std::optional<std::string>> value =
      log_->GetIndex(index_cf::kEnvelope, log_schema::U64Key(index));
  if (!value.ok()) return value.status();
  if (!value->has_value()) return std::optional<EnvelopeRecord>();
  absl::StatusOr<EnvelopeRecord> record = DecodeEnvelopeRecord(**value);
  if (!record.ok()) {
    return absl::DataLossError(absl::StrCat(
        "the envelope index record of log entry ", index,
        " does not decode: ", record.status().message()));
  }
  return std::optional<EnvelopeRecord>(*std::move(record));
}

absl::StatusOr<std::optional<std::pair<std::string, std::string>>>
Ledger::EnvelopeOrigin(uint64_t index, uint64_t before) const {
  using Origin = std::optional<std::pair<std::string, std::string>>;
  if (!replaying_) {
    absl::StatusOr<std::optional<EnvelopeRecord>> record =
        LookupEnvelope(index);
    if (!record.ok()) return record.status();
    if (!record->has_value()) return Origin();
    return Origin(std::pair((*record)->channel, (*record)->sender));
  }
  // Exactly the entries the envelope index holds a record for: envelopes
  // and notification versions logged before the entry being replayed.
  if (index >= before) return Origin();
  absl::StatusOr<std::string> bytes = log_->GetEntry(index);
  if (!bytes.ok()) return bytes.status();
  absl::StatusOr<LogEntry> entry = DecodeLogEntry(*bytes);
  if (!entry.ok()) {
    return absl::DataLossError(absl::StrCat(
        "log entry ", index, " cannot be decoded: ", entry.status().message()));
  }
  if (const auto* e = std::get_if<EnvelopeEntry>(&entry->body)) {
    return Origin(std::pair(e->channel, e->sender));
  }
  if (const auto* n = std::get_if<NotificationVersion>(&entry->body)) {
    return Origin(std::pair(NotificationChannel(n->id), n->issuer));
  }
  return Origin();
}

absl::StatusOr<EnvelopeFacts> Ledger::FactsFromLog(
    const LogEntry& entry) const {
  const std::string* bytes = nullptr;
  if (const auto* e = std::get_if<EnvelopeEntry>(&entry.body)) {
    bytes = &e->envelope;
  } else if (const auto* n = std::get_if<NotificationVersion>(&entry.body)) {
    bytes = &n->envelope;
  } else {
    return absl::InternalError("no envelope facts for this kind of entry");
  }
  absl::StatusOr<ParsedEnvelope> envelope = ParseEnvelope(*bytes);
  if (!envelope.ok()) {
    return absl::DataLossError(absl::StrCat(
        "the logged envelope does not parse: ", envelope.status().message()));
  }
  EnvelopeFacts facts;
  facts.hash = envelope->hash;
  facts.sender_identity = envelope->header.sender_identity;
  facts.client_message_id = envelope->header.metadata.client_message_id;
  facts.sequence = envelope->header.metadata.sequence;
  if (const auto* n = std::get_if<NotificationVersion>(&entry.body)) {
    // As Notifications/Notify: the audience, in name order.
    std::set<std::string> audience =
        state_.NotificationAudience(n->issuer, n->parties);
    facts.recipient_names.assign(audience.begin(), audience.end());
  } else {
    // As Channels/Send: the header's recipients, in header order, by name.
    for (const EnvelopeRecipientEntry& r : envelope->header.recipients) {
      if (std::optional<MemberRecord> m =
              state_.MemberByKey(r.identity_public_key)) {
        facts.recipient_names.push_back(m->name);
      }
    }
  }
  return facts;
}

absl::Status Ledger::ReplayIndexPuts(
    LogStore* log, const Clock* clock,
    const std::function<absl::Status(uint64_t, std::vector<IndexPut>)>&
        visit) {
  Ledger ledger(log, clock);
  ledger.replaying_ = true;
  return ForEachLogEntry(*log, [&](uint64_t next, const LogEntry& entry)
                                   -> absl::Status {
    std::optional<EnvelopeFacts> facts;
    if (std::holds_alternative<EnvelopeEntry>(entry.body) ||
        std::holds_alternative<NotificationVersion>(entry.body)) {
      absl::StatusOr<EnvelopeFacts> f = ledger.FactsFromLog(entry);
      if (!f.ok()) {
        return absl::Status(f.status().code(),
                            absl::StrCat("log entry ", next, ": ",
                                         f.status().message()));
      }
      facts = *std::move(f);
    }
    absl::StatusOr<IndexPlan> plan =
        ledger.PlanIndexes(entry, facts ? &*facts : nullptr);
    if (!plan.ok()) return plan.status();
    std::vector<IndexPut> puts;
    plan->AddPuts(next, &puts);
    if (absl::Status s = visit(next, std::move(puts)); !s.ok()) return s;
    ledger.state_.Apply(next, entry);
    return absl::OkStatus();
  });
}

}  // namespace parley