#ifndef PARLEY_SERVER_RATE_LIMIT_H_
#define PARLEY_SERVER_RATE_LIMIT_H_

#include <string>

#include "absl/container/flat_hash_map.h"
#include "absl/status/status.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "crypto/clock.h"

namespace parley {

struct LimitOptions {
  double requests_per_second = 50;  // token refill rate per identity
  double burst = 200;               // bucket size
  int max_streams_per_identity = 4;
  int max_channel_members = 50;
};

// Per-identity token buckets on the injected clock, and a cap on open
// streams per identity. Thread-safe.
class RateLimiter {
 public:
  RateLimiter(const Clock* clock, LimitOptions options)
      : clock_(clock), options_(options) {}

  // Takes `tokens` tokens for `name` (one per request; a batch takes one
  // per item). ResourceExhausted with "retry in N ms" (and *retry_after
  // set) when the bucket holds fewer; InvalidArgument if `tokens` exceeds
  // the burst, since no wait would help.
  absl::Status Take(const std::string& name, absl::Duration* retry_after,
                    double tokens = 1.0);

  // Counts an open stream; ResourceExhausted over the cap. Release when
  // the stream ends.
  absl::Status OpenStream(const std::string& name);
  void CloseStream(const std::string& name);

  const LimitOptions& options() const { return options_; }

 private:
  struct Bucket {
    double tokens;
    absl::Time updated;
  };
  const Clock* const clock_;
  const LimitOptions options_;
  absl::Mutex mu_;
  absl::flat_hash_map<std::string, Bucket> buckets_ ABSL_GUARDED_BY(mu_);
  absl::flat_hash_map<std::string, int> streams_ ABSL_GUARDED_BY(mu_);
};

}  // namespace parley

#endif  // PARLEY_SERVER_RATE_LIMIT_H_
