#include "crypto/envelope.h"

#include <sodium.h>

#include <cstdlib>
#include <cstring>
#include <set>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "crypto/domain.h"
#include "crypto/hash.h"
#include "crypto/padding.h"
#include "crypto/wire.h"

namespace parley {
namespace {

constexpr size_t kAeadTagSize = crypto_aead_xchacha20poly1305_ietf_ABYTES;
static_assert(kAeadTagSize == 16);
static_assert(kContentKeySize == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
static_assert(kPayloadNonceSize ==
              crypto_aead_xchacha20poly1305_ietf_NPUBBYTES);
static_assert(kWrappedKeySize == kContentKeySize + kAeadTagSize);

const uint8_t* U8(std::string_view s) {
  return reinterpret_cast<const uint8_t*>(s.data());
}

bool IsValidContentType(std::string_view s) {
  if (s.empty() || s.size() > kMaxContentTypeSize) return false;
  for (char c : s) {
    if (c < 0x21 || c > 0x7e) return false;
  }
  return true;
}

// Checks the sender-chosen fields; shared by Seal and Parse.
absl::Status ValidateMetadata(const EnvelopeMetadata& m) {
  if (m.channel_id.empty() || m.channel_id.size() > kMaxChannelIdSize) {
    return absl::InvalidArgumentError("channel id must be 1 to 255 bytes");
  }
  if (m.client_message_id.size() != kClientMessageIdSize) {
    return absl::InvalidArgumentError("client message id must be 16 bytes");
  }
  if (m.previous_hash.size() != kEnvelopeHashSize) {
    return absl::InvalidArgumentError("previous hash must be 32 bytes");
  }
  if ((m.sequence == 0) != IsAllZero(m.previous_hash)) {
    return absl::InvalidArgumentError(
        "previous hash must be all zero exactly when sequence is 0");
  }
  if (m.created_at < 0) {
    return absl::InvalidArgumentError("creation time before 1970");
  }
  if (!IsValidContentType(m.content_type)) {
    return absl::InvalidArgumentError(
        "content type must be 1 to 127 printable ASCII bytes without spaces");
  }
  return absl::OkStatus();
}

// Decodes the header from `r`. Returns false with r's status set on error.
bool ReadHeader(WireReader& r, EnvelopeHeader* h) {
  uint8_t version = 0, type = 0;
  uint64_t created = 0;
  uint16_t count = 0;
  std::string_view v;
  if (!r.U8("version", &version)) return false;
  if (version != kProtocolVersion) {
    return r.Fail("version", absl::StrCat("unsupported version ", version));
  }
  if (!r.U8("type", &type)) return false;
  if (type != static_cast<uint8_t>(StructureType::kEnvelope)) {
    return r.Fail("type", "not an envelope");
  }
  EnvelopeMetadata& m = h->metadata;
  if (!r.Bytes8("channel id", &v)) return false;
  m.channel_id = std::string(v);
  if (!r.Fixed("sender identity", kEd25519PublicKeySize, &v)) return false;
  h->sender_identity = std::string(v);
  if (!r.Fixed("client message id", kClientMessageIdSize, &v)) return false;
  m.client_message_id = std::string(v);
  if (!r.U64("sequence", &m.sequence)) return false;
  if (!r.Fixed("previous hash", kEnvelopeHashSize, &v)) return false;
  m.previous_hash = std::string(v);
  if (!r.U64("created at", &created)) return false;
  if (created > static_cast<uint64_t>(INT64_MAX)) {
    return r.Fail("created at", "out of range");
  }
  m.created_at = static_cast<int64_t>(created);
  if (!r.Bytes8("content type", &v)) return false;
  m.content_type = std::string(v);
  if (absl::Status s = ValidateMetadata(m); !s.ok()) {
    return r.Fail("header", std::string(s.message()));
  }
  if (!r.Fixed("ephemeral key", kX25519KeySize, &v)) return false;
  if (absl::Status s = CheckX25519PublicKey(v); !s.ok()) {
    return r.Fail("ephemeral key", std::string(s.message()));
  }
  h->ephemeral_public_key = std::string(v);
  if (!r.Fixed("payload nonce", kPayloadNonceSize, &v)) return false;
  h->payload_nonce = std::string(v);
  if (!r.Fixed("key commitment", 32, &v)) return false;
  h->key_commitment = std::string(v);
  if (!r.U16("recipient count", &count)) return false;
  if (count == 0 || count > kMaxRecipients) {
    return r.Fail("recipient count", "must be 1 to 256");
  }
  std::set<std::string_view> seen;
  h->recipients.resize(count);
  for (EnvelopeRecipientEntry& e : h->recipients) {
    if (!r.Fixed("recipient identity", kEd25519PublicKeySize, &v)) {
      return false;
    }
    e.identity_public_key = std::string(v);
    if (!seen.insert(v).second) {
      return r.Fail("recipient identity", "listed twice");
    }
    if (!r.U32("signed prekey id", &e.signed_prekey_id) ||
        !r.U32("one-time prekey id", &e.one_time_prekey_id)) {
      return false;
    }
    if (e.signed_prekey_id == 0) {
      return r.Fail("signed prekey id", "must not be 0");
    }
  }
  return true;
}

// Everything but the signature, parsed from `input` (which `r` reads).
bool ReadBody(std::string_view input, WireReader& r, ParsedEnvelope* p) {
  if (!ReadHeader(r, &p->header)) return false;
  p->header_bytes = std::string(input.substr(0, r.consumed()));
  p->wrapped_keys.resize(p->header.recipients.size());
  std::string_view v;
  for (std::string& wrap : p->wrapped_keys) {
    if (!r.Fixed("wrapped key", kWrappedKeySize, &v)) return false;
    wrap = std::string(v);
  }
  uint32_t ct_len = 0;
  if (!r.U32("ciphertext length", &ct_len)) return false;
  if (ct_len < kAeadTagSize || !IsPaddedSize(ct_len - kAeadTagSize)) {
    return r.Fail("ciphertext length", "not a padding bucket plus tag");
  }
  if (!r.Fixed("ciphertext", ct_len, &v)) return false;
  p->ciphertext = std::string(v);
  return true;
}

absl::StatusOr<SecureBuffer> AeadDecryptKey(const SecureBuffer& key,
                                            std::string_view wrapped) {
  SecureBuffer out(kContentKeySize);
  const uint8_t nonce[kPayloadNonceSize] = {0};
  unsigned long long out_len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          out.data(), &out_len, nullptr, U8(wrapped), wrapped.size(), nullptr,
          0, nonce, key.data()) != 0 ||
      out_len != kContentKeySize) {
    return absl::UnauthenticatedError(
        "the content key wrapped for this device does not authenticate");
  }
  return out;
}

}  // namespace

