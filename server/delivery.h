#ifndef PARLEY_SERVER_DELIVERY_H_
#define PARLEY_SERVER_DELIVERY_H_

#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "absl/container/flat_hash_set.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "parley/v1/channels.pb.h"
#include "server/ledger.h"

namespace parley {

class DeliveryHub;

// One open Subscribe stream. Created by the Channels service, driven only by
// the hub's thread (which alone calls StartWrite and Finish), deleted by
// gRPC's OnDone.
class Subscription final : public grpc::ServerWriteReactor<v1::Delivery> {
 public:
  Subscription(DeliveryHub* hub, std::string member, uint64_t next_index);

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  friend class DeliveryHub;
  DeliveryHub* const hub_;
  const std::string member_;
  // Hub-thread state.
  uint64_t next_index_;       // first index not yet sent
  uint64_t last_sent_ = 0;    // for heartbeats
  bool sent_any_ = false;
  bool caught_up_sent_ = false;  // the first "caught up" heartbeat
  // An inbox key naming an entry the log's size did not yet cover (the
  // index batch is visible a moment before Size() moves): retried until
  // DeliveryHub::kIndexAheadGrace has passed, then taken for damage.
  std::optional<uint64_t> ahead_index_;
  absl::Time ahead_since_;
  absl::Time last_write_;
  v1::Delivery message_;      // the message in flight
  // Shared with gRPC's threads, under the hub's mutex.
  bool writing_ = false;
  bool failed_ = false;
};

// Delivers inbox entries to open subscriptions from one thread: it reads the
// next inbox key of a subscriber only when that subscriber's previous write
// has completed, so a slow consumer holds at most one message in memory and
// never delays anyone else. Heartbeats keep idle streams alive. Thread-safe.
class DeliveryHub {
 public:
  DeliveryHub(Ledger* ledger, absl::Duration heartbeat = absl::Seconds(15));
  // REQUIRES: the gRPC server has stopped (no stream can still call in).
  ~DeliveryHub();

  // Registers a new stream; `on_end` runs once when the stream ends (for
  // stream counting). REQUIRES: called before the reactor is returned.
  void Add(Subscription* sub, std::function<void()> on_end);
  // New entries concern `members`.
  void Notify(const std::vector<std::string>& members);
  // Ends every stream of `member` with PERMISSION_DENIED.
  void Revoke(const std::string& member);
  // Ends every stream with UNAVAILABLE (resumable) and waits up to 5 s for
  // gRPC to release them. Call before shutting the gRPC server down.
  void Shutdown();
  size_t open_streams() const;

 private:
  friend class Subscription;
  struct Entry {
    Subscription* sub;
    std::function<void()> on_end;
    absl::Status end_status;  // set: finish with this
    bool finished = false;
  };

  void Wake(Subscription* sub);
  void Cancelled(Subscription* sub, absl::Status status);
  void Done(Subscription* sub);
  void Run();
  // How long an inbox key may name an entry beyond the log's size before
  // the stream ends with DATA_LOSS (the race between the index batch and
  // Size() lasts microseconds; a key that stays ahead is damage).
  static constexpr absl::Duration kIndexAheadGrace = absl::Seconds(10);

  // Hub thread: fills `out` with the next message for `sub` and returns
  // true; false if there is none yet (nothing more in the inbox, or the
  // index is momentarily ahead of the log). An error when the inbox index
  // or the entry it names cannot be read or does not decode (DataLoss,
  // Internal): the stream must end with it, never look caught up.
  absl::StatusOr<bool> NextMessage(Subscription* sub, v1::Delivery* out);
  // Hub thread: the (verified) bytes of log entry `index`, read from the log
  // once and kept while recent, so a message to N streams costs one read and
  // one leaf-hash check, not N. Logged entries never change.
  absl::StatusOr<std::shared_ptr<const std::string>> CachedEntry(
      uint64_t index);

  Ledger* const ledger_;
  const absl::Duration heartbeat_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<Subscription*, Entry> subs_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_set<Subscription*> ready_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  // Hub-thread only: recently read entries, oldest first, at most
  // kEntryCacheBytes in all.
  absl::flat_hash_map<uint64_t, std::shared_ptr<const std::string>>
      entry_cache_;
  std::deque<uint64_t> entry_cache_order_;
  size_t entry_cache_bytes_ = 0;
  std::thread thread_;
};

}  // namespace parley

#endif  // PARLEY_SERVER_DELIVERY_H_
