#include "client/core/identity.h"

#include <sodium.h>

#include <cstdlib>

#include "absl/status/status.h"
#include "crypto/passphrase.h"

namespace parley {

absl::StatusOr<SecureBuffer> ObtainPassphrase(const PassphraseSource& source,
                                              bool confirm) {
  if (source.fd >= 0) return ReadPassphraseFromFd(source.fd);
  absl::StatusOr<SecureBuffer> env = PassphraseFromEnvironment();
  ::unsetenv(kPassphraseEnvVar);
  if (env.ok() || !absl::IsNotFound(env.status())) return env;
  if (!source.allow_prompt) {
    return absl::FailedPreconditionError(
        "no keystore passphrase: use --passphrase-fd N or PARLEY_PASSPHRASE");
  }
  absl::StatusOr<SecureBuffer> first = PromptPassphrase(
      confirm ? "New keystore passphrase: " : "Keystore passphrase: ");
  if (!first.ok() || !confirm) return first;
  absl::StatusOr<SecureBuffer> second = PromptPassphrase("Repeat passphrase: ");
  if (!second.ok()) return second.status();
  if (first->size() != second->size() ||
      sodium_memcmp(first->data(), second->data(), first->size()) != 0) {
    return absl::InvalidArgumentError("the passphrases do not match");
  }
  return first;
}

absl::StatusOr<DeviceKeys> DeviceKeys::Generate(absl::Time now,
                                                Random& random) {
  KeystoreContents contents{Ed25519PrivateKey::Generate(random), {}};
  absl::StatusOr<PrekeyPair> prekey =
      GeneratePrekey(contents.identity, PrekeyKind::kSigned, 1, now,
                     kSignedPrekeyLifetime, random);
  if (!prekey.ok()) return prekey.status();
  contents.prekeys.push_back(*std::move(prekey));
  return DeviceKeys(std::move(contents));
}

absl::StatusOr<DeviceKeys> DeviceKeys::Load(const std::string& path,
                                            std::string_view passphrase) {
  absl::StatusOr<KeystoreContents> contents =
      ReadKeystoreFile(path, passphrase);
  if (!contents.ok()) {
    if (absl::IsNotFound(contents.status())) {
      return absl::NotFoundError(
          "this profile has no keystore: run `parley enroll` first");
    }
    return contents.status();
  }
  bool has_signed = false;
  for (const PrekeyPair& p : contents->prekeys) {
    has_signed |= p.prekey.kind == PrekeyKind::kSigned;
  }
  if (!has_signed) {
    return absl::DataLossError(
        "the keystore holds no signed prekey; enroll this device again");
  }
  return DeviceKeys(*std::move(contents));
}

absl::Status DeviceKeys::Save(const std::string& path,
                              std::string_view passphrase,
                              Random& random) const {
  return WriteKeystoreFile(path, contents_, passphrase,
                           KdfStrength::kInteractive, random);
}

const PrekeyPair& DeviceKeys::current_signed_prekey() const {
  const PrekeyPair* best = nullptr;
  for (const PrekeyPair& p : contents_.prekeys) {
    if (p.prekey.kind != PrekeyKind::kSigned) continue;
    if (best == nullptr || p.prekey.key_id > best->prekey.key_id) best = &p;
  }
  return *best;
}

KeyBundle DeviceKeys::Bundle() const {
  return KeyBundle{identity().public_key(), current_signed_prekey().prekey,
                   {}};
}

absl::StatusOr<KeyBundle> DeviceKeys::RotateSignedPrekey(absl::Time now,
                                                         Random& random) {
  const uint32_t next_id = current_signed_prekey().prekey.key_id + 1;
  absl::StatusOr<PrekeyPair> prekey =
      GeneratePrekey(contents_.identity, PrekeyKind::kSigned, next_id, now,
                     kSignedPrekeyLifetime, random);
  if (!prekey.ok()) return prekey.status();
  contents_.prekeys.push_back(*std::move(prekey));
  return Bundle();
}

size_t DeviceKeys::EraseExpired(absl::Time now) {
  const uint32_t current = current_signed_prekey().prekey.key_id;
  const size_t before = contents_.prekeys.size();
  std::erase_if(contents_.prekeys, [&](const PrekeyPair& p) {
    const bool is_current =
        p.prekey.kind == PrekeyKind::kSigned && p.prekey.key_id == current;
    return !is_current && PrekeyPastGrace(p.prekey, now);
  });
  return before - contents_.prekeys.size();
}

}  // namespace parley
