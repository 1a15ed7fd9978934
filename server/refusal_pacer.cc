#include "server/refusal_pacer.h"

#include <utility>

namespace parley {

RefusalPacer::RefusalPacer(absl::Duration delay)
    : delay_(delay), thread_([this] { Run(); }) {}

RefusalPacer::~RefusalPacer() {
  Shutdown();
  thread_.join();
}

void RefusalPacer::Schedule(std::function<void()> finish) {
  {
    absl::MutexLock lock(&mu_);
    if (!stopping_ && delay_ > absl::ZeroDuration()) {
      waiting_.push({absl::Now() + delay_, next_sequence_++, std::move(finish)});
      return;
    }
  }
  finish();
}

void RefusalPacer::Shutdown() {
  std::vector<std::function<void()>> now;
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    while (!waiting_.empty()) {
      now.push_back(waiting_.top().finish);
      waiting_.pop();
    }
  }
  for (auto& finish : now) finish();
}

void RefusalPacer::Run() {
  absl::MutexLock lock(&mu_);
  while (true) {
    auto has_work = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return stopping_ || !waiting_.empty();
    };
    mu_.Await(absl::Condition(&has_work));
    if (stopping_ && waiting_.empty()) return;
    if (waiting_.empty()) continue;
    const absl::Time due = waiting_.top().due;
    if (absl::Now() < due) {
      // Wake at the deadline, or earlier for an earlier one or a stop.
      auto earlier = [this, due]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
        return stopping_ || waiting_.empty() || waiting_.top().due < due;
      };
      mu_.AwaitWithDeadline(absl::Condition(&earlier), due);
      continue;
    }
    std::function<void()> finish = waiting_.top().finish;
    waiting_.pop();
    mu_.Unlock();
    finish();  // gRPC may run OnDone inline: never under our lock.
    mu_.Lock();
  }
}

grpc::ServerUnaryReactor* FinishPaced(RefusalPacer* pacer,
                                      grpc::CallbackServerContext* context,
                                      const absl::Status& status) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  grpc::Status refusal = ToGrpcStatus(status);
  if (pacer != nullptr && absl::IsResourceExhausted(status)) {
    pacer->Schedule([reactor, refusal] { reactor->Finish(refusal); });
  } else {
    reactor->Finish(refusal);
  }
  return reactor;
}

}  // namespace parley
