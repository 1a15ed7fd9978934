#include "crypto/keystore.h"

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "crypto/domain.h"
#include "crypto/secure_buffer.h"
#include "crypto/wire.h"

namespace parley {
namespace {

constexpr std::string_view kMagic = "PARLEYKS";
constexpr uint8_t kFormatVersion = 1;
constexpr uint8_t kKdfArgon2id13 = 1;
constexpr size_t kSaltSize = crypto_pwhash_SALTBYTES;
constexpr size_t kNonceSize = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kTagSize = crypto_aead_xchacha20poly1305_ietf_ABYTES;
constexpr size_t kKeySize = crypto_aead_xchacha20poly1305_ietf_KEYBYTES;
constexpr size_t kPrekeyRecordSize = kSignedPrekeySize + kX25519KeySize;
constexpr size_t kMaxKeystoreFileSize =
    kKeystoreHeaderSize + 4 + 32 + 2 + kMaxKeystorePrekeys * kPrekeyRecordSize +
    kTagSize;
static_assert(kSaltSize == 16);
static_assert(kKeystoreHeaderSize ==
              8 + 1 + 1 + 8 + 8 + kSaltSize + kNonceSize + 4);

struct KdfParams {
  uint64_t opslimit;
  uint64_t memlimit;
};

KdfParams ParamsFor(KdfStrength strength) {
  switch (strength) {
    case KdfStrength::kModerate:
      return {crypto_pwhash_OPSLIMIT_MODERATE, crypto_pwhash_MEMLIMIT_MODERATE};
    case KdfStrength::kInteractive:
      break;
  }
  return {crypto_pwhash_OPSLIMIT_INTERACTIVE,
          crypto_pwhash_MEMLIMIT_INTERACTIVE};
}

const uint8_t* U8(std::string_view s) {
  return reinterpret_cast<const uint8_t*>(s.data());
}

absl::StatusOr<SecureBuffer> DeriveKey(std::string_view passphrase,
                                       std::string_view salt,
                                       const KdfParams& params) {
  SecureBuffer key(kKeySize);
  if (crypto_pwhash(key.data(), key.size(), passphrase.data(),
                    passphrase.size(), U8(salt), params.opslimit,
                    static_cast<size_t>(params.memlimit),
                    crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "Argon2id could not allocate ", params.memlimit >> 20,
        " MiB to derive the keystore key"));
  }
  return key;
}

// Plaintext layout: version, type, identity seed, prekey count, records.
SecureBuffer EncodeContents(const KeystoreContents& contents) {
  const size_t size =
      2 + kEd25519SeedSize + 2 + contents.prekeys.size() * kPrekeyRecordSize;
  SecureBuffer out(size);
  uint8_t* p = out.data();
  *p++ = kProtocolVersion;
  *p++ = static_cast<uint8_t>(StructureType::kKeystorePayload);
  std::memcpy(p, contents.identity.seed().data(), kEd25519SeedSize);
  p += kEd25519SeedSize;
  *p++ = static_cast<uint8_t>(contents.prekeys.size() >> 8);
  *p++ = static_cast<uint8_t>(contents.prekeys.size());
  for (const PrekeyPair& pair : contents.prekeys) {
    const std::string pub = SerializeSignedPrekey(pair.prekey);
    std::memcpy(p, pub.data(), pub.size());
    p += pub.size();
    std::memcpy(p, pair.private_key.secret().data(), kX25519KeySize);
    p += kX25519KeySize;
  }
  return out;
}

absl::StatusOr<KeystoreContents> DecodeContents(std::string_view plain) {
  WireReader r(plain, "keystore contents");
  uint8_t version = 0, type = 0;
  uint16_t count = 0;
  std::string_view seed;
  if (r.U8("version", &version) && version != kProtocolVersion) {
    r.Fail("version", "unsupported");
  }
  if (r.U8("type", &type) &&
      type != static_cast<uint8_t>(StructureType::kKeystorePayload)) {
    r.Fail("type", "not keystore contents");
  }
  r.Fixed("identity seed", kEd25519SeedSize, &seed);
  r.U16("prekey count", &count);
  if (!r.ok()) return r.status();
  absl::StatusOr<Ed25519PrivateKey> identity =
      Ed25519PrivateKey::FromSeed(seed);
  if (!identity.ok()) return identity.status();
  KeystoreContents contents{*std::move(identity), {}};
  for (uint16_t i = 0; i < count; ++i) {
    std::string_view pub, secret;
    if (!r.Fixed("prekey", kSignedPrekeySize, &pub) ||
        !r.Fixed("prekey secret", kX25519KeySize, &secret)) {
      return r.status();
    }
    absl::StatusOr<SignedPrekey> prekey = ParseSignedPrekey(pub);
    if (!prekey.ok()) return prekey.status();
    absl::StatusOr<X25519PrivateKey> key = X25519PrivateKey::FromBytes(secret);
    if (!key.ok()) return key.status();
    if (key->public_key() != prekey->public_key) {
      return absl::InvalidArgumentError(absl::StrCat(
          "prekey ", prekey->key_id, " does not match its private key"));
    }
    contents.prekeys.push_back({*std::move(prekey), *std::move(key)});
  }
  if (absl::Status s = r.Finish(); !s.ok()) return s;
  return contents;
}

std::string EncodeHeader(const KdfParams& params, std::string_view salt,
                         std::string_view nonce, uint32_t ciphertext_size) {
  WireWriter w;
  w.Fixed(kMagic);
  w.U8(kFormatVersion);
  w.U8(kKdfArgon2id13);
  w.U64(params.opslimit);
  w.U64(params.memlimit);
  w.Fixed(salt);
  w.Fixed(nonce);
  w.U32(ciphertext_size);
  return w.Release();
}

}  // namespace

