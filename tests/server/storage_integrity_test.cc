// Storage integrity as members and operators see it: a damaged index ends a
// Subscribe stream with DATA_LOSS (never "caught up"); `parleyd check`
// (CheckStore) finds every index difference from the log, and `parleyd
// repair --rebuild-indexes` (RebuildIndexes) rebuilds them, refusing a
// damaged log and a store in use.

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "server/ledger.h"
#include "server/storage_check.h"
#include "storage/log_schema.h"
#include "storage/tlog/merkle.h"
#include "tests/server/notification_test_util.h"
#include "tests/server/server_test_util.h"
#include "tests/storage/log_test_util.h"

namespace parley {
namespace {

namespace schema = log_schema;
using ::parley::testing::Describe;
using ::parley::testing::FlipFileByte;
using ::parley::testing::RawLogDb;
using ::parley::testing::Sealed;
using ::parley::testing::ServerTest;
using ::testing::HasSubstr;

std::string Cf(const char* name) {
  return std::string(schema::kIndexPrefix) + name;
}

class StorageIntegrityTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    if (HasFatalFailure()) return;
    StandardCast();
  }
  std::string DataPath() { return tmp_.Sub("data"); }
  std::string DbPath() { return tmp_.Sub("data/db"); }
  void Restart() {
    StartServer();
    for (const char* name : {"admin", "m", "a", "b", "o"}) {
      grpc::Status s = SignIn(device(name));
      ASSERT_TRUE(s.ok()) << Describe(s);
    }
  }
  absl::StatusOr<StorageCheckReport> Check() {
    absl::StatusOr<OfflineStore> store = OpenStoreOffline(DataPath(), false);
    if (!store.ok()) return store.status();
    return CheckStore(store->log.get());
  }
};

// --- Item 8: read errors are errors ------------------------------------------

TEST_F(StorageIntegrityTest, UndecodableInboxValueEndsSubscribeWithDataLoss) {
  uint64_t first = SendText(device("a"), "ab", "one");
  SendText(device("a"), "ab", "two");
  StopServer();
  { RawLogDb(DbPath()).Put(Cf(index_cf::kInbox), InboxKey("b", first), "xx"); }
  Restart();
  auto stream = Subscribe(device("b"), 0, true);
  std::vector<v1::Delivery> got = stream->Take(3, absl::Seconds(3));
  EXPECT_EQ(got.size(), 1u);  // The channel, before the damaged key.
  std::optional<grpc::Status> end = stream->End(absl::Seconds(10));
  ASSERT_TRUE(end.has_value()) << "the stream looked caught up";
  EXPECT_EQ(end->error_code(), grpc::StatusCode::DATA_LOSS) << Describe(*end);
  EXPECT_THAT(end->error_message(), HasSubstr("storage is damaged"));
}

// A damaged chain index must not read as "no envelope yet": that would let
// the sender start its chain again at sequence 0 (a fork of its history).
TEST_F(StorageIntegrityTest, DamagedChainIndexRefusesSendsInsteadOfForking) {
  SendText(device("a"), "ab", "one");
  StopServer();
  {
    RawLogDb(DbPath()).Put(Cf(index_cf::kChain),
                           std::string("a") + std::string(1, '\0') + "ab",
                           "short");
  }
  Restart();
  testing::Device& a = device("a");
  testing::Sealed restart = Seal(a, "ab", "again from zero", {"m", "a", "b"},
                        {.sequence = 0, .previous_hash = std::string(32, '\0')});
  grpc::Status s = Send(a, "ab", restart);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DATA_LOSS) << Describe(s);
  v1::ListChannelsResponse list;
  s = ListChannels(a, &list);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DATA_LOSS) << Describe(s);
}

// A receipt row naming an entry that is not a receipt is reported, not
// skipped (a skipped receipt reads as "not delivered").
TEST_F(StorageIntegrityTest, DamagedReceiptIndexIsReportedNotSkipped) {
  uint64_t first = SendText(device("a"), "ab", "one");
  StopServer();
  {
    RawLogDb(DbPath()).Put(
        Cf(index_cf::kReceipt),
        absl::StrCat(schema::U64Key(first), "b", std::string(1, '\0'),
                     std::string(1, '\x01')),
        schema::U64Key(first));  // the envelope itself, not a receipt
  }
  Restart();
  grpc::ClientContext context;
  Authorize(&context, device("a"));
  v1::ListReceiptsRequest r;
  r.set_envelope_index(first);
  v1::ListReceiptsResponse out;
  grpc::Status s = channels_->ListReceipts(&context, r, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::DATA_LOSS) << Describe(s);
}

