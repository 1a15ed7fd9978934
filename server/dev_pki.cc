#include "server/dev_pki.h"

#include <openssl/asn1.h>
#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <algorithm>
#include <climits>
#include <ctime>
#include <memory>
#include <set>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "crypto/openssl_error.h"

namespace parley {
namespace {

template <auto kFree>
struct OpenSslFree {
  template <typename T>
  void operator()(T* p) const {
    kFree(p);
  }
};
using Asn1IntegerPtr =
    std::unique_ptr<ASN1_INTEGER, OpenSslFree<ASN1_INTEGER_free>>;
using BignumPtr = std::unique_ptr<BIGNUM, OpenSslFree<BN_free>>;
using BioPtr = std::unique_ptr<BIO, OpenSslFree<BIO_free_all>>;
using ExtensionPtr =
    std::unique_ptr<X509_EXTENSION, OpenSslFree<X509_EXTENSION_free>>;
using GeneralNamePtr =
    std::unique_ptr<GENERAL_NAME, OpenSslFree<GENERAL_NAME_free>>;
using GeneralNamesPtr =
    std::unique_ptr<GENERAL_NAMES, OpenSslFree<GENERAL_NAMES_free>>;
using Ia5StringPtr =
    std::unique_ptr<ASN1_IA5STRING, OpenSslFree<ASN1_IA5STRING_free>>;
using NamePtr = std::unique_ptr<X509_NAME, OpenSslFree<X509_NAME_free>>;
using OctetStringPtr =
    std::unique_ptr<ASN1_OCTET_STRING, OpenSslFree<ASN1_OCTET_STRING_free>>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, OpenSslFree<EVP_PKEY_free>>;
using X509Ptr = std::unique_ptr<X509, OpenSslFree<X509_free>>;

constexpr const char* kDefaultServerNames[] = {"localhost", "parleyd",
                                               "127.0.0.1", "::1"};

absl::Status OpenSslError(absl::string_view what) {
  return absl::InternalError(
      absl::StrCat("OpenSSL failed ", what, ": ", DrainOpenSslErrors()));
}

// Passphrase callback that refuses: without it OpenSSL would prompt on the
// terminal for an encrypted key.
int NoPassphrase(char*, int, int, void*) { return -1; }

absl::StatusOr<BioPtr> ReadOnlyBio(std::string_view data) {
  if (data.size() > INT_MAX) return absl::InvalidArgumentError("PEM too large");
  BioPtr bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  if (!bio) return OpenSslError("allocating a memory BIO");
  return bio;
}

// A subjectAltName entry: an IP address (raw 4 or 16 bytes) or a DNS name.
struct AltName {
  bool is_ip;
  std::string value;
};

// Validates and classifies the default and extra server names, dropping
// duplicates. Does no allocation inside OpenSSL objects.
absl::StatusOr<std::vector<AltName>> ParseServerNames(
    const std::vector<std::string>& extra) {
  std::vector<std::string> all(std::begin(kDefaultServerNames),
                               std::end(kDefaultServerNames));
  all.insert(all.end(), extra.begin(), extra.end());
  std::vector<AltName> names;
  std::set<std::pair<bool, std::string>> seen;
  for (const std::string& name : all) {
    std::string bare = name;
    const bool bracketed =
        bare.size() >= 2 && bare.front() == '[' && bare.back() == ']';
    if (bracketed) bare = bare.substr(1, bare.size() - 2);
    AltName alt;
    OctetStringPtr ip(a2i_IPADDRESS(bare.c_str()));
    ERR_clear_error();  // A failed parse only means "not an IP literal".
    if (ip) {
      alt = {true, std::string(reinterpret_cast<const char*>(
                                   ASN1_STRING_get0_data(ip.get())),
                               ASN1_STRING_length(ip.get()))};
    } else {
      const bool valid_chars =
          !bare.empty() && std::all_of(bare.begin(), bare.end(), [](char c) {
            return absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_' ||
                   c == '*';
          });
      if (bracketed || !valid_chars || bare.size() > 253) {
        return absl::InvalidArgumentError(
            absl::StrCat("server name \"", absl::CEscape(name),
                         "\" is neither an IP address nor a valid DNS name"));
      }
      alt = {false, absl::AsciiStrToLower(bare)};
    }
    if (seen.insert({alt.is_ip, alt.value}).second) {
      names.push_back(std::move(alt));
    }
  }
  return names;
}

absl::Status AddSubjectAltNames(X509* cert, const std::vector<AltName>& names) {
  GeneralNamesPtr gens(sk_GENERAL_NAME_new_null());
  if (!gens) return OpenSslError("allocating subjectAltName");
  for (const AltName& name : names) {
    GeneralNamePtr gen(GENERAL_NAME_new());
    if (!gen) return OpenSslError("allocating a GeneralName");
    if (name.is_ip) {
      OctetStringPtr ip(ASN1_OCTET_STRING_new());
      if (!ip || ASN1_OCTET_STRING_set(
                     ip.get(),
                     reinterpret_cast<const unsigned char*>(name.value.data()),
                     static_cast<int>(name.value.size())) != 1) {
        return OpenSslError("encoding an IP subjectAltName");
      }
      GENERAL_NAME_set0_value(gen.get(), GEN_IPADD, ip.release());
    } else {
      Ia5StringPtr dns(ASN1_IA5STRING_new());
      if (!dns || ASN1_STRING_set(dns.get(), name.value.data(),
                                  static_cast<int>(name.value.size())) != 1) {
        return OpenSslError("encoding a DNS subjectAltName");
      }
      GENERAL_NAME_set0_value(gen.get(), GEN_DNS, dns.release());
    }
    if (sk_GENERAL_NAME_push(gens.get(), gen.get()) == 0) {
      return OpenSslError("building subjectAltName");
    }
    gen.release();  // Now owned by `gens`.
  }
  if (X509_add1_ext_i2d(cert, NID_subject_alt_name, gens.get(), /*crit=*/0,
                        X509V3_ADD_DEFAULT) != 1) {
    return OpenSslError("adding subjectAltName");
  }
  return absl::OkStatus();
}

// Adds an extension written in OpenSSL's configuration syntax. Only for
// fixed values: never pass user input here (commas would add entries).
absl::Status AddExtension(X509* cert, X509V3_CTX* ctx, int nid,
                          const char* value) {
  ExtensionPtr ext(X509V3_EXT_conf_nid(nullptr, ctx, nid, value));
  if (!ext || X509_add_ext(cert, ext.get(), -1) != 1) {
    return OpenSslError(absl::StrCat("adding ", OBJ_nid2sn(nid)));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> RandomBytes(size_t n) {
  std::string bytes(n, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(bytes.data()),
                 static_cast<int>(n)) != 1) {
    return OpenSslError("drawing random bytes");
  }
  return bytes;
}

// Creates an unsigned v3 certificate with a random 128-bit serial and the
// given names, key and validity; extensions are up to the caller.
absl::StatusOr<X509Ptr> NewCertificate(std::string_view common_name,
                                       const X509_NAME* issuer,
                                       EVP_PKEY* subject_key,
                                       absl::Time not_before,
                                       absl::Time not_after) {
  X509Ptr cert(X509_new());
  if (!cert || X509_set_version(cert.get(), X509_VERSION_3) != 1) {
    return OpenSslError("creating a certificate");
  }

  absl::StatusOr<std::string> serial_bytes = RandomBytes(16);
  if (!serial_bytes.ok()) return serial_bytes.status();
  BignumPtr serial_bn(
      BN_bin2bn(reinterpret_cast<const unsigned char*>(serial_bytes->data()),
                static_cast<int>(serial_bytes->size()), nullptr));
  if (serial_bn && BN_is_zero(serial_bn.get())) BN_one(serial_bn.get());
  Asn1IntegerPtr serial(serial_bn ? BN_to_ASN1_INTEGER(serial_bn.get(), nullptr)
                                  : nullptr);
  if (!serial || X509_set_serialNumber(cert.get(), serial.get()) != 1) {
    return OpenSslError("setting the serial number");
  }

  NamePtr subject(X509_NAME_new());
  if (!subject ||
      X509_NAME_add_entry_by_txt(
          subject.get(), "O", MBSTRING_UTF8,
          reinterpret_cast<const unsigned char*>("Parley"), -1, -1, 0) != 1 ||
      X509_NAME_add_entry_by_txt(
          subject.get(), "CN", MBSTRING_UTF8,
          reinterpret_cast<const unsigned char*>(common_name.data()),
          static_cast<int>(common_name.size()), -1, 0) != 1 ||
      X509_set_subject_name(cert.get(), subject.get()) != 1 ||
      X509_set_issuer_name(cert.get(),
                           issuer != nullptr ? issuer : subject.get()) != 1) {
    return OpenSslError("setting the subject and issuer");
  }

  if (ASN1_TIME_set(X509_getm_notBefore(cert.get()),
                    absl::ToTimeT(not_before)) == nullptr ||
      ASN1_TIME_set(X509_getm_notAfter(cert.get()), absl::ToTimeT(not_after)) ==
          nullptr) {
    return OpenSslError("setting the validity period");
  }
  if (X509_set_pubkey(cert.get(), subject_key) != 1) {
    return OpenSslError("setting the public key");
  }
  return cert;
}

absl::StatusOr<X509Ptr> MakeCaCertificate(EVP_PKEY* ca_key,
                                          absl::Time not_before,
                                          absl::Time not_after) {
  absl::StatusOr<std::string> tag = RandomBytes(8);
  if (!tag.ok()) return tag.status();
  absl::StatusOr<X509Ptr> cert = NewCertificate(
      absl::StrCat("Parley development CA ", absl::BytesToHexString(*tag)),
      /*issuer=*/nullptr, ca_key, not_before, not_after);
  if (!cert.ok()) return cert.status();
  X509* x = cert->get();

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, /*issuer=*/x, /*subject=*/x, nullptr, nullptr, 0);
  // The subject key identifier must exist before the authority key
  // identifier of a self-signed certificate can refer to it.
  for (const auto& [nid, value] : {
           std::pair{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
           std::pair{NID_key_usage, "critical,keyCertSign,cRLSign"},
           std::pair{NID_subject_key_identifier, "hash"},
           std::pair{NID_authority_key_identifier, "keyid:always"},
       }) {
    if (absl::Status s = AddExtension(x, &ctx, nid, value); !s.ok()) return s;
  }
  if (X509_sign(x, ca_key, EVP_sha256()) == 0) {
    return OpenSslError("signing the CA certificate");
  }
  return cert;
}

absl::StatusOr<X509Ptr> MakeServerCertificate(X509* ca_cert, EVP_PKEY* ca_key,
                                              EVP_PKEY* server_key,
                                              const std::vector<AltName>& names,
                                              absl::Time not_before,
                                              absl::Time not_after) {
  absl::StatusOr<X509Ptr> cert =
      NewCertificate("parleyd", X509_get_subject_name(ca_cert), server_key,
                     not_before, not_after);
  if (!cert.ok()) return cert.status();
  X509* x = cert->get();

  X509V3_CTX ctx;
  X509V3_set_ctx(&ctx, ca_cert, x, nullptr, nullptr, 0);
  for (const auto& [nid, value] : {
           std::pair{NID_basic_constraints, "critical,CA:FALSE"},
           std::pair{NID_key_usage, "critical,digitalSignature"},
           std::pair{NID_ext_key_usage, "serverAuth"},
           std::pair{NID_subject_key_identifier, "hash"},
           std::pair{NID_authority_key_identifier, "keyid:always"},
       }) {
    if (absl::Status s = AddExtension(x, &ctx, nid, value); !s.ok()) return s;
  }
  if (absl::Status s = AddSubjectAltNames(x, names); !s.ok()) return s;
  if (X509_sign(x, ca_key, EVP_sha256()) == 0) {
    return OpenSslError("signing the server certificate");
  }
  return cert;
}

std::string BioContents(BIO* bio) {
  char* data = nullptr;
  long len = BIO_get_mem_data(bio, &data);
  return std::string(data, static_cast<size_t>(len));
}

absl::StatusOr<std::string> CertificatePem(X509* cert) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_X509(bio.get(), cert) != 1) {
    return OpenSslError("writing a certificate as PEM");
  }
  return BioContents(bio.get());
}

absl::StatusOr<std::string> PrivateKeyPem(EVP_PKEY* key) {
  BioPtr bio(BIO_new(BIO_s_mem()));
  if (!bio || PEM_write_bio_PrivateKey(bio.get(), key, nullptr, nullptr, 0,
                                       nullptr, nullptr) != 1) {
    return OpenSslError("writing a private key as PEM");
  }
  return BioContents(bio.get());
}

absl::StatusOr<PkeyPtr> GenerateP256Key() {
  PkeyPtr key(EVP_EC_gen("P-256"));
  if (!key) return OpenSslError("generating an EC P-256 key");
  return key;
}

// Reads every certificate in `pem`, in order. `what` names the input in
// error messages.
absl::StatusOr<std::vector<X509Ptr>> ParseCertificates(std::string_view pem,
                                                       absl::string_view what) {
  absl::StatusOr<BioPtr> bio = ReadOnlyBio(pem);
  if (!bio.ok()) return bio.status();
  std::vector<X509Ptr> certs;
  while (X509* cert =
             PEM_read_bio_X509(bio->get(), nullptr, NoPassphrase, nullptr)) {
    certs.emplace_back(cert);
  }
  // Running out of PEM blocks is how the loop ends; anything else is damage.
  const unsigned long last = ERR_peek_last_error();
  if (ERR_GET_LIB(last) == ERR_LIB_PEM &&
      ERR_GET_REASON(last) == PEM_R_NO_START_LINE) {
    ERR_clear_error();
  } else if (last != 0) {
    return absl::InvalidArgumentError(
        absl::StrCat("cannot parse ", what, ": ", DrainOpenSslErrors()));
  }
  if (certs.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat("no PEM certificate found in ", what));
  }
  return certs;
}

