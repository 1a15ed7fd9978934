// Damage a closed store through raw RocksDB and check that the log notices:
// at open (frontier nodes, the last entry, checkpoints, rollback) or in
// GetEntry / Audit (everything else).

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/log_schema.h"
#include "storage/log_store.h"
#include "storage/tlog/merkle.h"
#include "tests/storage/log_test_util.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"

namespace parley {
namespace {

namespace schema = log_schema;
using ::parley::testing::FakeClock;
using ::parley::testing::RawLogDb;
using ::parley::testing::ScratchDir;
using ::parley::testing::StatusIs;
using ::testing::HasSubstr;

constexpr int kEntries = 100;  // Frontier: levels 6, 5, 2 (64 + 32 + 4).

class LogTamperTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto store = Open();
    ASSERT_OK(store);
    for (int i = 0; i < kEntries; ++i) {
      ASSERT_OK((*store)->Append(absl::StrCat("entry ", i)).status());
      if (i == 49) {
        ASSERT_OK((*store)->SignCheckpointNow().status());
      }
    }
    ASSERT_OK((*store)->SignCheckpointNow().status());
  }
  absl::StatusOr<std::unique_ptr<LogStore>> Open() {
    LogOptions o;
    o.path = dir_.path();
    o.origin = testing::kTestOrigin;
    o.signer = &key_;
    o.clock = &clock_;
    o.background_checkpoints = false;
    return LogStore::Open(o);
  }

  ScratchDir dir_;
  Ed25519PrivateKey key_ = testing::TestLogKey();
  FakeClock clock_;
};

TEST_F(LogTamperTest, UntouchedStoreOpensAndAudits) {
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  EXPECT_OK(store->Audit());
}