absl::StatusOr<std::string> SealKeystore(const KeystoreContents& contents,
                                         std::string_view passphrase,
                                         KdfStrength strength,
                                         Random& random) {
  if (passphrase.empty()) {
    return absl::InvalidArgumentError("keystore passphrase is empty");
  }
  if (contents.prekeys.size() > kMaxKeystorePrekeys) {
    return absl::InvalidArgumentError("too many prekeys for one keystore");
  }
  const KdfParams params = ParamsFor(strength);
  const std::string salt = random.Bytes(kSaltSize);
  const std::string nonce = random.Bytes(kNonceSize);
  absl::StatusOr<SecureBuffer> key = DeriveKey(passphrase, salt, params);
  if (!key.ok()) return key.status();

  SecureBuffer plain = EncodeContents(contents);
  const std::string header = EncodeHeader(
      params, salt, nonce, static_cast<uint32_t>(plain.size() + kTagSize));
  std::string out = header;
  out.resize(header.size() + plain.size() + kTagSize);
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      reinterpret_cast<uint8_t*>(out.data() + header.size()), nullptr,
      plain.data(), plain.size(), U8(header), header.size(), nullptr,
      U8(nonce), key->data());
  return out;
}

absl::StatusOr<KeystoreContents> OpenKeystore(std::string_view file,
                                              std::string_view passphrase) {
  if (file.size() < kMagic.size() && kMagic.substr(0, file.size()) == file) {
    return absl::DataLossError(absl::StrCat(
        "keystore is truncated to ", file.size(),
        " bytes; restore it from a backup"));
  }
  if (file.substr(0, kMagic.size()) != kMagic) {
    return absl::InvalidArgumentError(
        "not a Parley keystore (the file does not start with PARLEYKS)");
  }
  if (file.size() < kKeystoreHeaderSize) {
    return absl::DataLossError(absl::StrCat(
        "keystore is truncated: ", file.size(), " bytes, the header alone is ",
        kKeystoreHeaderSize, "; restore it from a backup"));
  }
  WireReader r(file.substr(0, kKeystoreHeaderSize), "keystore header");
  std::string_view magic, salt, nonce;
  uint8_t version = 0, kdf = 0;
  KdfParams params{};
  uint32_t ct_size = 0;
  r.Fixed("magic", kMagic.size(), &magic);
  r.U8("version", &version);
  r.U8("kdf", &kdf);
  r.U64("opslimit", &params.opslimit);
  r.U64("memlimit", &params.memlimit);
  r.Fixed("salt", kSaltSize, &salt);
  r.Fixed("nonce", kNonceSize, &nonce);
  r.U32("ciphertext size", &ct_size);
  if (absl::Status s = r.Finish(); !s.ok()) return s;
  if (version != kFormatVersion) {
    return absl::InvalidArgumentError(absl::StrCat(
        "keystore format version ", version,
        " is not supported by this build (it reads version ", kFormatVersion,
        ")"));
  }
  if (kdf != kKdfArgon2id13) {
    return absl::InvalidArgumentError(
        absl::StrCat("keystore names unknown KDF ", kdf));
  }
  if (params.opslimit < crypto_pwhash_OPSLIMIT_INTERACTIVE ||
      params.opslimit > crypto_pwhash_OPSLIMIT_SENSITIVE ||
      params.memlimit < crypto_pwhash_MEMLIMIT_INTERACTIVE ||
      params.memlimit > crypto_pwhash_MEMLIMIT_SENSITIVE) {
    return absl::DataLossError(
        "keystore KDF limits are out of range; the file is corrupted, "
        "restore it from a backup");
  }
  if (ct_size < kTagSize || ct_size > kMaxKeystoreFileSize) {
    return absl::DataLossError(
        "keystore ciphertext size is out of range; the file is corrupted");
  }
  const size_t expected = kKeystoreHeaderSize + ct_size;
  if (file.size() != expected) {
    return absl::DataLossError(absl::StrCat(
        "keystore is ", file.size() < expected ? "truncated" : "extended",
        ": ", file.size(), " bytes, expected ", expected,
        "; restore it from a backup"));
  }
  if (passphrase.empty()) {
    return absl::InvalidArgumentError("keystore passphrase is empty");
  }
  absl::StatusOr<SecureBuffer> key = DeriveKey(passphrase, salt, params);
  if (!key.ok()) return key.status();

  const std::string_view header = file.substr(0, kKeystoreHeaderSize);
  const std::string_view ct = file.substr(kKeystoreHeaderSize);
  SecureBuffer plain(ct.size() - kTagSize);
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          plain.data(), nullptr, nullptr, U8(ct), ct.size(), U8(header),
          header.size(), U8(nonce), key->data()) != 0) {
    return absl::UnauthenticatedError(
        "keystore did not decrypt: wrong passphrase, or the file was "
        "modified");
  }
  absl::StatusOr<KeystoreContents> contents = DecodeContents(plain.view());
  if (!contents.ok()) {
    return absl::DataLossError(absl::StrCat(
        "keystore decrypted but its contents are invalid: ",
        contents.status().message()));
  }
  return contents;
}

