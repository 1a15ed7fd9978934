// parley.v1.Channels: Send (checks, idempotency, chains), relay, and state
// that survives a restart, over gRPC against an in-process parleyd.

#include <filesystem>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/server_test_util.h"

namespace parley {
namespace {

using ::parley::testing::DecodeDelivery;
using ::parley::testing::Describe;
using ::parley::testing::Device;
using ::parley::testing::Sealed;
using ::parley::testing::SealOptions;
using ::parley::testing::ServerTest;
using ::testing::HasSubstr;

class ChannelServiceTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    if (HasFatalFailure()) return;
    StandardCast();
  }

  const std::vector<std::string> kAb = {"a", "b", "m"};
};

// Reads entry `index` through Log/GetEntries as `d`.
LogEntry ReadEntry(v1::Log::Stub* log, const Device& d, uint64_t index) {
  grpc::ClientContext context;
  context.AddMetadata("authorization", "Bearer " + d.token);
  v1::GetEntriesRequest r;
  r.set_start(index);
  r.set_end(index + 1);
  v1::GetEntriesResponse response;
  grpc::Status s = log->GetEntries(&context, r, &response);
  EXPECT_TRUE(s.ok()) << Describe(s);
  if (response.entries_size() != 1) {
    ADD_FAILURE() << "no entry at " << index;
    return {};
  }
  absl::StatusOr<LogEntry> entry = DecodeLogEntry(response.entries(0).data());
  EXPECT_TRUE(entry.ok()) << entry.status();
  return entry.ok() ? *entry : LogEntry{};
}

TEST_F(ChannelServiceTest, SendReturnsTheLogIndexOfTheEnvelope) {
  uint64_t before = TreeSize();
  Sealed sealed = Seal(device("a"), "ab", "hello", kAb);
  v1::SendResponse response;
  grpc::Status s = Send(device("a"), "ab", sealed, &response);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(response.log_index(), before);
  EXPECT_FALSE(response.duplicate());
  EXPECT_EQ(TreeSize(), before + 1);
  LogEntry entry = ReadEntry(log_.get(), device("a"), response.log_index());
  const auto* e = std::get_if<EnvelopeEntry>(&entry.body);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->channel, "ab");
  EXPECT_EQ(e->sender, "a");
  EXPECT_EQ(e->relay_mode, RelayMode::kNone);
  EXPECT_EQ(e->envelope, sealed.bytes);
}

TEST_F(ChannelServiceTest, IdenticalRetryReturnsOriginalIndexWithoutLogging) {
  Sealed sealed = Seal(device("a"), "ab", "hello", kAb);
  v1::SendResponse first;
  ASSERT_TRUE(Send(device("a"), "ab", sealed, &first).ok());
  uint64_t before = TreeSize();
  v1::SendResponse retry;
  grpc::Status s = Send(device("a"), "ab", sealed, &retry);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(retry.log_index(), first.log_index());
  EXPECT_TRUE(retry.duplicate());
  EXPECT_EQ(TreeSize(), before);
  // The chain moved on once only.
  Sealed next = Seal(device("a"), "ab", "second", kAb);
  EXPECT_EQ(next.sequence, 1u);
  s = Send(device("a"), "ab", next);
  EXPECT_TRUE(s.ok()) << Describe(s);
}

TEST_F(ChannelServiceTest, SameClientMessageIdWithOtherBytesIsAlreadyExists) {
  Sealed sealed = Seal(device("a"), "ab", "hello", kAb);
  ASSERT_TRUE(Send(device("a"), "ab", sealed).ok());
  uint64_t before = TreeSize();
  SealOptions options;
  options.client_message_id = sealed.client_message_id;
  options.sequence = sealed.sequence;
  options.previous_hash = std::string(32, '\0');
  Sealed conflicting = Seal(device("a"), "ab", "HELLO", kAb, options);
  grpc::Status s = Send(device("a"), "ab", conflicting);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS) << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr("client message id"));
  EXPECT_EQ(TreeSize(), before);
  // Also when it carries the next sequence number.
  options.sequence = 1;
  options.previous_hash = sealed.hash;
  conflicting = Seal(device("a"), "ab", "again", kAb, options);
  s = Send(device("a"), "ab", conflicting);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::ALREADY_EXISTS) << Describe(s);
  EXPECT_EQ(TreeSize(), before);
}

