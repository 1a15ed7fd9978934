#include "crypto/receipt.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "crypto/domain.h"
#include "crypto/wire.h"

namespace parley {
namespace {

constexpr size_t kHashSize = 32;

}  // namespace

std::string_view ReceiptLevelName(ReceiptLevel level) {
  switch (level) {
    case ReceiptLevel::kDelivered:
      return "delivered";
    case ReceiptLevel::kAcknowledged:
      return "acknowledged";
    case ReceiptLevel::kObjected:
      return "objected";
  }
  return "unknown";
}

std::string ReceiptBody(const Receipt& receipt) {
  WireWriter w;
  w.U8(kProtocolVersion);
  w.U8(static_cast<uint8_t>(StructureType::kReceipt));
  w.U8(static_cast<uint8_t>(receipt.level));
  w.Fixed(receipt.envelope_hash);
  w.Fixed(receipt.recipient_identity);
  w.U64(static_cast<uint64_t>(receipt.time));
  w.Fixed(receipt.reason_hash);
  return w.Release();
}

absl::StatusOr<std::string> SignReceipt(const Ed25519PrivateKey& recipient,
                                        std::string_view envelope_hash,
                                        ReceiptLevel level, absl::Time time,
                                        std::string_view reason_hash) {
  if (envelope_hash.size() != kHashSize) {
    return absl::InvalidArgumentError("envelope hash must be 32 bytes");
  }
  if (time < absl::UnixEpoch()) {
    return absl::InvalidArgumentError("receipt time before 1970");
  }
  switch (level) {
    case ReceiptLevel::kDelivered:
    case ReceiptLevel::kAcknowledged:
      if (!reason_hash.empty()) {
        return absl::InvalidArgumentError(
            "only an objection carries a reason hash");
      }
      break;
    case ReceiptLevel::kObjected:
      if (reason_hash.size() != kHashSize) {
        return absl::InvalidArgumentError(
            "an objection needs the 32-byte hash of its encrypted reason");
      }
      break;
    default:
      return absl::InvalidArgumentError("unknown receipt level");
  }
  Receipt r;
  r.level = level;
  r.envelope_hash = std::string(envelope_hash);
  r.recipient_identity = recipient.public_key();
  r.time = absl::ToUnixSeconds(time);
  r.reason_hash = std::string(reason_hash);
  const std::string body = ReceiptBody(r);
  return absl::StrCat(body,
                      recipient.Sign(SigningInput(kReceiptSignatureTag, body)));
}

absl::StatusOr<Receipt> ParseReceipt(std::string_view bytes) {
  WireReader r(bytes, "receipt");
  Receipt out;
  uint8_t version = 0, type = 0, level = 0;
  uint64_t time = 0;
  std::string_view v;
  if (r.U8("version", &version) && version != kProtocolVersion) {
    r.Fail("version", absl::StrCat("unsupported version ", version));
  }
  if (r.U8("type", &type) &&
      type != static_cast<uint8_t>(StructureType::kReceipt)) {
    r.Fail("type", "not a receipt");
  }
  if (r.U8("level", &level) &&
      (level < static_cast<uint8_t>(ReceiptLevel::kDelivered) ||
       level > static_cast<uint8_t>(ReceiptLevel::kObjected))) {
    r.Fail("level", absl::StrCat("unknown level ", level));
  }
  out.level = static_cast<ReceiptLevel>(level);
  if (r.Fixed("envelope hash", kHashSize, &v)) out.envelope_hash = v;
  if (r.Fixed("recipient identity", kEd25519PublicKeySize, &v)) {
    out.recipient_identity = v;
  }
  if (r.U64("time", &time) && time > static_cast<uint64_t>(INT64_MAX)) {
    r.Fail("time", "out of range");
  }
  out.time = static_cast<int64_t>(time);
  if (r.ok() && out.level == ReceiptLevel::kObjected &&
      r.Fixed("reason hash", kHashSize, &v)) {
    out.reason_hash = v;
  }
  if (r.Fixed("signature", kEd25519SignatureSize, &v)) out.signature = v;
  if (absl::Status s = r.Finish(); !s.ok()) return s;
  return out;
}

absl::StatusOr<Receipt> VerifyReceipt(std::string_view bytes,
                                      std::string_view recipient_identity,
                                      std::string_view envelope_hash) {
  absl::StatusOr<Receipt> receipt = ParseReceipt(bytes);
  if (!receipt.ok()) return receipt.status();
  if (absl::Status s = Ed25519Verify(
          receipt->recipient_identity,
          SigningInput(kReceiptSignatureTag, ReceiptBody(*receipt)),
          receipt->signature);
      !s.ok()) {
    return absl::Status(s.code(),
                        absl::StrCat("receipt signature: ", s.message()));
  }
  if (receipt->recipient_identity != recipient_identity) {
    return absl::PermissionDeniedError(
        "receipt is signed by a different recipient device");
  }
  if (receipt->envelope_hash != envelope_hash) {
    return absl::PermissionDeniedError(
        "receipt is about a different envelope");
  }
  return receipt;
}

}  // namespace parley
