#include "client/deconfliction/notification_content.h"

#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/paths.h"
#include "tests/testing/status_matchers.h"

namespace parley {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using nlohmann::json;

std::string ReadTestData(const std::string& name) {
  std::ifstream in(::parley::testing::SourceDir() + "/tests/client/testdata/" +
                   name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

json MovementJson() { return json::parse(ReadTestData("movement_v1.json")); }
json SiteJson() { return json::parse(ReadTestData("site_v1.json")); }

MovementContent Movement() {
  auto m = MovementFromJson(MovementJson());
  EXPECT_TRUE(m.ok()) << m.status();
  return *m;
}

std::string ProblemsOf(const json& j) {
  auto c = ContentFromJson(j);
  if (!c.ok()) return std::string(c.status().message());
  std::string all;
  for (const std::string& p : ValidateContent(*c)) all += p + "\n";
  return all;
}

TEST(Rfc3339Test, ParsesUtcForms) {
  ASSERT_OK_AND_ASSIGN(absl::Time t, ParseRfc3339Utc("2026-05-01T06:00:00Z"));
  EXPECT_EQ(absl::ToUnixSeconds(t), 1777615200);
  for (const char* s : {"2026-05-01t06:00:00z", "2026-05-01T06:00:00+00:00",
                        "2026-05-01T06:00:00-00:00"}) {
    ASSERT_OK_AND_ASSIGN(absl::Time u, ParseRfc3339Utc(s));
    EXPECT_EQ(u, t) << s;
  }
  ASSERT_OK_AND_ASSIGN(absl::Time f,
                       ParseRfc3339Utc("2026-05-01T06:00:00.25Z"));
  EXPECT_EQ(f - t, absl::Milliseconds(250));
  EXPECT_EQ(FormatRfc3339Utc(f), "2026-05-01T06:00:00.25Z");
  EXPECT_EQ(FormatRfc3339Utc(t), "2026-05-01T06:00:00Z");
}

// Years before 1000 keep four digits, so what is written parses back (found
// by tests/fuzz notification_content_fuzzer: corpus/notification_content/
// regress-year-0548).
TEST(Rfc3339Test, EarlyYearsFormatWithFourDigitsAndRoundTrip) {
  for (const char* s : {"0548-05-02T06:00:00Z", "0001-01-01T00:00:00Z",
                        "0999-12-31T23:59:59.5Z", "9999-12-31T23:59:59Z"}) {
    ASSERT_OK_AND_ASSIGN(absl::Time t, ParseRfc3339Utc(s));
    EXPECT_EQ(FormatRfc3339Utc(t), s);
  }
}

TEST(Rfc3339Test, RejectsNonUtcOffsetsAndBadDates) {
  auto off = ParseRfc3339Utc("2026-05-01T08:00:00+02:00");
  EXPECT_THAT(off, testing::StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(off.status().message()), HasSubstr("not UTC"));
  for (const char* s :
       {"2026-13-01T00:00:00Z", "2026-02-29T00:00:00Z", "2026-05-01T24:00:00Z",
        "2026-05-01T06:00Z", "2026-05-01 06:00:00Z", "2026-05-01T06:00:00",
        "2026-05-01T06:00:60Z", "2026-05-01T06:00:00.Z", "", "yesterday"}) {
    EXPECT_FALSE(ParseRfc3339Utc(s).ok()) << s;
  }
  EXPECT_TRUE(ParseRfc3339Utc("2028-02-29T00:00:00Z").ok());
}

TEST(NotificationContentTest, MovementRoundTripsThroughJson) {
  MovementContent m = Movement();
  EXPECT_THAT(ValidateMovement(m), IsEmpty());
  EXPECT_EQ(m.route.waypoints.size(), 2u);
  EXPECT_EQ(m.route.checkpoints[0].name, "CP Bravo");
  EXPECT_EQ(m.vehicles[0].plates.size(), 2u);
  EXPECT_EQ(m.vehicles[1].protection, VehicleProtection::kArmoured);
  ASSERT_TRUE(m.return_leg.has_value());
  EXPECT_EQ(m.return_leg->departure.earliest, m.return_leg->departure.latest);
  std::string text = SerializeContent(m);
  ASSERT_OK_AND_ASSIGN(NotificationContent back, ParseAndValidateContent(text));
  EXPECT_EQ(std::get<MovementContent>(back), m);
  EXPECT_EQ(ContentTypeOf(back), kMovementContentType);
}

TEST(NotificationContentTest, SiteRoundTripsThroughJson) {
  ASSERT_OK_AND_ASSIGN(SiteContent s, SiteFromJson(SiteJson()));
  EXPECT_THAT(ValidateSite(s), IsEmpty());
  EXPECT_TRUE(s.critical_infrastructure);
  EXPECT_EQ(s.polygon[0].size(), 5u);
  ASSERT_OK_AND_ASSIGN(NotificationContent back,
                       ParseAndValidateContent(SerializeContent(s)));
  EXPECT_EQ(std::get<SiteContent>(back), s);
  EXPECT_EQ(ContentTypeOf(back), kSiteContentType);
}

TEST(NotificationContentTest, ValidationNamesTheField) {
  json j = MovementJson();
  j["route"]["waypoints"][1]["lat"] = 91.2;
  EXPECT_THAT(ProblemsOf(j),
              HasSubstr("route.waypoints[1]: latitude 91.2 is outside -90..90"));

  j = MovementJson();
  j["departure"] = "2026-13-01T00:00Z";
  EXPECT_THAT(ProblemsOf(j),
              HasSubstr("departure: \"2026-13-01T00:00Z\" is not an RFC 3339 "
                        "UTC time"));

  j = MovementJson();
  j["arrival"] = "2026-05-01T05:00:00Z";
  EXPECT_THAT(ProblemsOf(j), HasSubstr("arrival must be after departure"));

  j = MovementJson();
  j["ack_by"] = "2026-05-01T06:30:00Z";
  EXPECT_THAT(ProblemsOf(j), HasSubstr("ack_by must be before departure"));

  j = MovementJson();
  j["route"]["waypoints"] = json::array();
  j["route"]["destination"] = j["route"]["origin"];
  EXPECT_THAT(ProblemsOf(j), HasSubstr("route: needs at least two points"));

  j = MovementJson();
  j["route"]["waypionts"] = json::array();
  EXPECT_THAT(ProblemsOf(j), HasSubstr("route.waypionts: unknown field"));

  j = MovementJson();
  j["movement_type"] = "military";
  EXPECT_THAT(ProblemsOf(j), HasSubstr("movement_type: \"military\" is not one "
                                       "of staff, cargo, evacuation"));

  j = MovementJson();
  j["vehicles"][0]["protection"] = "armored";
  EXPECT_THAT(ProblemsOf(j), HasSubstr("vehicles[0].protection"));

  j = MovementJson();
  j["departure"] = "2026-05-01T08:00:00+02:00";
  EXPECT_THAT(ProblemsOf(j), HasSubstr("offset +02:00 is not UTC"));

  j = MovementJson();
  j.erase("organisation");
  EXPECT_THAT(ProblemsOf(j), HasSubstr("organisation: is required"));

  j = MovementJson();
  j["recipients"] = json::array({"party-a", "party-a"});
  EXPECT_THAT(ProblemsOf(j), HasSubstr("recipients[1]: \"party-a\" is listed "
                                       "twice"));

  j = MovementJson();
  j["emergency"] = {{"justification", ""}};
  EXPECT_THAT(ProblemsOf(j), HasSubstr("emergency.justification"));

  j = MovementJson();
  j["version"] = 3;
  EXPECT_THAT(ProblemsOf(j), HasSubstr("supersedes: version 3 must supersede "
                                       "version 2"));

  j = MovementJson();
  j["contact"].erase("phone");
  j["contact"].erase("radio");
  EXPECT_THAT(ProblemsOf(j), HasSubstr("contact: needs a phone"));
}

TEST(NotificationContentTest, PersonnelNamesAreOptional) {
  json j = MovementJson();
  ASSERT_FALSE(j["personnel"].contains("names"));
  EXPECT_EQ(ProblemsOf(j), "");
  j["personnel"]["names"] = json::array({"A. Person"});
  EXPECT_EQ(ProblemsOf(j), "");
}

TEST(NotificationContentTest, ValidationReportsEveryProblem) {
  json j = MovementJson();
  j["route"]["origin"]["lon"] = 200;
  j["route"]["holding_points"][0]["lat"] = -95;
  std::string all = ProblemsOf(j);
  EXPECT_THAT(all, HasSubstr("route.origin: longitude 200 is outside"));
  EXPECT_THAT(all, HasSubstr("route.holding_points[0]: latitude -95"));
}

TEST(NotificationContentTest, SiteValidation) {
  json j = SiteJson();
  j["points"] = json::array({{{"lat", 1}, {"lon", 2}}});
  EXPECT_THAT(ProblemsOf(j), HasSubstr("either points or a polygon"));
  j = SiteJson();
  j["polygon"][0].erase(j["polygon"][0].size() - 1);
  EXPECT_THAT(ProblemsOf(j), HasSubstr("polygon[0]: ring is not closed"));
  j = SiteJson();
  j["site_type"] = "base";
  EXPECT_THAT(ProblemsOf(j), HasSubstr("site_type"));
  j = SiteJson();
  j["review_by"] = "2026-03-01T00:00:00Z";
  EXPECT_THAT(ProblemsOf(j), HasSubstr("review_by must be after submitted_at"));
  EXPECT_THAT(ProblemsOf(json::parse(R"({"schema":"parley-x/v1"})")),
              HasSubstr("schema: \"parley-x/v1\" is not"));
}

TEST(NotificationContentTest, VisibleMetadataFollowsContent) {
  MovementContent m = Movement();
  VisibleMetadata md = ComputeVisibleMetadata(m);
  EXPECT_EQ(md.id, "mv-2026-0042");
  EXPECT_TRUE(md.movement);
  EXPECT_THAT(md.parties, ElementsAre("party-a", "party-b"));
  EXPECT_EQ(md.depart_at, absl::ToUnixSeconds(m.departure.earliest));
  EXPECT_EQ(md.valid_from, md.depart_at);
  // The return leg's latest arrival ends the window.
  EXPECT_EQ(md.valid_until, absl::ToUnixSeconds(m.return_leg->arrival.latest));
  EXPECT_EQ(md.ack_by, absl::ToUnixSeconds(*m.ack_by));
  EXPECT_FALSE(md.emergency);
  m.emergency = true;
  EXPECT_TRUE(ComputeVisibleMetadata(m).emergency);

  ASSERT_OK_AND_ASSIGN(SiteContent s, SiteFromJson(SiteJson()));
  VisibleMetadata sm = ComputeVisibleMetadata(s);
  EXPECT_FALSE(sm.movement);
  EXPECT_EQ(sm.depart_at, 0);
  EXPECT_EQ(sm.valid_from, absl::ToUnixSeconds(s.submitted_at));
  EXPECT_EQ(sm.valid_until, absl::ToUnixSeconds(*s.review_by));
  s.review_by.reset();
  EXPECT_EQ(ComputeVisibleMetadata(s).valid_until, 0);
}

TEST(NotificationContentTest, DiffListsChangedPaths) {
  MovementContent v1 = Movement();
  MovementContent v2 = v1;
  v2.version = 2;
  v2.supersedes = 1;
  v2.route.waypoints[1].lat = 36.01;
  v2.route.waypoints.push_back({35.95, 36.7, ""});
  v2.departure.earliest += absl::Hours(1);
  v2.cargo.clear();
  std::vector<FieldChange> d = DiffContent(v1, v2);
  std::vector<std::string> paths;
  for (const FieldChange& c : d) paths.push_back(c.path);
  EXPECT_THAT(paths, ElementsAre("cargo", "departure.earliest",
                                 "route.waypoints[1].lat",
                                 "route.waypoints[2]"));
  EXPECT_EQ(d[0].after, "");
  EXPECT_EQ(d[1].before, "\"2026-05-01T06:00:00Z\"");
  EXPECT_EQ(d[1].after, "\"2026-05-01T07:00:00Z\"");
  EXPECT_THAT(DiffContent(v1, v1), IsEmpty());
}

TEST(NotificationContentTest, ReturnRouteDefaultsToOutboundReversed) {
  MovementContent m = Movement();
  Route r = m.ReturnRoute();
  EXPECT_EQ(r.origin, m.route.destination);
  EXPECT_EQ(r.destination, m.route.origin);
  EXPECT_EQ(r.waypoints.front(), m.route.waypoints.back());
}

}  // namespace
}  // namespace parley
