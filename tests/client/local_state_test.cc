#include "client/local_state.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "client/sealed_file.h"
#include "crypto/ed25519.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/subprocess.h"

namespace parley {
namespace {

using ::parley::testing::StatusIs;
using ::parley::testing::TempDir;

SecureBuffer Key(char fill = 'k') {
  EXPECT_TRUE(InitCrypto().ok());  // SecureBuffer needs libsodium
  std::string k(kStateKeySize, fill);
  return SecureBuffer(reinterpret_cast<const uint8_t*>(k.data()), k.size());
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)),
                     std::istreambuf_iterator<char>());
}

void Spit(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

OutboxItem Item(const std::string& id, const std::string& channel) {
  OutboxItem item;
  item.id = id;
  item.channel = channel;
  item.request = "envelope-bytes-" + id;
  item.relay_mode = RelayMode::kAnonymous;
  item.relay_of = 12;
  item.payload = "secret payload " + id;
  item.created_at = 1700000000;
  return item;
}

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
  ASSERT_OK_AND_ASSIGN(LocalState state, LocalState::Open(dir.path(), Key()));
  EXPECT_FALSE(state.cursor().has_value());
  EXPECT_FALSE(state.HasIdentity());
  EXPECT_THAT(state.LoadIdentity(), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_EQ(state.Chain("bc-1").next_sequence, 0u);
  EXPECT_EQ(state.Chain("bc-1").last_hash, std::string(32, '\0'));
}

TEST(LocalStateTest, IdentityRoundTrips) {
  TempDir dir;
  ASSERT_OK_AND_ASSIGN(LocalState state, LocalState::Open(dir.path(), Key()));
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
    ASSERT_OK_AND_ASSIGN(LocalState state, LocalState::Open(dir.path(), Key()));
    EXPECT_EQ(*state.ObserveMemberKey("partya", k1), KeyObservation::kFirstSeen);
    EXPECT_EQ(*state.ObserveMemberKey("partya", k1), KeyObservation::kSame);
    ASSERT_OK(state.MarkVerified("partya", k1));
    EXPECT_OK(state.CheckSendable("partya"));
    EXPECT_EQ(*state.ObserveMemberKey("partya", k2), KeyObservation::kChanged);
  }
  // Remembered across runs.
  ASSERT_OK_AND_ASSIGN(LocalState state, LocalState::Open(dir.path(), Key()));
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
  ASSERT_OK_AND_ASSIGN(LocalState state, LocalState::Open(dir.path(), Key()));
  ASSERT_OK(state.ObserveMemberKey("partyb", std::string(32, '1')).status());
  EXPECT_EQ(*state.ObserveMemberKey("partyb", std::string(32, '2')), KeyObservation::kChanged);
  EXPECT_OK(state.CheckSendable("partyb"));
}

TEST(LocalStateTest, DeliveriesSurviveRestartAndAreRecognisedByIndex) {
  TempDir dir;
  {
    ASSERT_OK_AND_ASSIGN(LocalState state, LocalState::Open(dir.path(), Key()));
    ASSERT_OK(state.CommitDelivery(4, Message(4, "first"),
                                   PendingReceipt{4, "receipt-4"}));
    ASSERT_OK(state.CommitDelivery(5, std::nullopt, std::nullopt));
    ASSERT_OK(state.CommitDelivery(9, Message(9, "second"), std::nullopt));
  }
  ASSERT_OK_AND_ASSIGN(LocalState state, LocalState::Open(dir.path(), Key()));
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
    ASSERT_OK_AND_ASSIGN(LocalState state, LocalState::Open(dir.path(), Key()));
    ASSERT_OK(state.CommitDelivery(1, Message(1, "kept"), std::nullopt));
  }
  // A crash in the middle of appending message 2 (cursor never moved).
  std::ofstream(dir.Sub("messages.bin"), std::ios::app | std::ios::binary)
      << std::string("\x00\x00\x01\x00partial", 11);
  ASSERT_OK_AND_ASSIGN(LocalState state, LocalState::Open(dir.path(), Key()));
  EXPECT_EQ(state.cursor(), 1u);
  EXPECT_FALSE(state.HasMessage(2));
  ASSERT_OK(state.CommitDelivery(2, Message(2, "again"), std::nullopt));
  ASSERT_OK_AND_ASSIGN(LocalState reopened, LocalState::Open(dir.path(), Key()));
  ASSERT_OK_AND_ASSIGN(std::vector<StoredMessage> all, reopened.Messages());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[1].body, "again");
}

