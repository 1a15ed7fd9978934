// parley.v1.Channels/SendBatch: sends checked in order against the chains
// the earlier ones advance, logged in one synced write, all or none.

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/server/server_test_util.h"

namespace parley {
namespace {

using ::parley::testing::Describe;
using ::parley::testing::Device;
using ::parley::testing::Sealed;
using ::parley::testing::SealOptions;
using ::parley::testing::ServerTest;
using ::testing::HasSubstr;

class SendBatchTest : public ServerTest {
 protected:
  void Configure(ServerConfig& config) override {
    config.max_message_bytes = 64 * 1024;
  }
  void SetUp() override {
    ServerTest::SetUp();
    if (HasFatalFailure()) return;
    StandardCast();
    // A second channel of a's: {m, a}.
    grpc::Status s = CreateChannel(device("m"), "am", {"a"});
    ASSERT_TRUE(s.ok()) << Describe(s);
  }

  // Seals `count` envelopes from `sender` in `channel`, each following the
  // one before it, starting from the sender's chain (not advanced).
  std::vector<Sealed> Chain(const Device& sender, const std::string& channel,
                            const std::vector<std::string>& members,
                            int count, const std::string& text = "m") {
    std::vector<Sealed> out;
    SealOptions options;
    if (auto it = sender.chains.find(channel); it != sender.chains.end()) {
      options.sequence = it->second.next;
      options.previous_hash = it->second.last;
    }
    for (int i = 0; i < count; ++i) {
      out.push_back(Seal(sender, channel, absl::StrCat(text, " ", i), members,
                         options));
      options.sequence = out.back().sequence + 1;
      options.previous_hash = out.back().hash;
    }
    return out;
  }

  struct Item {
    std::string channel;
    Sealed sealed;
  };

  grpc::Status SendBatch(Device& sender, const std::vector<Item>& items,
                         v1::SendBatchResponse* response = nullptr,
                         std::string* retry_after = nullptr) {
    grpc::ClientContext context;
    Authorize(&context, sender);
    v1::SendBatchRequest request;
    for (const Item& item : items) {
      v1::SendRequest* r = request.add_sends();
      r->set_channel(item.channel);
      r->set_envelope(item.sealed.bytes);
    }
    v1::SendBatchResponse local;
    v1::SendBatchResponse* out = response != nullptr ? response : &local;
    grpc::Status s = channels_->SendBatch(&context, request, out);
    if (retry_after != nullptr) {
      const auto& trailers = context.GetServerTrailingMetadata();
      if (auto it = trailers.find("retry-after-ms"); it != trailers.end()) {
        retry_after->assign(it->second.data(), it->second.size());
      }
    }
    return s;
  }

