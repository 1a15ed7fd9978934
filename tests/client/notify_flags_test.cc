#include "client/views/notify_flags.h"

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace parley {
namespace {

using ::parley::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::StartsWith;

const absl::Time kNow = absl::FromUnixSeconds(1777600000);  // 2026-05-01

std::string Message(const absl::Status& s) { return std::string(s.message()); }

constexpr char kRoute[] =
    R"({"type":"LineString","coordinates":[[36.20,37.10],[36.30,37.15],[36.40,37.20]]})";
constexpr char kPolygon[] =
    R"({"type":"Polygon","coordinates":[[[36.0,37.0],[36.1,37.0],[36.1,37.1],[36.0,37.0]]]})";

// --- Single flags -----------------------------------------------------------

TEST(NotifyFlagsTest, SplitListTrimsAndDropsEmptyItems) {
  EXPECT_THAT(SplitList(" partya, partyb ,,partyc "),
              ElementsAre("partya", "partyb", "partyc"));
  EXPECT_TRUE(SplitList("").empty());
  EXPECT_TRUE(SplitList(" , ,").empty());
}

TEST(NotifyFlagsTest, TimeFlagTakesRfc3339UtcOrRelativeDuration) {
  ASSERT_OK_AND_ASSIGN(absl::Time t,
                       ParseTimeFlag("depart", "2026-05-02T06:00:00Z", kNow));
  EXPECT_EQ(FormatRfc3339Utc(t), "2026-05-02T06:00:00Z");
  ASSERT_OK_AND_ASSIGN(absl::Time later, ParseTimeFlag("depart", "+48h", kNow));
  EXPECT_EQ(later, kNow + absl::Hours(48));
  ASSERT_OK_AND_ASSIGN(absl::Time soon, ParseTimeFlag("ack-by", " +90s ", kNow));
  EXPECT_EQ(soon, kNow + absl::Seconds(90));
}

TEST(NotifyFlagsTest, BadTimeFlagNamesTheFlag) {
  absl::StatusOr<absl::Time> t = ParseTimeFlag("depart", "tomorrow", kNow);
  EXPECT_THAT(t.status(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Message(t.status()), StartsWith("--depart: "));
  // A local offset is refused, not normalised.
  t = ParseTimeFlag("arrive", "2026-05-02T06:00:00+02:00", kNow);
  EXPECT_THAT(t.status(), StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Message(t.status()), StartsWith("--arrive: "));
  t = ParseTimeFlag("ack-by", "+soon", kNow);
  EXPECT_THAT(Message(t.status()), HasSubstr("--ack-by: \"+soon\" is not +DURATION"));
  t = ParseTimeFlag("ack-by", "+-3h", kNow);
  EXPECT_THAT(t.status(), StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST(NotifyFlagsTest, ContactFlagSortsPhoneEmailAndRadio) {
  ASSERT_OK_AND_ASSIGN(
      NotificationContact c,
      ParseContactFlag("Ops desk, +41221234567, ops@example.org, radio:VHF 7"));
  EXPECT_EQ(c.name, "Ops desk");
  EXPECT_EQ(c.phone, "+41221234567");
  EXPECT_EQ(c.email, "ops@example.org");
  EXPECT_EQ(c.radio, "VHF 7");
}

TEST(NotifyFlagsTest, ContactFlagWithoutAWayToReachIsRefused) {
  for (const char* bad : {"Ops desk", "", "Ops desk,,"}) {
    absl::StatusOr<NotificationContact> c = ParseContactFlag(bad);
    EXPECT_THAT(c.status(), StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
    EXPECT_THAT(Message(c.status()), StartsWith("--contact: ")) << bad;
  }
}

TEST(NotifyFlagsTest, VehiclesFlagParsesCountTypeAndProtection) {
  ASSERT_OK_AND_ASSIGN(std::vector<VehicleGroup> v,
                       ParseVehiclesFlag("2xtruck:soft-skin, 1x4x4:armoured,3xambulance"));
  ASSERT_EQ(v.size(), 3u);
  EXPECT_EQ(v[0].count, 2);
  EXPECT_EQ(v[0].type, "truck");
  EXPECT_EQ(v[0].protection, VehicleProtection::kSoftSkin);
  EXPECT_EQ(v[1].count, 1);
  EXPECT_EQ(v[1].type, "4x4");
  EXPECT_EQ(v[1].protection, VehicleProtection::kArmoured);
  EXPECT_EQ(v[2].type, "ambulance");
  EXPECT_EQ(v[2].protection, VehicleProtection::kSoftSkin);  // the default
}

TEST(NotifyFlagsTest, BadVehiclesAreRefusedNamingTheItem) {
  for (const char* bad : {"truck", "0xtruck", "-1xtruck", "2x", "2x:armoured",
                          "2xtruck:tank", "twoxtruck"}) {
    absl::StatusOr<std::vector<VehicleGroup>> v = ParseVehiclesFlag(bad);
    EXPECT_THAT(v.status(), StatusIs(absl::StatusCode::kInvalidArgument)) << bad;
    EXPECT_THAT(Message(v.status()), StartsWith("--vehicles: ")) << bad;
  }
  EXPECT_THAT(Message(ParseVehiclesFlag("2xtruck:tank").status()),
              HasSubstr("\"tank\" is not armoured or soft-skin"));
}

// --- Movements --------------------------------------------------------------

MovementFlags GoodMovement() {
  MovementFlags f;
  f.to = {"partya", "partyb"};
  f.route_text = kRoute;
  f.depart = "2026-05-03T06:00:00Z/2026-05-03T07:00:00Z";
  f.arrive = "2026-05-03T12:00:00Z";
  f.contact = "Ops desk,+41221234567";
  f.vehicles = "2xtruck:soft-skin";
  f.personnel = 4;
  f.cargo = "medical supplies";
  f.type = "medical";
  f.ack_by = "+24h";
  return f;
}

TEST(NotifyFlagsTest, MovementFlagsBuildValidContent) {
  MovementContent m;
  m.id = "mv-1";
  m.organisation = "org";
  ASSERT_OK(ApplyMovementFlags(GoodMovement(), kNow, &m));
  EXPECT_THAT(m.recipients, ElementsAre("partya", "partyb"));
  EXPECT_EQ(m.route.Path().size(), 3u);
  EXPECT_DOUBLE_EQ(m.route.origin.lat, 37.10);  // GeoJSON is LON,LAT
  EXPECT_EQ(FormatRfc3339Utc(m.departure.earliest), "2026-05-03T06:00:00Z");
  EXPECT_EQ(FormatRfc3339Utc(m.departure.latest), "2026-05-03T07:00:00Z");
  EXPECT_EQ(m.arrival.earliest, m.arrival.latest);
  ASSERT_TRUE(m.ack_by.has_value());
  EXPECT_EQ(*m.ack_by, kNow + absl::Hours(24));
  EXPECT_EQ(m.movement_type, MovementType::kMedical);
  EXPECT_EQ(m.personnel_count, 4);
  EXPECT_EQ(m.cargo, "medical supplies");
  EXPECT_EQ(m.contact.phone, "+41221234567");
  EXPECT_TRUE(ValidateMovement(m).empty())
      << ::testing::PrintToString(ValidateMovement(m));
}

TEST(NotifyFlagsTest, MovementFlagsNotGivenKeepTheContent) {
  MovementContent m;
  ASSERT_OK(ApplyMovementFlags(GoodMovement(), kNow, &m));
  const MovementContent before = m;
  MovementFlags only_cargo;
  only_cargo.cargo = "water";
  ASSERT_OK(ApplyMovementFlags(only_cargo, kNow, &m));
  EXPECT_EQ(m.cargo, "water");
  m.cargo = before.cargo;
  EXPECT_EQ(m, before);
  // An empty --ack-by removes the deadline.
  MovementFlags clear;
  clear.ack_by = "";
  ASSERT_OK(ApplyMovementFlags(clear, kNow, &m));
  EXPECT_FALSE(m.ack_by.has_value());
}

TEST(NotifyFlagsTest, EachBadMovementFlagIsNamed) {
  struct Case {
    const char* flag;
    void (*spoil)(MovementFlags*);
  };
  const Case cases[] = {
      {"--route: ", [](MovementFlags* f) { f->route_text = "{not json"; }},
      {"--route: ", [](MovementFlags* f) {
         f->route_text = R"({"type":"LineString","coordinates":[[36.2,97.1],[36.3,37.15]]})";
       }},
      {"--depart: ", [](MovementFlags* f) { f->depart = "soon"; }},
      {"--depart: ", [](MovementFlags* f) { f->depart = "+1h/+2h/+3h"; }},
      {"--arrive: ", [](MovementFlags* f) { f->arrive = "2026-13-01T00:00:00Z"; }},
      {"--return-depart: ", [](MovementFlags* f) { f->return_depart = "+3d"; }},
      {"--vehicles: ", [](MovementFlags* f) { f->vehicles = "lorry"; }},
      {"--personnel: ", [](MovementFlags* f) { f->personnel = -3; }},
      {"--contact: ", [](MovementFlags* f) { f->contact = "nobody"; }},
      {"--ack-by: ", [](MovementFlags* f) { f->ack_by = "yesterday"; }},
      {"--type: ", [](MovementFlags* f) { f->type = "tourism"; }},
  };
  for (const Case& c : cases) {
    MovementFlags f = GoodMovement();
    c.spoil(&f);
    MovementContent m;
    absl::Status s = ApplyMovementFlags(f, kNow, &m);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument)) << c.flag;
    EXPECT_THAT(Message(s), StartsWith(c.flag)) << Message(s);
  }
}

TEST(NotifyFlagsTest, ReturnLegNeedsBothTimes) {
  MovementFlags f = GoodMovement();
  f.return_depart = "2026-05-04T06:00:00Z";
  f.return_arrive = "2026-05-04T12:00:00Z";
  MovementContent m;
  ASSERT_OK(ApplyMovementFlags(f, kNow, &m));
  ASSERT_TRUE(m.return_leg.has_value());
  EXPECT_EQ(FormatRfc3339Utc(m.return_leg->arrival.latest), "2026-05-04T12:00:00Z");
}

TEST(NotifyFlagsTest, DepartureAfterArrivalPassesFlagsButFailsValidation) {
  // The flags parse; the cross-field rule belongs to ValidateMovement,
  // which Device::Notify runs before anything is sealed.
  MovementFlags f = GoodMovement();
  f.depart = "2026-05-03T12:00:00Z";
  f.arrive = "2026-05-03T06:00:00Z";
  MovementContent m;
  m.id = "mv-1";
  m.organisation = "org";
  ASSERT_OK(ApplyMovementFlags(f, kNow, &m));
  EXPECT_THAT(::testing::PrintToString(ValidateMovement(m)), HasSubstr("arrival"));
}

TEST(NotifyFlagsTest, NewMovementNeedsItsRequiredFlags) {
  EXPECT_OK(CheckNewMovementFlags(GoodMovement()));
  struct Case {
    const char* flag;
    void (*drop)(MovementFlags*);
  };
  const Case cases[] = {
      {"--to: ", [](MovementFlags* f) { f->to.clear(); }},
      {"--route: ", [](MovementFlags* f) { f->route_text.clear(); }},
      {"--depart: ", [](MovementFlags* f) { f->depart.clear(); }},
      {"--arrive: ", [](MovementFlags* f) { f->arrive.clear(); }},
      {"--contact: ", [](MovementFlags* f) { f->contact.reset(); }},
  };
  for (const Case& c : cases) {
    MovementFlags f = GoodMovement();
    c.drop(&f);
    absl::Status s = CheckNewMovementFlags(f);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument)) << c.flag;
    EXPECT_THAT(Message(s), StartsWith(c.flag)) << Message(s);
  }
}

// --- Sites ------------------------------------------------------------------

SiteFlags GoodSite() {
  SiteFlags f;
  f.to = {"partya"};
  f.name = "Al Amal hospital";
  f.type = "health-facility";
  f.contact = "Site manager,+963111111";
  f.points = {"36.2021,37.1343", "-33.9249,18.4241"};
  f.review_by = "2026-08-01T00:00:00Z";
  return f;
}

TEST(NotifyFlagsTest, SiteFlagsBuildValidContent) {
  SiteContent s;
  s.id = "site-1";
  s.organisation = "org";
  s.submitted_at = kNow;
  ASSERT_OK(ApplySiteFlags(GoodSite(), kNow, &s));
  EXPECT_EQ(s.name, "Al Amal hospital");
  EXPECT_EQ(s.site_type, SiteType::kHealthFacility);
  ASSERT_EQ(s.points.size(), 2u);
  EXPECT_DOUBLE_EQ(s.points[0].lat, 36.2021);  // LAT,LON on the command line
  EXPECT_DOUBLE_EQ(s.points[1].lat, -33.9249);
  EXPECT_EQ(s.humanitarian_function, "health-facility");  // the default
  ASSERT_TRUE(s.review_by.has_value());
  EXPECT_FALSE(s.deactivated);
  EXPECT_TRUE(ValidateSite(s).empty()) << ::testing::PrintToString(ValidateSite(s));
}

TEST(NotifyFlagsTest, SitePolygonReplacesPoints) {
  SiteContent s;
  ASSERT_OK(ApplySiteFlags(GoodSite(), kNow, &s));
  SiteFlags polygon;
  polygon.polygon_text = kPolygon;
  ASSERT_OK(ApplySiteFlags(polygon, kNow, &s));
  EXPECT_TRUE(s.points.empty());
  ASSERT_EQ(s.polygon.size(), 1u);
  EXPECT_EQ(s.polygon[0].size(), 4u);
}

TEST(NotifyFlagsTest, DeactivateAndReactivateASite) {
  SiteContent s;
  ASSERT_OK(ApplySiteFlags(GoodSite(), kNow, &s));
  SiteFlags deactivate;
  deactivate.deactivated = true;
  ASSERT_OK(ApplySiteFlags(deactivate, kNow, &s));
  EXPECT_TRUE(s.deactivated);
  EXPECT_EQ(s.name, "Al Amal hospital");  // nothing else changes
  SiteFlags nothing;
  ASSERT_OK(ApplySiteFlags(nothing, kNow, &s));
  EXPECT_TRUE(s.deactivated);
  SiteFlags reactivate;
  reactivate.deactivated = false;
  ASSERT_OK(ApplySiteFlags(reactivate, kNow, &s));
  EXPECT_FALSE(s.deactivated);
}

TEST(NotifyFlagsTest, EachBadSiteFlagIsNamed) {
  struct Case {
    const char* flag;
    void (*spoil)(SiteFlags*);
  };
  const Case cases[] = {
      {"--type: ", [](SiteFlags* f) { f->type = "hospital"; }},
      {"--point: ", [](SiteFlags* f) { f->points = {"91,37"}; }},
      {"--point: ", [](SiteFlags* f) { f->points = {"36.2"}; }},
      {"--point: ", [](SiteFlags* f) { f->points = {"36.2,north"}; }},
      {"--point: ", [](SiteFlags* f) { f->polygon_text = kPolygon; }},  // both
      {"--polygon: ", [](SiteFlags* f) {
         f->points.clear();
         f->polygon_text = R"({"type":"Polygon","coordinates":[[[36,37],[36.1,37],[36,37]]]})";
       }},
      {"--contact: ", [](SiteFlags* f) { f->contact = "Site manager"; }},
      {"--review-by: ", [](SiteFlags* f) { f->review_by = "next year"; }},
  };
  for (const Case& c : cases) {
    SiteFlags f = GoodSite();
    c.spoil(&f);
    SiteContent s;
    absl::Status st = ApplySiteFlags(f, kNow, &s);
    EXPECT_THAT(st, StatusIs(absl::StatusCode::kInvalidArgument)) << c.flag;
    EXPECT_THAT(Message(st), StartsWith(c.flag)) << Message(st);
  }
}

TEST(NotifyFlagsTest, NewSiteNeedsItsRequiredFlags) {
  EXPECT_OK(CheckNewSiteFlags(GoodSite()));
  struct Case {
    const char* flag;
    void (*drop)(SiteFlags*);
  };
  const Case cases[] = {
      {"--to: ", [](SiteFlags* f) { f->to.clear(); }},
      {"--name: ", [](SiteFlags* f) { f->name.reset(); }},
      {"--name: ", [](SiteFlags* f) { f->name = ""; }},
      {"--type: ", [](SiteFlags* f) { f->type.reset(); }},
      {"--point or --polygon: ", [](SiteFlags* f) { f->points.clear(); }},
      {"--contact: ", [](SiteFlags* f) { f->contact.reset(); }},
  };
  for (const Case& c : cases) {
    SiteFlags f = GoodSite();
    c.drop(&f);
    absl::Status s = CheckNewSiteFlags(f);
    EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument)) << c.flag;
    EXPECT_THAT(Message(s), StartsWith(c.flag)) << Message(s);
  }
}

