#ifndef PARLEY_CRYPTO_ENVELOPE_H_
#define PARLEY_CRYPTO_ENVELOPE_H_

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "crypto/ed25519.h"
#include "crypto/prekey.h"
#include "crypto/random.h"
#include "crypto/secure_buffer.h"
#include "crypto/x25519.h"

namespace parley {

// Sealed multi-recipient envelopes: one payload, encrypted once under a
// random content key, the key wrapped for each recipient device, the whole
// signed by the sender's identity key. Byte layout and algorithms are
// normative in docs/PROTOCOL.md ("Envelopes"); this header is the API.
//
// Who calls what:
//   sender client   SealEnvelope
//   server          ParseEnvelope (well-formed and signed by the sender it
//                   names), EnvelopeHash, ReplayKey; never OpenEnvelope
//   recipient       OpenEnvelope (parses, verifies, decrypts)
// All functions are thread-safe (no shared state).

inline constexpr size_t kClientMessageIdSize = 16;
inline constexpr size_t kEnvelopeHashSize = 32;
inline constexpr size_t kContentKeySize = 32;
inline constexpr size_t kPayloadNonceSize = 24;
inline constexpr size_t kWrappedKeySize = 48;  // 32-byte key + 16-byte tag
inline constexpr size_t kMaxRecipients = 256;
inline constexpr size_t kMaxChannelIdSize = 255;
inline constexpr size_t kMaxContentTypeSize = 127;

// Header fields the sender chooses. Plain value type.
struct EnvelopeMetadata {
  // Channel or notification id: 1 to 255 arbitrary bytes.
  std::string channel_id;
  // Exactly 16 bytes, chosen at random by the client when the message is
  // composed and kept across retries: (sender, client_message_id) names the
  // message for idempotency and replay detection.
  std::string client_message_id;
  // The sender's sequence number in this channel, starting at 0.
  uint64_t sequence = 0;
  // EnvelopeHash of the sender's previous envelope in this channel; 32 zero
  // bytes if and only if sequence == 0.
  std::string previous_hash;
  // Creation time, Unix seconds (non-negative).
  int64_t created_at = 0;
  // 1 to 127 bytes of printable ASCII without spaces (0x21..0x7e), e.g.
  // "application/vnd.parley.movement+json".
  std::string content_type;

  bool operator==(const EnvelopeMetadata&) const = default;
};

// One recipient device as it appears in the header.
struct EnvelopeRecipientEntry {
  std::string identity_public_key;  // 32-byte Ed25519
  uint32_t signed_prekey_id = 0;
  uint32_t one_time_prekey_id = 0;  // 0 if no one-time prekey was used