TEST_F(StorageIntegrityTest, FlippedByteInTheInboxTableEndsSubscribeWithDataLoss) {
  for (int i = 0; i < 20; ++i) SendText(device("a"), "ab", "message");
  StopServer();
  std::vector<std::string> tables;
  { tables = RawLogDb(DbPath()).TableFiles(Cf(index_cf::kInbox)); }
  ASSERT_EQ(tables.size(), 1u);
  FlipFileByte(tables.front(), 20);  // Inside the first data block.
  Restart();
  auto stream = Subscribe(device("b"), 0, true);
  std::vector<v1::Delivery> got = stream->Take(30, absl::Seconds(3));
  EXPECT_TRUE(got.empty());
  std::optional<grpc::Status> end = stream->End(absl::Seconds(10));
  ASSERT_TRUE(end.has_value()) << "the stream looked caught up";
  EXPECT_EQ(end->error_code(), grpc::StatusCode::DATA_LOSS) << Describe(*end);
}

// --- parleyd check and repair ------------------------------------------------

TEST_F(StorageIntegrityTest, CheckNamesMissingExtraAndDifferentKeysAndRepairRebuildsThem) {
  uint64_t first = SendText(device("a"), "ab", "one");
  Sealed two;
  uint64_t second = SendText(device("m"), "ab", "two", &two);
  v1::SubmitReceiptsResponse receipts;
  grpc::Status s = SubmitReceipt(
      device("b"), second, DeliveredReceipt(device("b"), two.hash), &receipts);
  ASSERT_TRUE(s.ok()) << Describe(s);
  StopServer();
  {
    ASSERT_OK_AND_ASSIGN(StorageCheckReport clean, Check());
    EXPECT_TRUE(clean.clean()) << clean.log;
    for (const std::string& family : LedgerIndexFamilies()) {
      EXPECT_GT(clean.keys_checked[family], 0u) << family;
    }
  }
  {
    RawLogDb db(DbPath());
    db.Delete(Cf(index_cf::kInbox), InboxKey("b", first));
    db.Put(Cf(index_cf::kInbox), InboxKey("o", first), "\x01");
    db.FlipByte(Cf(index_cf::kEnvelope), schema::U64Key(second), 2);
  }
  ASSERT_OK_AND_ASSIGN(StorageCheckReport report, Check());
  EXPECT_TRUE(report.log.ok()) << report.log;
  EXPECT_FALSE(report.clean());
  EXPECT_EQ(report.mismatches[index_cf::kInbox], 2u);
  EXPECT_EQ(report.mismatches[index_cf::kEnvelope], 1u);
  const IndexMismatch& inbox = report.first_mismatch.at(index_cf::kInbox);
  EXPECT_EQ(inbox.kind, IndexMismatch::Kind::kMissing);
  EXPECT_EQ(inbox.key, InboxKey("b", first));
  EXPECT_EQ(inbox.expected, std::string(1, '\x01'));
  EXPECT_THAT(inbox.Describe(), HasSubstr("index \"inbox\""));
  EXPECT_THAT(inbox.Describe(), HasSubstr(HexEncode(InboxKey("b", first))));
  EXPECT_EQ(report.first_mismatch.at(index_cf::kEnvelope).kind,
            IndexMismatch::Kind::kDifferent);
  EXPECT_EQ(RunStorageCheck(DataPath()), kCheckIndexDamaged);

  EXPECT_EQ(RunIndexRebuild(DataPath()), kCheckClean);
  EXPECT_EQ(RunStorageCheck(DataPath()), kCheckClean);
  Restart();
  auto stream = Subscribe(device("b"), 0, true);
  std::vector<v1::Delivery> got = stream->Take(3);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[1].index(), first);
  EXPECT_EQ(got[2].index(), second);
}

TEST_F(StorageIntegrityTest, CheckReportsAnUnreadableIndexTable) {
  for (int i = 0; i < 20; ++i) SendText(device("a"), "ab", "message");
  StopServer();
  std::vector<std::string> tables;
  { tables = RawLogDb(DbPath()).TableFiles(Cf(index_cf::kEnvelope)); }
  ASSERT_EQ(tables.size(), 1u);
  FlipFileByte(tables.front(), 20);
  ASSERT_OK_AND_ASSIGN(StorageCheckReport report, Check());
  EXPECT_TRUE(report.log.ok()) << report.log;
  ASSERT_TRUE(report.first_mismatch.contains(index_cf::kEnvelope));
  EXPECT_EQ(report.first_mismatch.at(index_cf::kEnvelope).kind,
            IndexMismatch::Kind::kUnreadable);
  EXPECT_EQ(RunStorageCheck(DataPath()), kCheckIndexDamaged);
  EXPECT_EQ(RunIndexRebuild(DataPath()), kCheckClean);
  EXPECT_EQ(RunStorageCheck(DataPath()), kCheckClean);
}

