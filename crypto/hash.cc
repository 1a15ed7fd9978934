#include "crypto/hash.h"

#include <openssl/evp.h>

#include <cstdlib>

namespace parley {

namespace {

// OpenSSL rather than libsodium: libsodium 1.0.18's SHA-256 is portable C,
// OpenSSL's uses the CPU's SHA extensions where present (several times
// faster on the server's hot path: every envelope and every log leaf). The
// output is SHA-256 either way (FIPS 180-4); tests/crypto/encoding_test.cc (HashTest) pins
// it to the standard's vectors.
const EVP_MD* Sha256Md() {
  // Fetched once: an implicit fetch per call costs a provider lookup.
  static const EVP_MD* const md = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  return md;
}

// One context per thread, reset per use, so hashing allocates nothing.
EVP_MD_CTX* ThreadContext() {
  struct Holder {
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    ~Holder() { EVP_MD_CTX_free(ctx); }
  };
  thread_local Holder holder;
  return holder.ctx;
}

}  // namespace

std::string Sha256(std::string_view data) { return Sha256({data}); }

std::string Sha256(std::initializer_list<std::string_view> parts) {
  const EVP_MD* md = Sha256Md();
  EVP_MD_CTX* ctx = ThreadContext();
  std::string out(kSha256Size, '\0');
  unsigned int len = 0;
  // Only allocation failure inside OpenSSL can make these fail; a wrong
  // hash would corrupt the log, so stop rather than continue.
  if (md == nullptr || ctx == nullptr ||
      EVP_DigestInit_ex2(ctx, md, nullptr) != 1) {
    std::abort();
  }
  for (std::string_view part : parts) {
    if (EVP_DigestUpdate(ctx, part.data(), part.size()) != 1) std::abort();
  }
  if (EVP_DigestFinal_ex(ctx, reinterpret_cast<unsigned char*>(out.data()),
                         &len) != 1 ||
      len != kSha256Size) {
    std::abort();
  }
  return out;
}

}  // namespace parley
