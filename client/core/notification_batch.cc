// Many notifications at once (NotificationClient::NotifyBatch), for
// `parley notify --from-file`.

#include <algorithm>
#include <atomic>
#include <optional>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "client/core/notification_client.h"
#include "client/core/retry.h"
#include "crypto/domain.h"
#include "crypto/encoding.h"
#include "storage/tlog/log_entry.h"

namespace parley {
namespace {

// Personalisation of DeriveNotificationId's keyed BLAKE2b. A client-local
// derivation: nothing but this device computes or checks it.
constexpr std::string_view kDerivedIdTag = "parley/v1/nid";

// A group holds this many items per call in flight: enough to keep every
// call busy, few enough that the outbox stays small and progress is seen.
constexpr size_t kGroupItemsPerCall = 4;

std::string Channel(const NotificationContent& content) {
  return NotificationChannel(ContentId(content));
}

}  // namespace

std::string NotificationClient::DeriveNotificationId(std::string_view prefix,
                                         std::string_view source) const {
  const std::string digest =
      TaggedBlake2b(kDerivedIdTag, keys_.identity().seed().view(),
                    {"notification id", source}, 16);
  return absl::StrCat(std::string(prefix),
                      HexEncode(std::string_view(digest).substr(0, 8)));
}

absl::StatusOr<NotifyResult> NotificationClient::LoggedBefore(
    const std::string& id, const absl::Status& refused) {
  absl::StatusOr<v1::NotificationState> state = GetNotificationState(id);
  if (!state.ok() || state->issuer() != identity_.name) return refused;
  NotifyResult r;
  r.log_index = state->log_index();
  r.version = state->version();
  r.duplicate = true;
  r.late = state->late();
  if (state->metadata().depart_at() != 0 && state->parties_size() > 0 &&
      state->parties(0).logged_at() != 0) {
    r.lead_time_seconds =
        state->metadata().depart_at() - state->parties(0).logged_at();
  }
  return r;
}

std::vector<absl::StatusOr<NotifyResult>> NotificationClient::NotifyBatch(
    const std::vector<BatchNotification>& items, const NotifyBatchOptions& options) {
  std::vector<absl::StatusOr<NotifyResult>> results(
      items.size(), absl::InternalError("not tried"));
  auto report = [&](size_t i) {
    if (options.on_result) options.on_result(i, results[i]);
  };
  // Work queued earlier goes first, as Outbox::Submit would send it.
  if (absl::Status s = outbox_.Flush();
      !s.ok() && !IsRetryable(s)) {
    for (size_t i = 0; i < items.size(); ++i) {
      results[i] = s;  // local state could not be written
      report(i);
    }
    return results;
  }
  const bool held_before = recipients_.Hold(true);
  auto queued_for = [this](const std::string& channel) {
    return std::any_of(
        state_.outbox().begin(), state_.outbox().end(),
        [&](const OutboxItem& item) { return item.channel == channel; });
  };
  const int in_flight = std::max(1, options.max_in_flight);
  const size_t group_size = kGroupItemsPerCall * static_cast<size_t>(in_flight);
  size_t i = 0;
  while (i < items.size()) {
    const NotificationContent& content = items[i].content;
    if (items[i].derived_id && ContentVersion(content) == 1) {
      // An earlier run queued this very notification (its id comes from
      // the same source): it is sent as queued, never sealed twice.
      auto earlier = std::find_if(
          state_.outbox().begin(), state_.outbox().end(),
          [&](const OutboxItem& item) {
            return item.kind == "notify" && item.channel == Channel(content);
          });
      if (earlier != state_.outbox().end()) {
        NotifyResult r;
        r.version = 1;
        r.queued = true;
        r.outbox_id = earlier->id;
        r.queued_reason = earlier->held.empty()
                              ? "queued by an earlier run, not yet sent"
                              : absl::StrCat("queued by an earlier run and "
                                             "held: ", earlier->held);
        results[i] = std::move(r);
        report(i++);
        continue;
      }
    }
    if (ContentVersion(content) != 1 || queued_for(Channel(content))) {
      // In its place, alone: an amendment needs the version before it
      // logged, and work queued for the same id goes first.
      results[i] = Notify(content);
      if (items[i].derived_id && absl::IsAlreadyExists(results[i].status())) {
        results[i] = LoggedBefore(ContentId(content), results[i].status());
      }
      report(i++);
      continue;
    }
    std::vector<size_t> group;
    std::set<std::string> channels;
    while (i < items.size() && group.size() < group_size) {
      const NotificationContent& next = items[i].content;
      const std::string channel = Channel(next);
      // The same id twice goes in order: the first is logged, the second
      // refused as existing, as one at a time.
      if (ContentVersion(next) != 1 || queued_for(channel) ||
          !channels.insert(channel).second) {
        break;
      }
      group.push_back(i++);
    }
    NotifyGroup(items, group, in_flight, &results);
    for (size_t g : group) report(g);
  }
  recipients_.Hold(held_before);
  return results;
}

void NotificationClient::NotifyGroup(const std::vector<BatchNotification>& items,
                         const std::vector<size_t>& indexes, int max_in_flight,
                         std::vector<absl::StatusOr<NotifyResult>>* results) {
  // Sealed first; an item that cannot be sealed is answered now.
  Reach reach;
  std::vector<OutboxItem> sealed;
  std::vector<size_t> which;          // index into `items` of each sealed
  std::vector<NotifyResult> partial;  // version and changes of each
  const int64_t now_ms = absl::ToUnixMillis(clock_.Now());
  for (size_t i : indexes) {
    NotifyResult r;
    absl::StatusOr<OutboxItem> item =
        SealNotification(items[i].content, reach, &r);
    if (!item.ok()) {
      (*results)[i] = item.status();
      continue;
    }
    item->queued_at_ms = now_ms;
    sealed.push_back(*std::move(item));
    which.push_back(i);
    partial.push_back(std::move(r));
  }
  if (sealed.empty()) return;
  // Recorded before anything is sent: a crash or a lost answer leaves them
  // queued, and every retry sends the same bytes.
  if (absl::Status s = state_.AddToOutbox(sealed); !s.ok()) {
    for (size_t i : which) (*results)[i] = s;
    return;
  }

  // Sent with up to `max_in_flight` calls at once, unless sealing found the
  // server unreachable. After a transient failure nothing more is sent.
  std::vector<std::optional<absl::StatusOr<OutboxAnswer>>> answers(
      sealed.size());
  absl::Mutex mu;
  absl::Status unreachable = reach.offline_cause();
  if (reach.online()) {
    std::atomic<size_t> next{0};
    auto worker = [&] {
      for (size_t k = next++; k < sealed.size(); k = next++) {
        {
          absl::MutexLock lock(&mu);
          if (!unreachable.ok()) continue;
        }
        absl::StatusOr<OutboxAnswer> answer = outbox_.Send(sealed[k]);
        if (!answer.ok() && IsRetryable(answer.status())) {
          absl::MutexLock lock(&mu);
          if (unreachable.ok()) unreachable = answer.status();
        }
        answers[k] = std::move(answer);
      }
    };
    const size_t threads =
        std::min<size_t>(static_cast<size_t>(max_in_flight), sealed.size());
    std::vector<std::thread> pool;
    for (size_t t = 1; t < threads; ++t) pool.emplace_back(worker);
    worker();
    for (std::thread& t : pool) t.join();
  }

  std::set<std::string> remove;
  std::vector<OutboxItem> update;
  std::vector<size_t> audience_changed;
  for (size_t k = 0; k < sealed.size(); ++k) {
    const size_t i = which[k];
    OutboxItem& item = sealed[k];
    const bool sent = answers[k].has_value();
    if (sent && answers[k]->ok()) {
      remove.insert(item.id);
      (*results)[i] = NotifyAnswered(**answers[k], std::move(partial[k]));
      continue;
    }
    const absl::Status failed = sent ? answers[k]->status() : unreachable;
    if ((!sent || IsRetryable(failed)) &&
        options_.require_online) {
      remove.insert(item.id);
      (*results)[i] = absl::UnavailableError(absl::StrCat(
          failed.message(), "; not sent and not queued (--require-online)"));
      continue;
    }
    if (!sent || IsRetryable(failed)) {
      // Stays in the outbox: sent by the next online command or sync.
      if (sent) ++item.attempts;
      item.last_error = std::string(failed.message());
      update.push_back(item);
      NotifyResult queued = std::move(partial[k]);
      queued.queued = true;
      queued.outbox_id = item.id;
      queued.queued_reason = item.last_error;
      (*results)[i] = std::move(queued);
      continue;
    }
    // Refused at once: taken out again, the server's answer returned (as
    // Outbox::Submit does for notification work).
    remove.insert(item.id);
    if (items[i].derived_id && absl::IsAlreadyExists(failed)) {
      (*results)[i] = LoggedBefore(ContentId(items[i].content), failed);
    } else if (absl::IsFailedPrecondition(failed)) {
      audience_changed.push_back(i);  // e.g. a member joined meanwhile
      (*results)[i] = failed;
    } else {
      (*results)[i] = failed;
    }
  }
  if (absl::Status s = state_.ChangeOutbox(remove, update); !s.ok()) {
    for (size_t i : which) (*results)[i] = s;
    return;
  }
  if (audience_changed.empty()) return;
  // The directory or keys held for the batch may be stale: fetch them
  // again, and try each such item once more, alone.
  recipients_.Forget();
  for (size_t i : audience_changed) {
    (*results)[i] = Notify(items[i].content);
    if (items[i].derived_id && absl::IsAlreadyExists((*results)[i].status())) {
      (*results)[i] =
          LoggedBefore(ContentId(items[i].content), (*results)[i].status());
    }
  }
}

}  // namespace parley
