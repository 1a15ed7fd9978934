// Checks tsan_absl_sync.cc in the TSan build (ctest tsan_shim.*): two threads
// that share a counter under an absl::Mutex, and wait on it, draw no report;
// with an argument they also write a plain int with no lock between them,
// which TSan must still report. Without the shim the first case is reported
// (Debian's Abseil is invisible to TSan); with a shim that hid too much the
// second would not be.

#include <cstdio>
#include <thread>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

namespace {

absl::Mutex mu;
int guarded ABSL_GUARDED_BY(mu) = 0;
int unguarded = 0;

bool Done(int* count) { return *count >= 2000; }

}  // namespace

int main(int argc, char** /*argv*/) {
  const bool race = argc > 1;
  auto work = [race] {
    if (race) ++unguarded;
    for (int i = 0; i < 1000; ++i) {
      absl::MutexLock lock(&mu);
      ++guarded;
    }
    absl::MutexLock lock(&mu);
    mu.AwaitWithTimeout(absl::Condition(&Done, &guarded), absl::Seconds(10));
  };
  std::thread a(work);
  std::thread b(work);
  a.join();
  b.join();
  absl::MutexLock lock(&mu);
  std::printf("guarded=%d\n", guarded);
  return guarded == 2000 ? 0 : 1;
}
