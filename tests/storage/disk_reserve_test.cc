// LogStore's free-space reserve: appends and checkpoint signing are refused
// before anything is written while the disk is below it, and go through
// again by themselves once it is not (unlike a failed write, which is
// sticky). The disk is injected; tests/server/disk_full_test.cc fills a
// real one.

#include <atomic>

#include "absl/status/status.h"
#include "gtest/gtest.h"
#include "storage/log_store.h"
#include "tests/storage/log_test_util.h"
#include "tests/testing/status_matchers.h"

namespace parley::testing {
namespace {

class DiskReserveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    options_.path = dir_.path() + "/db";
    options_.origin = kTestOrigin;
    options_.signer = &key_;
    options_.clock = &clock_;
    options_.background_checkpoints = false;
    options_.min_free_bytes = 100;
    options_.free_bytes = [this]() -> absl::StatusOr<uint64_t> {
      return free_.load();
    };
    ASSERT_OK_AND_ASSIGN(log_, LogStore::Open(options_));
  }

  ScratchDir dir_;
  Ed25519PrivateKey key_ = TestLogKey();
  FakeClock clock_;
  LogOptions options_;
  std::atomic<uint64_t> free_{1000};
  std::unique_ptr<LogStore> log_;
};

TEST_F(DiskReserveTest, AppendsRefusedBelowTheReserveResumeWithSpace) {
  ASSERT_OK(log_->Append("one").status());
  ASSERT_OK(log_->WritableStatus());
  free_ = 99;
  absl::StatusOr<uint64_t> refused = log_->Append("two");
  EXPECT_THAT(refused.status(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(std::string(refused.status().message()),
              ::testing::HasSubstr("reserve"));
  EXPECT_THAT(log_->AppendMany({"a", "b"}).status(),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(log_->WritableStatus(), StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_THAT(log_->SignCheckpointNow().status(),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(log_->Size(), 1u);
  // Reads go on.
  ASSERT_OK_AND_ASSIGN(std::string entry, log_->GetEntry(0));
  EXPECT_EQ(entry, "one");

  free_ = 100;
  ASSERT_OK(log_->WritableStatus());
  ASSERT_OK_AND_ASSIGN(uint64_t index, log_->Append("two"));
  EXPECT_EQ(index, 1u);
  ASSERT_OK_AND_ASSIGN(SignedCheckpoint cp, log_->SignCheckpointNow());
  EXPECT_EQ(cp.size, 2u);
}

TEST_F(DiskReserveTest, AnUnreadableDiskRefusesWritesToo) {
  options_.free_bytes = []() -> absl::StatusOr<uint64_t> {
    return absl::UnavailableError("statvfs failed");
  };
  log_.reset();
  ASSERT_OK_AND_ASSIGN(log_, LogStore::Open(options_));
  EXPECT_THAT(log_->Append("x").status(),
              StatusIs(absl::StatusCode::kUnavailable));
  EXPECT_EQ(log_->Size(), 0u);
}

}  // namespace
}  // namespace parley::testing
