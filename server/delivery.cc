#include "server/delivery.h"

#include "absl/strings/str_cat.h"
#include "server/status_util.h"
#include "spdlog/spdlog.h"
#include "storage/log_schema.h"

namespace parley {

Subscription::Subscription(DeliveryHub* hub, std::string member,
                           uint64_t next_index)
    : hub_(hub), member_(std::move(member)), next_index_(next_index) {
  if (next_index_ > 0) {
    last_sent_ = next_index_ - 1;
  }
}

void Subscription::OnWriteDone(bool ok) {
  // Sent: hold no copy of the entry while idle. Clear() would keep the
  // entry string's capacity (tens of KiB for a large channel's envelope,
  // per open stream); swapping with an empty message frees it.
  v1::Delivery().Swap(&message_);
  {
    absl::MutexLock lock(&hub_->mu_);
    writing_ = false;
    if (!ok) failed_ = true;
  }
  hub_->Wake(this);
}

void Subscription::OnCancel() {
  hub_->Cancelled(this, absl::CancelledError("stream cancelled"));
}

void Subscription::OnDone() {
  hub_->Done(this);
  delete this;
}

DeliveryHub::DeliveryHub(Ledger* ledger, absl::Duration heartbeat)
    : ledger_(ledger), heartbeat_(heartbeat), thread_([this] { Run(); }) {}

DeliveryHub::~DeliveryHub() {
  Shutdown();
  if (thread_.joinable()) thread_.join();
}

void DeliveryHub::Add(Subscription* sub, std::function<void()> on_end) {
  absl::MutexLock lock(&mu_);
  Entry entry{sub, std::move(on_end), absl::OkStatus(), false};
  if (stopping_) {
    entry.end_status = absl::UnavailableError("server shutting down");
  }
  sub->last_write_ = absl::Now();
  subs_[sub] = std::move(entry);
  ready_.insert(sub);
}

void DeliveryHub::Notify(const std::vector<std::string>& members) {
  // One pass over the open streams, not streams x members: a message to a
  // large channel touches each stream once.
  const absl::flat_hash_set<std::string> concerned(members.begin(),
                                                   members.end());
  absl::MutexLock lock(&mu_);
  for (auto& [sub, entry] : subs_) {
    if (concerned.contains(sub->member_)) ready_.insert(sub);
  }
}

void DeliveryHub::Revoke(const std::string& member) {
  absl::MutexLock lock(&mu_);
  for (auto& [sub, entry] : subs_) {
    if (sub->member_ == member && entry.end_status.ok()) {
      entry.end_status = absl::PermissionDeniedError(
          absl::StrCat("member ", member, " has been revoked"));
      ready_.insert(sub);
    }
  }
}

void DeliveryHub::Shutdown() {
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_) {
      stopping_ = true;
      for (auto& [sub, entry] : subs_) {
        if (entry.end_status.ok()) {
          entry.end_status = absl::UnavailableError(
              sub->sent_any_
                  ? absl::StrCat("server shutting down; resume after index ",
                                 sub->last_sent_)
                  : std::string("server shutting down; resume from the same "
                                "cursor"));
        }
        ready_.insert(sub);
      }
    }
    // Wait (bounded: a client that stopped reading holds a write open until
    // gRPC's own shutdown cancels it) until every stream is released.
    mu_.AwaitWithTimeout(
        absl::Condition(
            +[](absl::flat_hash_map<Subscription*, Entry>* subs) {
              return subs->empty();
            },
            &subs_),
        absl::Seconds(5));
  }
}

size_t DeliveryHub::open_streams() const {
  absl::MutexLock lock(&mu_);
  return subs_.size();
}

void DeliveryHub::Wake(Subscription* sub) {
  absl::MutexLock lock(&mu_);
  ready_.insert(sub);
}

void DeliveryHub::Cancelled(Subscription* sub, absl::Status status) {
  absl::MutexLock lock(&mu_);
  auto it = subs_.find(sub);
  if (it != subs_.end() && it->second.end_status.ok()) {
    it->second.end_status = std::move(status);
  }
  ready_.insert(sub);
}

void DeliveryHub::Done(Subscription* sub) {
  std::function<void()> on_end;
  {
    absl::MutexLock lock(&mu_);
    auto it = subs_.find(sub);
    if (it == subs_.end()) return;
    on_end = std::move(it->second.on_end);
    subs_.erase(it);
    ready_.erase(sub);
  }
  if (on_end) on_end();
}

absl::StatusOr<bool> DeliveryHub::NextMessage(Subscription* sub,
                                              v1::Delivery* out) {
  const std::string prefix = sub->member_ + std::string(1, '\0');
  absl::StatusOr<std::vector<std::pair<std::string, std::string>>> next =
      ledger_->log().ScanIndexFrom(index_cf::kInbox,
                                   InboxKey(sub->member_, sub->next_index_),
                                   prefix, 1);
  if (!next.ok()) return next.status();
  if (next->empty()) return false;
  const auto& [key, kind] = next->front();
  std::optional<uint64_t> index =
      log_schema::DecodeU64Key(std::string_view(key).substr(prefix.size()));
  if (!index.has_value() || kind.size() != 1) {
    return absl::DataLossError(absl::StrCat(
        "the inbox index holds a malformed ",
        index.has_value() ? "value" : "key", " after index ",
        sub->next_index_));
  }
  absl::StatusOr<std::shared_ptr<const std::string>> entry =
      CachedEntry(*index);
  if (absl::IsOutOfRange(entry.status())) {
    // The index batch may be visible a moment before the log's size covers
    // it; the commit's Notify wakes us again. A key that stays ahead is
    // damage.
    const absl::Time now = absl::Now();
    if (sub->ahead_index_ != *index) {
      sub->ahead_index_ = *index;
      sub->ahead_since_ = now;
    } else if (now - sub->ahead_since_ >= kIndexAheadGrace) {
      return absl::DataLossError(absl::StrCat(
          "the inbox index names log entry ", *index,
          " but the log holds only ", ledger_->log().Size(), " entries"));
    }
    return false;
  }
  sub->ahead_index_.reset();
  if (!entry.ok()) return entry.status();
  out->Clear();
  out->set_kind(static_cast<v1::Delivery::Kind>(kind[0]));
  out->set_index(*index);
  out->set_entry(**entry);
  sub->next_index_ = *index + 1;
  sub->last_sent_ = *index;
  sub->sent_any_ = true;
  return true;
}