std::string EncodeEnvelopeHeader(const EnvelopeHeader& h) {
  WireWriter w;
  w.U8(kProtocolVersion);
  w.U8(static_cast<uint8_t>(StructureType::kEnvelope));
  w.Bytes8(h.metadata.channel_id);
  w.Fixed(h.sender_identity);
  w.Fixed(h.metadata.client_message_id);
  w.U64(h.metadata.sequence);
  w.Fixed(h.metadata.previous_hash);
  w.U64(static_cast<uint64_t>(h.metadata.created_at));
  w.Bytes8(h.metadata.content_type);
  w.Fixed(h.ephemeral_public_key);
  w.Fixed(h.payload_nonce);
  w.Fixed(h.key_commitment);
  w.U16(static_cast<uint16_t>(h.recipients.size()));
  for (const EnvelopeRecipientEntry& e : h.recipients) {
    w.Fixed(e.identity_public_key);
    w.U32(e.signed_prekey_id);
    w.U32(e.one_time_prekey_id);
  }
  return w.Release();
}

std::string HeaderHash(std::string_view header_bytes) {
  return TaggedBlake2b(kHeaderHashTag, {}, {header_bytes});
}

std::string KeyCommitment(const SecureBuffer& content_key,
                          std::string_view ephemeral_public_key,
                          std::string_view payload_nonce) {
  return TaggedBlake2b(kKeyCommitmentTag, content_key.view(),
                       {ephemeral_public_key, payload_nonce});
}

