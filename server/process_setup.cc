#include "server/process_setup.h"

#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <thread>

#include "absl/synchronization/mutex.h"

namespace parley {

namespace {

// Often enough that memory freed after a burst is back with the kernel
// within seconds. A trim runs on its own thread, on no request's path.
constexpr auto kTrimInterval = std::chrono::seconds(2);

}  // namespace

void ConfigureServerProcess() {
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  mallopt(M_ARENA_MAX,
          static_cast<int>(std::max(2u, std::thread::hardware_concurrency())));
  std::thread([] {
    while (true) {
      std::this_thread::sleep_for(kTrimInterval);
      malloc_trim(0);
    }
  }).detach();
}

}  // namespace parley
