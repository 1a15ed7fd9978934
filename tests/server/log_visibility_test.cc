// Who reads which log entries (docs/PROTOCOL.md 11.13): GetEntries and
// GetInclusionProof send an entry's bytes only to a member who may read it,
// and its leaf hash to everyone, so every member can still check the tree.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "gtest/gtest.h"
#include "storage/tlog/merkle.h"
#include "tests/server/notification_test_util.h"

namespace parley {
namespace {

using ::parley::testing::Describe;
using ::parley::testing::NotificationTest;
using ::parley::testing::SealedVersion;

class LogVisibilityTest : public NotificationTest {
 protected:
  // Entries [start, end) as `member` reads them, every page.
  std::vector<v1::LogEntry> Read(const std::string& member, uint64_t start,
                                 uint64_t end) {
    std::vector<v1::LogEntry> out;
    while (start < end) {
      grpc::ClientContext context;
      Authorize(&context, device(member));
      v1::GetEntriesRequest r;
      r.set_start(start);
      r.set_end(end);
      v1::GetEntriesResponse response;
      grpc::Status s = log_->GetEntries(&context, r, &response);
      EXPECT_TRUE(s.ok()) << member << ": " << Describe(s);
      if (!s.ok() || response.entries_size() == 0) break;
      for (const v1::LogEntry& e : response.entries()) out.push_back(e);
      start = response.next_index();
    }
    return out;
  }

  // Indexes in [start, end) whose bytes `member` reads; checks that every
  // entry carries the right leaf hash, read or withheld.
  std::set<uint64_t> Readable(const std::string& member, uint64_t start,
                              uint64_t end) {
    std::set<uint64_t> out;
    std::vector<v1::LogEntry> entries = Read(member, start, end);
    EXPECT_EQ(entries.size(), end - start) << member;
    for (const v1::LogEntry& e : entries) {
      EXPECT_EQ(e.leaf_hash(), leaf_hashes_.at(e.index()))
          << member << " at " << e.index();
      if (!e.data().empty()) {
        EXPECT_EQ(LeafHash(e.data()), e.leaf_hash());
        out.insert(e.index());
      }
    }
    return out;
  }

  grpc::Status Prove(const std::string& member, uint64_t index,
                     uint64_t tree_size, v1::InclusionProof* proof) {
    grpc::ClientContext context;
    Authorize(&context, device(member));
    v1::GetInclusionProofRequest r;
    r.set_index(index);
    r.set_tree_size(tree_size);
    return log_->GetInclusionProof(&context, r, proof);
  }

  // Records every entry's leaf hash, read as the admin.
  void RecordLeafHashes(uint64_t end) {
    for (const v1::LogEntry& e : Read("admin", 0, end)) {
      ASSERT_FALSE(e.data().empty());
      leaf_hashes_[e.index()] = LeafHash(e.data());
    }
  }

