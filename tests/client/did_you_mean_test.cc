#include "client/core/did_you_mean.h"

#include "gtest/gtest.h"

namespace parley {
namespace {

TEST(DidYouMeanTest, EditDistanceCountsEdits) {
  EXPECT_EQ(EditDistance("partya", "partya"), 0u);
  EXPECT_EQ(EditDistance("partay", "partya"), 2u);
  EXPECT_EQ(EditDistance("party", "partya"), 1u);
  EXPECT_EQ(EditDistance("PartyA", "partya"), 0u);
  EXPECT_EQ(EditDistance("", "abc"), 3u);
}

TEST(DidYouMeanTest, SuggestsTheClosestMemberOnlyForTypos) {
  const std::vector<std::string> members = {"mediator", "partya", "partyb",
                                            "observer"};
  EXPECT_EQ(ClosestName("partyx", members), "partya");
  EXPECT_EQ(ClosestName("mediatr", members), "mediator");
  EXPECT_EQ(ClosestName("zebra", members), std::nullopt);
  EXPECT_EQ(ClosestName("ab", {"xy"}), std::nullopt);
}

TEST(DidYouMeanTest, FindsTheUnknownNameInAServerMessage) {
  EXPECT_EQ(UnknownMemberIn("no member named \"partyx\" (see parley "
                            "directory)"),
            "partyx");
  EXPECT_EQ(UnknownMemberIn("permission denied"), std::nullopt);
}

}  // namespace
}  // namespace parley
