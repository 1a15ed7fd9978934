#include "server/dev_pki.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/time/civil_time.h"
#include "absl/time/time.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace parley {
namespace {

using ::parley::testing::StatusIs;
using ::testing::HasSubstr;
using ::testing::MatchesRegex;
using ::testing::StartsWith;

struct X509Free {
  void operator()(X509* x) const { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

const absl::Time kNow = absl::FromCivil(absl::CivilSecond(2025, 1, 1, 0, 0, 0),
                                        absl::UTCTimeZone());

std::vector<X509Ptr> ParsePem(const std::string& pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), &BIO_free);
  std::vector<X509Ptr> certs;
  while (X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr)) {
    certs.emplace_back(x);
  }
  return certs;
}

X509Ptr ParseOne(const std::string& pem) {
  std::vector<X509Ptr> certs = ParsePem(pem);
  return certs.empty() ? nullptr : std::move(certs.front());
}

absl::Time ToAbslTime(const ASN1_TIME* t) {
  struct tm tm = {};
  EXPECT_EQ(ASN1_TIME_to_tm(t, &tm), 1);
  return absl::FromTM(tm, absl::UTCTimeZone());
}

// SHA-256 over i2d_X509's output: a different path from the one under test.
std::string IndependentFingerprint(X509* cert) {
  unsigned char* der = nullptr;
  const int len = i2d_X509(cert, &der);
  unsigned char md[32];
  EVP_Digest(der, len, md, nullptr, EVP_sha256(), nullptr);
  OPENSSL_free(der);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<char*>(md), sizeof(md)));
}

// Verifies `leaf` against `ca` as the only trust anchor, for TLS server use,
// at `when`. Returns the X509_V_* result.
int VerifyAt(X509* leaf, X509* ca, absl::Time when) {
  X509_STORE* store = X509_STORE_new();
  X509_STORE_add_cert(store, ca);
  X509_STORE_CTX* ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, store, leaf, nullptr);
  X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_SERVER);
  X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx),
                             absl::ToTimeT(when));
  const int ok = X509_verify_cert(ctx);
  const int err = ok == 1 ? X509_V_OK : X509_STORE_CTX_get_error(ctx);
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  return err;
}

class DevPkiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    absl::StatusOr<DevPki> pki = CreateDevPki({}, kNow);
    ASSERT_TRUE(pki.ok()) << pki.status();
    pki_ = *std::move(pki);
    ca_ = ParseOne(pki_.ca_cert_pem);
    chain_ = ParsePem(pki_.server_cert_chain_pem);
    ASSERT_NE(ca_, nullptr);
    ASSERT_EQ(chain_.size(), 2u);
  }

  X509* leaf() { return chain_[0].get(); }

  DevPki pki_;
  X509Ptr ca_;
  std::vector<X509Ptr> chain_;
};

TEST_F(DevPkiTest, CaIsSelfSignedPathLenZeroCertificateAuthority) {
  X509* ca = ca_.get();
  EXPECT_EQ(X509_check_issued(ca, ca), X509_V_OK);
  EXPECT_TRUE(X509_get_extension_flags(ca) & EXFLAG_CA);
  EXPECT_EQ(X509_get_pathlen(ca), 0);
  EXPECT_EQ(X509_get_key_usage(ca), KU_KEY_CERT_SIGN | KU_CRL_SIGN);
  EXPECT_NE(X509_get0_subject_key_id(ca), nullptr);
  EXPECT_NE(X509_get0_authority_key_id(ca), nullptr);
  EXPECT_EQ(EVP_PKEY_get_base_id(X509_get0_pubkey(ca)), EVP_PKEY_EC);

  char cn[128] = {};
  X509_NAME_get_text_by_NID(X509_get_subject_name(ca), NID_commonName, cn,
                            sizeof(cn));
  EXPECT_THAT(cn, MatchesRegex("Parley development CA [0-9a-f]{16}"));
}

TEST_F(DevPkiTest, EachCaHasItsOwnNameAndSerial) {
  absl::StatusOr<DevPki> other = CreateDevPki({}, kNow);
  ASSERT_TRUE(other.ok()) << other.status();
  X509Ptr other_ca = ParseOne(other->ca_cert_pem);
  EXPECT_NE(X509_NAME_cmp(X509_get_subject_name(ca_.get()),
                          X509_get_subject_name(other_ca.get())),
            0);
  EXPECT_NE(ASN1_INTEGER_cmp(X509_get0_serialNumber(ca_.get()),
                             X509_get0_serialNumber(other_ca.get())),
            0);
  EXPECT_NE(other->ca_key_pem, pki_.ca_key_pem);
}

