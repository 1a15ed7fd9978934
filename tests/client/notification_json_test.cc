#include "client/views/notification_json.h"

#include <set>
#include <string>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace parley {
namespace {

using Json = nlohmann::json;

std::set<std::string> Keys(const Json& j) {
  std::set<std::string> out;
  for (const auto& [key, unused] : j.items()) out.insert(key);
  return out;
}

v1::NotificationState State(v1::NotificationKind kind,
                            v1::NotificationState::Overall overall) {
  v1::NotificationState n;
  n.mutable_metadata()->set_id("n-1");
  n.mutable_metadata()->set_kind(kind);
  n.set_overall(overall);
  n.set_version(1);
  v1::PartyState* p = n.add_parties();
  p->set_party("partya");
  p->set_state(v1::PartyState::ACKNOWLEDGED);
  return n;
}

TEST(NotificationJsonTest, ReviewDueOnlyForASitePastItsReviewByDate) {
  EXPECT_TRUE(NotificationStateJson(
                  State(v1::SITE, v1::NotificationState::EXPIRED))["review_due"]
                  .get<bool>());
  EXPECT_FALSE(NotificationStateJson(
                   State(v1::SITE, v1::NotificationState::PENDING))["review_due"]
                   .get<bool>());
  // A movement past its validity is expired, not due for review.
  EXPECT_FALSE(
      NotificationStateJson(
          State(v1::MOVEMENT, v1::NotificationState::EXPIRED))["review_due"]
          .get<bool>());
  EXPECT_TRUE(SiteReviewDue(State(v1::SITE, v1::NotificationState::EXPIRED)));
}

// `parley notifications --json`, `notification show --json` and the GUI
// print these documents: their keys are a contract.
TEST(NotificationJsonTest, StateAndViewKeepTheirKeys) {
  const v1::NotificationState n =
      State(v1::MOVEMENT, v1::NotificationState::ACKNOWLEDGED_BY_ALL);
  const Json state = NotificationStateJson(n);
  EXPECT_EQ(Keys(state),
            (std::set<std::string>{"id", "kind", "version", "issuer",
                                   "organisation", "overall", "review_due",
                                   "late", "emergency", "depart_at", "ack_by",
                                   "valid_from", "valid_until", "log_index",
                                   "entry_indexes", "parties"}));
  EXPECT_EQ(state["overall"], "acknowledged-by-all");
  EXPECT_EQ(state["depart_at"], nullptr);
  ASSERT_EQ(state["parties"].size(), 1u);
  EXPECT_EQ(Keys(state["parties"][0]),
            (std::set<std::string>{"party", "state", "logged_at",
                                   "delivered_at", "acknowledged_receipt_at",
                                   "objected_at", "escalation",
                                   "delivered_index", "answer_index"}));
  EXPECT_EQ(state["parties"][0]["state"], "acknowledged-receipt");

  Device::NotificationView view;
  view.state = n;
  Device::NotificationVersionView v;
  v.version = 1;
  v.error = "cannot open: not for this device";
  view.versions.push_back(v);
  Device::NotificationEvent e;
  e.index = 7;
  e.kind = "escalation";
  e.step = "reminder";
  view.events.push_back(e);
  const Json shown = NotificationViewJson(view);
  std::set<std::string> expected = Keys(state);
  expected.insert({"versions", "events"});
  EXPECT_EQ(Keys(shown), expected);
  EXPECT_EQ(Keys(shown["versions"][0]),
            (std::set<std::string>{"version", "log_index", "logged_at_ms",
                                   "late", "envelope_hash", "error"}));
  EXPECT_EQ(Keys(shown["events"][0]),
            (std::set<std::string>{"index", "logged_at_ms", "kind", "version",
                                   "member", "text", "step"}));
}

}  // namespace
}  // namespace parley
