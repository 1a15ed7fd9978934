#ifndef PARLEY_CRYPTO_DOMAIN_H_
#define PARLEY_CRYPTO_DOMAIN_H_

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

namespace parley {

// Every signature and every derivation in the protocol carries its own ASCII
// domain tag, so bytes produced for one purpose can never be accepted for
// another. docs/PROTOCOL.md ("Domain tags") is the normative list.

// Ed25519 signature tags. A signature always covers SigningInput(tag, body).
inline constexpr std::string_view kPrekeySignatureTag = "parley/v1/prekey";
inline constexpr std::string_view kEnvelopeSignatureTag = "parley/v1/envelope";
inline constexpr std::string_view kReceiptSignatureTag = "parley/v1/receipt";

// BLAKE2b personalisation tags (at most 16 bytes; zero-padded to 16).
inline constexpr std::string_view kHeaderHashTag = "parley/v1/header";
inline constexpr std::string_view kWrapKeyTag = "parley/v1/wrap";
inline constexpr std::string_view kKeyCommitmentTag = "parley/v1/commit";
inline constexpr std::string_view kFingerprintTag = "parley/v1/fpr";
inline constexpr std::string_view kPairFingerprintTag = "parley/v1/pair";

// Protocol version carried as the first byte of every structure.
inline constexpr uint8_t kProtocolVersion = 1;

// Second byte of every structure: what it is. Distinct values stop one
// structure from being parsed as another.
enum class StructureType : uint8_t {
  kSignedPrekey = 0x01,
  kKeyBundle = 0x02,
  kEnvelope = 0x03,
  kReceipt = 0x04,
  kKeystorePayload = 0x05,
};

// The exact bytes an Ed25519 signature covers: `tag || 0x00 || body`.
// Tags are ASCII without NUL, so the split is unambiguous.
std::string SigningInput(std::string_view tag, std::string_view body);

// BLAKE2b over the concatenation of `parts`, with `tag` (REQUIRES: at most 16
// bytes) zero-padded into the 16-byte personalisation, an all-zero salt and
// optional `key` (REQUIRES: at most 64 bytes). `out_len` in [16, 64].
std::string TaggedBlake2b(std::string_view tag, std::string_view key,
                          std::initializer_list<std::string_view> parts,
                          size_t out_len = 32);
// As above, writing into `out` (for secrets that must stay in a SecureBuffer).
void TaggedBlake2bTo(std::string_view tag, std::string_view key,
                     std::initializer_list<std::string_view> parts,
                     uint8_t* out, size_t out_len);

}  // namespace parley

#endif  // PARLEY_CRYPTO_DOMAIN_H_
