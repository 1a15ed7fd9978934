// StorageScrub: slice by slice, it finds damage to the log and to the
// indexes while the store is open, reports the first once, and otherwise
// completes passes quietly.

#include "server/storage_scrub.h"

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/ledger.h"
#include "storage/log_schema.h"
#include "storage/tlog/merkle.h"
#include "tests/storage/log_test_util.h"
#include "tests/testing/status_matchers.h"

namespace parley {
namespace {

namespace schema = log_schema;
using ::parley::testing::RawLogDb;
using ::parley::testing::ScratchDir;
using ::parley::testing::StatusIs;
using ::testing::HasSubstr;

constexpr int kEntries = 300;

class StorageScrubTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = Open();
    ASSERT_OK(store);
    for (int i = 0; i < kEntries; ++i) {
      ASSERT_OK((*store)
                    ->Append(absl::StrCat("entry ", i),
                             {{index_cf::kInbox, InboxKey("b", i),
                               std::string(1, '\x01')}})
                    .status());
    }
  }
  absl::StatusOr<std::unique_ptr<LogStore>> Open() {
    LogOptions o;
    o.path = dir_.path();
    o.origin = testing::kTestOrigin;
    o.signer = &key_;
    o.clock = &clock_;
    o.background_checkpoints = false;
    return LogStore::Open(o, LedgerIndexFamilies());
  }
  // Scrubs until a pass completes or damage is found (bounded).
  absl::Status ScrubOnePass(StorageScrub& scrub) {
    for (int i = 0; i < 1000 && scrub.passes() == 0; ++i) {
      if (absl::Status s = scrub.ScrubSlice(); !s.ok()) return s;
    }
    return scrub.passes() > 0 ? absl::OkStatus()
                              : absl::DeadlineExceededError("no pass");
  }

  struct Report {
    int calls = 0;
    StorageScrub::Damage damage = StorageScrub::Damage::kIndex;
  };
  StorageScrub::DamageListener Listener(Report* report) {
    return [report](StorageScrub::Damage d, const absl::Status&) {
      ++report->calls;
      report->damage = d;
    };
  }

  ScratchDir dir_;
  Ed25519PrivateKey key_ = testing::TestLogKey();
  testing::FakeClock clock_;
  StorageScrubOptions options_{/*entries_per_slice=*/50,
                               /*index_keys_per_slice=*/40,
                               absl::Seconds(1)};
};

TEST_F(StorageScrubTest, UndamagedStoreCompletesPassesQuietly) {
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  Report report;
  StorageScrub scrub(store.get(), options_, Listener(&report));
  EXPECT_OK(ScrubOnePass(scrub));
  EXPECT_EQ(scrub.passes(), 1u);
  EXPECT_OK(ScrubOnePass(scrub));
  EXPECT_EQ(report.calls, 0);
}

TEST_F(StorageScrubTest, EntryRewrittenWithItsLeafHashIsFoundOnceAsLogDamage) {
  {
    RawLogDb db(dir_.path());
    db.Put(schema::kEntries, schema::U64Key(123), "forged");
    db.Put(schema::kNodes, schema::NodeKey(0, 123), LeafHash("forged"));
  }
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  Report report;
  StorageScrub scrub(store.get(), options_, Listener(&report));
  absl::Status s = ScrubOnePass(scrub);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_EQ(report.calls, 1);
  EXPECT_EQ(report.damage, StorageScrub::Damage::kLog);
  EXPECT_THAT(scrub.ScrubSlice(), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_EQ(report.calls, 1);  // Reported once.
}

TEST_F(StorageScrubTest, FlippedInteriorNodeIsFound) {
  { RawLogDb(dir_.path()).FlipByte(schema::kNodes, schema::NodeKey(2, 40)); }
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  Report report;
  StorageScrub scrub(store.get(), options_, Listener(&report));
  absl::Status s = ScrubOnePass(scrub);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(s.message(), HasSubstr("level 2, index 40"));
  EXPECT_EQ(report.damage, StorageScrub::Damage::kLog);
}

TEST_F(StorageScrubTest, MalformedInboxValueIsFoundAsIndexDamage) {
  {
    RawLogDb(dir_.path())
        .Put(std::string(schema::kIndexPrefix) + index_cf::kInbox,
             InboxKey("b", 250), "xx");
  }
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  Report report;
  StorageScrub scrub(store.get(), options_, Listener(&report));
  absl::Status s = ScrubOnePass(scrub);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(s.message(), HasSubstr("index \"inbox\""));
  EXPECT_EQ(report.calls, 1);
  EXPECT_EQ(report.damage, StorageScrub::Damage::kIndex);
}

TEST_F(StorageScrubTest, InboxKeyNamingAnEntryBeyondTheLogIsFound) {
  {
    RawLogDb(dir_.path())
        .Put(std::string(schema::kIndexPrefix) + index_cf::kInbox,
             InboxKey("b", 1u << 30), std::string(1, '\x01'));
  }
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  StorageScrub scrub(store.get(), options_, nullptr);
  EXPECT_THAT(ScrubOnePass(scrub), StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(StorageScrubTest, BackgroundThreadStopsPromptlyOnDestruction) {
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  StorageScrubOptions options = options_;
  options.interval = absl::Hours(1);
  absl::Time start = absl::Now();
  {
    StorageScrub scrub(store.get(), options, nullptr);
    scrub.Start();
  }
  EXPECT_LT(absl::Now() - start, absl::Seconds(5));
}

}  // namespace
}  // namespace parley