TEST_F(ChannelServiceTest, NonMemberSendIsPermissionDenied) {
  AddMember("c", v1::ROLE_PARTY);
  uint64_t before = TreeSize();
  Sealed sealed = Seal(device("c"), "ab", "let me in", kAb);
  grpc::Status s = Send(device("c"), "ab", sealed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr("not a member"));
  EXPECT_EQ(TreeSize(), before);
}

TEST_F(ChannelServiceTest, ObserverSendIsPermissionDenied) {
  ASSERT_TRUE(CreateChannel(device("m"), "watched", {"a", "o"}).ok());
  uint64_t before = TreeSize();
  Sealed sealed = Seal(device("o"), "watched", "hi", {"a", "m", "o"});
  grpc::Status s = Send(device("o"), "watched", sealed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr("observer"));
  EXPECT_EQ(TreeSize(), before);
}

TEST_F(ChannelServiceTest, UnknownChannelIsNotFound) {
  uint64_t before = TreeSize();
  Sealed sealed = Seal(device("a"), "nowhere", "hello", kAb);
  grpc::Status s = Send(device("a"), "nowhere", sealed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND) << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr("nowhere"));
  EXPECT_EQ(TreeSize(), before);
}

TEST_F(ChannelServiceTest, HeaderChannelOtherThanRequestIsInvalidArgument) {
  ASSERT_TRUE(CreateChannel(device("m"), "other", {"a", "b"}).ok());
  uint64_t before = TreeSize();
  SealOptions options;
  options.channel_id = "other";
  Sealed sealed = Seal(device("a"), "ab", "hello", kAb, options);
  grpc::Status s = Send(device("a"), "ab", sealed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr("channel"));
  EXPECT_EQ(TreeSize(), before);
}

TEST_F(ChannelServiceTest, ForgedSignatureIsUnauthenticated) {
  uint64_t before = TreeSize();
  Sealed sealed = Seal(device("a"), "ab", "hello", kAb);
  sealed.bytes.back() ^= 0x01;
  grpc::Status s = Send(device("a"), "ab", sealed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr("signature"));
  EXPECT_EQ(TreeSize(), before);
}

TEST_F(ChannelServiceTest, TamperedHeaderIsUnauthenticated) {
  uint64_t before = TreeSize();
  Sealed sealed = Seal(device("a"), "ab", "hello", kAb);
  // A byte of the client message id (offset 2 + 1 + 2 + 32).
  sealed.bytes[2 + 1 + 2 + 32] ^= 0x01;
  grpc::Status s = Send(device("a"), "ab", sealed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED) << Describe(s);
  EXPECT_EQ(TreeSize(), before);
}

TEST_F(ChannelServiceTest, GarbageEnvelopeIsInvalidArgument) {
  uint64_t before = TreeSize();
  Sealed garbage;
  garbage.bytes = "definitely not an envelope";
  grpc::Status s = Send(device("a"), "ab", garbage);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr("malformed envelope"));
  EXPECT_EQ(TreeSize(), before);
}

TEST_F(ChannelServiceTest, EnvelopeSignedBySomeoneElseIsPermissionDenied) {
  uint64_t before = TreeSize();
  Sealed sealed = Seal(device("a"), "ab", "hello", kAb);
  grpc::Status s = Send(device("b"), "ab", sealed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr("signed by another identity"));
  EXPECT_EQ(TreeSize(), before);
}

TEST_F(ChannelServiceTest, OversizeEnvelopeIsInvalidArgument) {
  uint64_t before = TreeSize();
  Sealed sealed = Seal(device("a"), "ab", std::string(5000, 'x'), kAb);
  ASSERT_GT(sealed.bytes.size(), config_.max_message_bytes);
  grpc::Status s = Send(device("a"), "ab", sealed);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr("4096"));
  EXPECT_EQ(TreeSize(), before);
  // One that fits goes through.
  Sealed fits = Seal(device("a"), "ab", std::string(1000, 'x'), kAb);
  ASSERT_LE(fits.bytes.size(), config_.max_message_bytes);
  s = Send(device("a"), "ab", fits);
  EXPECT_TRUE(s.ok()) << Describe(s);
}

