// Fuzzes ParseReceipt and VerifyReceipt: the signed receipts a sender (and
// the server) takes from recipient devices.
//
// The first input byte selects a mode; the rest is its argument:
//   0  raw: the rest is a receipt. One that parses has exactly one
//      encoding, the bytes it came from.
//   1  tamper: the rest is a list of edits (see ApplyEdits) to a valid
//      delivery receipt, built once from fixed seeds. Any change must fail
//      VerifyReceipt for the original signer and envelope; no change must
//      verify.
//   2  tamper, as 1, with a valid objection (which carries a reason hash).
//   3  re-sign: the rest is a receipt body, signed by the fixed recipient.
//      If it parses and names that recipient and envelope, it verifies.

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "crypto/domain.h"
#include "crypto/ed25519.h"
#include "crypto/random.h"
#include "crypto/receipt.h"
#include "tests/fuzz/fuzz_util.h"

namespace parley {
namespace {

struct Fixture {
  Fixture()
      : random(NewDeterministicRandom("parley fuzz receipt")),
        recipient(Ed25519PrivateKey::Generate(*random)),
        envelope_hash(random->Bytes(32)),
        reason_hash(random->Bytes(32)) {
    const absl::Time time = absl::FromUnixSeconds(1790007201);
    delivered =
        *SignReceipt(recipient, envelope_hash, ReceiptLevel::kDelivered, time);
    objected = *SignReceipt(recipient, envelope_hash, ReceiptLevel::kObjected,
                            time, reason_hash);
  }

  std::unique_ptr<Random> random;
  Ed25519PrivateKey recipient;
  std::string envelope_hash;
  std::string reason_hash;
  std::string delivered;
  std::string objected;
};

const Fixture& GetFixture() {
  static const Fixture* fixture = [] {
    if (!InitCrypto().ok()) std::abort();
    return new Fixture();
  }();
  return *fixture;
}

// Parses `bytes`; a receipt that parses re-encodes to exactly `bytes`.
absl::StatusOr<Receipt> ParseCanonical(std::string_view bytes) {
  absl::StatusOr<Receipt> receipt = ParseReceipt(bytes);
  if (receipt.ok()) {
    PARLEY_FUZZ_CHECK(ReceiptBody(*receipt) + receipt->signature == bytes);
    PARLEY_FUZZ_CHECK((receipt->level == ReceiptLevel::kObjected) ==
                      !receipt->reason_hash.empty());
  }
  return receipt;
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
    case 0: {
      absl::StatusOr<Receipt> receipt = ParseCanonical(rest);
      absl::StatusOr<Receipt> verified =
          VerifyReceipt(rest, f.recipient.public_key(), f.envelope_hash);
      PARLEY_FUZZ_CHECK(receipt.ok() || !verified.ok());
      break;
    }
    case 1:
    case 2: {
      // Mode 1 tampers with the delivered receipt, mode 2 the objection.
      const std::string& original = data[0] % 4 == 1 ? f.delivered : f.objected;
      const std::string tampered = ApplyEdits(original, rest);
      ParseCanonical(tampered).IgnoreError();
      absl::StatusOr<Receipt> verified =
          VerifyReceipt(tampered, f.recipient.public_key(), f.envelope_hash);
      PARLEY_FUZZ_CHECK(verified.ok() == (tampered == original));
      break;
    }
    case 3: {
      const std::string receipt =
          std::string(rest) +
          f.recipient.Sign(SigningInput(kReceiptSignatureTag, rest));
      absl::StatusOr<Receipt> parsed = ParseCanonical(receipt);
      absl::StatusOr<Receipt> verified =
          VerifyReceipt(receipt, f.recipient.public_key(), f.envelope_hash);
      PARLEY_FUZZ_CHECK(
          verified.ok() ==
          (parsed.ok() &&
           parsed->recipient_identity == f.recipient.public_key() &&
           parsed->envelope_hash == f.envelope_hash));
      break;
    }
  }
  return 0;
}
