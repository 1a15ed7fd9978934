#include "storage/log_store.h"

#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "crypto/encoding.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/tlog/checkpoint.h"
#include "storage/tlog/merkle.h"
#include "tests/storage/log_test_util.h"
#include "tests/testing/fake_clock.h"
#include "tests/testing/status_matchers.h"

namespace parley {
namespace {

using ::parley::testing::FakeClock;
using ::parley::testing::kTestOrigin;
using ::parley::testing::ScratchDir;
using ::parley::testing::StatusIs;
using ::testing::HasSubstr;

class LogStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_OK(InitCrypto()); }

  LogOptions Options() {
    LogOptions o;
    o.path = dir_.path();
    o.origin = kTestOrigin;
    o.signer = &key_;
    o.clock = &clock_;
    o.checkpoint_interval = absl::Seconds(1);
    o.background_checkpoints = false;
    return o;
  }
  std::unique_ptr<LogStore> OpenStore(std::vector<std::string> indexes = {}) {
    absl::StatusOr<std::unique_ptr<LogStore>> store =
        LogStore::Open(Options(), indexes);
    EXPECT_TRUE(store.ok()) << store.status();
    return store.ok() ? *std::move(store) : nullptr;
  }
  static std::string Entry(int i) { return absl::StrCat("entry ", i); }

  ScratchDir dir_;
  Ed25519PrivateKey key_ = testing::TestLogKey();
  FakeClock clock_;
};

TEST_F(LogStoreTest, NewLogHasSignedEmptyCheckpoint) {
  auto store = OpenStore();
  EXPECT_EQ(store->Size(), 0u);
  ASSERT_OK_AND_ASSIGN(SignedCheckpoint cp, store->LatestCheckpoint());
  EXPECT_EQ(cp.size, 0u);
  EXPECT_EQ(cp.root_hash, EmptyRootHash());
  ASSERT_OK_AND_ASSIGN(NoteVerifier v, ParseVerifierKey(store->VerifierKey()));
  ASSERT_OK_AND_ASSIGN(SignedCheckpoint verified,
                       VerifyCheckpointNote(cp.note, v, kTestOrigin));
  EXPECT_EQ(verified.size, 0u);
  EXPECT_TRUE(store->VerifierKey().starts_with("parley.test/log+"));
}

TEST_F(LogStoreTest, AppendReturnsConsecutiveIndexesAndReadsBack) {
  auto store = OpenStore();
  for (int i = 0; i < 20; ++i) {
    ASSERT_OK_AND_ASSIGN(uint64_t index, store->Append(Entry(i)));
    EXPECT_EQ(index, static_cast<uint64_t>(i));
  }
  EXPECT_EQ(store->Size(), 20u);
  for (int i = 0; i < 20; ++i) {
    ASSERT_OK_AND_ASSIGN(std::string e, store->GetEntry(i));
    EXPECT_EQ(e, Entry(i));
  }
  ASSERT_OK_AND_ASSIGN(uint64_t empty_index, store->Append(""));
  EXPECT_EQ(empty_index, 20u);
  ASSERT_OK_AND_ASSIGN(std::string empty, store->GetEntry(20));
  EXPECT_EQ(empty, "");
}

