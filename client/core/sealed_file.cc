#include "client/core/sealed_file.h"

#include <sodium.h>

#include "absl/strings/str_cat.h"
#include "crypto/domain.h"

namespace parley {
namespace {

constexpr std::string_view kSealedFileMagic = "PLYSEAL1";
constexpr size_t kNonceSize = crypto_aead_xchacha20poly1305_ietf_NPUBBYTES;
constexpr size_t kTagSize = crypto_aead_xchacha20poly1305_ietf_ABYTES;
// Far above any message the server accepts.
constexpr size_t kMaxRecordSize = size_t{256} << 20;
static_assert(kStateKeySize == crypto_aead_xchacha20poly1305_ietf_KEYBYTES);

absl::Status Corrupted(const std::string& path, std::string_view what) {
  return absl::DataLossError(absl::StrCat(
      path, " cannot be read: ", std::string(what),
      ". It is corrupted or belongs to another identity's profile. Restore "
      "it from a backup; or move state.bin and messages.bin away, and this "
      "device fetches its messages from the server again (work still in "
      "its outbox is then lost)"));
}

// nonce || ciphertext
std::string Seal(const SecureBuffer& key, std::string_view role,
                 std::string_view plaintext, Random& random) {
  std::string out(kNonceSize + plaintext.size() + kTagSize, '\0');
  auto* p = reinterpret_cast<uint8_t*>(out.data());
  random.Fill(p, kNonceSize);
  unsigned long long len = 0;
  crypto_aead_xchacha20poly1305_ietf_encrypt(
      p + kNonceSize, &len,
      reinterpret_cast<const uint8_t*>(plaintext.data()), plaintext.size(),
      reinterpret_cast<const uint8_t*>(role.data()), role.size(), nullptr, p,
      key.data());
  return out;
}

bool Open(const SecureBuffer& key, std::string_view role,
          std::string_view sealed, std::string* plaintext) {
  if (key.size() != kStateKeySize || sealed.size() < kNonceSize + kTagSize) {
    return false;
  }
  const auto* p = reinterpret_cast<const uint8_t*>(sealed.data());
  plaintext->assign(sealed.size() - kNonceSize - kTagSize, '\0');
  unsigned long long len = 0;
  if (crypto_aead_xchacha20poly1305_ietf_decrypt(
          reinterpret_cast<uint8_t*>(plaintext->data()), &len, nullptr,
          p + kNonceSize, sealed.size() - kNonceSize,
          reinterpret_cast<const uint8_t*>(role.data()), role.size(), p,
          key.data()) != 0) {
    return false;
  }
  plaintext->resize(len);
  return true;
}

}  // namespace

SecureBuffer DeriveStateKey(const Ed25519PrivateKey& identity) {
  SecureBuffer key(kStateKeySize);
  TaggedBlake2bTo(kStateKeyTag, identity.seed().view(), {"local state key"},
                  key.data(), key.size());
  return key;
}

std::string SealFileBytes(const SecureBuffer& key, std::string_view role,
                          std::string_view plaintext, Random& random) {
  return std::string(kSealedFileMagic) + Seal(key, role, plaintext, random);
}

absl::StatusOr<std::string> OpenSealedFile(const SecureBuffer& key,
                                           std::string_view role,
                                           std::string_view bytes,
                                           const std::string& path) {
  if (bytes.substr(0, kSealedFileMagic.size()) != kSealedFileMagic) {
    return Corrupted(path, "not a sealed Parley state file");
  }
  std::string plaintext;
  if (!Open(key, role, bytes.substr(kSealedFileMagic.size()), &plaintext)) {
    return Corrupted(path, "it does not decrypt under this device's key");
  }
  return plaintext;
}

std::string SealRecord(const SecureBuffer& key, std::string_view role,
                       std::string_view plaintext, Random& random) {
  std::string sealed = Seal(key, role, plaintext, random);
  const uint32_t n = static_cast<uint32_t>(sealed.size());
  std::string out;
  out.reserve(4 + sealed.size());
  out.push_back(static_cast<char>(n >> 24));
  out.push_back(static_cast<char>(n >> 16));
  out.push_back(static_cast<char>(n >> 8));
  out.push_back(static_cast<char>(n));
  out += sealed;
  return out;
}

absl::StatusOr<OpenedRecords> OpenRecordLog(const SecureBuffer& key,
                                            std::string_view role,
                                            std::string_view bytes,
                                            const std::string& path) {
  OpenedRecords out;
  if (bytes.size() < kRecordLogMagic.size()) {
    // A crash while the file was being created: nothing was committed.
    if (kRecordLogMagic.substr(0, bytes.size()) != bytes) {
      return Corrupted(path, "not a Parley message cache");
    }
    return out;
  }
  if (bytes.substr(0, kRecordLogMagic.size()) != kRecordLogMagic) {
    return Corrupted(path, "not a Parley message cache");
  }
  size_t pos = kRecordLogMagic.size();
  out.valid_size = pos;
  while (pos + 4 <= bytes.size()) {
    const auto* p = reinterpret_cast<const uint8_t*>(bytes.data() + pos);
    const size_t n = (size_t{p[0]} << 24) | (size_t{p[1]} << 16) |
                     (size_t{p[2]} << 8) | size_t{p[3]};
    if (n < kNonceSize + kTagSize || n > kMaxRecordSize) {
      return Corrupted(path, absl::StrCat("record at byte ", pos,
                                          " has an impossible length"));
    }
    if (pos + 4 + n > bytes.size()) break;  // partial last record
    std::string plaintext;
    if (!Open(key, role, bytes.substr(pos + 4, n), &plaintext)) {
      return Corrupted(path, absl::StrCat("record ", out.records.size() + 1,
                                          " does not decrypt"));
    }
    out.records.push_back(std::move(plaintext));
    pos += 4 + n;
    out.valid_size = pos;
  }
  return out;
}

}  // namespace parley