TEST_F(ChannelServiceTest, WrongSequenceOrPreviousHashIsFailedPrecondition) {
  ASSERT_TRUE(Send(device("a"), "ab", Seal(device("a"), "ab", "0", kAb)).ok());
  uint64_t before = TreeSize();
  SealOptions skip;
  skip.sequence = 5;
  grpc::Status s =
      Send(device("a"), "ab", Seal(device("a"), "ab", "5", kAb, skip));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr("expects 1"));
  EXPECT_THAT(s.error_message(), HasSubstr("resynchronise"));
  SealOptions fork;
  fork.previous_hash = std::string(32, 'x');
  s = Send(device("a"), "ab", Seal(device("a"), "ab", "fork", kAb, fork));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << Describe(s);
  SealOptions replay_zero;
  replay_zero.sequence = 0;
  replay_zero.previous_hash = std::string(32, '\0');
  s = Send(device("a"), "ab",
           Seal(device("a"), "ab", "again", kAb, replay_zero));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << Describe(s);
  EXPECT_EQ(TreeSize(), before);
}

TEST_F(ChannelServiceTest, RecipientsOtherThanMembersIsFailedPrecondition) {
  AddMember("c", v1::ROLE_PARTY);
  uint64_t before = TreeSize();
  // Missing a member.
  grpc::Status s =
      Send(device("a"), "ab", Seal(device("a"), "ab", "x", {"a", "m"}));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr("re-encrypt"));
  // An outsider added.
  s = Send(device("a"), "ab",
           Seal(device("a"), "ab", "x", {"a", "b", "c", "m"}));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << Describe(s);
  // Without the sender.
  s = Send(device("a"), "ab", Seal(device("a"), "ab", "x", {"b", "m"}));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << Describe(s);
  EXPECT_EQ(TreeSize(), before);
}

TEST_F(ChannelServiceTest, ListChannelsLetsAClientContinueItsChain) {
  Sealed first, second;
  SendText(device("a"), "ab", "one", &first);
  SendText(device("a"), "ab", "two", &second);
  v1::ListChannelsResponse list;
  ASSERT_TRUE(ListChannels(device("a"), &list).ok());
  ASSERT_EQ(list.channels_size(), 1);
  const v1::ChannelInfo& info = list.channels(0);
  EXPECT_EQ(info.name(), "ab");
  EXPECT_THAT(info.members(), ::testing::ElementsAre("a", "b", "m"));
  EXPECT_EQ(info.created_by(), "m");
  EXPECT_EQ(info.next_sequence(), 2u);
  EXPECT_EQ(info.last_hash(), second.hash);
  // A device that lost its state resumes from what the server says.
  device("a").chains.clear();
  SealOptions options;
  options.sequence = info.next_sequence();
  options.previous_hash = info.last_hash();
  grpc::Status s = Send(device("a"), "ab",
                        Seal(device("a"), "ab", "three", kAb, options));
  EXPECT_TRUE(s.ok()) << Describe(s);
  // Another member's chain is its own.
  v1::ListChannelsResponse b_list;
  ASSERT_TRUE(ListChannels(device("b"), &b_list).ok());
  ASSERT_EQ(b_list.channels_size(), 1);
  EXPECT_EQ(b_list.channels(0).next_sequence(), 0u);
  EXPECT_EQ(b_list.channels(0).last_hash(), std::string(32, '\0'));
  // A non-member does not see the channel.
  v1::ListChannelsResponse o_list;
  ASSERT_TRUE(ListChannels(device("o"), &o_list).ok());
  EXPECT_EQ(o_list.channels_size(), 0);
}

TEST_F(ChannelServiceTest, RemovedMemberIsNoLongerARecipient) {
  grpc::ClientContext context;
  Authorize(&context, device("m"));
  v1::ChangeMembersRequest r;
  r.set_channel("ab");
  r.add_remove("b");
  v1::ChannelInfo info;
  grpc::Status s = channels_->ChangeMembers(&context, r, &info);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_THAT(info.members(), ::testing::ElementsAre("a", "m"));
  s = Send(device("a"), "ab", Seal(device("a"), "ab", "x", kAb));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << Describe(s);
  s = Send(device("a"), "ab", Seal(device("a"), "ab", "x", {"a", "m"}));
  EXPECT_TRUE(s.ok()) << Describe(s);
  s = Send(device("b"), "ab", Seal(device("b"), "ab", "x", {"a", "m"}));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << Describe(s);
}

