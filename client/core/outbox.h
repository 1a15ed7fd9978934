#ifndef PARLEY_CLIENT_CORE_OUTBOX_H_
#define PARLEY_CLIENT_CORE_OUTBOX_H_

// The offline outbox: the one path for work that must reach the server
// exactly once over a broken network. Work is sealed and signed first,
// recorded in the profile's state (client/core/local_state.h), then sent in
// the order queued; a failure that may pass keeps it queued for the next
// flush, a refusal holds it (never drops it) with the server's reason until
// the user resends or drops it.

#include <atomic>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/core/auth.h"
#include "client/core/local_state.h"
#include "client/core/session.h"
#include "crypto/clock.h"
#include "crypto/random.h"

namespace parley {

// The kinds of outbox work (OutboxItem::kind).
inline constexpr char kOutboxSend[] = "send";      // a sealed envelope
inline constexpr char kOutboxNotify[] = "notify";  // a v1::NotifyRequest
inline constexpr char kOutboxAck[] = "ack";        // a v1::AcknowledgeRequest

// What the server said about a notification version it logged
// (Notifications/Notify), for "notify" work.
struct NotifyAnswer {
  uint32_t version = 0;
  bool late = false;  // logged with less than the required lead time
  int64_t lead_time_seconds = 0;
  int64_t required_lead_time_seconds = 0;
};

// The server's answer to one piece of outbox work.
struct OutboxAnswer {
  uint64_t log_index = 0;
  bool duplicate = false;  // the server had it already (a retry)
  std::optional<NotifyAnswer> notify;  // "notify" work only
};

// What Outbox::Submit did with one piece of work.
struct SubmitResult {
  std::string id;
  bool queued = false;  // true: in the outbox, "queued, not yet sent"
  OutboxAnswer answer;  // when sent
  std::string reason;   // when queued: why it was not sent now
};

// One outbox item the server accepted during a flush.
struct FlushedItem {
  OutboxItem item;
  OutboxAnswer answer;
};

// Not thread-safe except that Send may run on several threads at once; one
// per Device. Everything it is given must outlive it.
class Outbox {
 public:
  struct Options {
    // Fail (Unavailable) instead of queueing (--require-online).
    bool require_online = false;
  };

  // `warnings` collects what the user should hear about work held by the
  // server's refusal. `stop` ends FlushWithRetries' waits.
  Outbox(LocalState& state, Session& session, SessionAuthenticator& auth,
         const Clock& clock, Random& random, const std::atomic<bool>& stop,
         std::vector<std::string>& warnings, Options options)
      : state_(state),
        session_(session),
        auth_(auth),
        clock_(clock),
        random_(random),
        stop_(stop),
        warnings_(warnings),
        options_(options) {}

  // Seal now, queue, try to send, report queued. `item` is already signed
  // and carries its idempotency id; its kind is one of kOutbox*. Records it
  // in the outbox (with `chain_after` as the channel's chain, in the same
  // write), then sends the outbox in order. Returns:
  //   sent:     answer filled (duplicate: the server had it already);
  //   queued:   the server could not be reached, or earlier work in the
  //             same ordering key is held; it stays in the outbox;
  //   an error: the server refused it for good (it is taken out again), or
  //             Unavailable with Options::require_online (taken out again;
  //             if the request did reach the server, a later retry of the
  //             same bytes would be answered as a duplicate).
  absl::StatusOr<SubmitResult> Submit(
      OutboxItem item,
      const std::optional<ChainState>& chain_after = std::nullopt);

  // One pass over the outbox, in order: runs of queued envelopes go in one
  // Channels/SendBatch. Work the server refuses for good is held with the
  // reason and holds back later work with the same ordering key. Returns
  // the first failure worth retrying (later work is not tried), or a local
  // error; OK when nothing sendable is left.
  absl::Status Flush();
  // Flush, retrying failures worth retrying with exponential backoff and
  // jitter on the clock, at most `attempts` times within `budget`.
  absl::Status FlushWithRetries(int attempts, absl::Duration budget);

  // Sends one item without recording anything (the caller keeps the
  // outbox): NotifyBatch sends many at once this way. For "send" work the
  // channel's chain advances as after Flush. Thread-safe for
  // "notify" and "ack" work.
  absl::StatusOr<OutboxAnswer> Send(const OutboxItem& item);

  // Items the server accepted since the last call, in order.
  std::vector<FlushedItem> TakeFlushed() { return std::move(flushed_); }
  // The answer to `id` if a flush since the last TakeFlushed sent it
  // (taken out of what TakeFlushed returns).
  std::optional<OutboxAnswer> TakeAnswer(const std::string& id);

  // `parley outbox drop ID`: forgets queued work (NotFound if unknown).
  // Refuses (FailedPrecondition) a "send" that is not held, unless `force`:
  // it may already have reached the server.
  absl::Status Drop(const std::string& id, bool force);

 private:
  absl::StatusOr<OutboxAnswer> SendEnvelope(const OutboxItem& send);
  // Queued envelopes in one Channels/SendBatch (all or none). On success
  // records each as SendEnvelope does, adds it to flushed_ and takes it out
  // of the outbox.
  absl::Status SendEnvelopeBatch(const std::vector<OutboxItem>& sends);
  // After the server logged `send` (its envelope's `sequence` and `hash`):
  // advances the local chain.
  absl::Status AdvanceChain(const OutboxItem& send, uint64_t sequence,
                            const std::string& hash);

  LocalState& state_;
  Session& session_;
  SessionAuthenticator& auth_;
  const Clock& clock_;
  Random& random_;
  const std::atomic<bool>& stop_;
  std::vector<std::string>& warnings_;
  const Options options_;
  std::vector<FlushedItem> flushed_;
  // Why the server refused items for good, by id (this run).
  std::map<std::string, absl::Status> refusals_;
};

}  // namespace parley

#endif  // PARLEY_CLIENT_CORE_OUTBOX_H_