TEST_F(StorageIntegrityTest, RepairRefusesADamagedLogAndChangesNothing) {
  uint64_t first = SendText(device("a"), "ab", "one");
  StopServer();
  {
    RawLogDb db(DbPath());
    db.Put(schema::kEntries, schema::U64Key(first), "forged");
    db.Put(schema::kNodes, schema::NodeKey(0, first), LeafHash("forged"));
    db.Delete(Cf(index_cf::kInbox), InboxKey("b", first));
  }
  EXPECT_EQ(RunStorageCheck(DataPath()), kCheckLogDamaged);
  EXPECT_EQ(RunIndexRebuild(DataPath()), kCheckLogDamaged);
  {
    ASSERT_OK_AND_ASSIGN(OfflineStore store, OpenStoreOffline(DataPath(), false));
    absl::StatusOr<uint64_t> rebuilt = RebuildIndexes(store.log.get());
    EXPECT_THAT(rebuilt, ::parley::testing::StatusIs(absl::StatusCode::kDataLoss));
    EXPECT_THAT(rebuilt.status().message(), HasSubstr("restore"));
    // The indexes were left as they were.
    absl::StatusOr<std::optional<std::string>> kept =
        store.log->GetIndex(index_cf::kInbox, InboxKey("m", first));
    ASSERT_OK(kept);
    EXPECT_TRUE(kept->has_value());
  }
}

TEST_F(StorageIntegrityTest, CheckAndRepairRefuseADataDirectoryInUse) {
  // The server is running.
  absl::StatusOr<OfflineStore> store = OpenStoreOffline(DataPath(), false);
  EXPECT_THAT(store, ::parley::testing::StatusIs(
                         absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(store.status().message(), HasSubstr("in use"));
  EXPECT_EQ(RunStorageCheck(DataPath()), kCheckCannotRun);
  EXPECT_EQ(RunIndexRebuild(DataPath()), kCheckCannotRun);
}

// Replaying the log must reproduce exactly what the live write path wrote,
// for every kind of entry, or `parleyd check` would cry wolf.
class StorageCheckAfterEveryKindOfEntryTest
    : public ::parley::testing::NotificationTest {};

TEST_F(StorageCheckAfterEveryKindOfEntryTest, EveryIndexMatchesTheLog) {
  ASSERT_TRUE(CreateChannel(device("m1"), "talks", {"pa", "pb"}).ok());
  Sealed hello;
  uint64_t sent = SendText(device("pa"), "talks", "hello", &hello);
  SendText(device("m1"), "talks", "noted");
  v1::SubmitReceiptsResponse receipts;
  ASSERT_TRUE(SubmitReceipt(device("pb"), sent,
                            DeliveredReceipt(device("pb"), hello.hash),
                            &receipts)
                  .ok());

  ::parley::testing::SealedVersion v1;
  v1::NotifyResponse notified =
      NotifyNew("c1", Movement("mv-1", {"pa", "pb", "pc"}), &v1);
  ASSERT_TRUE(Deliver("pa", notified.log_index(), v1.sealed.hash).ok());
  ASSERT_TRUE(AckReceipt("pa", "mv-1", 1, v1.sealed.hash).ok());
  ASSERT_TRUE(Object("pb", "c1", "mv-1", 1, v1.sealed.hash).ok());
  ::parley::testing::SealedVersion v2 =
      SealVersion("c1", v1.metadata, 2, v1.sealed.hash);
  ASSERT_TRUE(Notify("c1", v2, 1).ok());
  NotifyNew("x1", Site("site-1", {"pc"}));
  // Past the acknowledge-by deadline: escalations are logged.
  clock_.Advance(absl::Hours(60));
  absl::StatusOr<int> escalated = server_->RunDueDeadlines();
  ASSERT_OK(escalated);
  EXPECT_GT(*escalated, 0);
  StopServer();

  ASSERT_OK_AND_ASSIGN(OfflineStore store,
                       OpenStoreOffline(tmp_.Sub("data"), false));
  ASSERT_OK_AND_ASSIGN(StorageCheckReport report, CheckStore(store.log.get()));
  EXPECT_OK(report.log);
  for (const auto& [family, mismatch] : report.first_mismatch) {
    ADD_FAILURE() << mismatch.Describe();
  }
  for (const std::string& family : LedgerIndexFamilies()) {
    EXPECT_GT(report.keys_checked[family], 0u) << family;
  }
}

}  // namespace
}  // namespace parley
