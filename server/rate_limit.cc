#include "server/rate_limit.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"

namespace parley {

absl::Status RateLimiter::Take(const std::string& name,
                               absl::Duration* retry_after, double tokens) {
  if (tokens > options_.burst) {
    return absl::InvalidArgumentError(absl::StrCat(
        "this request counts as ", tokens, " requests, more than the burst of ",
        options_.burst, " the server allows; split it into smaller ones"));
  }
  absl::Time now = clock_->Now();
  absl::MutexLock lock(&mu_);
  auto [it, inserted] = buckets_.try_emplace(name, Bucket{options_.burst, now});
  Bucket& b = it->second;
  double elapsed = std::max(0.0, absl::ToDoubleSeconds(now - b.updated));
  b.tokens = std::min(options_.burst,
                      b.tokens + elapsed * options_.requests_per_second);
  b.updated = now;
  if (b.tokens >= tokens) {
    b.tokens -= tokens;
    return absl::OkStatus();
  }
  double wait_s = (tokens - b.tokens) / options_.requests_per_second;
  *retry_after = absl::Milliseconds(std::ceil(wait_s * 1000));
  return absl::ResourceExhaustedError(absl::StrCat(
      "rate limit of ", options_.requests_per_second,
      " requests per second exceeded for ", name, "; retry in ",
      absl::ToInt64Milliseconds(*retry_after), " ms"));
}

absl::Status RateLimiter::OpenStream(const std::string& name) {
  absl::MutexLock lock(&mu_);
  int& open = streams_[name];
  if (open >= options_.max_streams_per_identity) {
    return absl::ResourceExhaustedError(absl::StrCat(
        name, " already has ", open,
        " open streams (the limit); close one, or retry in a few seconds"));
  }
  ++open;
  return absl::OkStatus();
}

void RateLimiter::CloseStream(const std::string& name) {
  absl::MutexLock lock(&mu_);
  auto it = streams_.find(name);
  if (it != streams_.end() && --it->second <= 0) streams_.erase(it);
}

}  // namespace parley