absl::StatusOr<std::string> Sha256Hex(X509* cert) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (X509_digest(cert, EVP_sha256(), md, &len) != 1) {
    return OpenSslError("hashing a certificate");
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(md), len));
}

std::string FormatAsn1Time(const ASN1_TIME* t) {
  struct tm tm = {};
  if (ASN1_TIME_to_tm(t, &tm) != 1) return "an unreadable date";
  return absl::FormatTime("%Y-%m-%d %H:%M:%S UTC",
                          absl::FromTM(tm, absl::UTCTimeZone()),
                          absl::UTCTimeZone());
}

std::string CommonName(X509* cert) {
  const X509_NAME* name = X509_get_subject_name(cert);
  const int index = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (index < 0) return "(no common name)";
  unsigned char* utf8 = nullptr;
  const int len = ASN1_STRING_to_UTF8(
      &utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, index)));
  if (len < 0) return "(unreadable common name)";
  std::string cn(reinterpret_cast<char*>(utf8), len);
  OPENSSL_free(utf8);
  return cn;
}

}  // namespace

absl::StatusOr<DevPki> CreateDevPki(
    const std::vector<std::string>& server_names, absl::Time now,
    absl::Duration validity) {
  if (validity <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("certificate validity must be positive");
  }
  ERR_clear_error();
  absl::StatusOr<std::vector<AltName>> names = ParseServerNames(server_names);
  if (!names.ok()) return names.status();

  absl::StatusOr<PkeyPtr> ca_key = GenerateP256Key();
  if (!ca_key.ok()) return ca_key.status();
  absl::StatusOr<PkeyPtr> server_key = GenerateP256Key();
  if (!server_key.ok()) return server_key.status();

  const absl::Time not_before = now - absl::Hours(1);
  const absl::Time not_after = now + validity;
  absl::StatusOr<X509Ptr> ca =
      MakeCaCertificate(ca_key->get(), not_before, not_after);
  if (!ca.ok()) return ca.status();
  absl::StatusOr<X509Ptr> server =
      MakeServerCertificate(ca->get(), ca_key->get(), server_key->get(), *names,
                            not_before, not_after);
  if (!server.ok()) return server.status();

  absl::StatusOr<std::string> ca_pem = CertificatePem(ca->get());
  absl::StatusOr<std::string> server_pem = CertificatePem(server->get());
  absl::StatusOr<std::string> ca_key_pem = PrivateKeyPem(ca_key->get());
  absl::StatusOr<std::string> server_key_pem = PrivateKeyPem(server_key->get());
  for (const absl::Status& s : {ca_pem.status(), server_pem.status(),
                                ca_key_pem.status(), server_key_pem.status()}) {
    if (!s.ok()) return s;
  }
  DevPki pki;
  pki.ca_cert_pem = *std::move(ca_pem);
  pki.ca_key_pem = *std::move(ca_key_pem);
  pki.server_cert_chain_pem = absl::StrCat(*server_pem, pki.ca_cert_pem);
  pki.server_key_pem = *std::move(server_key_pem);
  return pki;
}