absl::Status WriteKeystoreFile(const std::string& path,
                               const KeystoreContents& contents,
                               std::string_view passphrase,
                               KdfStrength strength, Random& random) {
  absl::StatusOr<std::string> sealed =
      SealKeystore(contents, passphrase, strength, random);
  if (!sealed.ok()) return sealed.status();

  const std::filesystem::path target(path);
  std::filesystem::path dir = target.parent_path();
  if (dir.empty()) dir = ".";
  std::string tmp = (dir / (target.filename().string() + ".tmp-XXXXXX"));
  const int fd = mkostemp(tmp.data(), O_CLOEXEC);  // mode 0600
  if (fd < 0) {
    return absl::ErrnoToStatus(
        errno, absl::StrCat("creating a temporary keystore in ", dir.string()));
  }
  auto fail = [&](std::string_view what) {
    const int err = errno;
    close(fd);
    unlink(tmp.c_str());
    return absl::ErrnoToStatus(err, absl::StrCat(std::string(what), " ", tmp));
  };
  if (fchmod(fd, S_IRUSR | S_IWUSR) != 0) return fail("chmod");
  size_t written = 0;
  while (written < sealed->size()) {
    const ssize_t n =
        write(fd, sealed->data() + written, sealed->size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      return fail("writing");
    }
    written += static_cast<size_t>(n);
  }
  if (fsync(fd) != 0) return fail("syncing");
  if (close(fd) != 0) {
    const int err = errno;
    unlink(tmp.c_str());
    return absl::ErrnoToStatus(err, absl::StrCat("closing ", tmp));
  }
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    unlink(tmp.c_str());
    return absl::ErrnoToStatus(err, absl::StrCat("renaming ", tmp, " to ",
                                                 path));
  }
  const int dir_fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir_fd < 0) {
    return absl::ErrnoToStatus(errno,
                               absl::StrCat("opening ", dir.string()));
  }
  const int rc = fsync(dir_fd);
  const int err = errno;
  close(dir_fd);
  if (rc != 0) {
    return absl::ErrnoToStatus(err, absl::StrCat("syncing ", dir.string()));
  }
  return absl::OkStatus();
}

absl::StatusOr<KeystoreContents> ReadKeystoreFile(const std::string& path,
                                                  std::string_view passphrase) {
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) {
      return absl::NotFoundError(absl::StrCat(
          "no keystore at ", path, "; create one first"));
    }
    return absl::ErrnoToStatus(err, absl::StrCat("opening ", path));
  }
  struct stat st{};
  if (fstat(fd, &st) != 0) {
    const int err = errno;
    close(fd);
    return absl::ErrnoToStatus(err, absl::StrCat("stat ", path));
  }
  if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
    close(fd);
    return absl::FailedPreconditionError(absl::StrFormat(
        "keystore %s is accessible to other users (mode %04o); run "
        "chmod 600 %s",
        path, st.st_mode & 07777, path));
  }
  if (static_cast<size_t>(st.st_size) > kMaxKeystoreFileSize) {
    close(fd);
    return absl::DataLossError(
        absl::StrCat("keystore ", path, " is too large to be a keystore"));
  }
  std::string data(static_cast<size_t>(st.st_size), '\0');
  size_t got = 0;
  while (got < data.size()) {
    const ssize_t n = read(fd, data.data() + got, data.size() - got);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    got += static_cast<size_t>(n);
  }
  close(fd);
  data.resize(got);
  return OpenKeystore(data, passphrase);
}

size_t ErasePrekeysPastGrace(KeystoreContents& contents, absl::Time now,
                             absl::Duration grace) {
  const size_t before = contents.prekeys.size();
  std::erase_if(contents.prekeys, [&](const PrekeyPair& p) {
    return PrekeyPastGrace(p.prekey, now, grace);
  });
  return before - contents.prekeys.size();
}

absl::Status EraseOneTimePrekey(KeystoreContents& contents, uint32_t key_id) {
  const size_t erased = std::erase_if(contents.prekeys, [&](const PrekeyPair& p) {
    return p.prekey.kind == PrekeyKind::kOneTime && p.prekey.key_id == key_id;
  });
  if (erased == 0) {
    return absl::NotFoundError(
        absl::StrCat("no one-time prekey ", key_id, " in the keystore"));
  }
  return absl::OkStatus();
}

}  // namespace parley