SecureBuffer DeriveWrapKey(const SecureBuffer& dh_signed,
                           const SecureBuffer& dh_one_time,
                           std::string_view header_hash,
                           std::string_view ephemeral_public_key,
                           std::string_view sender_identity,
                           const EnvelopeRecipientEntry& entry,
                           std::string_view signed_prekey_public,
                           std::string_view one_time_prekey_public) {
  // A stack copy wiped below: sodium_malloc costs ~30 us per call, more
  // than the X25519 that produced these bytes.
  uint8_t ikm[2 * kX25519KeySize];
  const size_t ikm_size = dh_signed.size() + dh_one_time.size();
  if (ikm_size > sizeof(ikm)) std::abort();
  if (!dh_signed.empty()) {
    std::memcpy(ikm, dh_signed.data(), dh_signed.size());
  }
  if (!dh_one_time.empty()) {
    std::memcpy(ikm + dh_signed.size(), dh_one_time.data(),
                dh_one_time.size());
  }
  WireWriter ids;
  ids.U32(entry.signed_prekey_id);
  const std::string spk_id = ids.Release();
  WireWriter otpk;
  otpk.U32(entry.one_time_prekey_id);
  const std::string otpk_id = otpk.Release();

  SecureBuffer key(kContentKeySize);
  TaggedBlake2bTo(kWrapKeyTag,
                  std::string_view(reinterpret_cast<const char*>(ikm),
                                   ikm_size),
                  {header_hash, ephemeral_public_key, sender_identity,
                   entry.identity_public_key, spk_id, signed_prekey_public,
                   otpk_id, one_time_prekey_public},
                  key.data(), key.size());
  sodium_memzero(ikm, sizeof(ikm));
  return key;
}

absl::StatusOr<std::string> SealEnvelope(
    const Ed25519PrivateKey& sender, const EnvelopeMetadata& metadata,
    std::span<const EnvelopeRecipient> recipients, std::string_view payload,
    Random& random) {
  if (absl::Status s = ValidateMetadata(metadata); !s.ok()) return s;
  if (recipients.empty() || recipients.size() > kMaxRecipients) {
    return absl::InvalidArgumentError("an envelope needs 1 to 256 recipients");
  }
  absl::StatusOr<std::string> padded = PadPayload(payload);
  if (!padded.ok()) return padded.status();

  const absl::Time created = absl::FromUnixSeconds(metadata.created_at);
  std::set<std::string_view> seen;
  EnvelopeHeader header;
  header.metadata = metadata;
  header.sender_identity = sender.public_key();
  for (const EnvelopeRecipient& r : recipients) {
    const std::string who =
        absl::StrCat("recipient ", header.recipients.size(), ": ");
    if (r.identity_public_key.size() != kEd25519PublicKeySize) {
      return absl::InvalidArgumentError(who + "identity key must be 32 bytes");
    }
    if (!seen.insert(r.identity_public_key).second) {
      return absl::InvalidArgumentError(who + "listed twice");
    }
    if (r.signed_prekey.kind != PrekeyKind::kSigned) {
      return absl::InvalidArgumentError(who + "signed prekey has wrong kind");
    }
    if (absl::Status s = VerifySignedPrekeyAt(r.identity_public_key,
                                              r.signed_prekey, created);
        !s.ok()) {
      return absl::Status(s.code(), who + std::string(s.message()));
    }
    EnvelopeRecipientEntry entry{r.identity_public_key, r.signed_prekey.key_id,
                                 0};
    if (r.one_time_prekey.has_value()) {
      if (r.one_time_prekey->kind != PrekeyKind::kOneTime) {
        return absl::InvalidArgumentError(who +
                                          "one-time prekey has wrong kind");
      }
      if (absl::Status s = VerifySignedPrekeyAt(r.identity_public_key,
                                                *r.one_time_prekey, created);
          !s.ok()) {
        return absl::Status(s.code(), who + std::string(s.message()));
      }
      entry.one_time_prekey_id = r.one_time_prekey->key_id;
    }
    header.recipients.push_back(std::move(entry));
  }

  SecureBuffer content_key(kContentKeySize);
  random.Fill(content_key.data(), content_key.size());
  header.payload_nonce = random.Bytes(kPayloadNonceSize);
  X25519PrivateKey ephemeral = X25519PrivateKey::Generate(random);
  if (absl::Status s = CheckX25519PublicKey(ephemeral.public_key()); !s.ok()) {
    return absl::InternalError("generated ephemeral key is unusable");
  }
  header.ephemeral_public_key = ephemeral.public_key();
  header.key_commitment = KeyCommitment(
      content_key, header.ephemeral_public_key, header.payload_nonce);

  const std::string header_bytes = EncodeEnvelopeHeader(header);
  const std::string header_hash = HeaderHash(header_bytes);

  WireWriter w;
  w.Fixed(header_bytes);
  const uint8_t zero_nonce[kPayloadNonceSize] = {0};
  for (size_t i = 0; i < recipients.size(); ++i) {
    const EnvelopeRecipient& r = recipients[i];
    absl::StatusOr<SecureBuffer> dh_signed =
        X25519SharedSecret(ephemeral, r.signed_prekey.public_key);
    if (!dh_signed.ok()) return dh_signed.status();
    SecureBuffer dh_one_time;
    std::string_view otpk_public;
    if (r.one_time_prekey.has_value()) {
      absl::StatusOr<SecureBuffer> dh =
          X25519SharedSecret(ephemeral, r.one_time_prekey->public_key);
      if (!dh.ok()) return dh.status();
      dh_one_time = *std::move(dh);
      otpk_public = r.one_time_prekey->public_key;
    }
    SecureBuffer wrap_key = DeriveWrapKey(
        *dh_signed, dh_one_time, header_hash, header.ephemeral_public_key,
        header.sender_identity, header.recipients[i],
        r.signed_prekey.public_key, otpk_public);
    std::string wrapped(kWrappedKeySize, '\0');
    crypto_aead_xchacha20poly1305_ietf_encrypt(
        reinterpret_cast<uint8_t*>(wrapped.data()), nullptr,
        content_key.data(), content_key.size(), nullptr, 0, nullptr,
        zero_nonce, wrap_key.data());
    w.Fixed(wrapped);
  }

  std::string ciphertext(padded->size() + kAeadTagSize, '\0');
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      reinterpret_cast<uint8_t*>(ciphertext.data()), nullptr, U8(*padded),
      padded->size(), U8(header_bytes), header_bytes.size(), nullptr,
      U8(header.payload_nonce), content_key.data());
  sodium_memzero(padded->data(), padded->size());
  w.U32(static_cast<uint32_t>(ciphertext.size()));
  w.Fixed(ciphertext);

  std::string envelope = w.Release();
  envelope.append(
      sender.Sign(SigningInput(kEnvelopeSignatureTag, envelope)));
  return envelope;
}