// --- Parties ----------------------------------------------------------------

const std::vector<KnownMember> kDirectory = {
    {"admin", false, false},  {"coordinator", false, false},
    {"partya", true, false},  {"partyb", true, false},
    {"oldparty", true, true},
};

TEST(NotifyFlagsTest, PartiesMustBeUnrevokedPartiesOfTheDirectory) {
  EXPECT_OK(CheckParties("--to", {"partya", "partyb"}, kDirectory));

  absl::Status s = CheckParties("--to", {"partya", "partyz"}, kDirectory);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(Message(s), StartsWith("--to: no member named \"partyz\""));
  EXPECT_THAT(Message(s), HasSubstr("did you mean partya?"));

  s = CheckParties("to", {"nobody-at-all"}, kDirectory);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kNotFound));
  EXPECT_THAT(Message(s), StartsWith("to: no member named \"nobody-at-all\""));
  EXPECT_THAT(Message(s), HasSubstr("parley directory"));

  s = CheckParties("--to", {"coordinator"}, kDirectory);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Message(s), StartsWith("--to: coordinator is not a party"));

  s = CheckParties("--to", {"oldparty"}, kDirectory);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(Message(s), HasSubstr("revoked"));

  s = CheckParties("--to", {"partya", "partya"}, kDirectory);
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Message(s), HasSubstr("listed twice"));
}

}  // namespace
}  // namespace parley
