#include "server/data_dir.h"

#include <unistd.h>

#include <filesystem>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "crypto/encoding.h"
#include "crypto/file_util.h"
#include "crypto/hash.h"
#include "crypto/random.h"
#include "nlohmann/json.hpp"
#include "server/dev_pki.h"
#include "storage/tlog/note.h"

namespace parley {
namespace {

constexpr char kIdentityFile[] = "parleyd.json";
constexpr char kLogKeyFile[] = "log-signing.key";
constexpr char kLogKeyHeader[] = "parley-log-signing-key/v1";

std::string Join(const std::string& dir, absl::string_view name) {
  return absl::StrCat(dir, "/", name);
}

std::string DefaultOrigin() {
  char host[256] = {0};
  if (::gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0') {
    std::strcpy(host, "localhost");
  }
  return absl::StrCat(host, "/parley/", HexEncode(SystemRandom().Bytes(4)));
}

// Origins become the first line of every checkpoint and the name of the
// verifier key: printable ASCII, no spaces or '+' (C2SP signed-note).
absl::Status ValidateOrigin(absl::string_view origin) {
  if (origin.empty() || origin.size() > 200) {
    return absl::InvalidArgumentError("origin must be 1 to 200 characters");
  }
  for (char c : origin) {
    if (c <= ' ' || c > '~' || c == '+') {
      return absl::InvalidArgumentError(absl::StrCat(
          "origin \"", origin,
          "\" may hold only printable ASCII without spaces or '+'"));
    }
  }
  return absl::OkStatus();
}

// A one-time invite: 128 random bits, shown as 8 groups of 4 hex digits.
std::string NewInviteCode() {
  std::string hex = HexEncode(SystemRandom().Bytes(16));
  std::string code = "pi1";
  for (size_t i = 0; i < hex.size(); i += 4) {
    absl::StrAppend(&code, "-", hex.substr(i, 4));
  }
  return code;
}

std::string EncodeLogKey(const Ed25519PrivateKey& key) {
  return absl::StrCat(kLogKeyHeader, "\n", Base64Encode(key.seed().view()),
                      "\n");
}

absl::StatusOr<Ed25519PrivateKey> DecodeLogKey(const std::string& path,
                                               absl::string_view text) {
  std::vector<absl::string_view> lines = absl::StrSplit(text, '\n');
  if (lines.size() != 3 || lines[0] != kLogKeyHeader || !lines[2].empty()) {
    return absl::DataLossError(
        absl::StrCat(path, " is corrupted (not a parley log signing key)"));
  }
  absl::StatusOr<std::string> seed = Base64Decode(std::string(lines[1]));
  if (!seed.ok() || seed->size() != kEd25519SeedSize) {
    return absl::DataLossError(
        absl::StrCat(path, " is corrupted (bad key encoding)"));
  }
  return Ed25519PrivateKey::FromSeed(*seed);
}

}  // namespace

absl::StatusOr<InitResult> InitDataDir(const std::string& path,
                                       const InitOptions& options) {
  if (absl::Status s = InitCrypto(); !s.ok()) return s;
  std::error_code ec;
  if (std::filesystem::exists(Join(path, kIdentityFile), ec)) {
    return absl::AlreadyExistsError(absl::StrCat(
        "data directory ", path,
        " is already initialised; start parleyd with --data ", path,
        " or choose a new directory"));
  }
  if (std::filesystem::exists(path, ec)) {
    if (!std::filesystem::is_directory(path, ec)) {
      return absl::FailedPreconditionError(
          absl::StrCat(path, " exists and is not a directory"));
    }
    if (!std::filesystem::is_empty(path, ec)) {
      return absl::FailedPreconditionError(absl::StrCat(
          "data directory ", path,
          " is not empty and holds no parleyd.json: refusing to initialise "
          "over files that are not ours (an interrupted init leaves such a "
          "directory; remove it and run init again)"));
    }
  }
  std::string origin = options.origin.empty() ? DefaultOrigin()
                                              : options.origin;
  if (absl::Status s = ValidateOrigin(origin); !s.ok()) return s;

  if (absl::Status s = MakeDirectories(path, 0700); !s.ok()) return s;
  if (absl::Status s = CheckDirectoryWritable(path); !s.ok()) return s;
  if (absl::Status s = MakeDirectories(Join(path, "tls"), 0700); !s.ok()) {
    return s;
  }

  absl::StatusOr<DevPki> pki = CreateDevPki(options.server_names, options.now);
  if (!pki.ok()) return pki.status();
  absl::StatusOr<std::string> fingerprint =
      CertificateFingerprint(pki->ca_cert_pem);
  if (!fingerprint.ok()) return fingerprint.status();

  struct File {
    std::string name;
    std::string contents;
    int mode;
  };
  Ed25519PrivateKey log_key = Ed25519PrivateKey::Generate();
  std::string invite = NewInviteCode();
  std::vector<File> files = {
      {"tls/ca.crt", pki->ca_cert_pem, 0644},
      {"tls/ca.key", pki->ca_key_pem, 0600},
      {"tls/server.crt", pki->server_cert_chain_pem, 0644},
      {"tls/server.key", pki->server_key_pem, 0600},
      {kLogKeyFile, EncodeLogKey(log_key), 0600},
      {"bootstrap-invite", absl::StrCat(invite, "\n"), 0600},
  };
  for (const File& file : files) {
    if (absl::Status s =
            WriteFileAtomically(Join(path, file.name), file.contents,
                                file.mode);
        !s.ok()) {
      return s;
    }
  }

  InitResult result;
  result.ca_fingerprint = *fingerprint;
  result.bootstrap_invite = invite;
  result.origin = origin;
  absl::StatusOr<std::string> verifier_key =
      FormatVerifierKey(origin, log_key.public_key());
  if (!verifier_key.ok()) return verifier_key.status();
  result.verifier_key = *verifier_key;

  nlohmann::json identity = {
      {"format", kDataFormat},
      {"origin", origin},
      {"verifier_key", result.verifier_key},
      {"ca_fingerprint", result.ca_fingerprint},
      {"bootstrap_invite_sha256", HexEncode(Sha256(invite))},
      {"created", absl::FormatTime(absl::RFC3339_sec, options.now,
                                   absl::UTCTimeZone())},
  };
  if (absl::Status s = WriteFileAtomically(Join(path, kIdentityFile),
                                           identity.dump(2) + "\n", 0600);
      !s.ok()) {
    return s;
  }
  return result;
}

absl::StatusOr<std::unique_ptr<DataDir>> DataDir::Open(
    const std::string& path, absl::Time now, const std::string& cert_file,
    const std::string& key_file) {
  if (absl::Status s = InitCrypto(); !s.ok()) return s;
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return absl::NotFoundError(absl::StrCat(
        "data directory ", path, " does not exist; create it with: parleyd "
        "init --data ", path));
  }
  if (!std::filesystem::is_directory(path, ec)) {
    return absl::FailedPreconditionError(
        absl::StrCat("data directory ", path, " is not a directory"));
  }
  if (absl::Status s = CheckDirectoryWritable(path); !s.ok()) return s;

