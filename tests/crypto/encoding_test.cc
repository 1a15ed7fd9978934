#include "crypto/encoding.h"

#include <sodium.h>

#include "crypto/ed25519.h"
#include "crypto/hash.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace parley {
namespace {

using ::parley::testing::StatusIs;

TEST(EncodingTest, HexRoundTrip) {
  EXPECT_EQ(HexEncode(std::string("\x00\xff\x10", 3)), "00ff10");
  ASSERT_OK_AND_ASSIGN(std::string bytes, HexDecode("00FF10"));
  EXPECT_EQ(bytes, std::string("\x00\xff\x10", 3));
}

TEST(EncodingTest, HexRejectsOddLengthAndBadCharacters) {
  EXPECT_THAT(HexDecode("abc"), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(HexDecode("zz"), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(EncodingTest, Base64MatchesRfc4648Examples) {
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
  ASSERT_OK_AND_ASSIGN(std::string bytes, Base64Decode("Zm9vYg=="));
  EXPECT_EQ(bytes, "foob");
}

// libsodium 1.0.18's decoder maps some bytes outside the alphabet to
// digits ("\xc1w==" decodes to 0xff); found by tests/fuzz encoding_fuzzer
// (corpus/encoding/regress-base64-non-ascii).
TEST(EncodingTest, Base64RejectsBytesOutsideTheAlphabet) {
  for (int c = 0; c < 256; ++c) {
    const bool in_alphabet = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                             (c >= '0' && c <= '9') || c == '+' || c == '/';
    const std::string text = std::string(1, static_cast<char>(c)) + "w==";
    EXPECT_EQ(Base64Decode(text).ok(), in_alphabet) << "byte " << c;
  }
}

TEST(EncodingTest, Base64RejectsGarbage) {
  EXPECT_THAT(Base64Decode("Zm9vYg=!"),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Base64Decode("Zm9vYg"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(HashTest, Sha256OfEmptyStringIsKnown) {
  EXPECT_EQ(HexEncode(Sha256("")),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256({"a", "bc"}), Sha256("abc"));
}

TEST(HashTest, Sha256MatchesFipsVectorsAndLibsodium) {
  ASSERT_OK(InitCrypto());
  // FIPS 180-4 examples (one block, two blocks).
  EXPECT_EQ(HexEncode(Sha256("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(
      HexEncode(Sha256(
          "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")),
      "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // Every length across several block boundaries, and one large input,
  // against libsodium's independent implementation; split at every third
  // byte too, so the multi-part form is covered.
  std::string data;
  for (int i = 0; i < 300; ++i) data.push_back(static_cast<char>(i * 7 + 1));
  data += std::string(1 << 20, 'x');
  auto reference = [](std::string_view in) {
    std::string out(crypto_hash_sha256_BYTES, '\0');
    crypto_hash_sha256(reinterpret_cast<uint8_t*>(out.data()),
                       reinterpret_cast<const uint8_t*>(in.data()), in.size());
    return out;
  };
  for (size_t n = 0; n <= 300; ++n) {
    std::string_view in = std::string_view(data).substr(0, n);
    EXPECT_EQ(Sha256(in), reference(in)) << "length " << n;
    const size_t third = n / 3;
    EXPECT_EQ(Sha256({in.substr(0, third), in.substr(third, third),
                      in.substr(2 * third)}),
              reference(in))
        << "length " << n << " in three parts";
  }
  EXPECT_EQ(Sha256(data), reference(data));
}

TEST(Ed25519Test, SignVerifyAndRejectFlippedByte) {
  ASSERT_OK(InitCrypto());
  Ed25519PrivateKey key = Ed25519PrivateKey::Generate();
  std::string sig = key.Sign("hello");
  EXPECT_OK(Ed25519Verify(key.public_key(), "hello", sig));
  sig[5] ^= 1;
  EXPECT_THAT(Ed25519Verify(key.public_key(), "hello", sig),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST(Ed25519Test, Rfc8032TestVector1) {
  ASSERT_OK(InitCrypto());
  ASSERT_OK_AND_ASSIGN(std::string seed,
                       HexDecode("9d61b19deffd5a60ba844af492ec2cc44449c5697b3"
                                 "26919703bac031cae7f60"));
  ASSERT_OK_AND_ASSIGN(Ed25519PrivateKey key,
                       Ed25519PrivateKey::FromSeed(seed));
  EXPECT_EQ(HexEncode(key.public_key()),
            "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a");
  EXPECT_EQ(HexEncode(key.Sign("")),
            "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
            "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b");
}

}  // namespace
}  // namespace parley
