#include "crypto/random.h"

#include <sodium.h>

#include <cstring>

#include "absl/synchronization/mutex.h"

namespace parley {
namespace {

class SodiumRandom final : public Random {
 public:
  void Fill(uint8_t* out, size_t len) override { randombytes_buf(out, len); }
};

class DeterministicRandom final : public Random {
 public:
  explicit DeterministicRandom(const std::string& seed) {
    crypto_generichash(key_, sizeof(key_),
                       reinterpret_cast<const uint8_t*>(seed.data()),
                       seed.size(), nullptr, 0);
  }
  ~DeterministicRandom() override { sodium_memzero(key_, sizeof(key_)); }

  void Fill(uint8_t* out, size_t len) override {
    absl::MutexLock lock(&mu_);
    // Each call consumes a fresh nonce so streams never overlap.
    uint8_t nonce[crypto_stream_chacha20_ietf_NONCEBYTES] = {0};
    std::memcpy(nonce, &counter_, sizeof(counter_));
    ++counter_;
    crypto_stream_chacha20_ietf(out, len, nonce, key_);
  }

 private:
  absl::Mutex mu_;
  uint8_t key_[crypto_stream_chacha20_ietf_KEYBYTES];
  uint64_t counter_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace

std::string Random::Bytes(size_t len) {
  std::string out(len, '\0');
  Fill(reinterpret_cast<uint8_t*>(out.data()), len);
  return out;
}

Random& SystemRandom() {
  static SodiumRandom* random = new SodiumRandom();
  return *random;
}

std::unique_ptr<Random> NewDeterministicRandom(const std::string& seed) {
  return std::make_unique<DeterministicRandom>(seed);
}

}  // namespace parley
