#ifndef PARLEY_CRYPTO_RANDOM_H_
#define PARLEY_CRYPTO_RANDOM_H_

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace parley {

// Source of cryptographic randomness. Production code uses SystemRandom()
// (libsodium's randombytes_buf); test-vector generation uses a
// DeterministicRandom seeded with fixed bytes so output is reproducible.
// Implementations are thread-safe.
class Random {
 public:
  virtual ~Random() = default;
  virtual void Fill(uint8_t* out, size_t len) = 0;

  std::string Bytes(size_t len);
};

// libsodium's CSPRNG. Never destroyed.
Random& SystemRandom();

// A deterministic stream (ChaCha20 keyed by BLAKE2b(seed)). For test vectors
// and tests only: never use it for real keys.
std::unique_ptr<Random> NewDeterministicRandom(const std::string& seed);

}  // namespace parley

#endif  // PARLEY_CRYPTO_RANDOM_H_