TEST_F(DevPkiTest, ServerCertificateIsALeafForTlsServers) {
  X509* cert = leaf();
  EXPECT_FALSE(X509_get_extension_flags(cert) & EXFLAG_CA);
  EXPECT_EQ(X509_get_key_usage(cert), KU_DIGITAL_SIGNATURE);
  EXPECT_EQ(X509_get_extended_key_usage(cert), XKU_SSL_SERVER);
  EXPECT_EQ(X509_check_issued(ca_.get(), cert), X509_V_OK);
  // The chain file ends with exactly the CA certificate.
  EXPECT_EQ(X509_cmp(chain_[1].get(), ca_.get()), 0);
}

TEST_F(DevPkiTest, SerialsArePositiveAndAtMost128Bits) {
  for (X509* cert : {ca_.get(), leaf()}) {
    const ASN1_INTEGER* serial = X509_get0_serialNumber(cert);
    BIGNUM* bn = ASN1_INTEGER_to_BN(serial, nullptr);
    EXPECT_FALSE(BN_is_negative(bn));
    EXPECT_FALSE(BN_is_zero(bn));
    EXPECT_LE(BN_num_bits(bn), 128);
    BN_free(bn);
  }
}

TEST_F(DevPkiTest, ValidFromAnHourAgoForTheRequestedDuration) {
  for (X509* cert : {ca_.get(), leaf()}) {
    EXPECT_EQ(ToAbslTime(X509_get0_notBefore(cert)), kNow - absl::Hours(1));
    EXPECT_EQ(ToAbslTime(X509_get0_notAfter(cert)),
              kNow + absl::Hours(24 * 365));
  }
  absl::StatusOr<DevPki> short_lived = CreateDevPki({}, kNow, absl::Minutes(5));
  ASSERT_TRUE(short_lived.ok()) << short_lived.status();
  X509Ptr cert = ParseOne(short_lived->server_cert_chain_pem);
  EXPECT_EQ(ToAbslTime(X509_get0_notAfter(cert.get())),
            kNow + absl::Minutes(5));
}

TEST_F(DevPkiTest, ChainVerifiesAgainstItsCaOnly) {
  EXPECT_EQ(VerifyAt(leaf(), ca_.get(), kNow), X509_V_OK);
  EXPECT_EQ(VerifyAt(leaf(), ca_.get(), kNow + absl::Hours(24 * 366)),
            X509_V_ERR_CERT_HAS_EXPIRED);

  absl::StatusOr<DevPki> other = CreateDevPki({}, kNow);
  ASSERT_TRUE(other.ok()) << other.status();
  X509Ptr other_ca = ParseOne(other->ca_cert_pem);
  EXPECT_NE(VerifyAt(leaf(), other_ca.get(), kNow), X509_V_OK);
}

