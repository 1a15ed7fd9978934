#include "client/core/identity.h"

#include <sys/stat.h>

#include "gtest/gtest.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/subprocess.h"

namespace parley {
namespace {

using ::parley::testing::FakeClock;
using ::parley::testing::StatusIs;
using ::parley::testing::TempDir;

class DeviceKeysTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_OK(InitCrypto()); }
  FakeClock clock_;
};

TEST_F(DeviceKeysTest, GeneratedKeysSurviveTheKeystore) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(DeviceKeys keys, DeviceKeys::Generate(clock_.Now()));
  EXPECT_EQ(keys.current_signed_prekey().prekey.key_id, 1u);
  KeyBundle bundle = keys.Bundle();
  EXPECT_TRUE(bundle.one_time_prekeys.empty());
  EXPECT_OK(VerifyKeyBundleAt(bundle, clock_.Now()));
  const std::string path = dir.Sub("keystore");
  ASSERT_OK(keys.Save(path, "correct horse"));
  struct stat st {};
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_OK_AND_ASSIGN(DeviceKeys back, DeviceKeys::Load(path, "correct horse"));
  EXPECT_EQ(back.identity().public_key(), keys.identity().public_key());
  EXPECT_EQ(back.Bundle(), bundle);
  EXPECT_THAT(DeviceKeys::Load(path, "wrong"),
              StatusIs(absl::StatusCode::kUnauthenticated));
  EXPECT_THAT(DeviceKeys::Load(dir.Sub("none"), "x"),
              StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(DeviceKeysTest, RotationKeepsOldPrekeysUntilPastGrace) {
  ASSERT_OK_AND_ASSIGN(DeviceKeys keys, DeviceKeys::Generate(clock_.Now()));
  clock_.Advance(absl::Hours(5 * 24));
  EXPECT_FALSE(PrekeyNeedsRotation(keys.current_signed_prekey().prekey,
                                   clock_.Now()));
  clock_.Advance(absl::Hours(24));
  ASSERT_TRUE(PrekeyNeedsRotation(keys.current_signed_prekey().prekey,
                                  clock_.Now()));
  ASSERT_OK_AND_ASSIGN(KeyBundle bundle, keys.RotateSignedPrekey(clock_.Now()));
  EXPECT_EQ(bundle.signed_prekey.key_id, 2u);
  EXPECT_EQ(keys.prekeys().size(), 2u);
  // Prekey 1 expires at day 7 and is kept 14 more days.
  clock_.Advance(absl::Hours(14 * 24));
  EXPECT_EQ(keys.EraseExpired(clock_.Now()), 0u);
  clock_.Advance(absl::Hours(2 * 24));
  EXPECT_EQ(keys.EraseExpired(clock_.Now()), 1u);
  ASSERT_EQ(keys.prekeys().size(), 1u);
  EXPECT_EQ(keys.current_signed_prekey().prekey.key_id, 2u);
  // The current prekey is never erased, however old.
  clock_.Advance(absl::Hours(60 * 24));
  EXPECT_EQ(keys.EraseExpired(clock_.Now()), 0u);
}

}  // namespace
}  // namespace parley