  bool operator==(const EnvelopeRecipientEntry&) const = default;
};

// The decoded header.
struct EnvelopeHeader {
  EnvelopeMetadata metadata;
  std::string sender_identity;       // 32-byte Ed25519 public key
  std::string ephemeral_public_key;  // 32-byte X25519
  std::string payload_nonce;         // 24 bytes
  std::string key_commitment;        // 32 bytes
  std::vector<EnvelopeRecipientEntry> recipients;
};

// A recipient device as the sender knows it, from its key bundle.
struct EnvelopeRecipient {
  std::string identity_public_key;
  SignedPrekey signed_prekey;
  std::optional<SignedPrekey> one_time_prekey;
};

// Encrypts `payload` to every recipient and signs the result with `sender`.
// Each recipient's prekeys must verify against its identity key and be valid
// at metadata.created_at (see VerifySignedPrekeyAt); recipients must be
// distinct, 1 to kMaxRecipients of them. Draws from `random`, in order: the
// content key (32 bytes), the payload nonce (24), the ephemeral X25519
// secret (32). Returns the envelope bytes, or the first validation error
// (InvalidArgument, or the prekey's own error code).
absl::StatusOr<std::string> SealEnvelope(
    const Ed25519PrivateKey& sender, const EnvelopeMetadata& metadata,
    std::span<const EnvelopeRecipient> recipients, std::string_view payload,
    Random& random = SystemRandom());

// A structurally valid envelope whose signature verifies against the sender
// identity it names. Owns copies of its parts.
struct ParsedEnvelope {
  EnvelopeHeader header;
  std::string hash;         // EnvelopeHash of the whole envelope
  std::string header_hash;  // HeaderHash of header_bytes
  std::string header_bytes;
  std::vector<std::string> wrapped_keys;  // one per header recipient
  std::string ciphertext;
  std::string signature;
};

// Strict parse and signature check. InvalidArgument names the offending
// field (unknown version, bad length, trailing bytes, ...); Unauthenticated
// if the signature does not verify. Success proves only that the holder of
// header.sender_identity signed these bytes: the caller must check that
// this identity is the one it expects (the server: the authenticated device;
// a client: a verified contact).
absl::StatusOr<ParsedEnvelope> ParseEnvelope(std::string_view envelope);

// What a recipient gets from OpenEnvelope.
struct OpenedEnvelope {
  EnvelopeHeader header;
  std::string hash;  // EnvelopeHash, for receipts
  std::string payload;
  // The one-time prekey this envelope consumed (0 if none). The caller must
  // erase its private part once the payload is safely stored.
  uint32_t consumed_one_time_prekey_id = 0;
  // The envelope's content key (checked against the key commitment). A
  // recipient discloses it to let others decrypt this one envelope, e.g. a
  // mediator relaying it verbatim (OpenEnvelopeWithContentKey).
  SecureBuffer content_key;
};

// Parses and verifies `envelope` (as ParseEnvelope), then decrypts it as the
// recipient device `recipient_identity_public_key`, whose private prekeys
// are `prekeys`. Errors:
//   InvalidArgument / Unauthenticated  as ParseEnvelope;
//   NotFound            this device is not a recipient;
//   FailedPrecondition  the prekey named in the header is not in `prekeys`
//                       (erased after its grace period, or never ours);
//   Unauthenticated     the key wrap, key commitment or payload fails to
//                       authenticate (a faulty or malicious sender, or a
//                       prekey id reused with a different key).
absl::StatusOr<OpenedEnvelope> OpenEnvelope(
    std::string_view envelope, std::string_view recipient_identity_public_key,
    std::span<const PrekeyPair> prekeys);

// Opens `envelope` with a disclosed content key instead of a prekey: parses
// and verifies the signature (as ParseEnvelope), checks `content_key`
// against the header's key commitment (constant time) and decrypts the
// payload. Anyone holding the envelope and its content key can do this,
// which is what verbatim relay and disclosure to an inquiry rely on. The
// caller must still decide whether header.sender_identity is who it expects.
// Errors: InvalidArgument / Unauthenticated as ParseEnvelope;
// InvalidArgument if content_key is not kContentKeySize bytes;
// Unauthenticated if the key does not match the commitment or the payload
// does not authenticate. consumed_one_time_prekey_id is always 0.
absl::StatusOr<OpenedEnvelope> OpenEnvelopeWithContentKey(
    std::string_view envelope, const SecureBuffer& content_key);

// SHA-256 of the exact envelope bytes (signature included). This is the
// envelope's name in receipts, previous_hash and the log.
std::string EnvelopeHash(std::string_view envelope);

// sender_identity || client_message_id (48 bytes). Two envelopes with the
// same key are the same message: a byte-identical replay, or a conflicting
// resend if their EnvelopeHash differs. See also ReplayDetector.
std::string ReplayKey(const EnvelopeHeader& header);

// Building blocks, exposed for test vectors and independent implementations.

// Canonical header encoding (the payload's associated data).
std::string EncodeEnvelopeHeader(const EnvelopeHeader& header);
// BLAKE2b-256, personalisation "parley/v1/header", over the header bytes.
std::string HeaderHash(std::string_view header_bytes);
// BLAKE2b-256 keyed with the content key, personalisation "parley/v1/commit",
// over ephemeral_public_key || payload_nonce.
std::string KeyCommitment(const SecureBuffer& content_key,
                          std::string_view ephemeral_public_key,
                          std::string_view payload_nonce);
// BLAKE2b-256 keyed with dh_signed || dh_one_time (dh_one_time empty when no
// one-time prekey is used), personalisation "parley/v1/wrap", over the
// transcript defined in docs/PROTOCOL.md.
SecureBuffer DeriveWrapKey(const SecureBuffer& dh_signed,
                           const SecureBuffer& dh_one_time,
                           std::string_view header_hash,
                           std::string_view ephemeral_public_key,
                           std::string_view sender_identity,
                           const EnvelopeRecipientEntry& entry,
                           std::string_view signed_prekey_public,
                           std::string_view one_time_prekey_public);

}  // namespace parley

#endif  // PARLEY_CRYPTO_ENVELOPE_H_