TEST(LocalStateTest, ChainsAndOutboxPersist) {
  TempDir dir;
  {
    ASSERT_OK_AND_ASSIGN(LocalState state, LocalState::Open(dir.path(), Key()));
    ASSERT_OK(state.SetChain("bc-1", ChainState{3, std::string(32, 'h')}));
    ASSERT_OK(state.AddToOutbox(Item("a1", "bc-1")));
    ASSERT_OK(state.SetTrustedCheckpoint(40, std::string(32, 'r')));
  }
  ASSERT_OK_AND_ASSIGN(LocalState state, LocalState::Open(dir.path(), Key()));
  EXPECT_EQ(state.Chain("bc-1").next_sequence, 3u);
  EXPECT_EQ(state.Chain("bc-1").last_hash, std::string(32, 'h'));
  ASSERT_EQ(state.outbox().size(), 1u);
  EXPECT_EQ(state.outbox()[0].relay_mode, RelayMode::kAnonymous);
  EXPECT_EQ(state.outbox()[0].relay_of, 12u);
  EXPECT_EQ(state.trusted_size(), 40u);
  EXPECT_EQ(state.outbox()[0].payload, "secret payload a1");
  ASSERT_OK(state.RemoveFromOutbox("a1"));
  EXPECT_TRUE(state.outbox().empty());
}

TEST(LocalStateTest, CorruptedStateIsReportedNotCrashed) {
  TempDir dir;
  std::ofstream(dir.Sub("state.json")) << "{\"cursor\": \"twelve\"}";
  EXPECT_THAT(LocalState::Open(dir.path(), Key()),
              StatusIs(absl::StatusCode::kDataLoss));
  std::ofstream(dir.Sub("state.json")) << "not json";
  EXPECT_THAT(LocalState::Open(dir.path(), Key()),
              StatusIs(absl::StatusCode::kDataLoss));
}

// A profile with a message, an outbox item, a contact and a channel cache.
void Populate(const std::string& dir) {
  absl::StatusOr<LocalState> state = LocalState::Open(dir, Key());
  ASSERT_TRUE(state.ok()) << state.status();
  ASSERT_OK(state->CommitDelivery(1, Message(1, "the convoy leaves at dawn"),
                                  std::nullopt));
  ASSERT_OK(state->CommitDelivery(2, Message(2, "second"), std::nullopt));
  ASSERT_OK(state->AddToOutbox(Item("a1", "backchannel-secret"),
                               ChainState{1, std::string(32, 'h')}));
  ASSERT_OK(state->ObserveMemberKey("partyb", std::string(32, 'b')).status());
  ASSERT_OK(state->CacheChannelMembers("backchannel-secret",
                                       {"partya", "partyb"}));
}

TEST(LocalStateTest, NothingSensitiveIsStoredInClear) {
  TempDir dir;
  Populate(dir.path());
  for (const char* file : {"state.bin", "contacts.bin", "messages.bin"}) {
    const std::string bytes = Slurp(dir.Sub(file));
    ASSERT_FALSE(bytes.empty()) << file;
    for (const char* secret : {"convoy", "backchannel-secret", "partyb",
                               "secret payload", "envelope-bytes"}) {
      EXPECT_EQ(bytes.find(secret), std::string::npos)
          << secret << " in " << file;
    }
    struct stat st;
    ASSERT_EQ(::stat(dir.Sub(file).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << file;
  }
  ASSERT_OK_AND_ASSIGN(LocalState state, LocalState::Open(dir.path(), Key()));
  ASSERT_OK_AND_ASSIGN(std::vector<StoredMessage> all, state.Messages());
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].body, "the convoy leaves at dawn");
  EXPECT_EQ(state.CachedChannelMembers("backchannel-secret"),
            (std::vector<std::string>{"partya", "partyb"}));
  EXPECT_EQ(state.Chain("backchannel-secret").next_sequence, 1u);
}