TEST_F(DevPkiTest, DefaultSubjectAltNames) {
  X509* cert = leaf();
  EXPECT_EQ(X509_check_host(cert, "localhost", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_host(cert, "parleyd", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(cert, "127.0.0.1", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(cert, "::1", 0), 1);
  EXPECT_EQ(X509_check_host(cert, "example.com", 0, 0, nullptr), 0);
  EXPECT_EQ(X509_check_ip_asc(cert, "10.0.0.1", 0), 0);
}

TEST(DevPkiNamesTest, ExtraNamesBecomeDnsOrIpSansWithoutDuplicates) {
  absl::StatusOr<DevPki> pki =
      CreateDevPki({"chat.example.org", "10.1.2.3", "[fd00::7]", "2001:db8::1",
                    "LOCALHOST", "127.0.0.1"},
                   kNow);
  ASSERT_TRUE(pki.ok()) << pki.status();
  X509Ptr cert = ParseOne(pki->server_cert_chain_pem);
  EXPECT_EQ(X509_check_host(cert.get(), "chat.example.org", 0, 0, nullptr), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "10.1.2.3", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "fd00::7", 0), 1);
  EXPECT_EQ(X509_check_ip_asc(cert.get(), "2001:db8::1", 0), 1);
  EXPECT_EQ(X509_check_host(cert.get(), "10.1.2.3", 0, 0, nullptr), 0)
      << "an IP literal must not become a DNS name";

  GENERAL_NAMES* sans = static_cast<GENERAL_NAMES*>(
      X509_get_ext_d2i(cert.get(), NID_subject_alt_name, nullptr, nullptr));
  ASSERT_NE(sans, nullptr);
  // 4 defaults + 4 new; "LOCALHOST" and "127.0.0.1" are already there.
  EXPECT_EQ(sk_GENERAL_NAME_num(sans), 8);
  GENERAL_NAMES_free(sans);
}

TEST(DevPkiNamesTest, RejectsNamesThatAreNeitherIpNorDns) {
  for (const char* bad : {"", "two words", "a.example,DNS:evil.example",
                          "[not-an-ip]", "tab\there"}) {
    EXPECT_THAT(CreateDevPki({bad}, kNow),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << "name: " << bad;
  }
}

TEST(DevPkiNamesTest, RejectsNonPositiveValidity) {
  EXPECT_THAT(CreateDevPki({}, kNow, absl::ZeroDuration()),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(DevPkiTest, FingerprintIsLowerHexSha256OfTheFirstCertificate) {
  absl::StatusOr<std::string> fp = CertificateFingerprint(pki_.ca_cert_pem);
  ASSERT_TRUE(fp.ok()) << fp.status();
  EXPECT_THAT(*fp, MatchesRegex("[0-9a-f]{64}"));
  EXPECT_EQ(*fp, IndependentFingerprint(ca_.get()));
  EXPECT_EQ(CertificateFingerprint(pki_.ca_cert_pem).value(), *fp);

  absl::StatusOr<std::string> leaf_fp =
      CertificateFingerprint(pki_.server_cert_chain_pem);
  ASSERT_TRUE(leaf_fp.ok()) << leaf_fp.status();
  EXPECT_EQ(*leaf_fp, IndependentFingerprint(leaf()));
  EXPECT_NE(*leaf_fp, *fp);
}

TEST(CertificateFingerprintTest, RejectsInputWithoutCertificate) {
  EXPECT_THAT(CertificateFingerprint(""),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(CertificateFingerprint("-----BEGIN CERTIFICATE-----\nAAAA\n"
                                     "-----END CERTIFICATE-----\n"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(DevPkiTest, CheckAcceptsTheCreatedPair) {
  EXPECT_OK(CheckCertificateAndKey(pki_.server_cert_chain_pem,
                                   pki_.server_key_pem, kNow));
  EXPECT_OK(CheckCertificateAndKey(pki_.ca_cert_pem, pki_.ca_key_pem, kNow));
}

TEST_F(DevPkiTest, CheckRejectsAKeyOfAnotherCertificate) {
  absl::Status s =
      CheckCertificateAndKey(pki_.server_cert_chain_pem, pki_.ca_key_pem, kNow);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(s.message()), HasSubstr("does not belong"));

  absl::StatusOr<DevPki> other = CreateDevPki({}, kNow);
  ASSERT_TRUE(other.ok()) << other.status();
  EXPECT_THAT(CheckCertificateAndKey(pki_.server_cert_chain_pem,
                                     other->server_key_pem, kNow),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(CheckCertificateAndKeyTest, RejectsAnExpiredCertificateWithItsDate) {
  // Valid until exactly 2026-01-01 00:00:00 UTC.
  absl::StatusOr<DevPki> pki = CreateDevPki({}, kNow, absl::Hours(24 * 365));
  ASSERT_TRUE(pki.ok()) << pki.status();
  const absl::Time later = kNow + absl::Hours(24 * 400);
  absl::Status s = CheckCertificateAndKey(pki->server_cert_chain_pem,
                                          pki->server_key_pem, later);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_EQ(s.message(),
            "server certificate expired on 2026-01-01 00:00:00 UTC");
}

TEST(CheckCertificateAndKeyTest, RejectsACertificateNotYetValid) {
  absl::StatusOr<DevPki> pki = CreateDevPki({}, kNow);
  ASSERT_TRUE(pki.ok()) << pki.status();
  absl::Status s = CheckCertificateAndKey(
      pki->server_cert_chain_pem, pki->server_key_pem, kNow - absl::Hours(2));
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(s.message()),
              StartsWith("server certificate is not valid until "
                         "2024-12-31 23:00:00 UTC"));
}

TEST(CheckCertificateAndKeyTest, RejectsAnExpiredCaInTheChain) {
  absl::StatusOr<DevPki> old_pki = CreateDevPki({}, kNow, absl::Hours(1));
  absl::StatusOr<DevPki> new_pki = CreateDevPki({}, kNow, absl::Hours(48));
  ASSERT_TRUE(old_pki.ok() && new_pki.ok());
  // A fresh leaf followed by a stale CA: only the CA is out of date.
  std::vector<X509Ptr> fresh = ParsePem(new_pki->server_cert_chain_pem);
  BIO* bio = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(bio, fresh[0].get());
  char* data = nullptr;
  const long len = BIO_get_mem_data(bio, &data);
  const std::string chain = std::string(data, len) + old_pki->ca_cert_pem;
  BIO_free(bio);

  absl::Status s = CheckCertificateAndKey(chain, new_pki->server_key_pem,
                                          kNow + absl::Hours(2));
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(std::string(s.message()), HasSubstr("Parley development CA"));
  EXPECT_THAT(std::string(s.message()), HasSubstr("expired on"));
}

TEST(CheckCertificateAndKeyTest, RejectsUnparseableInput) {
  absl::StatusOr<DevPki> pki = CreateDevPki({}, kNow);
  ASSERT_TRUE(pki.ok()) << pki.status();
  EXPECT_THAT(
      CheckCertificateAndKey("not a certificate", pki->server_key_pem, kNow),
      StatusIs(absl::StatusCode::kInvalidArgument));
  absl::Status s =
      CheckCertificateAndKey(pki->server_cert_chain_pem, "not a key", kNow);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(s.message()), HasSubstr("private key"));
}

}  // namespace
}  // namespace parley
