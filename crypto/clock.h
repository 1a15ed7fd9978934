#ifndef PARLEY_CRYPTO_CLOCK_H_
#define PARLEY_CRYPTO_CLOCK_H_

#include "absl/time/time.h"

namespace parley {

// Source of wall-clock time, and of waiting. Every component that reads the
// time (prekey expiry, session tokens, ack deadlines, checkpoint cadence) or
// waits it out (retry backoff) takes a Clock so tests can drive it by hand
// (see tests/testing/fake_clock.h). Implementations are thread-safe.
class Clock {
 public:
  virtual ~Clock() = default;
  virtual absl::Time Now() const = 0;
  // Blocks the calling thread for `d` (nothing for d <= 0). A fake clock
  // moves its time forward instead.
  virtual void SleepFor(absl::Duration d) const = 0;
};

// The real clock. Thread-safe; never destroyed.
Clock& SystemClock();

}  // namespace parley

#endif  // PARLEY_CRYPTO_CLOCK_H_
