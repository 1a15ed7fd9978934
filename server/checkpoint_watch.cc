#include "server/checkpoint_watch.h"

#include <utility>
#include <vector>

#include "server/status_util.h"

namespace parley {

CheckpointWatch::CheckpointWatch(CheckpointBroadcaster* broadcaster,
                                 uint64_t after_size,
                                 std::function<void()> on_end)
    : broadcaster_(broadcaster),
      on_end_(std::move(on_end)),
      sent_size_(after_size) {}

void CheckpointWatch::OnWriteDone(bool ok) {
  {
    absl::MutexLock lock(&broadcaster_->mu_);
    writing_ = false;
    in_flight_.reset();
    if (!ok && end_status_.ok()) {
      end_status_ = absl::UnavailableError("stream write failed");
    }
  }
  broadcaster_->Wake();
}

void CheckpointWatch::OnCancel() {
  {
    absl::MutexLock lock(&broadcaster_->mu_);
    if (end_status_.ok()) end_status_ = absl::CancelledError("stream cancelled");
  }
  broadcaster_->Wake();
}

void CheckpointWatch::OnDone() {
  broadcaster_->Remove(this);
  if (on_end_) on_end_();
  delete this;
}

CheckpointBroadcaster::CheckpointBroadcaster(const LogStore* log,
                                             absl::Duration poll, FillFn fill)
    : log_(log),
      poll_(poll),
      fill_(std::move(fill)),
      thread_([this] { Run(); }) {}

CheckpointBroadcaster::~CheckpointBroadcaster() {
  Shutdown();
  {
    absl::MutexLock lock(&mu_);
    exit_ = true;
  }
  thread_.join();
}

void CheckpointBroadcaster::Add(CheckpointWatch* watch) {
  absl::MutexLock lock(&mu_);
  if (stopping_) {
    watch->end_status_ = absl::UnavailableError("server shutting down");
  }
  watches_[watch] = true;
  dirty_ = true;
}

void CheckpointBroadcaster::Shutdown() {
  absl::MutexLock lock(&mu_);
  if (!stopping_) {
    stopping_ = true;
    for (auto& [watch, unused] : watches_) {
      if (watch->end_status_.ok()) {
        watch->end_status_ = absl::UnavailableError(
            "server shutting down; watch again from the last checkpoint you "
            "received");
      }
    }
    dirty_ = true;
  }
  // Bounded: a client that stopped reading holds its write open until
  // gRPC's own shutdown cancels it.
  mu_.AwaitWithTimeout(
      absl::Condition(
          +[](absl::flat_hash_map<CheckpointWatch*, bool>* watches) {
            return watches->empty();
          },
          &watches_),
      absl::Seconds(5));
}

size_t CheckpointBroadcaster::open_streams() const {
  absl::MutexLock lock(&mu_);
  return watches_.size();
}

void CheckpointBroadcaster::Wake() {
  absl::MutexLock lock(&mu_);
  dirty_ = true;
}

void CheckpointBroadcaster::Remove(CheckpointWatch* watch) {
  absl::MutexLock lock(&mu_);
  watches_.erase(watch);
}

void CheckpointBroadcaster::Run() {
  uint64_t latest_size = 0;
  bool have_latest = false;
  while (true) {
    bool dirty;
    {
      absl::MutexLock lock(&mu_);
      if (exit_ && watches_.empty()) return;
      dirty = dirty_;
    }
    std::optional<SignedCheckpoint> cp;
    if (!have_latest) {
      absl::StatusOr<SignedCheckpoint> latest = log_->LatestCheckpoint();
      if (latest.ok()) cp = *std::move(latest);
    } else if (!dirty) {
      cp = log_->WaitForCheckpoint(latest_size, poll_);
    }
    std::vector<std::pair<CheckpointWatch*, absl::Status>> to_finish;
    std::vector<CheckpointWatch*> to_write;
    std::shared_ptr<const v1::Checkpoint> message;
    {
      absl::MutexLock lock(&mu_);
      if (cp.has_value() && (!have_latest || cp->size > latest_size)) {
        auto filled = std::make_shared<v1::Checkpoint>();
        fill_(*cp, filled.get());
        latest_ = std::move(filled);
        latest_size = cp->size;
        have_latest = true;
      }
      dirty_ = false;
      message = latest_;
      for (auto& [watch, unused] : watches_) {
        if (watch->finished_ || watch->writing_) continue;
        if (!watch->end_status_.ok()) {
          watch->finished_ = true;
          to_finish.emplace_back(watch, watch->end_status_);
        } else if (message != nullptr && message->size() > watch->sent_size_) {
          watch->writing_ = true;
          watch->sent_size_ = message->size();
          watch->in_flight_ = message;
          to_write.push_back(watch);
        }
      }
    }
    // Outside the lock: gRPC may call OnWriteDone or OnDone inline. No
    // watch can be deleted before we Finish it, and only this thread does.
    for (CheckpointWatch* watch : to_write) watch->StartWrite(message.get());
    for (auto& [watch, status] : to_finish) watch->Finish(ToGrpcStatus(status));
  }
}

}  // namespace parley
