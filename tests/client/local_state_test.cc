#include "client/local_state.h"

#include <fstream>

#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/subprocess.h"

namespace parley {
namespace {

using ::parley::testing::StatusIs;
using ::parley::testing::TempDir;

StoredMessage Message(uint64_t index, const std::string& body) {
  StoredMessage m;
  m.index = index;
  m.channel = "bc-1";
  m.sender = "partya";
  m.content_type = "text/plain";
  m.body = body;
  m.envelope_hash = std::string(32, static_cast<char>(index));
  return m;
}

TEST(LocalStateTest, FreshProfileIsEmpty) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(LocalState state, LocalState::Open(dir.path()));
  EXPECT_FALSE(state.cursor().has_value());
  EXPECT_FALSE(state.HasIdentity());
  EXPECT_THAT(state.LoadIdentity(), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(state.Chain("bc-1").next_sequence, 0u);
  EXPECT_EQ(state.Chain("bc-1").last_hash, std::string(32, '\0'));
}

TEST(LocalStateTest, IdentityRoundTrips) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(LocalState state, LocalState::Open(dir.path()));
  ProfileIdentity id{"mediator", MemberRole::kMediator, "Org",
                     std::string(32, 'k'), "o/log", "o/log+1234+AQ", 7, 2};
  ASSERT_OK(state.SaveIdentity(id));
  ASSERT_OK_AND_ASSIGN(ProfileIdentity back, state.LoadIdentity());
  EXPECT_EQ(back.name, "mediator");
  EXPECT_EQ(back.role, MemberRole::kMediator);
  EXPECT_EQ(back.identity_key, id.identity_key);
  EXPECT_EQ(back.registration_index, 7u);
  EXPECT_EQ(back.published_prekey_id, 2u);
}

TEST(LocalStateTest, ChangedKeyOfVerifiedMemberBlocksSendingUntilReverified) {
  TempDir dir;
  const std::string k1(32, '1'), k2(32, '2');
  {
    ASSERT_OK_AND_ASSIGN(LocalState state, LocalState::Open(dir.path()));
    EXPECT_EQ(*state.ObserveMemberKey("partya", k1), KeyObservation::kFirstSeen);
    EXPECT_EQ(*state.ObserveMemberKey("partya", k1), KeyObservation::kSame);
    ASSERT_OK(state.MarkVerified("partya", k1));
    EXPECT_OK(state.CheckSendable("partya"));
    EXPECT_EQ(*state.ObserveMemberKey("partya", k2), KeyObservation::kChanged);
  }
  // Remembered across runs.
  ASSERT_OK_AND_ASSIGN(LocalState state, LocalState::Open(dir.path()));
  absl::Status s = state.CheckSendable("partya");
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_TRUE(s.GetPayload(kKeyChangedPayload).has_value());
  EXPECT_EQ(state.FindContact("partya")->previous_key, k1);
  ASSERT_OK(state.MarkVerified("partya", k2));
  EXPECT_OK(state.CheckSendable("partya"));
  EXPECT_TRUE(state.FindContact("partya")->verified());
}

TEST(LocalStateTest, ChangedKeyOfUnverifiedMemberIsOnlyReported) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(LocalState state, LocalState::Open(dir.path()));
  ASSERT_OK(state.ObserveMemberKey("partyb", std::string(32, '1')).status());
  EXPECT_EQ(*state.ObserveMemberKey("partyb", std::string(32, '2')), KeyObservation::kChanged);
  EXPECT_OK(state.CheckSendable("partyb"));
}