TEST(LocalStateTest, AnotherIdentitysKeyCannotOpenTheState) {
  TempDir dir;
  Populate(dir.path());
  EXPECT_THAT(LocalState::Open(dir.path(), Key('x')),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST(LocalStateTest, EveryFlippedByteOrTruncationIsDataLossNeverACrash) {
  TempDir pristine;
  Populate(pristine.path());
  for (const char* file : {"state.bin", "contacts.bin", "messages.bin"}) {
    const std::string bytes = Slurp(pristine.Sub(file));
    for (size_t i = 0; i < bytes.size(); i += 7) {
      TempDir dir;
      std::filesystem::copy(pristine.path(), dir.path(),
                            std::filesystem::copy_options::recursive |
                                std::filesystem::copy_options::overwrite_existing);
      std::string bad = bytes;
      bad[i] ^= 0x20;
      Spit(dir.Sub(file), bad);
      absl::StatusOr<LocalState> state = LocalState::Open(dir.path(), Key());
      EXPECT_THAT(state, StatusIs(absl::StatusCode::kDataLoss))
          << file << " byte " << i;
    }
    // Truncations. messages.bin may lose only a partial last record, which
    // was never committed; anything that cuts into committed records fails.
    for (size_t n : {size_t{0}, size_t{3}, bytes.size() / 2,
                     bytes.size() - 1}) {
      TempDir dir;
      std::filesystem::copy(pristine.path(), dir.path(),
                            std::filesystem::copy_options::recursive |
                                std::filesystem::copy_options::overwrite_existing);
      Spit(dir.Sub(file), bytes.substr(0, n));
      EXPECT_THAT(LocalState::Open(dir.path(), Key()),
                  StatusIs(absl::StatusCode::kDataLoss))
          << file << " cut to " << n;
    }
  }
}

TEST(LocalStateTest, JunkFilesInTheProfileAreIgnored) {
  TempDir dir;
  Populate(dir.path());
  Spit(dir.Sub("README.txt"), "hello");
  Spit(dir.Sub("state.bin~"), "\x01\x02");
  std::filesystem::create_directory(dir.Sub("junk"));
  ASSERT_OK_AND_ASSIGN(LocalState state, LocalState::Open(dir.path(), Key()));
  EXPECT_EQ(state.cursor(), 2u);
}

TEST(LocalStateTest, PlaintextFilesOfOlderClientsAreSealedAndRemoved) {
  TempDir dir;
  Spit(dir.Sub("state.json"), R"({"cursor": 5, "outbox": []})");
  Spit(dir.Sub("contacts.json"),
       R"({"members": {"partyb": {"identity_key": ")" +
           std::string(64, 'a') + R"("}}})");
  Spit(dir.Sub("messages.jsonl"),
       R"({"index":5,"logged_at_ms":0,"channel":"c","sender":"s","sequence":0,)"
       R"("created_at":0,"content_type":"text/plain","body":"aGk=",)"
       R"("envelope_hash":"00","relay_mode":0,"relay_of":0})"
       "\n");
  {
    ASSERT_OK_AND_ASSIGN(LocalState state, LocalState::Open(dir.path(), Key()));
    EXPECT_EQ(state.cursor(), 5u);
    EXPECT_TRUE(state.HasMessage(5));
  }
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("state.json")));
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("contacts.json")));
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("messages.jsonl")));
  ASSERT_OK_AND_ASSIGN(LocalState state, LocalState::Open(dir.path(), Key()));
  EXPECT_EQ(state.cursor(), 5u);
  ASSERT_TRUE(state.FindContact("partyb").has_value());
  ASSERT_OK_AND_ASSIGN(std::vector<StoredMessage> all, state.Messages());
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].body, "hi");
}

}  // namespace
}  // namespace parley