TEST_F(ChannelServiceTest, RevokedMemberIsLeftOutOfRecipients) {
  {
    grpc::ClientContext context;
    Authorize(&context, device("admin"));
    v1::RevokeRequest r;
    r.set_name("b");
    v1::RevokeResponse response;
    ASSERT_TRUE(admin_->Revoke(&context, r, &response).ok());
  }
  uint64_t before = TreeSize();
  grpc::Status s = Send(device("a"), "ab", Seal(device("a"), "ab", "x", kAb));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION)
      << Describe(s);
  EXPECT_EQ(TreeSize(), before);
  s = Send(device("a"), "ab", Seal(device("a"), "ab", "x", {"a", "m"}));
  EXPECT_TRUE(s.ok()) << Describe(s);
}

// --- Relay -----------------------------------------------------------------

TEST_F(ChannelServiceTest, MediatorRelaysAnonymouslyWhatItReceived) {
  ASSERT_TRUE(CreateChannel(device("m"), "mb", {"b"}).ok());
  uint64_t source = SendText(device("a"), "ab", "offer: 10");
  SealOptions anonymous;
  anonymous.content_type = "application/vnd.parley.relay-anonymous";
  Sealed relay = Seal(device("m"), "mb", "offer: 10", {"b", "m"}, anonymous);
  v1::SendResponse response;
  grpc::Status s = Send(device("m"), "mb", relay, &response,
                        v1::RELAY_ANONYMOUS, source);
  ASSERT_TRUE(s.ok()) << Describe(s);
  LogEntry entry = ReadEntry(log_.get(), device("m"), response.log_index());
  const auto* e = std::get_if<EnvelopeEntry>(&entry.body);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->sender, "m");
  EXPECT_EQ(e->relay_mode, RelayMode::kAnonymous);
  EXPECT_EQ(e->relay_of, source);
}

TEST_F(ChannelServiceTest, PartyRelayIsPermissionDenied) {
  uint64_t source = SendText(device("b"), "ab", "offer: 10");
  uint64_t before = TreeSize();
  Sealed relay = Seal(device("a"), "ab", "offer: 10", kAb);
  grpc::Status s = Send(device("a"), "ab", relay, nullptr,
                        v1::RELAY_ANONYMOUS, source);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr("mediators"));
  EXPECT_EQ(TreeSize(), before);
}

TEST_F(ChannelServiceTest, RelayOfAnEnvelopeNotReceivedIsPermissionDenied) {
  // "pq" starts with m, who then leaves: m does not receive a's envelope.
  ASSERT_TRUE(CreateChannel(device("m"), "pq", {"a", "b"}).ok());
  {
    grpc::ClientContext context;
    Authorize(&context, device("m"));
    v1::ChangeMembersRequest r;
    r.set_channel("pq");
    r.add_remove("m");
    v1::ChannelInfo info;
    ASSERT_TRUE(channels_->ChangeMembers(&context, r, &info).ok());
  }
  uint64_t unseen = SendText(device("a"), "pq", "private");
  uint64_t before = TreeSize();
  Sealed relay = Seal(device("m"), "ab", "private", kAb);
  grpc::Status s = Send(device("m"), "ab", relay, nullptr,
                        v1::RELAY_ANONYMOUS, unseen);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr(absl::StrCat(unseen)));
  // Nor an index that is no envelope at all (the admin's registration), or
  // past the end of the log.
  s = Send(device("m"), "ab", relay, nullptr, v1::RELAY_VERBATIM, 1);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << Describe(s);
  s = Send(device("m"), "ab", relay, nullptr, v1::RELAY_VERBATIM, 1u << 30);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << Describe(s);
  EXPECT_EQ(TreeSize(), before);
}

// --- Restart and storage -----------------------------------------------------