  std::map<uint64_t, std::string> leaf_hashes_;
};

TEST_F(LogVisibilityTest, EachMemberReadsOnlyWhatConcernsIt) {
  const uint64_t start = TreeSize();
  // A backchannel between m1 and pa that pb and pc know nothing of.
  ASSERT_TRUE(CreateChannel(device("m1"), "talk", {"m1", "pa"}).ok());
  const uint64_t channel_created = TreeSize() - 1;
  const uint64_t envelope = SendText(device("pa"), "talk", "hello");

  // mv-1 to pa and pb: pa acknowledges receipt, pb objects.
  SealedVersion v1;
  const uint64_t mv1 = NotifyNew("c1", Movement("mv-1", {"pa", "pb"}), &v1)
                           .log_index();
  ASSERT_TRUE(Deliver("pa", mv1, v1.sealed.hash).ok());
  const uint64_t pa_delivered = TreeSize() - 1;
  ASSERT_TRUE(AckReceipt("pa", "mv-1", 1, v1.sealed.hash).ok());
  const uint64_t pa_ack = TreeSize() - 1;
  ASSERT_TRUE(Object("pb", "c1", "mv-1", 1, v1.sealed.hash).ok());
  const uint64_t pb_objection = TreeSize() - 1;

  // mv-2 to pa and pb: nobody answers, the whole ladder runs.
  v1::NotificationMetadata m2 = Movement("mv-2", {"pa", "pb"});
  const uint64_t mv2 = NotifyNew("c1", m2).log_index();
  const uint64_t before_ladder = TreeSize();
  clock_.Set(absl::FromUnixSeconds(m2.ack_by() + 3 * 3600));
  absl::StatusOr<int> logged = server_->RunDueDeadlines();
  ASSERT_TRUE(logged.ok()) << logged.status();
  ASSERT_EQ(*logged, 6);  // three steps for each of two parties
  std::set<uint64_t> to_pa, to_pb;
  for (const auto& [index, e] :
       EntriesOf<Escalation>(before_ladder, TreeSize())) {
    (e.party == "pa" ? to_pa : to_pb).insert(index);
  }
  ASSERT_EQ(to_pa.size(), 3u);
  ASSERT_EQ(to_pb.size(), 3u);
  // Entries that hold no signature or ciphertext carry a fresh salt, so a
  // member sent only their leaf hash cannot confirm a guess of them.
  std::set<std::string> salts;
  for (const auto& [index, e] :
       EntriesOf<Escalation>(before_ladder, TreeSize())) {
    EXPECT_EQ(e.salt.size(), kEntrySaltSize) << index;
    salts.insert(e.salt);
  }
  const LogEntry channel_entry = EntryAt(channel_created);
  const auto* created = std::get_if<ChannelCreated>(&channel_entry.body);
  ASSERT_NE(created, nullptr);
  EXPECT_EQ(created->salt.size(), kEntrySaltSize);
  salts.insert(created->salt);
  EXPECT_EQ(salts.size(), 7u);
  const uint64_t end = TreeSize();
  ASSERT_NO_FATAL_FAILURE(RecordLeafHashes(end));

  std::set<uint64_t> everything;
  for (uint64_t i = 0; i < end; ++i) everything.insert(i);
  // The directory: every entry before `start` but the invites of others.
  auto directory = [&](const std::string& member) {
    std::set<uint64_t> out;
    for (uint64_t i = 0; i < start; ++i) {
      LogEntry e = EntryAt(i);
      const auto* invite = std::get_if<InviteCreated>(&e.body);
      if (invite == nullptr || invite->name == member) out.insert(i);
    }
    return out;
  };
  auto with = [](std::set<uint64_t> a, std::set<uint64_t> b) {
    a.insert(b.begin(), b.end());
    return a;
  };

  // Admins, mediators and observers (auditors) read everything.
  for (const std::string name : {"admin", "m1", "m2", "obs"}) {
    EXPECT_EQ(Readable(name, 0, end), everything) << name;
  }
  // pa: its channel and envelope, both notifications (versions), its own
  // receipt and answer, its own escalations; never pb's objection or
  // reminders.
  EXPECT_EQ(Readable("pa", 0, end),
            with(directory("pa"), with({channel_created, envelope, mv1,
                                        pa_delivered, pa_ack, mv2},
                                       to_pa)));
  // pb: not the backchannel, not pa's receipt, answer or reminders.
  EXPECT_EQ(Readable("pb", 0, end),
            with(directory("pb"), with({mv1, pb_objection, mv2}, to_pb)));
  // pc, a party of neither, and x1, a coordinator of another
  // organisation: the directory only.
  EXPECT_EQ(Readable("pc", 0, end), directory("pc"));
  EXPECT_EQ(Readable("x1", 0, end), directory("x1"));
  // c1 issued both, c2 is of the same organisation: each follows every
  // party's receipts, answers and reminders, but not the backchannel.
  std::set<uint64_t> issuing_side = {mv1, pa_delivered, pa_ack, pb_objection,
                                     mv2};
  issuing_side = with(with(issuing_side, to_pa), to_pb);
  EXPECT_EQ(Readable("c1", 0, end), with(directory("c1"), issuing_side));
  EXPECT_EQ(Readable("c2", 0, end), with(directory("c2"), issuing_side));
}

TEST_F(LogVisibilityTest, InclusionProofWithholdsTheLeafButProvesItsHash) {
  SealedVersion v;
  const uint64_t mv1 =
      NotifyNew("c1", Movement("mv-1", {"pa", "pb"}), &v).log_index();
  ASSERT_TRUE(AckReceipt("pa", "mv-1", 1, v.sealed.hash).ok());
  const uint64_t pa_ack = TreeSize() - 1;
  const uint64_t size = TreeSize();
  ASSERT_NO_FATAL_FAILURE(RecordLeafHashes(size));

  // pb may not read pa's answer: the proof carries its leaf hash only,
  // and the same path as the admin's.
  v1::InclusionProof withheld, full;
  grpc::Status s = Prove("pb", pa_ack, size, &withheld);
  ASSERT_TRUE(s.ok()) << Describe(s);
  ASSERT_TRUE(Prove("admin", pa_ack, size, &full).ok());
  EXPECT_TRUE(withheld.leaf().empty());
  EXPECT_EQ(withheld.leaf_hash(), leaf_hashes_.at(pa_ack));
  EXPECT_EQ(full.leaf_hash(), withheld.leaf_hash());
  EXPECT_EQ(LeafHash(full.leaf()), full.leaf_hash());
  ASSERT_EQ(withheld.hashes_size(), full.hashes_size());
  for (int i = 0; i < full.hashes_size(); ++i) {
    EXPECT_EQ(withheld.hashes(i), full.hashes(i));
  }
  // pb reads the version addressed to it; pa reads its own answer.
  v1::InclusionProof own;
  ASSERT_TRUE(Prove("pb", mv1, size, &own).ok());
  EXPECT_EQ(LeafHash(own.leaf()), own.leaf_hash());
  ASSERT_TRUE(Prove("pa", pa_ack, size, &own).ok());
  EXPECT_EQ(own.leaf(), full.leaf());
}

TEST_F(LogVisibilityTest, EntriesAndProofsNeedASession) {
  const uint64_t size = TreeSize();
  grpc::ClientContext entries_context;
  v1::GetEntriesRequest entries;
  entries.set_start(0);
  v1::GetEntriesResponse page;
  grpc::Status s = log_->GetEntries(&entries_context, entries, &page);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << Describe(s);
  EXPECT_EQ(page.entries_size(), 0);

  grpc::ClientContext proof_context;
  v1::GetInclusionProofRequest proof;
  proof.set_index(0);
  proof.set_tree_size(size);
  v1::InclusionProof out;
  s = log_->GetInclusionProof(&proof_context, proof, &out);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << Describe(s);
  EXPECT_TRUE(out.leaf().empty());
  EXPECT_TRUE(out.leaf_hash().empty());
}

}  // namespace
}  // namespace parley