absl::StatusOr<std::shared_ptr<const std::string>> DeliveryHub::CachedEntry(
    uint64_t index) {
  // Enough for the envelopes of one burst to a large audience; small next to
  // what the open streams themselves cost.
  constexpr size_t kEntryCacheBytes = 4 << 20;
  if (auto it = entry_cache_.find(index); it != entry_cache_.end()) {
    return it->second;
  }
  absl::StatusOr<std::string> bytes = ledger_->log().GetEntry(index);
  if (!bytes.ok()) return bytes.status();
  auto entry = std::make_shared<const std::string>(*std::move(bytes));
  entry_cache_bytes_ += entry->size();
  entry_cache_.emplace(index, entry);
  entry_cache_order_.push_back(index);
  while (entry_cache_bytes_ > kEntryCacheBytes &&
         entry_cache_order_.size() > 1) {
    auto oldest = entry_cache_.find(entry_cache_order_.front());
    entry_cache_bytes_ -= oldest->second->size();
    entry_cache_.erase(oldest);
    entry_cache_order_.pop_front();
  }
  return entry;
}

void DeliveryHub::Run() {
  while (true) {
    std::vector<std::pair<Subscription*, absl::Status>> to_finish;
    std::vector<Subscription*> to_serve;
    std::vector<Subscription*> heartbeat;
    {
      absl::MutexLock lock(&mu_);
      auto has_work = [this]() ABSL_SHARED_LOCKS_REQUIRED(mu_) {
        return !ready_.empty() || (stopping_ && subs_.empty());
      };
      mu_.AwaitWithTimeout(absl::Condition(&has_work),
                           std::min(heartbeat_, absl::Seconds(1)));
      if (stopping_ && subs_.empty()) return;
      absl::Time now = absl::Now();
      for (auto& [sub, entry] : subs_) {
        if (entry.finished || sub->writing_) continue;
        if (!entry.end_status.ok() || sub->failed_) {
          entry.finished = true;
          to_finish.emplace_back(sub, sub->failed_ && entry.end_status.ok()
                                          ? absl::UnavailableError(
                                                "stream write failed")
                                          : entry.end_status);
        } else if (ready_.contains(sub) || sub->ahead_index_.has_value()) {
          to_serve.push_back(sub);
        } else if (now - sub->last_write_ >= heartbeat_) {
          heartbeat.push_back(sub);
        }
      }
      ready_.clear();
      for (Subscription* sub : to_serve) sub->writing_ = true;
      for (Subscription* sub : heartbeat) sub->writing_ = true;
    }
    for (auto& [sub, status] : to_finish) sub->Finish(ToGrpcStatus(status));
    for (Subscription* sub : to_serve) {
      absl::StatusOr<bool> next = NextMessage(sub, &sub->message_);
      if (!next.ok()) {
        // Storage damage: end the stream with it (the client keeps its
        // cursor and retries later), never report "caught up".
        spdlog::error(
            "cannot deliver to {}: reading the inbox after index {} failed: "
            "{}; run `parleyd check` (docs/OPERATIONS.md, \"Checking and "
            "repairing storage\")",
            sub->member_, sub->next_index_, next.status().ToString());
        {
          absl::MutexLock lock(&mu_);
          sub->writing_ = false;
          if (auto it = subs_.find(sub); it != subs_.end()) {
            it->second.finished = true;
          }
        }
        sub->Finish(ToGrpcStatus(absl::Status(
            next.status().code(),
            absl::StrCat("the server cannot read your inbox after index ",
                         sub->next_index_,
                         ": its storage is damaged and its operator has been "
                         "alerted. Resume from the same cursor later"))));
      } else if (*next) {
        sub->last_write_ = absl::Now();
        sub->StartWrite(&sub->message_);
      } else if (!sub->caught_up_sent_) {
        // The backlog is drained: one heartbeat says "caught up" at once,
        // so a client can stop waiting (inbox --wait 0).
        sub->caught_up_sent_ = true;
        sub->message_.Clear();
        sub->message_.set_kind(v1::Delivery::HEARTBEAT);
        sub->message_.set_index(sub->last_sent_);
        sub->last_write_ = absl::Now();
        sub->StartWrite(&sub->message_);
      } else {
        absl::MutexLock lock(&mu_);
        sub->writing_ = false;
      }
    }
    for (Subscription* sub : heartbeat) {
      sub->message_.Clear();
      sub->message_.set_kind(v1::Delivery::HEARTBEAT);
      sub->message_.set_index(sub->last_sent_);
      sub->last_write_ = absl::Now();
      sub->StartWrite(&sub->message_);
    }
  }
}

}  // namespace parley
