#include "client/core/local_state.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "client/core/sealed_file.h"
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

TEST(LocalStateTest, NotificationsAreSealedRecordsRecognisedByIndex) {
  TempDir dir;
  const std::string record =
      R"({"index":7,"id":"mv-1","content":{"cargo":"marker-9c2e"}})";
  {
    ASSERT_OK_AND_ASSIGN(LocalState state, LocalState::Open(dir.path(), Key()));
    EXPECT_FALSE(state.HasNotification(7));
    ASSERT_OK(state.AppendNotification(7, record));
    ASSERT_OK(state.AppendNotification(7, record));  // stored once
    ASSERT_OK(state.CommitDelivery(7, std::nullopt, std::nullopt));
  }
  EXPECT_EQ(Slurp(dir.Sub("notifications.bin")).find("marker-9c2e"),
            std::string::npos);
  struct stat st;
  ASSERT_EQ(::stat(dir.Sub("notifications.bin").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_OK_AND_ASSIGN(LocalState state, LocalState::Open(dir.path(), Key()));
  EXPECT_TRUE(state.HasNotification(7));
  EXPECT_FALSE(state.HasNotification(8));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> records,
                       state.NotificationRecords());
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0], record);
}

TEST(LocalStateTest, CorruptedOrLostNotificationsAreDataLoss) {
  TempDir pristine;
  {
    ASSERT_OK_AND_ASSIGN(LocalState state,
                         LocalState::Open(pristine.path(), Key()));
    ASSERT_OK(state.AppendNotification(3, R"({"index":3})"));
    ASSERT_OK(state.CommitDelivery(3, std::nullopt, std::nullopt));
  }
  const std::string bytes = Slurp(pristine.Sub("notifications.bin"));
  for (size_t i = 0; i < bytes.size(); i += 5) {
    TempDir dir;
    std::filesystem::copy(pristine.path(), dir.path(),
                          std::filesystem::copy_options::recursive |
                              std::filesystem::copy_options::overwrite_existing);
    std::string bad = bytes;
    bad[i] ^= 0x01;
    Spit(dir.Sub("notifications.bin"), bad);
    EXPECT_THAT(LocalState::Open(dir.path(), Key()),
                StatusIs(absl::StatusCode::kDataLoss))
        << "byte " << i;
  }
  TempDir dir;
  std::filesystem::copy(pristine.path(), dir.path(),
                        std::filesystem::copy_options::recursive |
                            std::filesystem::copy_options::overwrite_existing);
  std::filesystem::remove(dir.Sub("notifications.bin"));
  EXPECT_THAT(LocalState::Open(dir.path(), Key()),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST(LocalStateTest, PlaintextNotificationCacheOfOlderClientsIsSealed) {
  TempDir dir;
  Spit(dir.Sub("notifications.jsonl"),
       R"({"index":4,"id":"mv-1","content":{"cargo":"marker-77aa"}})"
       "\n"
       R"({"index":6,"id":"mv-2"})"
       "\n"
       R"({"index":9,"id":"mv-)");  // a torn last line
  {
    ASSERT_OK_AND_ASSIGN(LocalState state, LocalState::Open(dir.path(), Key()));
    EXPECT_TRUE(state.HasNotification(4));
    EXPECT_TRUE(state.HasNotification(6));
    EXPECT_FALSE(state.HasNotification(9));
  }
  EXPECT_FALSE(std::filesystem::exists(dir.Sub("notifications.jsonl")));
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    EXPECT_EQ(Slurp(entry.path()).find("marker-77aa"), std::string::npos)
        << entry.path();
  }
  ASSERT_OK_AND_ASSIGN(LocalState state, LocalState::Open(dir.path(), Key()));
  ASSERT_OK_AND_ASSIGN(std::vector<std::string> records,
                       state.NotificationRecords());
  ASSERT_EQ(records.size(), 2u);
  EXPECT_NE(records[0].find("marker-77aa"), std::string::npos);
  // A plaintext line that is JSON but not a notification is refused.
  TempDir bad;
  Spit(bad.Sub("notifications.jsonl"), "[1,2]\n");
  EXPECT_THAT(LocalState::Open(bad.path(), Key()),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST(LocalStateTest, VerifiedEntriesAreCachedSealedAndChecked) {
  TempDir dir;
  {
    ASSERT_OK_AND_ASSIGN(LocalState state, LocalState::Open(dir.path(), Key()));
    ASSERT_OK_AND_ASSIGN(std::optional<std::string> none,
                         state.VerifiedEntry(5));
    EXPECT_FALSE(none.has_value());
    ASSERT_OK(state.AddVerifiedEntries(
        {{5, "leaf-five marker-e1"}, {300, std::string("\0leaf\xff", 6)}}));
    ASSERT_OK(state.AddVerifiedEntries({{5, "ignored: already cached"}}));
  }
  EXPECT_EQ(Slurp(dir.Sub("entries.bin")).find("marker-e1"),
            std::string::npos);
  {
    ASSERT_OK_AND_ASSIGN(LocalState state, LocalState::Open(dir.path(), Key()));
    ASSERT_OK_AND_ASSIGN(std::optional<std::string> five,
                         state.VerifiedEntry(5));
    ASSERT_TRUE(five.has_value());
    EXPECT_EQ(*five, "leaf-five marker-e1");
    ASSERT_OK_AND_ASSIGN(std::optional<std::string> big,
                         state.VerifiedEntry(300));
    ASSERT_TRUE(big.has_value());
    EXPECT_EQ(*big, std::string("\0leaf\xff", 6));
  }
  std::string bytes = Slurp(dir.Sub("entries.bin"));
  bytes[bytes.size() / 2] ^= 0x01;
  Spit(dir.Sub("entries.bin"), bytes);
  ASSERT_OK_AND_ASSIGN(LocalState state, LocalState::Open(dir.path(), Key()));
  EXPECT_THAT(state.VerifiedEntry(5), StatusIs(absl::StatusCode::kDataLoss));
}

TEST(LocalStateTest, MemberDirectoryAndOutboxDescriptionPersist) {
  TempDir dir;
  {
    ASSERT_OK_AND_ASSIGN(LocalState state, LocalState::Open(dir.path(), Key()));
    ASSERT_OK(state.CacheMembers(
        {{"mediator", MemberRole::kMediator, "org-m", false},
         {"gone", MemberRole::kCoordinator, "org-c", true}}));
    OutboxItem item = Item("a1", "n/mv-1");
    item.kind = "ack";
    item.description = "acknowledge receipt of mv-1 version 1";
    ASSERT_OK(state.AddToOutbox(item));
  }
  ASSERT_OK_AND_ASSIGN(LocalState state, LocalState::Open(dir.path(), Key()));
  ASSERT_EQ(state.cached_members().size(), 2u);
  EXPECT_EQ(state.cached_members()[0].role, MemberRole::kMediator);
  EXPECT_EQ(state.cached_members()[1].organisation, "org-c");
  EXPECT_TRUE(state.cached_members()[1].revoked);
  ASSERT_EQ(state.outbox().size(), 1u);
  EXPECT_EQ(state.outbox()[0].kind, "ack");
  EXPECT_EQ(state.outbox()[0].description,
            "acknowledge receipt of mv-1 version 1");
}

}  // namespace
}  // namespace parley