  const std::string identity_path = Join(path, kIdentityFile);
  absl::StatusOr<std::string> identity_text = ReadFile(identity_path);
  if (!identity_text.ok()) {
    if (absl::IsNotFound(identity_text.status())) {
      return absl::FailedPreconditionError(absl::StrCat(
          path, " is not a parleyd data directory (no parleyd.json); "
          "initialise a new one with: parleyd init --data DIR"));
    }
    return identity_text.status();
  }
  nlohmann::json identity =
      nlohmann::json::parse(*identity_text, nullptr, /*allow_exceptions=*/false);
  auto field = [&](const char* name) -> std::string {
    if (!identity.is_object() || !identity.contains(name) ||
        !identity[name].is_string()) {
      return "";
    }
    return identity[name].get<std::string>();
  };
  if (identity.is_discarded() || field("format").empty() ||
      field("origin").empty() || field("verifier_key").empty()) {
    return absl::DataLossError(absl::StrCat(
        identity_path, " is corrupted; restore the data directory from a "
        "backup"));
  }
  if (field("format") != kDataFormat) {
    return absl::FailedPreconditionError(absl::StrCat(
        identity_path, " has format \"", field("format"), "\", expected \"",
        kDataFormat, "\": this directory belongs to another server version"));
  }

  auto dir = std::unique_ptr<DataDir>(new DataDir());
  dir->path_ = path;
  dir->origin_ = field("origin");
  dir->verifier_key_ = field("verifier_key");
  absl::StatusOr<std::string> invite_hash =
      HexDecode(field("bootstrap_invite_sha256"));
  if (!invite_hash.ok() || invite_hash->size() != 32) {
    return absl::DataLossError(absl::StrCat(
        identity_path, " is corrupted (bootstrap_invite_sha256)"));
  }
  dir->bootstrap_invite_hash_ = *invite_hash;

