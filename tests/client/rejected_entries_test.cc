#include "client/core/rejected_entries.h"

#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "absl/time/time.h"
#include "crypto/file_util.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/testing/status_matchers.h"
#include "tests/testing/subprocess.h"

namespace parley {
namespace {

using ::testing::EndsWith;
using ::testing::HasSubstr;

size_t CountFiles(const std::string& dir) {
  size_t n = 0;
  for (const auto& f : std::filesystem::directory_iterator(dir)) {
    (void)f;
    ++n;
  }
  return n;
}

TEST(RejectedEntriesTest, KeepsTheExactBytesAndWhyByIndex) {
  ::parley::testing::TempDir tmp;
  const std::string bytes("\x01\x07\x00\xff bad copy", 13);
  const absl::Time at = absl::FromUnixSeconds(1'790'000'000);
  ASSERT_OK_AND_ASSIGN(
      std::string path,
      KeepRejectedEntry(tmp.path(), 42, bytes, "bad signature", at));
  EXPECT_EQ(path.rfind(tmp.path() + "/rejected/42-", 0), 0u) << path;
  EXPECT_THAT(path, EndsWith(".entry"));
  ASSERT_OK_AND_ASSIGN(std::string kept, ReadFile(path));
  EXPECT_EQ(kept, bytes);
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  const std::string about_path =
      path.substr(0, path.size() - std::string(".entry").size()) + ".json";
  ASSERT_OK_AND_ASSIGN(std::string about_text, ReadFile(about_path));
  nlohmann::json about = nlohmann::json::parse(about_text);
  EXPECT_EQ(about["index"], 42);
  EXPECT_EQ(about["reason"], "bad signature");
  EXPECT_EQ(about["bytes"], bytes.size());
  EXPECT_EQ(about["received_at"], "2026-09-21T14:13:20Z");
}

TEST(RejectedEntriesTest, EachDistinctBadCopyIsKeptOnce) {
  ::parley::testing::TempDir tmp;
  const absl::Time at = absl::FromUnixSeconds(1'790'000'000);
  ASSERT_OK_AND_ASSIGN(std::string first,
                       KeepRejectedEntry(tmp.path(), 5, "aaa", "x", at));
  ASSERT_OK_AND_ASSIGN(std::string again,
                       KeepRejectedEntry(tmp.path(), 5, "aaa", "x", at));
  EXPECT_EQ(first, again);
  EXPECT_EQ(CountFiles(tmp.path() + "/rejected"), 2u);
  ASSERT_OK_AND_ASSIGN(std::string other,
                       KeepRejectedEntry(tmp.path(), 5, "aab", "x", at));
  EXPECT_NE(first, other);
  EXPECT_EQ(CountFiles(tmp.path() + "/rejected"), 4u);
}

TEST(RejectedEntriesTest, AReasonThatIsNotUtf8IsStillWritten) {
  ::parley::testing::TempDir tmp;
  EXPECT_OK(
      KeepRejectedEntry(tmp.path(), 1, "b", "bad \xff byte", absl::UnixEpoch())
          .status());
}

TEST(RejectedEntriesTest, UnwritableProfileIsAnError) {
  EXPECT_FALSE(
      KeepRejectedEntry("/proc/no-such-profile", 1, "b", "r", absl::UnixEpoch())
          .ok());
}

}  // namespace
}  // namespace parley
