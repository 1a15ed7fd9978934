#ifndef PARLEY_TESTS_CRYPTO_CRYPTO_TEST_UTIL_H_
#define PARLEY_TESTS_CRYPTO_CRYPTO_TEST_UTIL_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "crypto/ed25519.h"
#include "crypto/envelope.h"
#include "crypto/prekey.h"
#include "crypto/random.h"

namespace parley::testing {

// A device with an identity, a signed prekey (id 1) and, optionally, one
// one-time prekey (id 1001), all valid from `now` for 7 days.
struct TestDevice {
  Ed25519PrivateKey identity;
  std::vector<PrekeyPair> prekeys;

  const SignedPrekey& signed_prekey() const { return prekeys[0].prekey; }
  EnvelopeRecipient AsRecipient(bool with_one_time = false) const {
    EnvelopeRecipient r{identity.public_key(), signed_prekey(), std::nullopt};
    if (with_one_time && prekeys.size() > 1) r.one_time_prekey = prekeys[1].prekey;
    return r;
  }
};

inline TestDevice MakeDevice(Random& random, absl::Time now,
                             bool with_one_time = false) {
  TestDevice d{Ed25519PrivateKey::Generate(random), {}};
  d.prekeys.push_back(*GeneratePrekey(d.identity, PrekeyKind::kSigned, 1, now,
                                      kMaxPrekeyLifetime, random));
  if (with_one_time) {
    d.prekeys.push_back(*GeneratePrekey(d.identity, PrekeyKind::kOneTime, 1001,
                                        now, kMaxPrekeyLifetime, random));
  }
  return d;
}

inline EnvelopeMetadata MakeMetadata(absl::Time now, uint64_t sequence = 0) {
  EnvelopeMetadata m;
  m.channel_id = "channel-7";
  m.client_message_id = std::string(16, '\x42');
  m.sequence = sequence;
  m.previous_hash = std::string(32, sequence == 0 ? '\0' : '\x11');
  m.created_at = absl::ToUnixSeconds(now);
  m.content_type = "text/plain";
  return m;
}

}  // namespace parley::testing

#endif  // PARLEY_TESTS_CRYPTO_CRYPTO_TEST_UTIL_H_