  const std::string key_path = Join(path, kLogKeyFile);
  absl::StatusOr<std::string> key_text = ReadFile(key_path);
  if (!key_text.ok()) {
    return absl::DataLossError(absl::StrCat(
        "cannot load the log signing key: ", key_text.status().message()));
  }
  absl::StatusOr<Ed25519PrivateKey> key = DecodeLogKey(key_path, *key_text);
  if (!key.ok()) return key.status();
  absl::StatusOr<std::string> actual =
      FormatVerifierKey(dir->origin_, key->public_key());
  if (!actual.ok()) {
    return absl::DataLossError(absl::StrCat(
        identity_path, " is corrupted: ", actual.status().message()));
  }
  if (*actual != dir->verifier_key_) {
    return absl::FailedPreconditionError(absl::StrCat(
        key_path, " does not belong to this data directory (parleyd.json "
        "names verifier key ", dir->verifier_key_, ", the key file gives ",
        *actual, "): the directory mixes files of two servers"));
  }
  dir->log_key_ = std::make_unique<Ed25519PrivateKey>(std::move(*key));

  const bool operator_certs = !cert_file.empty() || !key_file.empty();
  if (operator_certs && (cert_file.empty() || key_file.empty())) {
    return absl::InvalidArgumentError(
        "tls.cert_file and tls.key_file must be given together");
  }
  const std::string cert_path =
      operator_certs ? cert_file : Join(path, "tls/server.crt");
  const std::string tls_key_path =
      operator_certs ? key_file : Join(path, "tls/server.key");
  absl::StatusOr<std::string> chain = ReadFile(cert_path);
  if (!chain.ok()) return chain.status();
  absl::StatusOr<std::string> tls_key = ReadFile(tls_key_path);
  if (!tls_key.ok()) return tls_key.status();
  std::string dev_ca;  // The development CA signs the development chain.
  if (operator_certs) {
    dir->ca_fingerprint_ = "";  // Pinned by the operator's own CA.
  } else {
    absl::StatusOr<std::string> ca = ReadFile(Join(path, "tls/ca.crt"));
    if (!ca.ok()) return ca.status();
    absl::StatusOr<std::string> fp = CertificateFingerprint(*ca);
    if (!fp.ok()) {
      return absl::DataLossError(absl::StrCat(
          path, "/tls/ca.crt is corrupted: ", fp.status().message(),
          "; restore it from a backup of this data directory"));
    }
    if (*fp != field("ca_fingerprint")) {
      return absl::FailedPreconditionError(absl::StrCat(
          path, "/tls/ca.crt is not the CA this directory was created with "
          "(fingerprint ", *fp, ", parleyd.json says ",
          field("ca_fingerprint"), ")"));
    }
    dir->ca_fingerprint_ = *fp;
    dev_ca = *std::move(ca);
  }
  if (absl::Status s = CheckCertificateAndKey(*chain, *tls_key, now, dev_ca);
      !s.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat("TLS certificate ", cert_path, ": ", s.message()));
  }
  dir->cert_chain_pem_ = std::move(*chain);
  dir->key_pem_ = std::move(*tls_key);

  return dir;
}

}  // namespace parley
