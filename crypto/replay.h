#ifndef PARLEY_CRYPTO_REPLAY_H_
#define PARLEY_CRYPTO_REPLAY_H_

#include <string>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "absl/synchronization/mutex.h"
#include "crypto/envelope.h"

namespace parley {

// What ReplayDetector::Observe concludes about an envelope.
enum class ReplayVerdict {
  kNew,        // first time this (sender, client message id) is seen
  kDuplicate,  // seen before with the same EnvelopeHash: a replay or retry
  kConflict,   // seen before with a different EnvelopeHash: the sender
               // reused a client message id for different bytes
};

// In-memory replay recognition by ReplayKey (sender identity, client message
// id). Durable deduplication belongs to the log; this is for a client's
// inbox and for tests. Thread-safe.
class ReplayDetector {
 public:
  // Records `envelope` and says whether it was seen before.
  ReplayVerdict Observe(const ParsedEnvelope& envelope);

  size_t size() const;

 private:
  mutable absl::Mutex mu_;
  // ReplayKey -> EnvelopeHash of the first envelope seen with that key.
  absl::flat_hash_map<std::string, std::string> seen_ ABSL_GUARDED_BY(mu_);
};

}  // namespace parley

#endif  // PARLEY_CRYPTO_REPLAY_H_
