// Fuzzes ParseSignedPrekey, VerifySignedPrekeyAt, ParseKeyBundle and
// VerifyKeyBundleAt: the key bundles a sender fetches from the server,
// which may forge or alter them.
//
// The first input byte selects a mode; the rest is its argument:
//   0  raw prekey: one that parses has exactly one encoding, the bytes it
//      came from; it is then verified against the fixed identity.
//   1  raw key bundle, likewise.
//   2  tamper prekey: the rest is a list of edits (see ApplyEdits) to a
//      valid signed prekey built once from fixed seeds. Any change must be
//      rejected by parse or verification; no change must verify.
//   3  tamper key bundle: as 2, for a bundle with a signed and two one-time
//      prekeys. A tampered bundle that verifies holds only the original
//      identity and prekeys (the server may withhold one-time prekeys, so
//      a subset is no forgery; a changed key or id is).
// Verification is at a fixed time inside the prekeys' validity.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "absl/algorithm/container.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "crypto/ed25519.h"
#include "crypto/prekey.h"
#include "crypto/random.h"
#include "tests/fuzz/fuzz_util.h"

namespace parley {
namespace {

struct Fixture {
  Fixture()
      : random(NewDeterministicRandom("parley fuzz prekey")),
        identity(Ed25519PrivateKey::Generate(*random)) {
    const absl::Time created = absl::FromUnixSeconds(1790000000);
    at = created + absl::Hours(1);
    bundle.identity_public_key = identity.public_key();
    bundle.signed_prekey = GeneratePrekey(identity, PrekeyKind::kSigned, 7,
                                          created, kMaxPrekeyLifetime, *random)
                               ->prekey;
    for (uint32_t id : {1001, 1002}) {
      bundle.one_time_prekeys.push_back(
          GeneratePrekey(identity, PrekeyKind::kOneTime, id, created,
                         kMaxPrekeyLifetime, *random)
              ->prekey);
    }
    prekey_bytes = SerializeSignedPrekey(bundle.signed_prekey);
    bundle_bytes = SerializeKeyBundle(bundle);
  }

  std::unique_ptr<Random> random;
  Ed25519PrivateKey identity;
  absl::Time at;
  KeyBundle bundle;
  std::string prekey_bytes;
  std::string bundle_bytes;
};

const Fixture& GetFixture() {
  static const Fixture* fixture = [] {
    if (!InitCrypto().ok()) std::abort();
    return new Fixture();
  }();
  return *fixture;
}

// Parses and verifies `bytes` as a signed prekey; true if both succeed.
bool CheckPrekey(const Fixture& f, std::string_view bytes) {
  absl::StatusOr<SignedPrekey> prekey = ParseSignedPrekey(bytes);
  if (!prekey.ok()) return false;
  PARLEY_FUZZ_CHECK(SerializeSignedPrekey(*prekey) == bytes);
  PARLEY_FUZZ_CHECK(bytes.size() == kSignedPrekeySize);
  return VerifySignedPrekeyAt(f.identity.public_key(), *prekey, f.at).ok();
}

// Parses and verifies `bytes` as a key bundle; the bundle if both succeed.
absl::StatusOr<KeyBundle> CheckBundle(const Fixture& f,
                                      std::string_view bytes) {
  absl::StatusOr<KeyBundle> bundle = ParseKeyBundle(bytes);
  if (!bundle.ok()) return bundle;
  PARLEY_FUZZ_CHECK(SerializeKeyBundle(*bundle) == bytes);
  if (absl::Status s = VerifyKeyBundleAt(*bundle, f.at); !s.ok()) return s;
  PARLEY_FUZZ_CHECK(CheckKeyBundleStructure(*bundle).ok());
  return bundle;
}

}  // namespace
}  // namespace parley

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace parley;
  const Fixture& f = GetFixture();
  if (size == 0) return 0;
  const std::string_view rest(reinterpret_cast<const char*>(data) + 1,
                              size - 1);
  switch (data[0] % 4) {
    case 0:
      CheckPrekey(f, rest);
      break;
    case 1:
      CheckBundle(f, rest).IgnoreError();
      break;
    case 2: {
      const std::string tampered = ApplyEdits(f.prekey_bytes, rest);
      PARLEY_FUZZ_CHECK(CheckPrekey(f, tampered) ==
                        (tampered == f.prekey_bytes));
      break;
    }
    case 3: {
      const std::string tampered = ApplyEdits(f.bundle_bytes, rest);
      absl::StatusOr<KeyBundle> bundle = CheckBundle(f, tampered);
      if (tampered == f.bundle_bytes) PARLEY_FUZZ_CHECK(bundle.ok());
      if (!bundle.ok()) break;
      PARLEY_FUZZ_CHECK(bundle->identity_public_key ==
                        f.bundle.identity_public_key);
      PARLEY_FUZZ_CHECK(bundle->signed_prekey == f.bundle.signed_prekey);
      for (const SignedPrekey& p : bundle->one_time_prekeys) {
        PARLEY_FUZZ_CHECK(absl::c_linear_search(f.bundle.one_time_prekeys, p));
      }
      break;
    }
  }
  return 0;
}
