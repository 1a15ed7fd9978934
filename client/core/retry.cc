#include "client/core/retry.h"

#include <algorithm>
#include <cstdint>

namespace parley {

bool IsTransient(const absl::Status& s) {
  return absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s) ||
         absl::IsResourceExhausted(s) || absl::IsAborted(s);
}

bool IsRetryable(const absl::Status& s) {
  return IsTransient(s) || absl::IsUnauthenticated(s);
}

absl::Duration Backoff::Next() {
  uint8_t r = 0;
  random_.Fill(&r, 1);
  const absl::Duration wait = step_ * (0.5 + r / 256.0);
  step_ = std::min(step_ * 2, max_);
  return wait;
}

bool SleepUnlessStopped(const Clock& clock, absl::Duration d,
                        const std::atomic<bool>& stop, absl::Duration slice) {
  const absl::Time wake = clock.Now() + d;
  for (absl::Time now = clock.Now(); now < wake; now = clock.Now()) {
    if (stop.load()) return false;
    clock.SleepFor(std::min(slice, wake - now));
  }
  return !stop.load();
}

}  // namespace parley
