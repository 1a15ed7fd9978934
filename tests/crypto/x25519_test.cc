#include "crypto/x25519.h"

#include <sodium.h>

#include "crypto/ed25519.h"
#include "crypto/encoding.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace parley {
namespace {

using ::parley::testing::StatusIs;

std::string Hex(std::string_view h) { return *HexDecode(h); }

// The canonical small-order u-coordinates (little-endian hex).
const char* const kSmallOrder[] = {
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0100000000000000000000000000000000000000000000000000000000000000",
    "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
    "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
};

class X25519Test : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(InitCrypto()); }
};

TEST_F(X25519Test, BothSidesAgree) {
  X25519PrivateKey a = X25519PrivateKey::Generate();
  X25519PrivateKey b = X25519PrivateKey::Generate();
  ASSERT_OK_AND_ASSIGN(SecureBuffer ab, X25519SharedSecret(a, b.public_key()));
  ASSERT_OK_AND_ASSIGN(SecureBuffer ba, X25519SharedSecret(b, a.public_key()));
  EXPECT_EQ(ab.view(), ba.view());
}

TEST_F(X25519Test, Rfc7748AliceBob) {
  ASSERT_OK_AND_ASSIGN(
      X25519PrivateKey alice,
      X25519PrivateKey::FromBytes(Hex("77076d0a7318a57d3c16c17251b26645df4c2f8"
                                      "7ebc0992ab177fba51db92c2a")));
  EXPECT_EQ(HexEncode(alice.public_key()),
            "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a");
  ASSERT_OK_AND_ASSIGN(
      SecureBuffer shared,
      X25519SharedSecret(alice, Hex("de9edb7d7b7dc1b4d35b61c2ece435373f8343c"
                                    "85b78674dadfc7e146f882b4f")));
  EXPECT_EQ(HexEncode(shared.view()),
            "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742");
}

TEST_F(X25519Test, EveryListedPointReallyHasSmallOrder) {
  // Guards the constant table: libsodium must yield the all-zero secret.
  X25519PrivateKey k = X25519PrivateKey::Generate();
  for (const char* hex : kSmallOrder) {
    std::string p = Hex(hex);
    uint8_t out[32];
    EXPECT_NE(crypto_scalarmult(out, k.secret().data(),
                                reinterpret_cast<const uint8_t*>(p.data())),
              0)
        << hex;
  }
}

TEST_F(X25519Test, SmallOrderPublicKeysAreRejected) {
  X25519PrivateKey k = X25519PrivateKey::Generate();
  for (const char* hex : kSmallOrder) {
    EXPECT_THAT(CheckX25519PublicKey(Hex(hex)),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << hex;
    EXPECT_THAT(X25519SharedSecret(k, Hex(hex)),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << hex;
  }
}

TEST_F(X25519Test, NonCanonicalEncodingsAreRejected) {
  // p itself, p + 1 and a key with bit 255 set.
  for (const char* hex :
       {"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "0900000000000000000000000000000000000000000000000000000000000080"}) {
    EXPECT_THAT(CheckX25519PublicKey(Hex(hex)),
                StatusIs(absl::StatusCode::kInvalidArgument))
        << hex;
  }
  EXPECT_OK(CheckX25519PublicKey(Hex(
      "0900000000000000000000000000000000000000000000000000000000000000")));
}

TEST_F(X25519Test, WrongLengthsAreRejected) {
  EXPECT_THAT(X25519PrivateKey::FromBytes("short"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(CheckX25519PublicKey(std::string(31, '\x09')),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace parley