  const std::vector<std::string> kAb = {"a", "b", "m"};
  const std::vector<std::string> kAm = {"a", "m"};
};

TEST_F(SendBatchTest, LogsEverySendAtConsecutiveIndexesInRequestOrder) {
  std::unique_ptr<testing::DeliveryStream> b = Subscribe(device("b"), 0, false);
  std::vector<Sealed> ab = Chain(device("a"), "ab", kAb, 2);
  std::vector<Sealed> am = Chain(device("a"), "am", kAm, 1);
  // Interleaved channels: each chain advances on its own.
  std::vector<Item> items = {{"ab", ab[0]}, {"am", am[0]}, {"ab", ab[1]}};
  const uint64_t before = TreeSize();
  v1::SendBatchResponse response;
  grpc::Status s = SendBatch(device("a"), items, &response);
  ASSERT_TRUE(s.ok()) << Describe(s);
  ASSERT_EQ(response.results_size(), 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(response.results(i).log_index(), before + i);
    EXPECT_FALSE(response.results(i).duplicate());
  }
  EXPECT_EQ(TreeSize(), before + 3);
  // b is a recipient of the two "ab" envelopes only, in order.
  std::vector<uint64_t> envelopes;
  while (envelopes.size() < 2) {
    std::optional<v1::Delivery> d = b->Next();
    ASSERT_TRUE(d.has_value());
    if (d->kind() == v1::Delivery::ENVELOPE) envelopes.push_back(d->index());
  }
  EXPECT_THAT(envelopes, ::testing::ElementsAre(before, before + 2));
  // The server's chains moved on: the next single Send continues them.
  device("a").chains["ab"] = {2, ab[1].hash};
  device("a").chains["am"] = {1, am[0].hash};
  Sealed next = Seal(device("a"), "ab", "after", kAb);
  s = Send(device("a"), "ab", next);
  EXPECT_TRUE(s.ok()) << Describe(s);
}

TEST_F(SendBatchTest, RetryOfALoggedBatchAnswersEverySendAsADuplicate) {
  std::vector<Sealed> ab = Chain(device("a"), "ab", kAb, 3);
  std::vector<Item> items = {{"ab", ab[0]}, {"ab", ab[1]}, {"ab", ab[2]}};
  v1::SendBatchResponse first;
  ASSERT_TRUE(SendBatch(device("a"), items, &first).ok());
  const uint64_t before = TreeSize();
  v1::SendBatchResponse retry;
  grpc::Status s = SendBatch(device("a"), items, &retry);
  ASSERT_TRUE(s.ok()) << Describe(s);
  ASSERT_EQ(retry.results_size(), 3);
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(retry.results(i).log_index(), first.results(i).log_index());
    EXPECT_TRUE(retry.results(i).duplicate());
  }
  EXPECT_EQ(TreeSize(), before);
}

TEST_F(SendBatchTest, BatchWhoseStartWasAlreadyLoggedLogsOnlyTheRest) {
  std::vector<Sealed> ab = Chain(device("a"), "ab", kAb, 3);
  v1::SendResponse single;
  ASSERT_TRUE(Send(device("a"), "ab", ab[0], &single).ok());
  const uint64_t before = TreeSize();
  v1::SendBatchResponse response;
  grpc::Status s = SendBatch(
      device("a"), {{"ab", ab[0]}, {"ab", ab[1]}, {"ab", ab[2]}}, &response);
  ASSERT_TRUE(s.ok()) << Describe(s);
  ASSERT_EQ(response.results_size(), 3);
  EXPECT_TRUE(response.results(0).duplicate());
  EXPECT_EQ(response.results(0).log_index(), single.log_index());
  EXPECT_FALSE(response.results(1).duplicate());
  EXPECT_EQ(response.results(1).log_index(), before);
  EXPECT_EQ(response.results(2).log_index(), before + 1);
  EXPECT_EQ(TreeSize(), before + 2);
}

TEST_F(SendBatchTest, OneBadSendLogsNothingAndIsNamed) {
  std::vector<Sealed> ab = Chain(device("a"), "ab", kAb, 3);
  struct Case {
    std::string what;
    Item bad;
    grpc::StatusCode code;
    std::string message;
  };
  Sealed forged = ab[1];
  forged.bytes[forged.bytes.size() - 1] ^= 1;  // The signature.
  SealOptions skip;
  skip.sequence = 5;
  skip.previous_hash = ab[0].hash;
  SealOptions wrong_members = skip;
  wrong_members.sequence = 1;
  SealOptions same_id = wrong_members;
  same_id.client_message_id = ab[0].client_message_id;
  const std::vector<Case> cases = {
      {"forged signature", {"ab", forged}, grpc::StatusCode::UNAUTHENTICATED,
       "signature"},
      {"sequence gap", {"ab", Seal(device("a"), "ab", "x", kAb, skip)},
       grpc::StatusCode::FAILED_PRECONDITION, "out of order"},
      {"recipients", {"ab", Seal(device("a"), "ab", "x", kAm, wrong_members)},
       grpc::StatusCode::FAILED_PRECONDITION, "current members"},
      {"repeated id", {"ab", Seal(device("a"), "ab", "x", kAb, same_id)},
       grpc::StatusCode::INVALID_ARGUMENT, "repeats the client message id"},
      {"unknown channel", {"zz", Seal(device("a"), "zz", "x", kAb)},
       grpc::StatusCode::NOT_FOUND, "no channel"},
  };
  const uint64_t before = TreeSize();
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    grpc::Status s =
        SendBatch(device("a"), {{"ab", ab[0]}, c.bad, {"ab", ab[2]}});
    EXPECT_EQ(s.error_code(), c.code) << Describe(s);
    EXPECT_THAT(s.error_message(), HasSubstr("send 2 of 3: "));
    EXPECT_THAT(s.error_message(), HasSubstr(c.message));
    EXPECT_THAT(s.error_message(), HasSubstr("nothing in this batch"));
    EXPECT_EQ(TreeSize(), before);
  }
  // Nothing moved: the same envelopes, in order, are still accepted.
  grpc::Status s = SendBatch(device("a"),
                             {{"ab", ab[0]}, {"ab", ab[1]}, {"ab", ab[2]}});
  EXPECT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(TreeSize(), before + 3);
}

