// The notify and amend forms of `parley gui` (client/gui/gui_forms.h): the
// same checks as `parley notify`, and every problem named by its field.

#include "client/gui/gui_forms.h"

#include <variant>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace parley {
namespace {

using ::parley::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::StartsWith;
using Json = nlohmann::json;

const absl::Time kNow = absl::FromUnixSeconds(1777600000);  // 2026-05-01

constexpr char kRoute[] =
    R"({"type":"LineString","coordinates":[[36.20,37.10],[36.30,37.15],[36.40,37.20]]})";
constexpr char kPolygon[] =
    R"({"type":"Polygon","coordinates":[[[36.0,37.0],[36.1,37.0],[36.1,37.1],[36.0,37.0]]]})";

Json Movement() {
  return Json{{"kind", "movement"},
              {"id", "mv-form"},
              {"to", "partya, partyb"},
              {"route", kRoute},
              {"depart", "2026-05-04T06:00:00Z"},
              {"arrive", "2026-05-04T09:00:00Z/2026-05-04T10:00:00Z"},
              {"vehicles", "2xtruck:soft-skin,1x4x4:armoured"},
              {"personnel", "5"},
              {"cargo", "water"},
              {"contact", "Ops desk,+41221234567"},
              {"type", "cargo"},
              {"emergency", ""},
              {"ack_by", "2026-05-03T12:00:00Z"},
              {"checkpoints", "37.12,36.25\n\n37.18,36.35"},
              {"holding_points", ""},
              {"radio_frequencies", "VHF 7, HF 12"},
              {"satellite_phones", ""}};
}

Json Site() {
  return Json{{"kind", "site"},
              {"id", "site-form"},
              {"to", Json::array({"partya"})},
              {"name", "Clinic North"},
              {"type", "health-facility"},
              {"points", "37.10,36.20\n37.11,36.21"},
              {"contact", "Clinic,+41221234567"},
              {"review_by", "2026-08-01T00:00:00Z"},
              {"function", "outpatient clinic"},
              {"markings", "red crescent on the roof"},
              {"critical_infrastructure", true}};
}

// The new content of `body`, or the problems.
absl::StatusOr<NotificationContent> New(const Json& body,
                                        std::vector<FormProblem>* problems) {
  absl::StatusOr<NotifyForm> form = ReadNotifyForm(body, std::nullopt);
  if (!form.ok()) {
    problems->push_back(FormProblemOf(std::string(form.status().message())));
    return form.status();
  }
  std::unique_ptr<Random> random = NewDeterministicRandom("forms");
  return NewContentFromForm(*form, "org-coordinator", kNow, *random,
                            problems);
}

// The field of the first problem with `body`.
std::string FieldOfProblem(const Json& body) {
  std::vector<FormProblem> problems;
  absl::StatusOr<NotificationContent> content = New(body, &problems);
  EXPECT_THAT(content, StatusIs(absl::StatusCode::kInvalidArgument))
      << body.dump();
  if (problems.empty()) return "(no problem)";
  // A field the form does not have is named in the message only.
  EXPECT_THAT(problems[0].message,
              StartsWith(problems[0].field.empty() ? "colour:"
                                                   : problems[0].field + ":"))
      << problems[0].message;
  return problems[0].field;
}

TEST(GuiFormsTest, NewMovementFromEveryField) {
  std::vector<FormProblem> problems;
  ASSERT_OK_AND_ASSIGN(NotificationContent content, New(Movement(), &problems));
  ASSERT_TRUE(std::holds_alternative<MovementContent>(content));
  const MovementContent& m = std::get<MovementContent>(content);
  EXPECT_EQ(m.id, "mv-form");
  EXPECT_EQ(m.version, 1u);
  EXPECT_EQ(m.organisation, "org-coordinator");
  EXPECT_THAT(m.recipients, ElementsAre("partya", "partyb"));
  EXPECT_EQ(m.route.origin, (GeoPoint{37.10, 36.20, ""}));
  EXPECT_EQ(m.route.destination, (GeoPoint{37.20, 36.40, ""}));
  ASSERT_EQ(m.route.waypoints.size(), 1u);
  ASSERT_EQ(m.route.checkpoints.size(), 2u);
  EXPECT_EQ(m.route.checkpoints[1], (GeoPoint{37.18, 36.35, ""}));
  EXPECT_EQ(FormatRfc3339Utc(m.departure.earliest), "2026-05-04T06:00:00Z");
  EXPECT_EQ(FormatRfc3339Utc(m.arrival.latest), "2026-05-04T10:00:00Z");
  ASSERT_EQ(m.vehicles.size(), 2u);
  EXPECT_EQ(m.vehicles[1].type, "4x4");
  EXPECT_EQ(m.vehicles[1].protection, VehicleProtection::kArmoured);
  EXPECT_EQ(m.personnel_count, 5);
  EXPECT_EQ(m.cargo, "water");
  EXPECT_EQ(m.contact.phone, "+41221234567");
  EXPECT_EQ(m.movement_type, MovementType::kCargo);
  EXPECT_FALSE(m.emergency);
  ASSERT_TRUE(m.ack_by.has_value());
  EXPECT_EQ(FormatRfc3339Utc(*m.ack_by), "2026-05-03T12:00:00Z");
  EXPECT_THAT(m.radio_frequencies, ElementsAre("VHF 7", "HF 12"));
  EXPECT_THAT(m.satellite_phones, IsEmpty());
  EXPECT_THAT(problems, IsEmpty());
}

TEST(GuiFormsTest, NewSiteFromPointsOrAPolygon) {
  std::vector<FormProblem> problems;
  ASSERT_OK_AND_ASSIGN(NotificationContent content, New(Site(), &problems));
  const SiteContent& s = std::get<SiteContent>(content);
  EXPECT_EQ(s.name, "Clinic North");
  EXPECT_EQ(s.site_type, SiteType::kHealthFacility);
  EXPECT_EQ(s.points.size(), 2u);
  EXPECT_TRUE(s.polygon.empty());
  EXPECT_EQ(s.humanitarian_function, "outpatient clinic");
  EXPECT_EQ(s.markings, "red crescent on the roof");
  EXPECT_TRUE(s.critical_infrastructure);
  EXPECT_EQ(s.submitted_at, kNow);
  EXPECT_FALSE(s.deactivated);

  Json polygon = Site();
  polygon.erase("points");
  polygon["polygon"] = kPolygon;
  ASSERT_OK_AND_ASSIGN(NotificationContent with_polygon,
                       New(polygon, &problems));
  EXPECT_EQ(std::get<SiteContent>(with_polygon).polygon.size(), 1u);
  EXPECT_TRUE(std::get<SiteContent>(with_polygon).points.empty());
}

TEST(GuiFormsTest, AGeneratedIdWhenNoneIsGiven) {
  Json body = Movement();
  body.erase("id");
  std::vector<FormProblem> problems;
  ASSERT_OK_AND_ASSIGN(NotificationContent content, New(body, &problems));
  EXPECT_THAT(ContentId(content), StartsWith("mv-"));
  EXPECT_EQ(ContentId(content).size(), 3u + 16u);
}

TEST(GuiFormsTest, EachBadValueIsRefusedByItsField) {
  struct Case {
    const char* field;
    Json value;
    const char* expected_field;
  };
  const std::vector<Case> movement_cases = {
      {"route", "{\"type\":\"Point\",\"coordinates\":[1,2]}", "route"},
      {"route", "not geojson", "route"},
      {"depart", "tomorrow", "depart"},
      {"depart", "2026-05-04T06:00:00+02:00", "depart"},
      {"arrive", "2026-05-04T05:00:00Z", "arrive"},  // before departure
      {"vehicles", "two trucks", "vehicles"},
      {"vehicles", "2xtruck:paper", "vehicles"},
      {"personnel", "many", "personnel"},
      {"personnel", -1, "personnel"},
      {"personnel", Json::array(), "personnel"},
      {"contact", "Ops desk", "contact"},
      {"contact", "", "contact"},
      {"type", "tank", "type"},
      {"ack_by", "2026-05-05T00:00:00Z", "ack_by"},  // after departure
      {"ack_by", "+soon", "ack_by"},
      {"to", "", "to"},
      {"to", "Party A", "to"},
      {"to", "partya, partya", "to"},
      {"to", 5, "to"},
      {"checkpoints", "95,10", "checkpoints"},
      {"checkpoints", "somewhere", "checkpoints"},
      {"id", "MV 1", "id"},
      {"cargo", 7, "cargo"},
      {"colour", "blue", ""},
      {"points", "37.1,36.2", "points"},  // a site's field
      {"return_depart", "2026-05-05T06:00:00Z", "return_arrive"},
      {"emergency", Json(true), "emergency"},
  };
  for (const Case& c : movement_cases) {
    Json body = Movement();
    body[c.field] = c.value;
    EXPECT_EQ(FieldOfProblem(body), c.expected_field)
        << c.field << " = " << c.value.dump();
  }
  const std::vector<Case> site_cases = {
      {"points", "37.1", "points"},
      {"points", "91,10", "points"},
      {"polygon", kPolygon, "points"},  // both
      {"name", "", "name"},
      {"type", "bunker", "type"},
      {"review_by", "2020-01-01T00:00:00Z", "review_by"},
      {"critical_infrastructure", "yes", "critical_infrastructure"},
      {"deactivated", true, "deactivated"},  // only amendments
      {"route", kRoute, "route"},            // a movement's field
  };
  for (const Case& c : site_cases) {
    Json body = Site();
    body[c.field] = c.value;
    EXPECT_EQ(FieldOfProblem(body), c.expected_field)
        << c.field << " = " << c.value.dump();
  }
  Json no_kind = Movement();
  no_kind.erase("kind");
  EXPECT_EQ(FieldOfProblem(no_kind), "kind");
}

TEST(GuiFormsTest, EachMissingRequiredFieldIsNamed) {
  for (const char* field :
       {"to", "route", "depart", "arrive", "contact", "vehicles"}) {
    Json body = Movement();
    body.erase(field);
    EXPECT_EQ(FieldOfProblem(body), field);
  }
  for (const char* field : {"to", "name", "type", "points", "contact"}) {
    Json body = Site();
    body.erase(field);
    EXPECT_EQ(FieldOfProblem(body), field);
  }
}

TEST(GuiFormsTest, EveryContentProblemIsListedWithItsField) {
  Json body = Movement();
  body["arrive"] = "2026-05-04T05:00:00Z";
  body["ack_by"] = "2026-05-05T00:00:00Z";
  std::vector<FormProblem> problems;
  EXPECT_THAT(New(body, &problems),
              StatusIs(absl::StatusCode::kInvalidArgument));
  std::vector<std::string> fields;
  for (const FormProblem& p : problems) fields.push_back(p.field);
  EXPECT_THAT(fields, ElementsAre("arrive", "ack_by"));
}

TEST(GuiFormsTest, FlagMessagesNameTheFormField) {
  EXPECT_EQ(FormProblemOf("--ack-by: \"x\" is not +DURATION").message,
            "ack_by: \"x\" is not +DURATION");
  EXPECT_EQ(FormProblemOf("--ack-by: x").field, "ack_by");
  EXPECT_EQ(FormFieldOf("--point: bad"), "points");
  EXPECT_EQ(FormFieldOf("--point or --polygon: give one"), "points");
  EXPECT_EQ(FormFieldOf("--review-by: bad"), "review_by");
  EXPECT_EQ(FormFieldOf("route.waypoints[2].lat: outside"), "route");
  EXPECT_EQ(FormFieldOf("route.checkpoints[0]: outside"), "checkpoints");
  EXPECT_EQ(FormFieldOf("departure.earliest: bad"), "depart");
  EXPECT_EQ(FormFieldOf("return_leg: arrival must be after departure"),
            "return_depart");
  EXPECT_EQ(FormFieldOf("return_leg.arrival.latest: bad"), "return_arrive");
  EXPECT_EQ(FormFieldOf("recipients[1]: bad name"), "to");
  EXPECT_EQ(FormFieldOf("to: no member named \"partyc\"; did you mean partya?"),
            "to");
  EXPECT_EQ(FormFieldOf("humanitarian_function: is required"), "function");
  EXPECT_EQ(FormFieldOf("vehicles[0].count: must be at least 1"), "vehicles");
  EXPECT_EQ(FormFieldOf("routes: not a field"), "");
  EXPECT_EQ(FormFieldOf("nothing to amend"), "");
}

// --- Amendments ---------------------------------------------------------

NotificationContent Current(const Json& body) {
  std::vector<FormProblem> problems;
  absl::StatusOr<NotificationContent> content = New(body, &problems);
  EXPECT_TRUE(content.ok()) << content.status();
  return content.ok() ? *content : NotificationContent();
}

absl::StatusOr<NotificationContent> Amend(const NotificationContent& current,
                                          const Json& body,
                                          std::vector<FormProblem>* problems) {
  absl::StatusOr<NotifyForm> form = ReadNotifyForm(
      body, std::holds_alternative<MovementContent>(current));
  if (!form.ok()) {
    problems->push_back(FormProblemOf(std::string(form.status().message())));
    return form.status();
  }
  return AmendedContentFromForm(*form, current, 1, kNow, problems);
}

TEST(GuiFormsTest, AnAmendmentChangesOnlyTheFieldsGiven) {
  const NotificationContent current = Current(Movement());
  std::vector<FormProblem> problems;
  ASSERT_OK_AND_ASSIGN(
      NotificationContent amended,
      Amend(current, {{"id", "mv-form"}, {"arrive", "2026-05-04T11:00:00Z"},
                      {"ack_by", ""}},
            &problems));
  const MovementContent& m = std::get<MovementContent>(amended);
  EXPECT_EQ(m.version, 2u);
  EXPECT_EQ(m.supersedes, 1u);
  EXPECT_EQ(FormatRfc3339Utc(m.arrival.earliest), "2026-05-04T11:00:00Z");
  EXPECT_FALSE(m.ack_by.has_value());
  std::vector<std::string> paths;
  for (const FieldChange& c : DiffContent(current, amended)) {
    paths.push_back(c.path);
  }
  EXPECT_THAT(paths, ElementsAre("ack_by", "arrival.earliest",
                                 "arrival.latest"));
}

TEST(GuiFormsTest, ANewRouteKeepsItsCheckpointsUnlessGivenToo) {
  const NotificationContent current = Current(Movement());
  const std::string other_route =
      R"({"type":"LineString","coordinates":[[36.21,37.10],[36.40,37.20]]})";
  std::vector<FormProblem> problems;
  ASSERT_OK_AND_ASSIGN(NotificationContent kept,
                       Amend(current, {{"route", other_route}}, &problems));
  EXPECT_EQ(std::get<MovementContent>(kept).route.checkpoints,
            std::get<MovementContent>(current).route.checkpoints);
  EXPECT_TRUE(std::get<MovementContent>(kept).route.waypoints.empty());
  ASSERT_OK_AND_ASSIGN(
      NotificationContent replaced,
      Amend(current, {{"route", other_route}, {"checkpoints", ""}}, &problems));
  EXPECT_TRUE(std::get<MovementContent>(replaced).route.checkpoints.empty());
}

TEST(GuiFormsTest, AnAmendmentThatChangesNothingIsRefused) {
  const NotificationContent current = Current(Movement());
  std::vector<FormProblem> problems;
  EXPECT_THAT(Amend(current, {{"id", "mv-form"}, {"cargo", "water"}},
                    &problems),
              StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_THAT(problems[0].message, HasSubstr("nothing to amend"));
}

TEST(GuiFormsTest, AnAmendmentIsCheckedLikeANewOne) {
  const NotificationContent current = Current(Movement());
  std::vector<FormProblem> problems;
  EXPECT_THAT(Amend(current, {{"depart", "2026-05-04T12:00:00Z"}}, &problems),
              StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_FALSE(problems.empty());
  EXPECT_EQ(problems[0].field, "arrive");  // arrival must be after departure
  problems.clear();
  EXPECT_THAT(Amend(current, {{"name", "x"}}, &problems),
              StatusIs(absl::StatusCode::kInvalidArgument));
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0].field, "name");
  EXPECT_THAT(problems[0].message, HasSubstr("applies to sites"));
}

TEST(GuiFormsTest, ASiteIsDeactivatedByAnAmendment) {
  const NotificationContent current = Current(Site());
  std::vector<FormProblem> problems;
  ASSERT_OK_AND_ASSIGN(NotificationContent amended,
                       Amend(current, {{"deactivated", true}}, &problems));
  EXPECT_TRUE(std::get<SiteContent>(amended).deactivated);
  EXPECT_EQ(std::get<SiteContent>(amended).submitted_at,
            std::get<SiteContent>(current).submitted_at);
}

TEST(GuiFormsTest, TheFormOfAContentSubmittedUntouchedChangesNothing) {
  for (const Json& body : {Movement(), Site()}) {
    const NotificationContent current = Current(body);
    Json form = FormFromContent(current);
    EXPECT_EQ(form["id"], body["id"]);
    form.erase("kind");
    std::vector<FormProblem> problems;
    absl::StatusOr<NotificationContent> amended =
        Amend(current, form, &problems);
    EXPECT_THAT(amended, StatusIs(absl::StatusCode::kInvalidArgument))
        << (amended.ok() ? DiffContent(current, *amended)[0].path : "");
    ASSERT_EQ(problems.size(), 1u);
    EXPECT_THAT(problems[0].message, HasSubstr("nothing to amend"));
  }
  // Its values are the text the form shows.
  Json form = FormFromContent(Current(Movement()));
  EXPECT_EQ(form["to"], "partya, partyb");
  EXPECT_EQ(form["arrive"], "2026-05-04T09:00:00Z/2026-05-04T10:00:00Z");
  EXPECT_EQ(form["vehicles"], "2xtruck:soft-skin,1x4x4:armoured");
  EXPECT_EQ(form["checkpoints"], "37.12,36.25\n37.18,36.35");
  EXPECT_EQ(form["contact"], "Ops desk,+41221234567");
}

}  // namespace
}  // namespace parley
