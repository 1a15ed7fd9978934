#include "crypto/prekey.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "crypto/domain.h"
#include "crypto/wire.h"

namespace parley {
namespace {

// Reads a SignedPrekey from `r`; returns false (with r's status set) if
// anything is wrong with the structure.
bool ReadSignedPrekey(WireReader& r, SignedPrekey* out) {
  uint8_t version = 0, type = 0, kind = 0;
  uint64_t created = 0, expires = 0;
  std::string_view pub, sig;
  if (!r.U8("version", &version)) return false;
  if (version != kProtocolVersion) {
    return r.Fail("version", absl::StrCat("unsupported version ", version));
  }
  if (!r.U8("type", &type)) return false;
  if (type != static_cast<uint8_t>(StructureType::kSignedPrekey)) {
    return r.Fail("type", "not a signed prekey");
  }
  if (!r.U8("kind", &kind)) return false;
  if (kind != static_cast<uint8_t>(PrekeyKind::kSigned) &&
      kind != static_cast<uint8_t>(PrekeyKind::kOneTime)) {
    return r.Fail("kind", absl::StrCat("unknown prekey kind ", kind));
  }
  if (!r.U32("key id", &out->key_id)) return false;
  if (out->key_id == 0) return r.Fail("key id", "must not be 0");
  if (!r.Fixed("public key", kX25519KeySize, &pub)) return false;
  if (absl::Status s = CheckX25519PublicKey(pub); !s.ok()) {
    return r.Fail("public key", std::string(s.message()));
  }
  if (!r.U64("created at", &created) || !r.U64("expires at", &expires)) {
    return false;
  }
  if (created > static_cast<uint64_t>(INT64_MAX) ||
      expires > static_cast<uint64_t>(INT64_MAX) || expires <= created) {
    return r.Fail("expires at", "must be after created at");
  }
  if (!r.Fixed("signature", kEd25519SignatureSize, &sig)) return false;
  out->kind = static_cast<PrekeyKind>(kind);
  out->public_key = std::string(pub);
  out->created_at = static_cast<int64_t>(created);
  out->expires_at = static_cast<int64_t>(expires);
  out->signature = std::string(sig);
  return true;
}

}  // namespace

std::string SignedPrekeyBody(const SignedPrekey& prekey) {
  WireWriter w;
  w.U8(kProtocolVersion);
  w.U8(static_cast<uint8_t>(StructureType::kSignedPrekey));
  w.U8(static_cast<uint8_t>(prekey.kind));
  w.U32(prekey.key_id);
  w.Fixed(prekey.public_key);
  w.U64(static_cast<uint64_t>(prekey.created_at));
  w.U64(static_cast<uint64_t>(prekey.expires_at));
  return w.Release();
}

std::string SerializeSignedPrekey(const SignedPrekey& prekey) {
  return absl::StrCat(SignedPrekeyBody(prekey), prekey.signature);
}

absl::StatusOr<SignedPrekey> ParseSignedPrekey(std::string_view bytes) {
  WireReader r(bytes, "signed prekey");
  SignedPrekey prekey;
  ReadSignedPrekey(r, &prekey);
  if (absl::Status s = r.Finish(); !s.ok()) return s;
  return prekey;
}

absl::StatusOr<PrekeyPair> GeneratePrekey(const Ed25519PrivateKey& identity,
                                          PrekeyKind kind, uint32_t key_id,
                                          absl::Time created_at,
                                          absl::Duration lifetime,
                                          Random& random) {
  if (key_id == 0) return absl::InvalidArgumentError("prekey id must not be 0");
  if (lifetime <= absl::ZeroDuration() || lifetime > kMaxPrekeyLifetime) {
    return absl::InvalidArgumentError(
        "prekey lifetime must be positive and at most 7 days");
  }
  if (created_at < absl::UnixEpoch()) {
    return absl::InvalidArgumentError("prekey creation time before 1970");
  }
  X25519PrivateKey private_key = X25519PrivateKey::Generate(random);
  // A random scalar lands on a small-order point with negligible
  // probability, but a broken Random could; never publish such a key.
  if (absl::Status s = CheckX25519PublicKey(private_key.public_key());
      !s.ok()) {
    return absl::InternalError(
        absl::StrCat("generated prekey unusable: ", s.message()));
  }
  SignedPrekey prekey;
  prekey.kind = kind;
  prekey.key_id = key_id;
  prekey.public_key = private_key.public_key();
  prekey.created_at = absl::ToUnixSeconds(created_at);
  prekey.expires_at = absl::ToUnixSeconds(created_at + lifetime);
  prekey.signature = identity.Sign(
      SigningInput(kPrekeySignatureTag, SignedPrekeyBody(prekey)));
  return PrekeyPair{std::move(prekey), std::move(private_key)};
}

absl::Status VerifySignedPrekeyAt(std::string_view identity_public_key,
                                  const SignedPrekey& prekey, absl::Time at) {
  // Re-parse our own encoding so field checks live in one place.
  absl::StatusOr<SignedPrekey> parsed =
      ParseSignedPrekey(SerializeSignedPrekey(prekey));
  if (!parsed.ok()) return parsed.status();
  if (absl::Seconds(prekey.expires_at - prekey.created_at) >
      kMaxPrekeyLifetime) {
    return absl::InvalidArgumentError(absl::StrCat(
        "prekey ", prekey.key_id, " is valid for more than 7 days"));
  }
  if (absl::Status s =
          Ed25519Verify(identity_public_key,
                        SigningInput(kPrekeySignatureTag,
                                     SignedPrekeyBody(prekey)),
                        prekey.signature);
      !s.ok()) {
    if (s.code() != absl::StatusCode::kUnauthenticated) return s;
    return absl::UnauthenticatedError(
        absl::StrCat("prekey ", prekey.key_id,
                     " is not signed by this identity key"));
  }
  const absl::Time created = absl::FromUnixSeconds(prekey.created_at);
  const absl::Time expires = absl::FromUnixSeconds(prekey.expires_at);
  if (at >= expires) {
    return absl::FailedPreconditionError(
        absl::StrCat("prekey ", prekey.key_id, " expired at ",
                     absl::FormatTime(absl::RFC3339_sec, expires,
                                      absl::UTCTimeZone()),
                     "; fetch a fresh key bundle"));
  }
  if (created > at + kMaxClockSkew) {
    return absl::FailedPreconditionError(absl::StrCat(
        "prekey ", prekey.key_id, " is not valid until ",
        absl::FormatTime(absl::RFC3339_sec, created, absl::UTCTimeZone()),
        "; check the clocks"));
  }
  return absl::OkStatus();
}

absl::Status VerifySignedPrekey(std::string_view identity_public_key,
                                const SignedPrekey& prekey,
                                const Clock& clock) {
  return VerifySignedPrekeyAt(identity_public_key, prekey, clock.Now());
}

bool PrekeyNeedsRotation(const SignedPrekey& prekey, absl::Time now) {
  return now >= absl::FromUnixSeconds(prekey.created_at) + kPrekeyRotationAge ||
         now + absl::Hours(24) >= absl::FromUnixSeconds(prekey.expires_at);
}

bool PrekeyPastGrace(const SignedPrekey& prekey, absl::Time now,
                     absl::Duration grace) {
  return now >= absl::FromUnixSeconds(prekey.expires_at) + grace;
}

std::string SerializeKeyBundle(const KeyBundle& bundle) {
  WireWriter w;
  w.U8(kProtocolVersion);
  w.U8(static_cast<uint8_t>(StructureType::kKeyBundle));
  w.Fixed(bundle.identity_public_key);
  w.Fixed(SerializeSignedPrekey(bundle.signed_prekey));
  w.U16(static_cast<uint16_t>(bundle.one_time_prekeys.size()));
  for (const SignedPrekey& p : bundle.one_time_prekeys) {
    w.Fixed(SerializeSignedPrekey(p));
  }
  return w.Release();
}

absl::StatusOr<KeyBundle> ParseKeyBundle(std::string_view bytes) {
  WireReader r(bytes, "key bundle");
  KeyBundle bundle;
  uint8_t version = 0, type = 0;
  uint16_t count = 0;
  std::string_view identity;
  if (r.U8("version", &version) && version != kProtocolVersion) {
    r.Fail("version", absl::StrCat("unsupported version ", version));
  }
  if (r.U8("type", &type) &&
      type != static_cast<uint8_t>(StructureType::kKeyBundle)) {
    r.Fail("type", "not a key bundle");
  }
  if (r.Fixed("identity key", kEd25519PublicKeySize, &identity)) {
    bundle.identity_public_key = std::string(identity);
  }
  if (ReadSignedPrekey(r, &bundle.signed_prekey) &&
      r.U16("one-time prekey count", &count) &&
      count > kMaxOneTimePrekeysPerBundle) {
    r.Fail("one-time prekey count", "more than 100");
  }
  for (uint16_t i = 0; r.ok() && i < count; ++i) {
    SignedPrekey p;
    if (ReadSignedPrekey(r, &p)) bundle.one_time_prekeys.push_back(p);
  }
  if (absl::Status s = r.Finish(); !s.ok()) return s;
  return bundle;
}

absl::Status CheckKeyBundleStructure(const KeyBundle& bundle) {
  if (bundle.signed_prekey.kind != PrekeyKind::kSigned) {
    return absl::InvalidArgumentError(
        "key bundle: signed prekey slot holds a one-time prekey");
  }
  if (bundle.one_time_prekeys.size() > kMaxOneTimePrekeysPerBundle) {
    return absl::InvalidArgumentError("key bundle: too many one-time prekeys");
  }
  std::set<uint32_t> ids;
  for (const SignedPrekey& p : bundle.one_time_prekeys) {
    if (p.kind != PrekeyKind::kOneTime) {
      return absl::InvalidArgumentError(
          "key bundle: one-time slot holds a signed prekey");
    }
    if (!ids.insert(p.key_id).second) {
      return absl::InvalidArgumentError(
          absl::StrCat("key bundle: duplicate one-time prekey id ", p.key_id));
    }
  }
  return absl::OkStatus();
}

absl::Status VerifyKeyBundleAt(const KeyBundle& bundle, absl::Time at) {
  if (absl::Status s = CheckKeyBundleStructure(bundle); !s.ok()) return s;
  if (absl::Status s = VerifySignedPrekeyAt(bundle.identity_public_key,
                                            bundle.signed_prekey, at);
      !s.ok()) {
    return s;
  }
  for (const SignedPrekey& p : bundle.one_time_prekeys) {
    if (absl::Status s =
            VerifySignedPrekeyAt(bundle.identity_public_key, p, at);
        !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

}  // namespace parley