absl::StatusOr<std::string> CertificateFingerprint(std::string_view pem) {
  ERR_clear_error();
  absl::StatusOr<BioPtr> bio = ReadOnlyBio(pem);
  if (!bio.ok()) return bio.status();
  X509Ptr cert(PEM_read_bio_X509(bio->get(), nullptr, NoPassphrase, nullptr));
  if (!cert) {
    return absl::InvalidArgumentError(
        absl::StrCat("no parseable PEM certificate: ", DrainOpenSslErrors()));
  }
  return Sha256Hex(cert.get());
}

absl::Status CheckCertificateAndKey(std::string_view cert_chain_pem,
                                    std::string_view key_pem, absl::Time now,
                                    std::string_view ca_pem) {
  ERR_clear_error();
  absl::StatusOr<std::vector<X509Ptr>> chain =
      ParseCertificates(cert_chain_pem, "the server certificate file");
  if (!chain.ok()) return chain.status();

  absl::StatusOr<BioPtr> key_bio = ReadOnlyBio(key_pem);
  if (!key_bio.ok()) return key_bio.status();
  PkeyPtr key(
      PEM_read_bio_PrivateKey(key_bio->get(), nullptr, NoPassphrase, nullptr));
  if (!key) {
    return absl::InvalidArgumentError(absl::StrCat(
        "cannot parse the server private key (it must be an unencrypted PEM "
        "key): ",
        DrainOpenSslErrors()));
  }
  X509* leaf = chain->front().get();
  if (EVP_PKEY_eq(X509_get0_pubkey(leaf), key.get()) != 1) {
    ERR_clear_error();
    return absl::InvalidArgumentError(absl::StrCat(
        "the server private key does not belong to the server certificate \"",
        CommonName(leaf),
        "\" (the first certificate in the chain file must be the server's)"));
  }

  time_t now_t = absl::ToTimeT(now);
  for (size_t i = 0; i < chain->size(); ++i) {
    X509* cert = (*chain)[i].get();
    const std::string who =
        i == 0 ? "server certificate"
               : absl::StrCat("certificate \"", CommonName(cert),
                              "\" in the server's chain");
    const ASN1_TIME* not_after = X509_get0_notAfter(cert);
    const ASN1_TIME* not_before = X509_get0_notBefore(cert);
    const int after_cmp = X509_cmp_time(not_after, &now_t);
    const int before_cmp = X509_cmp_time(not_before, &now_t);
    if (after_cmp == 0 || before_cmp == 0) {
      return absl::InvalidArgumentError(
          absl::StrCat(who, " has a malformed validity period"));
    }
    if (after_cmp < 0) {
      return absl::FailedPreconditionError(
          absl::StrCat(who, " expired on ", FormatAsn1Time(not_after)));
    }
    if (before_cmp > 0) {
      return absl::FailedPreconditionError(
          absl::StrCat(who, " is not valid until ", FormatAsn1Time(not_before),
                       " (is the system clock right?)"));
    }
  }
  std::vector<X509Ptr> ca;
  if (!ca_pem.empty()) {
    absl::StatusOr<std::vector<X509Ptr>> parsed =
        ParseCertificates(ca_pem, "the CA certificate file");
    if (!parsed.ok()) return parsed.status();
    ca = *std::move(parsed);
  }
  for (size_t i = 0; i < chain->size(); ++i) {
    X509* cert = (*chain)[i].get();
    X509* issuer = i + 1 < chain->size() ? (*chain)[i + 1].get()
                   : !ca.empty()         ? ca.front().get()
                   : X509_check_issued(cert, cert) == X509_V_OK ? cert
                                                                : nullptr;
    if (issuer == nullptr) continue;  // Issued by a CA the file leaves out.
    if (X509_verify(cert, X509_get0_pubkey(issuer)) != 1) {
      ERR_clear_error();
      return absl::InvalidArgumentError(absl::StrCat(
          i == 0 ? std::string("the server certificate")
                 : absl::StrCat("certificate ", i + 1, " in the chain"),
          " \"", CommonName(cert), "\" does not carry a valid signature by \"",
          CommonName(issuer),
          "\": the file is damaged or does not belong with its issuer; "
          "restore it from a backup (clients would refuse every connection)"));
    }
  }
  return absl::OkStatus();
}

}  // namespace parley