absl::StatusOr<ParsedEnvelope> ParseEnvelope(std::string_view envelope) {
  WireReader r(envelope, "envelope");
  ParsedEnvelope p;
  std::string_view signature;
  if (ReadBody(envelope, r, &p)) {
    r.Fixed("signature", kEd25519SignatureSize, &signature);
  }
  if (absl::Status s = r.Finish(); !s.ok()) return s;

  const std::string_view body =
      envelope.substr(0, envelope.size() - kEd25519SignatureSize);
  if (absl::Status s =
          Ed25519Verify(p.header.sender_identity,
                        SigningInput(kEnvelopeSignatureTag, body), signature);
      !s.ok()) {
    return absl::Status(
        s.code(),
        absl::StrCat("envelope signature does not verify against the sender "
                     "identity it names: ",
                     s.message()));
  }
  p.signature = std::string(signature);
  p.header_hash = HeaderHash(p.header_bytes);
  p.hash = EnvelopeHash(envelope);
  return p;
}

namespace {

// Checks `content_key` against the commitment in `parsed` and decrypts the
// payload. Shared by OpenEnvelope and OpenEnvelopeWithContentKey.
absl::StatusOr<OpenedEnvelope> DecryptWithContentKey(ParsedEnvelope parsed,
                                                     SecureBuffer content_key) {
  const EnvelopeHeader& header = parsed.header;
  const std::string commitment = KeyCommitment(
      content_key, header.ephemeral_public_key, header.payload_nonce);
  if (sodium_memcmp(commitment.data(), header.key_commitment.data(),
                    commitment.size()) != 0) {
    return absl::UnauthenticatedError(
        "content key does not match the header's key commitment");
  }

  const std::string& ct = parsed.ciphertext;
  std::string padded(ct.size() - kAeadTagSize, '\0');
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<uint8_t*>(padded.data()), nullptr, nullptr, U8(ct),
          ct.size(), U8(parsed.header_bytes), parsed.header_bytes.size(),
          U8(header.payload_nonce), content_key.data()) != 0) {
    return absl::UnauthenticatedError("envelope payload does not authenticate");
  }
  absl::StatusOr<std::string> payload = UnpadPayload(padded);
  sodium_memzero(padded.data(), padded.size());
  if (!payload.ok()) return payload.status();

  OpenedEnvelope out;
  out.header = std::move(parsed.header);
  out.hash = std::move(parsed.hash);
  out.payload = *std::move(payload);
  out.content_key = std::move(content_key);
  return out;
}

}  // namespace

