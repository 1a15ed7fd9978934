#ifndef PARLEY_SERVER_CHECKPOINT_WATCH_H_
#define PARLEY_SERVER_CHECKPOINT_WATCH_H_

#include <cstdint>
#include <functional>
#include <memory>
#include <thread>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "parley/v1/log.pb.h"
#include "storage/log_store.h"

namespace parley {

class CheckpointBroadcaster;

// One open WatchCheckpoints stream. Created by the Log service, driven only
// by the broadcaster's thread (which alone calls StartWrite and Finish),
// deleted by gRPC's OnDone.
class CheckpointWatch final : public grpc::ServerWriteReactor<v1::Checkpoint> {
 public:
  // `on_end` runs once, when gRPC is done with the stream.
  CheckpointWatch(CheckpointBroadcaster* broadcaster, uint64_t after_size,
                  std::function<void()> on_end);

  void OnWriteDone(bool ok) override;
  void OnCancel() override;
  void OnDone() override;

 private:
  friend class CheckpointBroadcaster;
  CheckpointBroadcaster* const broadcaster_;
  std::function<void()> on_end_;
  // Under the broadcaster's mutex.
  uint64_t sent_size_;
  bool writing_ = false;
  bool finished_ = false;
  absl::Status end_status_;
  // The message in flight, shared by every stream it goes to; kept alive
  // until the write completes, as StartWrite requires.
  std::shared_ptr<const v1::Checkpoint> in_flight_;
};

// Sends every new signed checkpoint to every open WatchCheckpoints stream
// from ONE thread, whatever the number of streams: a stream costs a reactor
// and its share of one message, never a thread. A stream whose client reads
// slowly gets the newest checkpoint when its previous write completes
// (checkpoints supersede each other). Thread-safe.
class CheckpointBroadcaster {
 public:
  using FillFn = std::function<void(const SignedCheckpoint&, v1::Checkpoint*)>;
  // `log` is not owned and must outlive the broadcaster. The thread waits
  // for checkpoints in slices of `poll`: a cancelled stream ends within it.
  CheckpointBroadcaster(const LogStore* log, absl::Duration poll, FillFn fill);
  // Ends the thread. REQUIRES: the gRPC server has stopped.
  ~CheckpointBroadcaster();

  // Registers a new stream. REQUIRES: called before the reactor is returned
  // to gRPC.
  void Add(CheckpointWatch* watch);
  // Ends every stream with UNAVAILABLE ("server shutting down") and waits up
  // to 5 s for gRPC to release them. Call before shutting gRPC down.
  void Shutdown();
  size_t open_streams() const;

 private:
  friend class CheckpointWatch;
  void Wake();
  void Remove(CheckpointWatch* watch);
  void Run();

  const LogStore* const log_;
  const absl::Duration poll_;
  const FillFn fill_;
  mutable absl::Mutex mu_;
  absl::flat_hash_map<CheckpointWatch*, bool> watches_ ABSL_GUARDED_BY(mu_);
  std::shared_ptr<const v1::Checkpoint> latest_ ABSL_GUARDED_BY(mu_);
  bool dirty_ ABSL_GUARDED_BY(mu_) = false;  // a stream wants attention
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  bool exit_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace parley

#endif  // PARLEY_SERVER_CHECKPOINT_WATCH_H_
