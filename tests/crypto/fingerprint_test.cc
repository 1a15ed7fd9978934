#include "crypto/fingerprint.h"

#include <regex>

#include "crypto/ed25519.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace parley {
namespace {

using ::parley::testing::StatusIs;

TEST(FingerprintTest, TwelveGroupsOfFiveDigits) {
  ASSERT_OK(InitCrypto());
  ASSERT_OK_AND_ASSIGN(
      std::string fp,
      IdentityFingerprint(Ed25519PrivateKey::Generate().public_key()));
  EXPECT_TRUE(std::regex_match(fp, std::regex("[0-9]{5}( [0-9]{5}){11}")))
      << fp;
}

TEST(FingerprintTest, StableAndKeyDependent) {
  const std::string a(32, 'a'), b(32, 'b');
  EXPECT_EQ(*IdentityFingerprint(a), *IdentityFingerprint(a));
  EXPECT_NE(*IdentityFingerprint(a), *IdentityFingerprint(b));
}

TEST(FingerprintTest, PairFingerprintIsSymmetric) {
  const std::string a(32, 'a'), b(32, 'b'), c(32, 'c');
  EXPECT_EQ(*PairFingerprint(a, b), *PairFingerprint(b, a));
  EXPECT_NE(*PairFingerprint(a, b), *PairFingerprint(a, c));
  EXPECT_NE(*PairFingerprint(a, b), *IdentityFingerprint(a));
}

TEST(FingerprintTest, RejectsBadInput) {
  EXPECT_THAT(IdentityFingerprint("short"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  const std::string a(32, 'a');
  EXPECT_THAT(PairFingerprint(a, a),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace parley
