#ifndef PARLEY_SERVER_REFUSAL_PACER_H_
#define PARLEY_SERVER_REFUSAL_PACER_H_

#include <cstdint>
#include <functional>
#include <queue>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/grpcpp.h"
#include "server/status_util.h"

namespace parley {

// Answers calls refused by a rate or stream limit (RESOURCE_EXHAUSTED) after
// a short delay instead of at once. A refusal is cheap for the server, but
// not free (TLS, HTTP/2, a callback): a client that keeps N calls in flight
// and retries each refusal at once would otherwise cost the server as much
// as thousands of calls a second; paced, it gets at most N / delay answers a
// second. An honest client told to retry later loses nothing: it waits
// anyway. Waiting refusals hold no thread, only their call. Thread-safe.
class RefusalPacer {
 public:
  explicit RefusalPacer(absl::Duration delay);
  // Runs every waiting refusal. REQUIRES: the gRPC server has stopped.
  ~RefusalPacer();

  // Runs `finish` (which finishes a refused call) after the delay, on the
  // pacer's thread; at once if the delay is zero or Shutdown was called.
  void Schedule(std::function<void()> finish);

  // Finishes every waiting refusal now, and every later one at once. Call
  // before shutting gRPC down (it waits for every call to finish).
  void Shutdown();

  absl::Duration delay() const { return delay_; }

 private:
  struct Waiting {
    absl::Time due;
    uint64_t sequence;
    std::function<void()> finish;
    bool operator>(const Waiting& other) const {
      return due != other.due ? due > other.due : sequence > other.sequence;
    }
  };
  void Run();

  const absl::Duration delay_;
  absl::Mutex mu_;
  std::priority_queue<Waiting, std::vector<Waiting>, std::greater<Waiting>>
      waiting_ ABSL_GUARDED_BY(mu_);
  uint64_t next_sequence_ ABSL_GUARDED_BY(mu_) = 0;
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

// Finishes a unary call with `status`: through `pacer` (if set) when it is a
// RESOURCE_EXHAUSTED refusal, at once otherwise.
grpc::ServerUnaryReactor* FinishPaced(RefusalPacer* pacer,
                                      grpc::CallbackServerContext* context,
                                      const absl::Status& status);

// A server-streaming call refused before it started, finished through
// `pacer` as FinishPaced does. Deletes itself when gRPC is done with it.
template <typename Message>
class RefusedStream final : public grpc::ServerWriteReactor<Message> {
 public:
  RefusedStream(RefusalPacer* pacer, const absl::Status& status) {
    grpc::Status refusal = ToGrpcStatus(status);
    if (pacer != nullptr && absl::IsResourceExhausted(status)) {
      pacer->Schedule([this, refusal] { this->Finish(refusal); });
    } else {
      this->Finish(refusal);
    }
  }
  void OnDone() override { delete this; }
};

}  // namespace parley

#endif  // PARLEY_SERVER_REFUSAL_PACER_H_
