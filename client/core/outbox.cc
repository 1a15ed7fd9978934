#include "client/core/outbox.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "client/core/retry.h"
#include "crypto/envelope.h"
#include "grpcpp/client_context.h"
#include "parley/v1/channels.grpc.pb.h"
#include "parley/v1/notifications.grpc.pb.h"

namespace parley {
namespace {

// A batch stays within the server's SendBatch limit (100) and below its
// default message limit (256 KiB).
constexpr size_t kMaxBatchSends = 100;
constexpr size_t kMaxBatchBytes = 192 * 1024;

v1::SendRequest ToSendRequest(const OutboxItem& send) {
  v1::SendRequest request;
  request.set_channel(send.channel);
  request.set_envelope(send.request);
  request.set_relay_mode(static_cast<v1::RelayMode>(send.relay_mode));
  request.set_relay_of(send.relay_of);
  return request;
}

}  // namespace

absl::Status Outbox::AdvanceChain(const OutboxItem& send, uint64_t sequence,
                                  const std::string& hash) {
  if (state_.Chain(send.channel).next_sequence <= sequence) {
    return state_.SetChain(send.channel, ChainState{sequence + 1, hash});
  }
  return absl::OkStatus();
}

absl::StatusOr<OutboxAnswer> Outbox::SendEnvelope(const OutboxItem& send) {
  absl::StatusOr<ParsedEnvelope> parsed = ParseEnvelope(send.request);
  if (!parsed.ok()) return parsed.status();
  auto api = v1::Channels::NewStub(session_.channel());
  const v1::SendRequest request = ToSendRequest(send);
  v1::SendResponse response;
  absl::Status s = auth_.Call([&](grpc::ClientContext* c) {
    return api->Send(c, request, &response);
  });
  if (!s.ok()) return s;
  if (absl::Status c = AdvanceChain(send, parsed->header.metadata.sequence,
                                    parsed->hash);
      !c.ok()) {
    return c;
  }
  return OutboxAnswer{response.log_index(), response.duplicate(),
                      std::nullopt};
}

absl::Status Outbox::SendEnvelopeBatch(const std::vector<OutboxItem>& sends) {
  std::vector<ParsedEnvelope> parsed;
  v1::SendBatchRequest request;
  for (const OutboxItem& send : sends) {
    absl::StatusOr<ParsedEnvelope> p = ParseEnvelope(send.request);
    if (!p.ok()) return p.status();
    parsed.push_back(*std::move(p));
    *request.add_sends() = ToSendRequest(send);
  }
  auto api = v1::Channels::NewStub(session_.channel());
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
    if (absl::Status c = AdvanceChain(
            sends[i], parsed[i].header.metadata.sequence, parsed[i].hash);
        !c.ok()) {
      return c;
    }
    sent.insert(sends[i].id);
    const v1::SendResponse& r = response.results(i);
    flushed_.push_back(FlushedItem{
        sends[i], OutboxAnswer{r.log_index(), r.duplicate(), std::nullopt}});
  }
  return state_.ChangeOutbox(sent, {});
}

absl::StatusOr<OutboxAnswer> Outbox::Send(const OutboxItem& item) {
  if (item.kind == kOutboxSend) return SendEnvelope(item);
  auto api = v1::Notifications::NewStub(session_.channel());
  if (item.kind == kOutboxNotify) {
    v1::NotifyRequest request;
    if (!request.ParseFromString(item.request)) {
      return absl::DataLossError("the queued notification is malformed");
    }
    v1::NotifyResponse response;
    absl::Status s = auth_.Call([&](grpc::ClientContext* c) {
      return api->Notify(c, request, &response);
    });
    if (!s.ok()) return s;
    return OutboxAnswer{
        response.log_index(), response.duplicate(),
        NotifyAnswer{response.version(), response.late(),
                     response.lead_time_seconds(),
                     response.required_lead_time_seconds()}};
  }
  if (item.kind == kOutboxAck) {
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
                        std::nullopt};
  }
  // Written by a newer parley into this profile's state: held, never
  // dropped, until that version sends it or the user drops it.
  return absl::FailedPreconditionError(absl::StrCat(
      "queued work of kind \"", item.kind,
      "\" was written by a newer version of parley, which can send it; "
      "this one cannot (`parley outbox drop ", item.id, "` forgets it)"));
}

absl::Status Outbox::Flush() {
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
    if (k >= singles_until && item.kind == kOutboxSend) {
      // The envelopes queued from here on, up to the next other work, go
      // in one Channels/SendBatch: one round trip instead of one each.
      std::vector<OutboxItem> run;
      size_t bytes = 0;
      for (size_t j = k; j < ids.size() && run.size() < kMaxBatchSends; ++j) {
        const OutboxItem* next = state_.FindOutboxItem(ids[j]);
        if (next == nullptr || next->kind != kOutboxSend ||
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
    absl::StatusOr<OutboxAnswer> answer = Send(item);
    if (answer.ok()) {
      if (absl::Status s = state_.RemoveFromOutbox(id); !s.ok()) return s;
      flushed_.push_back(FlushedItem{std::move(item), *std::move(answer)});
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

absl::Status Outbox::FlushWithRetries(int attempts, absl::Duration budget) {
  const absl::Time deadline = clock_.Now() + budget;
  Backoff backoff(absl::Milliseconds(250), absl::Seconds(8), random_);
  for (int attempt = 1;; ++attempt) {
    absl::Status s = Flush();
    if (s.ok() || !IsTransient(s)) return s;
    if (attempt >= attempts || stop_.load()) return s;
    const absl::Duration sleep = backoff.Next();
    if (clock_.Now() + sleep >= deadline) return s;
    SleepUnlessStopped(clock_, sleep, stop_, absl::Milliseconds(50));
    // A channel that saw its server die can be slow to notice it is back.
    session_.ResetChannel();
  }
}

std::optional<OutboxAnswer> Outbox::TakeAnswer(const std::string& id) {
  std::optional<OutboxAnswer> answer;
  for (const FlushedItem& f : flushed_) {
    if (f.item.id == id) answer = f.answer;
  }
  std::erase_if(flushed_, [&](const FlushedItem& f) { return f.item.id == id; });
  return answer;
}

absl::StatusOr<SubmitResult> Outbox::Submit(
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
  absl::Status flushed = Flush();
  if (!flushed.ok() && !IsRetryable(flushed)) {
    return flushed;  // local state could not be written
  }
  SubmitResult result;
  result.id = id;
  const OutboxItem* still = state_.FindOutboxItem(id);
  if (still == nullptr) {
    if (std::optional<OutboxAnswer> answer = TakeAnswer(id)) {
      result.answer = *std::move(answer);
    }
    return result;
  }
  if (!still->held.empty()) {
    // Refused at once: the user sees why now, so it need not wait.
    std::string why = still->held;
    std::erase_if(warnings_, [&](const std::string& w) {
      return w.find(id) != std::string::npos;
    });
    if (absl::Status s = withdraw(); !s.ok()) return s;
    auto refusal = refusals_.find(id);
    if (item.kind != kOutboxSend && refusal != refusals_.end()) {
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
  if (options_.require_online) {
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

absl::Status Outbox::Drop(const std::string& id, bool force) {
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

}  // namespace parley