TEST_F(LogTamperTest, FlippedEntryIsCaughtByReadAndAudit) {
  { RawLogDb(dir_.path()).FlipByte(schema::kEntries, schema::U64Key(17), 3); }
  ASSERT_OK_AND_ASSIGN(auto store, Open());  // Not on the open path.
  EXPECT_THAT(store->GetEntry(17), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(store->GetEntries(10, 20, 1 << 20),
              StatusIs(absl::StatusCode::kDataLoss));
  absl::Status audit = store->Audit();
  EXPECT_THAT(audit, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(audit.message(), HasSubstr("entry 17 "));
}

TEST_F(LogTamperTest, EntryRewrittenWithItsLeafHashIsRefusedByReads) {
  // A consistent rewrite below RocksDB's checksums: the entry and its
  // stored leaf hash agree, so only the trusted root can tell.
  {
    RawLogDb db(dir_.path());
    db.Put(schema::kEntries, schema::U64Key(17), "forged 17");
    db.Put(schema::kNodes, schema::NodeKey(0, 17), LeafHash("forged 17"));
  }
  ASSERT_OK_AND_ASSIGN(auto store, Open());  // Not on the open path.
  absl::StatusOr<std::string> one = store->GetEntry(17);
  EXPECT_THAT(one, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(one.status().message(), HasSubstr("entry 17 "));
  absl::StatusOr<std::vector<std::string>> page =
      store->GetEntries(0, kEntries, 1 << 20);
  EXPECT_THAT(page, StatusIs(absl::StatusCode::kDataLoss));
  // Which of the pair was forged cannot be told from the store: both named.
  EXPECT_THAT(page.status().message(), HasSubstr("entries 16 to 17 "));
  // Entries off the damaged path are still served.
  EXPECT_OK(store->GetEntry(40).status());
  EXPECT_OK(store->GetEntries(32, 48, 1 << 20).status());
}

TEST_F(LogTamperTest, EntryRewrittenWithEveryNodeBelowTheFrontierIsRefused) {
  // Entry 5 and every stored node above it up to level 5 rewritten
  // consistently; only the frontier node (level 6, index 0) and the root
  // it folds into are left alone.
  {
    RawLogDb db(dir_.path());
    db.Put(schema::kEntries, schema::U64Key(5), "forged 5");
    std::string h = LeafHash("forged 5");
    db.Put(schema::kNodes, schema::NodeKey(0, 5), h);
    uint64_t index = 5;
    for (int level = 1; level < 6; ++level) {
      uint64_t sibling = index ^ 1;
      std::string other =
          db.Get(schema::kNodes, schema::NodeKey(level - 1, sibling));
      h = (index & 1) ? NodeHash(other, h) : NodeHash(h, other);
      index >>= 1;
      db.Put(schema::kNodes, schema::NodeKey(level, index), h);
    }
  }
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  EXPECT_THAT(store->GetEntry(5), StatusIs(absl::StatusCode::kDataLoss));
  absl::StatusOr<std::vector<std::string>> page =
      store->GetEntries(4, 8, 1 << 20);
  EXPECT_THAT(page, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(page.status().message(), HasSubstr("entries 4 to 7 "));
}

TEST_F(LogTamperTest, DamagedTableFileIsNamedAtOpenWithWhatToDo) {
  std::vector<std::string> tables;
  { tables = RawLogDb(dir_.path()).TableFiles(schema::kEntries); }
  ASSERT_FALSE(tables.empty());
  // The footer: RocksDB reads it when it opens the table, at start-up.
  testing::FlipFileByte(tables.front(), -3);
  absl::StatusOr<std::unique_ptr<LogStore>> store = Open();
  ASSERT_THAT(store, StatusIs(absl::StatusCode::kDataLoss));
  std::string file = std::filesystem::path(tables.front()).filename();
  EXPECT_THAT(store.status().message(), HasSubstr(file));
  EXPECT_THAT(store.status().message(), HasSubstr("parleyd check"));
  EXPECT_THAT(store.status().message(), HasSubstr("backup"));
  EXPECT_THAT(store.status().message(),
              ::testing::Not(HasSubstr("write-ahead log")));
}

TEST_F(LogTamperTest, SecondOpenOfAStoreInUseSaysSo) {
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  absl::StatusOr<std::unique_ptr<LogStore>> again = Open();
  EXPECT_THAT(again, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(again.status().message(), HasSubstr("in use"));
}

TEST_F(LogTamperTest, InterruptedIndexRebuildIsRefusedAtOpenUntilRerun) {
  {
    RawLogDb(dir_.path()).Put(schema::kMeta, schema::kMetaIndexRebuild, "1");
  }
  absl::StatusOr<std::unique_ptr<LogStore>> store = Open();
  EXPECT_THAT(store, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(store.status().message(), HasSubstr("--rebuild-indexes"));
}

TEST_F(LogTamperTest, FlippedLastEntryIsCaughtAtOpen) {
  {
    RawLogDb(dir_.path())
        .FlipByte(schema::kEntries, schema::U64Key(kEntries - 1));
  }
  absl::StatusOr<std::unique_ptr<LogStore>> store = Open();
  EXPECT_THAT(store, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(store.status().message(), HasSubstr("entry 99"));
}

TEST_F(LogTamperTest, FlippedFrontierNodeIsCaughtAtOpen) {
  { RawLogDb(dir_.path()).FlipByte(schema::kNodes, schema::NodeKey(6, 0), 5); }
  absl::StatusOr<std::unique_ptr<LogStore>> store = Open();
  EXPECT_THAT(store, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(store.status().message(), HasSubstr("root mismatch"));
}

TEST_F(LogTamperTest, FlippedInteriorNodeIsCaughtByAuditAndBreaksProofs) {
  // Level 3, index 9 covers leaves 72..79: not on the frontier of 100.
  { RawLogDb(dir_.path()).FlipByte(schema::kNodes, schema::NodeKey(3, 9)); }
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  absl::Status audit = store->Audit();
  EXPECT_THAT(audit, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(audit.message(), HasSubstr("level 3, index 9"));
  // A client verifying a proof through the damaged node rejects it.
  ASSERT_OK_AND_ASSIGN(SignedCheckpoint cp, store->LatestCheckpoint());
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> proof,
                       store->InclusionProof(64, kEntries));
  EXPECT_FALSE(VerifyInclusion(64, kEntries, LeafHash("entry 64"), proof,
                               cp.root_hash)
                   .ok());
}

TEST_F(LogTamperTest, FlippedLeafHashIsCaughtByReadAndAudit) {
  { RawLogDb(dir_.path()).FlipByte(schema::kNodes, schema::NodeKey(0, 3)); }
  ASSERT_OK_AND_ASSIGN(auto store, Open());
  EXPECT_THAT(store->GetEntry(3), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(store->Audit(), StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(LogTamperTest, ForgedCheckpointIsRefusedAtOpen) {
  {
    RawLogDb db(dir_.path());
    std::string note = db.Get(schema::kCheckpoints, schema::U64Key(kEntries));
    note[note.size() - 10] = note[note.size() - 10] == 'A' ? 'B' : 'A';
    db.Put(schema::kCheckpoints, schema::U64Key(kEntries), note);
  }
  absl::StatusOr<std::unique_ptr<LogStore>> store = Open();
  EXPECT_THAT(store, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(store.status().message(), HasSubstr("does not verify"));
}

TEST_F(LogTamperTest, RollbackBelowSignedCheckpointIsRefused) {
  {
    // Truncate the tree to 60 entries, consistently, as a rollback would.
    RawLogDb db(dir_.path());
    for (int i = 60; i < kEntries; ++i) {
      db.Delete(schema::kEntries, schema::U64Key(i));
    }
    db.Put(schema::kMeta, schema::kMetaSize, schema::U64Key(60));
  }
  absl::StatusOr<std::unique_ptr<LogStore>> store = Open();
  EXPECT_THAT(store, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(store.status().message(), HasSubstr("rolled back"));
}

TEST_F(LogTamperTest, RewrittenHistoryIsCaughtAtOpen) {
  {
    // Replace entry 98 and every node above it consistently; only the signed
    // checkpoint still remembers the old root.
    RawLogDb db(dir_.path());
    std::string leaf = LeafHash("forged");
    db.Put(schema::kEntries, schema::U64Key(98), "forged");
    db.Put(schema::kNodes, schema::NodeKey(0, 98), leaf);
    std::string sibling = db.Get(schema::kNodes, schema::NodeKey(0, 99));
    db.Put(schema::kNodes, schema::NodeKey(1, 49), NodeHash(leaf, sibling));
    std::string left = db.Get(schema::kNodes, schema::NodeKey(1, 48));
    db.Put(schema::kNodes, schema::NodeKey(2, 24),
           NodeHash(left, NodeHash(leaf, sibling)));
  }
  absl::StatusOr<std::unique_ptr<LogStore>> store = Open();
  EXPECT_THAT(store, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(store.status().message(), HasSubstr("root mismatch at tree size 100"));
}

// The checkpoint witness file lives outside RocksDB, so it survives a lost
// WAL tail that takes the newest stored checkpoints with the entries.
std::string WitnessPath(const std::string& dir) {
  return dir + "/" + LogStore::kCheckpointWitnessFile;
}

TEST_F(LogTamperTest, RollbackThatAlsoLostTheStoredCheckpointsIsCaughtByTheWitness) {
  {
    // Everything after entry 59 is gone, the checkpoint at 100 with it; the
    // remaining stored checkpoint (50) is consistent with what is left.
    RawLogDb db(dir_.path());
    for (int i = 60; i < kEntries; ++i) {
      db.Delete(schema::kEntries, schema::U64Key(i));
    }
    db.Put(schema::kMeta, schema::kMetaSize, schema::U64Key(60));
    db.Delete(schema::kCheckpoints, schema::U64Key(kEntries));
  }
  absl::StatusOr<std::unique_ptr<LogStore>> store = Open();
  EXPECT_THAT(store, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(store.status().message(), HasSubstr("rolled back"));
  EXPECT_THAT(store.status().message(), HasSubstr("witness"));
}

TEST_F(LogTamperTest, StoredCheckpointLostButEntriesKeptIsRestoredFromTheWitness) {
  {
    RawLogDb db(dir_.path());
    db.Delete(schema::kCheckpoints, schema::U64Key(kEntries));
  }
  absl::StatusOr<std::unique_ptr<LogStore>> store = Open();
  ASSERT_OK(store);
  absl::StatusOr<SignedCheckpoint> latest = (*store)->LatestCheckpoint();
  ASSERT_OK(latest);
  EXPECT_EQ(latest->size, uint64_t{kEntries});
  EXPECT_OK((*store)->CheckpointAt(kEntries).status());
  EXPECT_OK((*store)->Audit());
}

TEST_F(LogTamperTest, WitnessOfAnotherLogWithTheSameKeyIsAFork) {
  ScratchDir other_dir;
  {
    LogOptions o;
    o.path = other_dir.path();
    o.origin = testing::kTestOrigin;
    o.signer = &key_;
    o.clock = &clock_;
    o.background_checkpoints = false;
    absl::StatusOr<std::unique_ptr<LogStore>> other = LogStore::Open(o);
    ASSERT_OK(other);
    for (int i = 0; i < kEntries; ++i) {
      ASSERT_OK((*other)->Append(absl::StrCat("other ", i)).status());
    }
    ASSERT_OK((*other)->SignCheckpointNow().status());
  }
  std::filesystem::copy_file(
      WitnessPath(other_dir.path()), WitnessPath(dir_.path()),
      std::filesystem::copy_options::overwrite_existing);
  absl::StatusOr<std::unique_ptr<LogStore>> store = Open();
  EXPECT_THAT(store, StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(store.status().message(),
              HasSubstr("root mismatch at tree size 100"));
}

TEST_F(LogTamperTest, FlippedWitnessByteIsRefused) {
  std::string path = WitnessPath(dir_.path());
  std::string note;
  {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    note = ss.str();
  }
  ASSERT_FALSE(note.empty());
  for (size_t i : {size_t{0}, note.size() / 2, note.size() - 2}) {
    std::string bad = note;
    bad[i] ^= 0x01;
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bad;
    absl::StatusOr<std::unique_ptr<LogStore>> store = Open();
    EXPECT_THAT(store, StatusIs(absl::StatusCode::kDataLoss)) << "byte " << i;
    EXPECT_THAT(store.status().message(), HasSubstr("witness")) << "byte " << i;
  }
}

TEST_F(LogTamperTest, MissingWitnessIsWrittenAgainAtOpen) {
  ASSERT_TRUE(std::filesystem::remove(WitnessPath(dir_.path())));
  ASSERT_OK(Open().status());
  EXPECT_TRUE(std::filesystem::exists(WitnessPath(dir_.path())));
}

}  // namespace
}  // namespace parley