TEST_F(SendBatchTest, NonMemberAndObserverArePermissionDenied) {
  AddMember("c", v1::ROLE_PARTY);
  const uint64_t before = TreeSize();
  std::vector<Sealed> own = Chain(device("a"), "ab", kAb, 1);
  Sealed intruder = Seal(device("c"), "ab", "let me in", kAb);
  grpc::Status s = SendBatch(device("c"), {{"ab", intruder}});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr("not a member"));
  // Someone else's envelope inside one's own batch.
  s = SendBatch(device("c"), {{"ab", own[0]}});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << Describe(s);
  Sealed observed = Seal(device("o"), "ab", "x", kAb);
  s = SendBatch(device("o"), {{"ab", observed}});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED)
      << Describe(s);
  EXPECT_EQ(TreeSize(), before);
}

TEST_F(SendBatchTest, EmptyTooManyOrTooLargeIsInvalidArgument) {
  const uint64_t before = TreeSize();
  grpc::Status s = SendBatch(device("a"), {});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr("at least one"));

  std::vector<Sealed> many = Chain(device("a"), "ab", kAb, 101);
  std::vector<Item> items;
  for (const Sealed& sealed : many) items.push_back({"ab", sealed});
  s = SendBatch(device("a"), items);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr("over the limit of 100"));

  // Over max_message_bytes (64 KiB here) in total, each one well within.
  std::vector<Sealed> big =
      Chain(device("a"), "ab", kAb, 5, std::string(10000, 'x'));
  items.clear();
  for (const Sealed& sealed : big) items.push_back({"ab", sealed});
  s = SendBatch(device("a"), items);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr("send fewer per batch"));
  EXPECT_EQ(TreeSize(), before);
  // The first of them alone is fine.
  s = SendBatch(device("a"), {items[0]});
  EXPECT_TRUE(s.ok()) << Describe(s);
}

class SendBatchRateLimitTest : public SendBatchTest {
 protected:
  void Configure(ServerConfig& config) override {
    SendBatchTest::Configure(config);
    config.limits.requests_per_second = 1;
    config.limits.burst = 5;
  }
};

TEST_F(SendBatchRateLimitTest, EverySendTakesARateLimitToken) {
  clock_.Advance(absl::Seconds(10));  // Refill a's bucket to 5.
  std::vector<Sealed> ab = Chain(device("a"), "ab", kAb, 6);
  std::vector<Item> items;
  for (const Sealed& sealed : ab) items.push_back({"ab", sealed});
  const uint64_t before = TreeSize();
  // Six sends can never fit a burst of five: no wait helps.
  grpc::Status s = SendBatch(device("a"), items);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT) << Describe(s);
  EXPECT_THAT(s.error_message(), HasSubstr("split it"));
  // Three take three of the five tokens ...
  s = SendBatch(device("a"), {items[0], items[1], items[2]});
  ASSERT_TRUE(s.ok()) << Describe(s);
  // ... so three more must wait for one token, at one per second.
  std::string retry_after;
  s = SendBatch(device("a"), {items[3], items[4], items[5]}, nullptr,
                &retry_after);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED)
      << Describe(s);
  EXPECT_EQ(retry_after, "1000");
  EXPECT_EQ(TreeSize(), before + 3);
  clock_.Advance(absl::Seconds(1));
  s = SendBatch(device("a"), {items[3], items[4], items[5]});
  EXPECT_TRUE(s.ok()) << Describe(s);
  EXPECT_EQ(TreeSize(), before + 6);
}

}  // namespace
}  // namespace parley