absl::StatusOr<OpenedEnvelope> OpenEnvelope(
    std::string_view envelope, std::string_view recipient_identity_public_key,
    std::span<const PrekeyPair> prekeys) {
  absl::StatusOr<ParsedEnvelope> parsed = ParseEnvelope(envelope);
  if (!parsed.ok()) return parsed.status();
  const EnvelopeHeader& header = parsed->header;

  size_t index = header.recipients.size();
  for (size_t i = 0; i < header.recipients.size(); ++i) {
    if (header.recipients[i].identity_public_key ==
        recipient_identity_public_key) {
      index = i;
      break;
    }
  }
  if (index == header.recipients.size()) {
    return absl::NotFoundError("this device is not a recipient of the envelope");
  }
  const EnvelopeRecipientEntry& entry = header.recipients[index];

  auto find = [&](PrekeyKind kind, uint32_t id) -> const PrekeyPair* {
    for (const PrekeyPair& p : prekeys) {
      if (p.prekey.kind == kind && p.prekey.key_id == id) return &p;
    }
    return nullptr;
  };
  const PrekeyPair* spk = find(PrekeyKind::kSigned, entry.signed_prekey_id);
  if (spk == nullptr) {
    return absl::FailedPreconditionError(absl::StrCat(
        "signed prekey ", entry.signed_prekey_id,
        " is not in the keystore (erased after its grace period, or never "
        "ours); ask the sender to resend"));
  }
  const PrekeyPair* otpk = nullptr;
  if (entry.one_time_prekey_id != 0) {
    otpk = find(PrekeyKind::kOneTime, entry.one_time_prekey_id);
    if (otpk == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "one-time prekey ", entry.one_time_prekey_id,
          " is not in the keystore (already used, or never ours); ask the "
          "sender to resend"));
    }
  }

  absl::StatusOr<SecureBuffer> dh_signed =
      X25519SharedSecret(spk->private_key, header.ephemeral_public_key);
  if (!dh_signed.ok()) return dh_signed.status();
  SecureBuffer dh_one_time;
  std::string_view otpk_public;
  if (otpk != nullptr) {
    absl::StatusOr<SecureBuffer> dh =
        X25519SharedSecret(otpk->private_key, header.ephemeral_public_key);
    if (!dh.ok()) return dh.status();
    dh_one_time = *std::move(dh);
    otpk_public = otpk->prekey.public_key;
  }
  SecureBuffer wrap_key = DeriveWrapKey(
      *dh_signed, dh_one_time, parsed->header_hash,
      header.ephemeral_public_key, header.sender_identity, entry,
      spk->prekey.public_key, otpk_public);
  absl::StatusOr<SecureBuffer> content_key =
      AeadDecryptKey(wrap_key, parsed->wrapped_keys[index]);
  if (!content_key.ok()) return content_key.status();

  const uint32_t one_time_prekey_id = entry.one_time_prekey_id;
  absl::StatusOr<OpenedEnvelope> out =
      DecryptWithContentKey(*std::move(parsed), *std::move(content_key));
  if (!out.ok()) return out.status();
  out->consumed_one_time_prekey_id = one_time_prekey_id;
  return out;
}

absl::StatusOr<OpenedEnvelope> OpenEnvelopeWithContentKey(
    std::string_view envelope, const SecureBuffer& content_key) {
  if (content_key.size() != kContentKeySize) {
    return absl::InvalidArgumentError(absl::StrCat(
        "content key must be ", kContentKeySize, " bytes, got ",
        content_key.size()));
  }
  absl::StatusOr<ParsedEnvelope> parsed = ParseEnvelope(envelope);
  if (!parsed.ok()) return parsed.status();
  return DecryptWithContentKey(*std::move(parsed), content_key.Copy());
}

std::string EnvelopeHash(std::string_view envelope) { return Sha256(envelope); }

std::string ReplayKey(const EnvelopeHeader& header) {
  return absl::StrCat(header.sender_identity,
                      header.metadata.client_message_id);
}

}  // namespace parley
