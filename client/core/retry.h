#ifndef PARLEY_CLIENT_CORE_RETRY_H_
#define PARLEY_CLIENT_CORE_RETRY_H_

// How the client core decides that a failed call is worth sending again,
// and how long it waits before it does: one place for every retry loop
// (the outbox flush, Sync's reconnects, bulk notifications).

#include <atomic>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "crypto/clock.h"
#include "crypto/random.h"

namespace parley {

// A failure that may pass if the same call is sent again later: the server
// could not be reached or did not answer in time (Unavailable,
// DeadlineExceeded), asked for patience (ResourceExhausted: a rate limit or
// a full disk) or gave up on a conflict (Aborted). Anything else is the
// server's answer and sending it again cannot change it.
bool IsTransient(const absl::Status& status);

// A failure after which queued work stays queued and is sent again later:
// a transient one, or a lost session (Unauthenticated: the next attempt
// signs in again).
bool IsRetryable(const absl::Status& status);

// Exponential backoff with jitter: each Next() is the current step times a
// random factor in [0.5, 1.5), and the step doubles up to `max`. Not
// thread-safe.
class Backoff {
 public:
  Backoff(absl::Duration initial, absl::Duration max, Random& random)
      : initial_(initial), max_(max), step_(initial), random_(random) {}

  absl::Duration Next();
  // Back to the initial step (after progress).
  void Reset() { step_ = initial_; }

 private:
  const absl::Duration initial_;
  const absl::Duration max_;
  absl::Duration step_;
  Random& random_;
};

// Waits `d` on `clock` in slices of at most `slice`, so that a stop request
// (`stop` set from another thread, e.g. on a signal) ends the wait within a
// slice. Returns false if it was stopped.
bool SleepUnlessStopped(const Clock& clock, absl::Duration d,
                        const std::atomic<bool>& stop,
                        absl::Duration slice = absl::Milliseconds(100));

}  // namespace parley

#endif  // PARLEY_CLIENT_CORE_RETRY_H_