TEST_F(ChannelServiceTest, RestartRebuildsMembersChannelsChainsAndInboxes) {
  Sealed first;
  uint64_t i1 = SendText(device("a"), "ab", "before restart", &first);
  uint64_t i2 = SendText(device("b"), "ab", "reply");
  std::vector<std::pair<uint64_t, int>> before;
  {
    auto stream = Subscribe(device("b"), 0, true);
    for (const v1::Delivery& d : stream->Take(3)) {
      before.emplace_back(d.index(), d.kind());
    }
  }
  ASSERT_EQ(before.size(), 3u);
  EXPECT_EQ(before[1].first, i1);
  EXPECT_EQ(before[2].first, i2);
  uint64_t size = TreeSize();

  StopServer();
  StartServer();
  EXPECT_EQ(TreeSize(), size);
  // Tokens were in memory only.
  {
    grpc::ClientContext context;
    Authorize(&context, device("b"));
    v1::ListChannelsResponse list;
    grpc::Status s = channels_->ListChannels(&context, {}, &list);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED)
        << Describe(s);
  }
  for (const char* name : {"a", "b", "m"}) {
    grpc::Status s = SignIn(device(name));
    ASSERT_TRUE(s.ok()) << name << " " << Describe(s);
  }
  {
    auto stream = Subscribe(device("b"), 0, true);
    std::vector<std::pair<uint64_t, int>> after;
    for (const v1::Delivery& d : stream->Take(3)) {
      after.emplace_back(d.index(), d.kind());
    }
    EXPECT_EQ(after, before);
    EXPECT_FALSE(stream->Next(absl::Milliseconds(300)).has_value());
  }
  // The chain continues where it was; a retry is still recognised.
  v1::SendResponse retry;
  grpc::Status s = Send(device("a"), "ab", first, &retry);
  ASSERT_TRUE(s.ok()) << Describe(s);
  EXPECT_TRUE(retry.duplicate());
  EXPECT_EQ(retry.log_index(), i1);
  v1::ListChannelsResponse list;
  ASSERT_TRUE(ListChannels(device("a"), &list).ok());
  ASSERT_EQ(list.channels_size(), 1);
  EXPECT_EQ(list.channels(0).next_sequence(), 1u);
  EXPECT_EQ(list.channels(0).last_hash(), first.hash);
  uint64_t i3 = SendText(device("a"), "ab", "after restart");
  EXPECT_EQ(i3, size);
  // Members and roles survived: a party still may not create channels.
  EXPECT_EQ(CreateChannel(device("a"), "x", {"b"}).error_code(),
            grpc::StatusCode::PERMISSION_DENIED);
}

// Every byte of every file under `dir`, one string per file.
std::vector<std::pair<std::string, std::string>> ReadTree(
    const std::string& dir) {
  std::vector<std::pair<std::string, std::string>> files;
  for (const auto& f : std::filesystem::recursive_directory_iterator(dir)) {
    if (!f.is_regular_file()) continue;
    absl::StatusOr<std::string> bytes = ReadFile(f.path().string());
    EXPECT_TRUE(bytes.ok()) << f.path() << ": " << bytes.status();
    if (bytes.ok()) files.emplace_back(f.path().string(), *bytes);
  }
  return files;
}

TEST_F(ChannelServiceTest, PlaintextMarkerNeverReachesTheDataDirectory) {
  const std::string marker = HexEncode(SystemRandom().Bytes(16));
  Sealed sealed;
  uint64_t index = SendText(device("a"), "ab",
                            absl::StrCat("the marker is ", marker, " ok"),
                            &sealed);
  v1::SubmitReceiptsResponse receipts;
  grpc::Status s = SubmitReceipt(
      device("b"), index, DeliveredReceipt(device("b"), sealed.hash),
      &receipts);
  EXPECT_TRUE(s.ok()) << Describe(s);
  // The envelope is readable back from the log before shutdown.
  LogEntry entry = ReadEntry(log_.get(), device("a"), index);
  const auto* e = std::get_if<EnvelopeEntry>(&entry.body);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->envelope, sealed.bytes);
  StopServer();

  auto files = ReadTree(tmp_.Sub("data"));
  ASSERT_FALSE(files.empty());
  // Non-vacuous: the ciphertext's signature is stored somewhere.
  const std::string signature = sealed.bytes.substr(sealed.bytes.size() - 64);
  bool found_envelope = false;
  for (const auto& [path, bytes] : files) {
    EXPECT_EQ(bytes.find(marker), std::string::npos) << path;
    if (bytes.find(signature) != std::string::npos) found_envelope = true;
  }
  EXPECT_TRUE(found_envelope);
}

}  // namespace
}  // namespace parley
