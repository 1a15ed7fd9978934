#include "crypto/keystore.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "crypto/passphrase.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace parley {
namespace {

using ::parley::testing::StatusIs;
using ::testing::HasSubstr;

class KeystoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_OK(InitCrypto()); }
  void SetUp() override {
    dir_ = std::filesystem::path(::testing::TempDir()) /
           ("keystore_test_" + std::to_string(getpid()));
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  KeystoreContents Contents() {
    KeystoreContents c{Ed25519PrivateKey::Generate(*random_), {}};
    c.prekeys.push_back(*GeneratePrekey(c.identity, PrekeyKind::kSigned, 1,
                                        now_, kMaxPrekeyLifetime, *random_));
    c.prekeys.push_back(*GeneratePrekey(c.identity, PrekeyKind::kOneTime, 9,
                                        now_, kMaxPrekeyLifetime, *random_));
    return c;
  }

  std::filesystem::path dir_;
  std::unique_ptr<Random> random_ = NewDeterministicRandom("keystore test");
  const absl::Time now_ = absl::FromUnixSeconds(1'790'000'000);
};

void ExpectSameKeys(const KeystoreContents& a, const KeystoreContents& b) {
  EXPECT_EQ(a.identity.public_key(), b.identity.public_key());
  ASSERT_EQ(a.prekeys.size(), b.prekeys.size());
  for (size_t i = 0; i < a.prekeys.size(); ++i) {
    EXPECT_EQ(a.prekeys[i].prekey, b.prekeys[i].prekey);
    EXPECT_EQ(a.prekeys[i].private_key.secret().view(),
              b.prekeys[i].private_key.secret().view());
  }
}

TEST_F(KeystoreTest, SealOpenRoundTrip) {
  KeystoreContents c = Contents();
  ASSERT_OK_AND_ASSIGN(std::string file, SealKeystore(c, "correct horse",
                                                      KdfStrength::kInteractive,
                                                      *random_));
  EXPECT_EQ(file.substr(0, 8), "PARLEYKS");
  ASSERT_OK_AND_ASSIGN(KeystoreContents back,
                       OpenKeystore(file, "correct horse"));
  ExpectSameKeys(c, back);
}

TEST_F(KeystoreTest, WrongPassphraseIsUnauthenticated) {
  ASSERT_OK_AND_ASSIGN(std::string file,
                       SealKeystore(Contents(), "right",
                                    KdfStrength::kInteractive, *random_));
  absl::StatusOr<KeystoreContents> r = OpenKeystore(file, "wrong");
  EXPECT_THAT(r, StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(std::string(r.status().message()), HasSubstr("passphrase"));
  EXPECT_THAT(OpenKeystore(file, ""),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(KeystoreTest, TruncatedFileIsDataLoss) {
  ASSERT_OK_AND_ASSIGN(std::string file,
                       SealKeystore(Contents(), "pw",
                                    KdfStrength::kInteractive, *random_));
  // Every truncation is caught before the (slow) KDF runs.
  for (size_t len = 0; len < file.size(); ++len) {
    EXPECT_THAT(OpenKeystore(file.substr(0, len), "pw"),
                StatusIs(absl::StatusCode::kDataLoss))
        << "length " << len;
  }
  EXPECT_THAT(OpenKeystore(file + "x", "pw"),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(KeystoreTest, FlippedBytesFailCleanly) {
  ASSERT_OK_AND_ASSIGN(std::string file,
                       SealKeystore(Contents(), "pw",
                                    KdfStrength::kInteractive, *random_));
  // One position in every header field, then a few in the ciphertext. Each
  // run may cost an Argon2id evaluation, so not every byte.
  const size_t positions[] = {0,  7,  8,  9,  17, 25, 30, 40,
                              60, 69, 70, 200, file.size() - 1};
  for (size_t pos : positions) {
    std::string flipped = file;
    flipped[pos] ^= 0x01;
    absl::StatusOr<KeystoreContents> r = OpenKeystore(flipped, "pw");
    EXPECT_FALSE(r.ok()) << "byte " << pos;
    EXPECT_THAT(r.status().code(),
                ::testing::AnyOf(absl::StatusCode::kUnauthenticated,
                                 absl::StatusCode::kDataLoss,
                                 absl::StatusCode::kInvalidArgument))
        << "byte " << pos << ": " << r.status();
  }
}

TEST_F(KeystoreTest, NotAKeystoreIsInvalidArgument) {
  EXPECT_THAT(OpenKeystore("hello world, this is a text file", "pw"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(KeystoreTest, ModerateStrengthRoundTrips) {
  KeystoreContents c = Contents();
  ASSERT_OK_AND_ASSIGN(std::string file, SealKeystore(c, "pw",
                                                      KdfStrength::kModerate,
                                                      *random_));
  ASSERT_OK_AND_ASSIGN(KeystoreContents back, OpenKeystore(file, "pw"));
  ExpectSameKeys(c, back);
}

TEST_F(KeystoreTest, FileIsWrittenAtomicallyWithMode0600) {
  const std::string path = (dir_ / "device.keys").string();
  KeystoreContents c = Contents();
  ASSERT_OK(WriteKeystoreFile(path, c, "pw", KdfStrength::kInteractive,
                              *random_));
  struct stat st{};
  ASSERT_EQ(stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  // Overwrite in place; no temporary file is left behind.
  ASSERT_OK(WriteKeystoreFile(path, c, "pw2", KdfStrength::kInteractive,
                              *random_));
  int files = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir_)) {
    (void)entry;
    ++files;
  }
  EXPECT_EQ(files, 1);
  ASSERT_OK_AND_ASSIGN(KeystoreContents back, ReadKeystoreFile(path, "pw2"));
  ExpectSameKeys(c, back);
  EXPECT_THAT(ReadKeystoreFile(path, "pw"),
              StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(KeystoreTest, MissingOrExposedFileIsRefused) {
  EXPECT_THAT(ReadKeystoreFile((dir_ / "absent").string(), "pw"),
              StatusIs(absl::StatusCode::kNotFound));
  const std::string path = (dir_ / "device.keys").string();
  ASSERT_OK(WriteKeystoreFile(path, Contents(), "pw",
                              KdfStrength::kInteractive, *random_));
  ASSERT_EQ(chmod(path.c_str(), 0644), 0);
  EXPECT_THAT(ReadKeystoreFile(path, "pw"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
}

TEST_F(KeystoreTest, WriteIntoMissingDirectoryFailsCleanly) {
  EXPECT_FALSE(WriteKeystoreFile((dir_ / "no" / "such" / "k").string(),
                                 Contents(), "pw", KdfStrength::kInteractive,
                                 *random_)
                   .ok());
}

TEST_F(KeystoreTest, PrekeyErasure) {
  KeystoreContents c = Contents();
  EXPECT_EQ(ErasePrekeysPastGrace(c, now_ + absl::Hours(20 * 24)), 0u);
  EXPECT_OK(EraseOneTimePrekey(c, 9));
  EXPECT_THAT(EraseOneTimePrekey(c, 9), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(c.prekeys.size(), 1u);
  EXPECT_EQ(ErasePrekeysPastGrace(c, now_ + absl::Hours(21 * 24)), 1u);
  EXPECT_TRUE(c.prekeys.empty());
}

TEST(PassphraseTest, ReadsOneLineFromFd) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  const std::string input = "secret words\r\nnext line";
  ASSERT_EQ(write(fds[1], input.data(), input.size()),
            static_cast<ssize_t>(input.size()));
  close(fds[1]);
  ASSERT_OK_AND_ASSIGN(SecureBuffer p, ReadPassphraseFromFd(fds[0]));
  EXPECT_EQ(p.view(), "secret words");
  close(fds[0]);
}

TEST(PassphraseTest, EmptyFdInputIsRefused) {
  int fds[2];
  ASSERT_EQ(pipe(fds), 0);
  close(fds[1]);
  EXPECT_THAT(ReadPassphraseFromFd(fds[0]),
              StatusIs(absl::StatusCode::kInvalidArgument));
  close(fds[0]);
  EXPECT_FALSE(ReadPassphraseFromFd(-1).ok());
}

TEST(PassphraseTest, ReadsEnvironment) {
  ASSERT_EQ(setenv("PARLEY_TEST_PASSPHRASE", "from env\n", 1), 0);
  ASSERT_OK_AND_ASSIGN(SecureBuffer p,
                       PassphraseFromEnvironment("PARLEY_TEST_PASSPHRASE"));
  EXPECT_EQ(p.view(), "from env");
  unsetenv("PARLEY_TEST_PASSPHRASE");
  EXPECT_THAT(PassphraseFromEnvironment("PARLEY_TEST_PASSPHRASE"),
              StatusIs(absl::StatusCode::kNotFound));
}

}  // namespace
}  // namespace parley
