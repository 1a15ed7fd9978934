#ifndef PARLEY_CRYPTO_RECEIPT_H_
#define PARLEY_CRYPTO_RECEIPT_H_

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "crypto/ed25519.h"

namespace parley {

// Signed receipts and acknowledgements: a recipient device's Ed25519
// statement about one envelope. Non-repudiable by design (docs/PROTOCOL.md,
// "Receipts"). Receipt is not dissemination and acknowledgement is not
// approval: the levels say only what is written here.
enum class ReceiptLevel : uint8_t {
  kDelivered = 1,     // the device received and decrypted the envelope
  kAcknowledged = 2,  // a person at the recipient party acknowledged it
  kObjected = 3,      // a person objected; reason_hash names the reason
};

// Human-readable name: "delivered", "acknowledged", "objected".
std::string_view ReceiptLevelName(ReceiptLevel level);

// A decoded receipt. Plain value type.
struct Receipt {
  ReceiptLevel level = ReceiptLevel::kDelivered;
  std::string envelope_hash;       // 32 bytes, EnvelopeHash
  std::string recipient_identity;  // 32-byte Ed25519 public key (the signer)
  int64_t time = 0;                // Unix seconds, the signer's clock
  // For kObjected: EnvelopeHash of the envelope carrying the encrypted
  // reason (32 bytes). Empty for the other levels.
  std::string reason_hash;
  std::string signature;  // 64 bytes

  bool operator==(const Receipt&) const = default;
};

// Signs a receipt with the recipient device's identity key and returns its
// canonical bytes. InvalidArgument if envelope_hash is not 32 bytes, time is
// before 1970, or reason_hash is not 32 bytes for kObjected / not empty for
// the other levels.
absl::StatusOr<std::string> SignReceipt(const Ed25519PrivateKey& recipient,
                                        std::string_view envelope_hash,
                                        ReceiptLevel level, absl::Time time,
                                        std::string_view reason_hash = {});

// Strict parse without checking the signature (InvalidArgument on any
// structural problem). Use to learn which envelope a receipt is about.
absl::StatusOr<Receipt> ParseReceipt(std::string_view bytes);

// Parses `bytes` and checks that it is signed by `recipient_identity` and
// is about `envelope_hash`. Unauthenticated on a bad signature,
// PermissionDenied if the receipt names another recipient or envelope,
// InvalidArgument if malformed. Does not judge `time`; callers compare it
// with their own clock and the envelope's.
absl::StatusOr<Receipt> VerifyReceipt(std::string_view bytes,
                                      std::string_view recipient_identity,
                                      std::string_view envelope_hash);

// The bytes the signature covers (everything but the signature).
std::string ReceiptBody(const Receipt& receipt);

}  // namespace parley

#endif  // PARLEY_CRYPTO_RECEIPT_H_
