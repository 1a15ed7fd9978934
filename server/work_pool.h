#ifndef PARLEY_SERVER_WORK_POOL_H_
#define PARLEY_SERVER_WORK_POOL_H_

#include <deque>
#include <functional>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"

namespace parley {

// A fixed pool of threads for RPC work that waits on the disk (every
// Ledger::Commit waits for a synced write). gRPC's callback threads hand
// such work here and return at once, so many appends are in flight together
// and share one fsync (group commit) instead of queueing behind the two or
// so callback threads a small machine has. Thread-safe.
class WorkPool {
 public:
  explicit WorkPool(int threads);
  // Runs every queued task, then joins the threads.
  ~WorkPool();

  void Run(std::function<void()> task);

 private:
  void Loop();

  absl::Mutex mu_;
  absl::CondVar ready_;
  std::deque<std::function<void()>> tasks_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::vector<std::thread> threads_;
};

}  // namespace parley

#endif  // PARLEY_SERVER_WORK_POOL_H_
