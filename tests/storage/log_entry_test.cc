// storage/tlog/log_entry.h: the escalation entry (PROTOCOL.md section 12, type
// 11) and its steps, including the site review-by step; the optional salt
// of the entries that hold no signature or ciphertext (section 11.13).

#include "storage/tlog/log_entry.h"

#include <string>
#include <variant>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace parley {
namespace {

using ::parley::testing::StatusIs;

std::string EscalationBytes(uint8_t step) {
  LogEntry e{
      1'790'000'000'250,
      Escalation{"site-1", 3, "c1", EscalationStep::kReminder, 1'790'086'400}};
  std::string bytes = EncodeLogEntry(e);
  // The step byte sits before the 8-byte deadline at the end.
  bytes[bytes.size() - 9] = static_cast<char>(step);
  return bytes;
}

// PROTOCOL.md section 12, for members other than the issuer and parties.
TEST(LogEntryTest, NotificationAudienceRule) {
  using R = MemberRole;
  // Every unrevoked mediator, whatever the organisations.
  EXPECT_TRUE(JoinsNotificationAudience(R::kMediator, false, "", "ocha"));
  EXPECT_TRUE(JoinsNotificationAudience(R::kMediator, false, "un", ""));
  // Coordinators of the issuer's organisation only.
  EXPECT_TRUE(JoinsNotificationAudience(R::kCoordinator, false, "ocha", "ocha"));
  EXPECT_FALSE(JoinsNotificationAudience(R::kCoordinator, false, "wfp", "ocha"));
  EXPECT_FALSE(JoinsNotificationAudience(R::kCoordinator, false, "", "ocha"));
  // An issuer without an organisation has no colleagues, not every
  // coordinator without one.
  EXPECT_FALSE(JoinsNotificationAudience(R::kCoordinator, false, "", ""));
  // Never the revoked, never other roles.
  EXPECT_FALSE(JoinsNotificationAudience(R::kMediator, true, "", "ocha"));
  EXPECT_FALSE(JoinsNotificationAudience(R::kCoordinator, true, "ocha", "ocha"));
  for (R role : {R::kAdmin, R::kParty, R::kObserver}) {
    EXPECT_FALSE(JoinsNotificationAudience(role, false, "ocha", "ocha"));
  }
}

TEST(LogEntryTest, EscalationEncodingIsTheDocumentedLayout) {
  LogEntry e{
      1'790'000'000'250,
      Escalation{"site-1", 3, "c1", EscalationStep::kReviewDue, 1'790'086'400}};
  const std::string bytes = EncodeLogEntry(e);
  // u8 version, u8 type, u64 logged_at_ms, bytes8 id, u32 version,
  // bytes8 party, u8 step, u64 deadline.
  ASSERT_EQ(bytes.size(), 1u + 1 + 8 + (1 + 6) + 4 + (1 + 2) + 1 + 8);
  EXPECT_EQ(static_cast<uint8_t>(bytes[0]), 1);
  EXPECT_EQ(static_cast<uint8_t>(bytes[1]), 11);
  EXPECT_EQ(bytes.substr(10, 7), std::string(1, 6) + "site-1");
  EXPECT_EQ(bytes.substr(17, 4), std::string("\x00\x00\x00\x03", 4));
  EXPECT_EQ(bytes.substr(21, 3), std::string(1, 2) + "c1");
  EXPECT_EQ(static_cast<uint8_t>(bytes[24]), 4);  // review due
}

TEST(LogEntryTest, EveryEscalationStepRoundTrips) {
  for (EscalationStep step :
       {EscalationStep::kReminder, EscalationStep::kEscalation,
        EscalationStep::kSecondEscalation, EscalationStep::kReviewDue}) {
    LogEntry e{1'790'000'000'250,
               Escalation{"site-1", 3, "c1", step, 1'790'086'400}};
    absl::StatusOr<LogEntry> decoded = DecodeLogEntry(EncodeLogEntry(e));
    ASSERT_TRUE(decoded.ok()) << decoded.status();
    const auto* x = std::get_if<Escalation>(&decoded->body);
    ASSERT_NE(x, nullptr);
    EXPECT_EQ(x->step, step);
    EXPECT_EQ(x->id, "site-1");
    EXPECT_EQ(x->version, 3u);
    EXPECT_EQ(x->party, "c1");
    EXPECT_EQ(x->deadline, 1'790'086'400);
    EXPECT_EQ(decoded->logged_at_ms, 1'790'000'000'250);
  }
}

TEST(LogEntryTest, UnknownEscalationStepsAreRejected) {
  for (uint8_t step : {1, 2, 3, 4}) {
    EXPECT_TRUE(DecodeLogEntry(EscalationBytes(step)).ok()) << int{step};
  }
  for (uint8_t step : {0, 5, 255}) {
    absl::StatusOr<LogEntry> decoded = DecodeLogEntry(EscalationBytes(step));
    EXPECT_THAT(decoded, StatusIs(absl::StatusCode::kInvalidArgument))
        << int{step};
    if (!decoded.ok()) {
      EXPECT_THAT(std::string(decoded.status().message()),
                  ::testing::HasSubstr("step"));
    }
  }
}

// The three entry types that carry no signature or ciphertext end with an
// optional 16-byte salt; entries written before it existed still decode,
// and decode-encode gives back the same bytes either way.
TEST(LogEntryTest, SaltIsOptionalSixteenBytesAndRoundTrips) {
  const std::string salt = "0123456789abcdef";
  const std::vector<EntryBody> bodies = {
      ChannelCreated{"ops", "m1", {"m1", "pa"}, salt},
      ChannelMembersChanged{"ops", "m1", {"m1", "pa", "pb"}, salt},
      Escalation{"mv-1", 1, "pa", EscalationStep::kReminder, 1'790'086'400,
                 salt}};
  for (const EntryBody& body : bodies) {
    LogEntry salted{1'790'000'000'250, body};
    LogEntry plain = salted;
    std::visit([](auto& b) {
      if constexpr (requires { b.salt; }) b.salt.clear();
    }, plain.body);
    const std::string with = EncodeLogEntry(salted);
    const std::string without = EncodeLogEntry(plain);
    ASSERT_EQ(with.size(), without.size() + kEntrySaltSize);
    EXPECT_EQ(with.substr(0, without.size()), without);
    EXPECT_EQ(with.substr(without.size()), salt);
    for (const std::string& bytes : {with, without}) {
      absl::StatusOr<LogEntry> decoded = DecodeLogEntry(bytes);
      ASSERT_TRUE(decoded.ok()) << decoded.status();
      EXPECT_EQ(EncodeLogEntry(*decoded), bytes);
    }
    // Any other tail is refused: a salt is exactly 16 bytes.
    for (size_t extra : {1u, 15u, 17u, 32u}) {
      EXPECT_THAT(DecodeLogEntry(without + std::string(extra, 'x')),
                  StatusIs(absl::StatusCode::kInvalidArgument))
          << extra;
    }
  }
}

}  // namespace
}  // namespace parley