TEST(LocalStateTest, DeliveriesSurviveRestartAndAreRecognisedByIndex) {
  TempDir dir;
  {
    ASSERT_OK_AND_ASSIGN(LocalState state, LocalState::Open(dir.path()));
    ASSERT_OK(state.CommitDelivery(4, Message(4, "first"),
                                   PendingReceipt{4, "receipt-4"}));
    ASSERT_OK(state.CommitDelivery(5, std::nullopt, std::nullopt));
    ASSERT_OK(state.CommitDelivery(9, Message(9, "second"), std::nullopt));
  }
  ASSERT_OK_AND_ASSIGN(LocalState state, LocalState::Open(dir.path()));
  EXPECT_EQ(state.cursor(), 9u);
  EXPECT_TRUE(state.HasMessage(4));
  EXPECT_FALSE(state.HasMessage(5));
  ASSERT_EQ(state.pending_receipts().size(), 1u);
  EXPECT_EQ(state.pending_receipts()[0].receipt, "receipt-4");
  // Committing a stored index again stores nothing twice.
  ASSERT_OK(state.CommitDelivery(9, Message(9, "second"), std::nullopt));
  ASSERT_OK_AND_ASSIGN(std::vector<StoredMessage> all, state.Messages());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].body, "second");
  EXPECT_EQ(all[1].envelope_hash, std::string(32, '\x09'));
  ASSERT_OK(state.DropPendingReceipts(1));
  EXPECT_TRUE(state.pending_receipts().empty());
}

TEST(LocalStateTest, TornAppendIsRepairedAndTheEntryDeliveredAgain) {
  TempDir dir;
  {
    ASSERT_OK_AND_ASSIGN(LocalState state, LocalState::Open(dir.path()));
    ASSERT_OK(state.CommitDelivery(1, Message(1, "kept"), std::nullopt));
  }
  // A crash in the middle of appending message 2 (cursor never moved).
  std::ofstream(dir.Sub("messages.jsonl"), std::ios::app) << "{\"index\":2,\"ch";
  ASSERT_OK_AND_ASSIGN(LocalState state, LocalState::Open(dir.path()));
  EXPECT_EQ(state.cursor(), 1u);
  EXPECT_FALSE(state.HasMessage(2));
  ASSERT_OK(state.CommitDelivery(2, Message(2, "again"), std::nullopt));
  ASSERT_OK_AND_ASSIGN(LocalState reopened, LocalState::Open(dir.path()));
  ASSERT_OK_AND_ASSIGN(std::vector<StoredMessage> all, reopened.Messages());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].body, "again");
}

TEST(LocalStateTest, ChainsAndOutboxPersist) {
  TempDir dir;
  {
    ASSERT_OK_AND_ASSIGN(LocalState state, LocalState::Open(dir.path()));
    ASSERT_OK(state.SetChain("bc-1", ChainState{3, std::string(32, 'h')}));
    ASSERT_OK(state.AddToOutbox(
        PendingSend{"bc-1", "envelope-bytes", RelayMode::kAnonymous, 12}));
    ASSERT_OK(state.SetTrustedCheckpoint(40, std::string(32, 'r')));
  }
  ASSERT_OK_AND_ASSIGN(LocalState state, LocalState::Open(dir.path()));
  EXPECT_EQ(state.Chain("bc-1").next_sequence, 3u);
  EXPECT_EQ(state.Chain("bc-1").last_hash, std::string(32, 'h'));
  ASSERT_EQ(state.outbox().size(), 1u);
  EXPECT_EQ(state.outbox()[0].relay_mode, RelayMode::kAnonymous);
  EXPECT_EQ(state.outbox()[0].relay_of, 12u);
  EXPECT_EQ(state.trusted_size(), 40u);
  ASSERT_OK(state.RemoveFromOutbox("envelope-bytes"));
  EXPECT_TRUE(state.outbox().empty());
}

TEST(LocalStateTest, CorruptedStateIsReportedNotCrashed) {
  TempDir dir;
  std::ofstream(dir.Sub("state.json")) << "{\"cursor\": \"twelve\"}";
  EXPECT_THAT(LocalState::Open(dir.path()),
              StatusIs(absl::StatusCode::kDataLoss));
  std::ofstream(dir.Sub("state.json")) << "not json";
  EXPECT_THAT(LocalState::Open(dir.path()),
              StatusIs(absl::StatusCode::kDataLoss));
}

}  // namespace
}  // namespace parley