TEST_F(LogStoreTest, OutOfRangeErrorsNameIndexAndSize) {
  auto store = OpenStore();
  for (int i = 0; i < 10; ++i) ASSERT_OK(store->Append(Entry(i)).status());
  EXPECT_THAT(store->GetEntry(12),
              StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_EQ(store->GetEntry(12).status().message(),
            "index 12 is beyond the tree size 10");
  EXPECT_THAT(store->InclusionProof(3, 11),
              StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(store->InclusionProof(10, 10),
              StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(store->ConsistencyProof(0, 5),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store->ConsistencyProof(6, 5),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(store->ConsistencyProof(5, 11),
              StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(store->RootHash(11), StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(store->GetEntries(10, 20, 1000),
              StatusIs(absl::StatusCode::kOutOfRange));
  EXPECT_THAT(store->GetEntries(5, 5, 1000),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(LogStoreTest, RootsAndProofsMatchReferenceTree) {
  auto store = OpenStore();
  std::vector<std::string> entries;
  for (int i = 0; i < 130; ++i) {
    entries.push_back(Entry(i));
    ASSERT_OK(store->Append(entries.back()).status());
  }
  for (uint64_t size = 0; size <= entries.size(); ++size) {
    std::vector<std::string> prefix(entries.begin(), entries.begin() + size);
    std::string want = RootFromLeaves(prefix);
    ASSERT_OK_AND_ASSIGN(std::string root, store->RootHash(size));
    ASSERT_EQ(root, want) << "size " << size;
    for (uint64_t index = 0; index < size; index += 7) {
      ASSERT_OK_AND_ASSIGN(std::vector<std::string> proof,
                           store->InclusionProof(index, size));
      ASSERT_OK(VerifyInclusion(index, size, LeafHash(entries[index]), proof,
                                want));
    }
    for (uint64_t size1 = 1; size1 <= size; size1 += 5) {
      ASSERT_OK_AND_ASSIGN(std::vector<std::string> proof,
                           store->ConsistencyProof(size1, size));
      std::vector<std::string> p1(entries.begin(), entries.begin() + size1);
      ASSERT_OK(VerifyConsistency(size1, size, RootFromLeaves(p1), want, proof));
    }
  }
}

TEST_F(LogStoreTest, AppendManyIsAtomicAndConsecutive) {
  auto store = OpenStore();
  ASSERT_OK(store->Append("first").status());
  ASSERT_OK_AND_ASSIGN(uint64_t first,
                       store->AppendMany({"a", "b", "c", "d", "e"}));
  EXPECT_EQ(first, 1u);
  EXPECT_EQ(store->Size(), 6u);
  ASSERT_OK_AND_ASSIGN(std::string root, store->RootHash(6));
  EXPECT_EQ(root, RootFromLeaves({"first", "a", "b", "c", "d", "e"}));
}

TEST_F(LogStoreTest, AppendAfterReopenContinuesTree) {
  std::vector<std::string> entries;
  {
    auto store = OpenStore();
    for (int i = 0; i < 37; ++i) {
      entries.push_back(Entry(i));
      ASSERT_OK(store->Append(entries.back()).status());
    }
    ASSERT_OK(store->SignCheckpointNow().status());
  }
  for (int round = 0; round < 3; ++round) {
    auto store = OpenStore();
    ASSERT_EQ(store->Size(), entries.size());
    ASSERT_OK_AND_ASSIGN(SignedCheckpoint cp, store->LatestCheckpoint());
    for (int i = 0; i < 11; ++i) {
      entries.push_back(absl::StrCat("round ", round, " entry ", i));
      ASSERT_OK_AND_ASSIGN(uint64_t index, store->Append(entries.back()));
      EXPECT_EQ(index, entries.size() - 1);
    }
    ASSERT_OK_AND_ASSIGN(std::string root, store->RootHash(entries.size()));
    EXPECT_EQ(root, RootFromLeaves(entries));
    ASSERT_OK_AND_ASSIGN(std::vector<std::string> proof,
                         store->ConsistencyProof(cp.size, entries.size()));
    EXPECT_OK(VerifyConsistency(cp.size, entries.size(), cp.root_hash, root,
                                proof));
    ASSERT_OK(store->SignCheckpointNow().status());
    EXPECT_OK(store->Audit());
  }
}

TEST_F(LogStoreTest, ReopenWithAnotherOriginOrKeyFails) {
  { auto store = OpenStore(); }
  LogOptions other_origin = Options();
  other_origin.origin = "other.test/log";
  EXPECT_THAT(LogStore::Open(other_origin),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  Ed25519PrivateKey other_key = testing::TestLogKey(2);
  LogOptions other_signer = Options();
  other_signer.signer = &other_key;
  absl::StatusOr<std::unique_ptr<LogStore>> s = LogStore::Open(other_signer);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(s.status().message(), HasSubstr("verifier key"));
}

TEST_F(LogStoreTest, ConcurrentAppendsGetDistinctIndexesAndAllLand) {
  auto store = OpenStore();
  constexpr int kThreads = 8;
  constexpr int kPerThread = 40;
  std::vector<std::vector<std::pair<uint64_t, std::string>>> got(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        std::string e = absl::StrCat("t", t, "-", i);
        absl::StatusOr<uint64_t> index = store->Append(e);
        ASSERT_TRUE(index.ok()) << index.status();
        got[t].emplace_back(*index, e);
      }
    });
  }
  for (auto& th : threads) th.join();
  ASSERT_EQ(store->Size(), uint64_t{kThreads * kPerThread});
  std::set<uint64_t> seen;
  for (const auto& list : got) {
    uint64_t last = 0;
    for (const auto& [index, e] : list) {
      EXPECT_TRUE(seen.insert(index).second);
      if (&e != &list.front().second) {
        EXPECT_GT(index, last);
      }
      last = index;
      ASSERT_OK_AND_ASSIGN(std::string stored, store->GetEntry(index));
      EXPECT_EQ(stored, e);
    }
  }
  EXPECT_OK(store->Audit());
}

TEST_F(LogStoreTest, IndexPutsLandWithTheEntry) {
  auto store = OpenStore({"by_recipient"});
  ASSERT_OK(store->Append("m1", {{"by_recipient", "alice/0001", "0"}})
                .status());
  ASSERT_OK(store->Append("m2", {{"by_recipient", "alice/0002", "1"},
                                 {"by_recipient", "bob/0001", "1"}})
                .status());
  ASSERT_OK_AND_ASSIGN(std::optional<std::string> v,
                       store->GetIndex("by_recipient", "bob/0001"));
  EXPECT_EQ(v, "1");
  ASSERT_OK_AND_ASSIGN(std::optional<std::string> missing,
                       store->GetIndex("by_recipient", "carol/0001"));
  EXPECT_FALSE(missing.has_value());
  ASSERT_OK_AND_ASSIGN(auto alice, store->ScanIndex("by_recipient", "alice/", 10));
  ASSERT_EQ(alice.size(), 2u);
  EXPECT_EQ(alice[0].first, "alice/0001");
  EXPECT_EQ(alice[1].second, "1");
  ASSERT_OK_AND_ASSIGN(auto limited, store->ScanIndex("by_recipient", "", 1));
  EXPECT_EQ(limited.size(), 1u);
  ASSERT_OK_AND_ASSIGN(auto resumed, store->ScanIndexFrom(
                                         "by_recipient", "alice/0002", "alice/", 10));
  ASSERT_EQ(resumed.size(), 1u);
  EXPECT_EQ(resumed[0].first, "alice/0002");
  ASSERT_OK_AND_ASSIGN(auto past, store->ScanIndexFrom("by_recipient", "alice/9",
                                                       "alice/", 10));
  EXPECT_TRUE(past.empty());

  // An unknown family fails before anything is written.
  EXPECT_THAT(store->Append("m3", {{"nope", "k", "v"}}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(store->Size(), 2u);
  EXPECT_THAT(store->GetIndex("nope", "k"),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(LogStoreTest, IndexPutsMayDependOnTheAssignedIndex) {
  auto store = OpenStore({"by_index"});
  constexpr int kThreads = 4;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        std::string entry = absl::StrCat("t", t, " ", i);
        absl::StatusOr<uint64_t> index =
            store->Append(entry, [&entry](uint64_t assigned) {
              return std::vector<IndexPut>{
                  {"by_index", absl::StrCat("idx/", assigned), entry}};
            });
        ASSERT_TRUE(index.ok()) << index.status();
      }
    });
  }
  for (auto& th : threads) th.join();
  for (uint64_t i = 0; i < store->Size(); ++i) {
    ASSERT_OK_AND_ASSIGN(std::optional<std::string> v,
                         store->GetIndex("by_index", absl::StrCat("idx/", i)));
    ASSERT_TRUE(v.has_value());
    ASSERT_OK_AND_ASSIGN(std::string entry, store->GetEntry(i));
    EXPECT_EQ(*v, entry);
  }
  // A bad family from the callback fails that append alone.
  EXPECT_THAT(store->Append("bad", [](uint64_t) {
    return std::vector<IndexPut>{{"nope", "k", "v"}};
  }),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(store->Size(), uint64_t{kThreads * 10});
  ASSERT_OK_AND_ASSIGN(uint64_t next, store->Append("good", nullptr));
  EXPECT_EQ(next, uint64_t{kThreads * 10});
  EXPECT_OK(store->Audit());
}

TEST_F(LogStoreTest, AppendManyWritesIndexPutsForEveryEntryOrNone) {
  auto store = OpenStore({"by_index"});
  ASSERT_OK(store->Append("first").status());
  std::vector<std::string> entries = {"a", "b", "c"};
  ASSERT_OK_AND_ASSIGN(
      uint64_t first, store->AppendMany(entries, [&entries](uint64_t start) {
        std::vector<IndexPut> puts;
        for (size_t i = 0; i < entries.size(); ++i) {
          puts.push_back(
              {"by_index", absl::StrCat("idx/", start + i), entries[i]});
        }
        return puts;
      }));
  EXPECT_EQ(first, 1u);
  for (uint64_t i = 1; i <= 3; ++i) {
    ASSERT_OK_AND_ASSIGN(std::optional<std::string> v,
                         store->GetIndex("by_index", absl::StrCat("idx/", i)));
    ASSERT_TRUE(v.has_value());
    ASSERT_OK_AND_ASSIGN(std::string entry, store->GetEntry(i));
    EXPECT_EQ(*v, entry);
  }
  // A bad family fails the whole batch: none of its entries is written.
  EXPECT_THAT(store->AppendMany({"x", "y"},
                                [](uint64_t) {
                                  return std::vector<IndexPut>{
                                      {"nope", "k", "v"}};
                                }),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_EQ(store->Size(), 4u);
  EXPECT_THAT(store->AppendMany({}),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_OK(store->Audit());
}

TEST_F(LogStoreTest, OversizeEntryIsRejected) {
  LogOptions o = Options();
  o.max_entry_bytes = 16;
  ASSERT_OK_AND_ASSIGN(auto store, LogStore::Open(o));
  EXPECT_THAT(store->Append(std::string(17, 'x')),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_OK(store->Append(std::string(16, 'x')).status());
}

TEST_F(LogStoreTest, GetEntriesPagesByBytes) {
  auto store = OpenStore();
  for (int i = 0; i < 10; ++i) {
    ASSERT_OK(store->Append(std::string(100, 'a' + i)).status());
  }
  ASSERT_OK_AND_ASSIGN(auto page, store->GetEntries(2, 100, 350));
  ASSERT_EQ(page.size(), 3u);
  EXPECT_EQ(page[0], std::string(100, 'c'));
  ASSERT_OK_AND_ASSIGN(auto one, store->GetEntries(0, 10, 1));
  EXPECT_EQ(one.size(), 1u);  // Always at least one.
  ASSERT_OK_AND_ASSIGN(auto rest, store->GetEntries(7, 0xFFFFFFFF, 1 << 20));
  EXPECT_EQ(rest.size(), 3u);
}

TEST_F(LogStoreTest, CheckpointCadenceFollowsTheClock) {
  auto store = OpenStore();
  ASSERT_OK_AND_ASSIGN(auto none, store->MaybeSignCheckpoint());
  EXPECT_FALSE(none.has_value());  // Nothing appended.

  ASSERT_OK(store->Append("a").status());
  ASSERT_OK_AND_ASSIGN(auto first, store->MaybeSignCheckpoint());
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->size, 1u);

  ASSERT_OK(store->Append("b").status());
  clock_.Advance(absl::Milliseconds(999));
  ASSERT_OK_AND_ASSIGN(auto early, store->MaybeSignCheckpoint());
  EXPECT_FALSE(early.has_value());

  clock_.Advance(absl::Milliseconds(1));
  ASSERT_OK_AND_ASSIGN(auto due, store->MaybeSignCheckpoint());
  ASSERT_TRUE(due.has_value());
  EXPECT_EQ(due->size, 2u);
  ASSERT_OK_AND_ASSIGN(SignedCheckpoint latest, store->LatestCheckpoint());
  EXPECT_EQ(latest.note, due->note);
  ASSERT_OK_AND_ASSIGN(SignedCheckpoint at1, store->CheckpointAt(1));
  EXPECT_EQ(at1.note, first->note);
  EXPECT_THAT(store->CheckpointAt(7), StatusIs(absl::StatusCode::kNotFound));
}

TEST_F(LogStoreTest, SignCheckpointNowIsNoOpWhenSizeUnchanged) {
  auto store = OpenStore();
  ASSERT_OK(store->Append("a").status());
  ASSERT_OK_AND_ASSIGN(SignedCheckpoint a, store->SignCheckpointNow());
  ASSERT_OK_AND_ASSIGN(SignedCheckpoint b, store->SignCheckpointNow());
  EXPECT_EQ(a.size, 1u);
  EXPECT_EQ(a.note, b.note);
}

TEST_F(LogStoreTest, BackgroundThreadSignsWhenIntervalPasses) {
  LogOptions o = Options();
  o.background_checkpoints = true;
  ASSERT_OK_AND_ASSIGN(auto store, LogStore::Open(o));
  ASSERT_OK(store->Append("a").status());
  std::optional<SignedCheckpoint> first =
      store->WaitForCheckpoint(0, absl::Seconds(10));
  ASSERT_TRUE(first.has_value());
  EXPECT_EQ(first->size, 1u);

  ASSERT_OK(store->Append("b").status());
  // The fake clock has not moved: no new checkpoint however long we wait.
  EXPECT_FALSE(store->WaitForCheckpoint(1, absl::Milliseconds(200)).has_value());
  clock_.Advance(absl::Seconds(1));
  std::optional<SignedCheckpoint> second =
      store->WaitForCheckpoint(1, absl::Seconds(10));
  ASSERT_TRUE(second.has_value());
  EXPECT_EQ(second->size, 2u);
}

TEST_F(LogStoreTest, WaitForCheckpointReturnsExistingAtOnce) {
  auto store = OpenStore();
  ASSERT_OK(store->Append("a").status());
  ASSERT_OK(store->SignCheckpointNow().status());
  std::optional<SignedCheckpoint> cp =
      store->WaitForCheckpoint(0, absl::ZeroDuration());
  ASSERT_TRUE(cp.has_value());
  EXPECT_EQ(cp->size, 1u);
}

TEST_F(LogStoreTest, TlogProofFromStoreVerifiesOffline) {
  auto store = OpenStore();
  for (int i = 0; i < 21; ++i) ASSERT_OK(store->Append(Entry(i)).status());
  ASSERT_OK_AND_ASSIGN(SignedCheckpoint cp, store->SignCheckpointNow());
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> hashes,
                       store->InclusionProof(13, cp.size));
  TlogProof proof{std::nullopt, 13, hashes, cp.note};
  ASSERT_OK_AND_ASSIGN(NoteVerifier v, ParseVerifierKey(store->VerifierKey()));
  EXPECT_OK(VerifyTlogProof(FormatTlogProof(proof), Entry(13), v, kTestOrigin)
                .status());
  EXPECT_FALSE(VerifyTlogProof(FormatTlogProof(proof), Entry(12), v,
                               kTestOrigin)
                   .ok());
}

TEST_F(LogStoreTest, OpenRejectsBadOptions) {
  LogOptions o = Options();
  o.origin = "has space";
  EXPECT_THAT(LogStore::Open(o), StatusIs(absl::StatusCode::kInvalidArgument));
  o = Options();
  o.signer = nullptr;
  EXPECT_THAT(LogStore::Open(o), StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace parley
