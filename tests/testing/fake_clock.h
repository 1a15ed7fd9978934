#ifndef PARLEY_TESTS_TESTING_FAKE_CLOCK_H_
#define PARLEY_TESTS_TESTING_FAKE_CLOCK_H_

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "crypto/clock.h"

namespace parley::testing {

// A Clock that only moves when the test says so. Thread-safe.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(absl::Time start = absl::FromUnixSeconds(1'790'000'000))
      : now_(start) {}

  absl::Time Now() const override {
    absl::MutexLock lock(&mu_);
    return now_;
  }
  // Does not block: the time moves on by `d`, as if the caller had slept.
  void SleepFor(absl::Duration d) const override {
    if (d <= absl::ZeroDuration()) return;
    absl::MutexLock lock(&mu_);
    now_ += d;
  }
  void Advance(absl::Duration d) {
    absl::MutexLock lock(&mu_);
    now_ += d;
  }
  void Set(absl::Time t) {
    absl::MutexLock lock(&mu_);
    now_ = t;
  }

 private:
  mutable absl::Mutex mu_;
  mutable absl::Time now_ ABSL_GUARDED_BY(mu_);  // SleepFor is const
};

}  // namespace parley::testing

#endif  // PARLEY_TESTS_TESTING_FAKE_CLOCK_H_
