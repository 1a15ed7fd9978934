// Fuzzes ParseEnvelope, OpenEnvelope and OpenEnvelopeWithContentKey: the
// bytes a recipient device (and the server) takes from another member.
//
// The first input byte selects a mode; the rest is its argument:
//   0  raw: the rest is an envelope.
//   1  tamper: the rest is a list of edits (see ApplyEdits) to a valid
//      envelope built once from fixed seeds. Any change must be rejected by
//      parse and open; no change must open to the original payload.
//   2  re-sign: the rest is an envelope body, which the target signs with
//      the fixed sender's key, reaching the checks behind the signature. An
//      envelope that opens must carry the original header and payload (the
//      fuzzer knows the sender's key but no recipient's or content key).

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "crypto/domain.h"
#include "crypto/ed25519.h"
#include "crypto/envelope.h"
#include "crypto/random.h"
#include "tests/crypto/crypto_test_util.h"
#include "tests/fuzz/fuzz_util.h"

namespace parley {
namespace {

// A valid envelope from a fixed sender to two devices, built once.
struct Fixture {
  Fixture()
      : random(NewDeterministicRandom("parley fuzz envelope")),
        now(absl::FromUnixSeconds(1790000000)),
        sender(Ed25519PrivateKey::Generate(*random)),
        recipient(testing::MakeDevice(*random, now, /*with_one_time=*/true)),
        other(testing::MakeDevice(*random, now)) {
    const EnvelopeRecipient recipients[] = {recipient.AsRecipient(true),
                                            other.AsRecipient()};
    envelope = *SealEnvelope(sender, testing::MakeMetadata(now), recipients,
                             payload, *random);
    parsed = *ParseEnvelope(envelope);
    content_key =
        std::move(OpenEnvelope(envelope, recipient.identity.public_key(),
                               recipient.prekeys)
                      ->content_key);
  }

  std::unique_ptr<Random> random;
  absl::Time now;
  Ed25519PrivateKey sender;
  testing::TestDevice recipient;
  testing::TestDevice other;
  const std::string payload = "{\"movement\":\"mv-2026-0042\"}";
  std::string envelope;
  ParsedEnvelope parsed;
  SecureBuffer content_key;
};

const Fixture& GetFixture() {
  static const Fixture* fixture = [] {
    if (!InitCrypto().ok()) std::abort();
    return new Fixture();
  }();
  return *fixture;
}

// Properties every envelope meets, whoever signed it.
void CheckAny(const Fixture& f, std::string_view envelope) {
  absl::StatusOr<ParsedEnvelope> parsed = ParseEnvelope(envelope);
  if (parsed.ok()) {
    // The header has one encoding, and it is the signed one.
    PARLEY_FUZZ_CHECK(EncodeEnvelopeHeader(parsed->header) ==
                      parsed->header_bytes);
    PARLEY_FUZZ_CHECK(parsed->hash == EnvelopeHash(envelope));
  }
  absl::StatusOr<OpenedEnvelope> opened = OpenEnvelope(
      envelope, f.recipient.identity.public_key(), f.recipient.prekeys);
  PARLEY_FUZZ_CHECK(parsed.ok() || !opened.ok());
  absl::StatusOr<OpenedEnvelope> disclosed =
      OpenEnvelopeWithContentKey(envelope, f.content_key);
  PARLEY_FUZZ_CHECK(parsed.ok() || !disclosed.ok());
  // Only the original header and ciphertext open, with either key.
  for (const absl::StatusOr<OpenedEnvelope>* o : {&opened, &disclosed}) {
    if (!o->ok()) continue;
    PARLEY_FUZZ_CHECK(parsed->header_bytes == f.parsed.header_bytes);
    PARLEY_FUZZ_CHECK(parsed->ciphertext == f.parsed.ciphertext);
    PARLEY_FUZZ_CHECK((*o)->payload == f.payload);
  }
}

}  // namespace
}  // namespace parley

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace parley;
  const Fixture& f = GetFixture();
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1,
                              size - 1);
  switch (data[0] % 3) {
    case 0:
      CheckAny(f, rest);
      break;
    case 1: {
      const std::string tampered = ApplyEdits(f.envelope, rest);
      if (tampered == f.envelope) {
        absl::StatusOr<OpenedEnvelope> opened = OpenEnvelope(
            tampered, f.recipient.identity.public_key(), f.recipient.prekeys);
        PARLEY_FUZZ_CHECK(opened.ok() && opened->payload == f.payload);
      } else {
        PARLEY_FUZZ_CHECK(!ParseEnvelope(tampered).ok());
        PARLEY_FUZZ_CHECK(!OpenEnvelope(tampered,
                                        f.recipient.identity.public_key(),
                                        f.recipient.prekeys)
                               .ok());
        PARLEY_FUZZ_CHECK(
            !OpenEnvelopeWithContentKey(tampered, f.content_key).ok());
      }
      break;
    }
    case 2: {
      const std::string envelope =
          std::string(rest) +
          f.sender.Sign(SigningInput(kEnvelopeSignatureTag, rest));
      CheckAny(f, envelope);
      break;
    }
  }
  return 0;
}
