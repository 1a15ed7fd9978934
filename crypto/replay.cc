#include "crypto/replay.h"

namespace parley {

ReplayVerdict ReplayDetector::Observe(const ParsedEnvelope& envelope) {
  absl::MutexLock lock(&mu_);
  auto [it, inserted] =
      seen_.try_emplace(ReplayKey(envelope.header), envelope.hash);
  if (inserted) return ReplayVerdict::kNew;
  return it->second == envelope.hash ? ReplayVerdict::kDuplicate
                                     : ReplayVerdict::kConflict;
}

size_t ReplayDetector::size() const {
  absl::MutexLock lock(&mu_);
  return seen_.size();
}

}  // namespace parley
