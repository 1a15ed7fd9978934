#include "client/deconfliction/geometry_check.h"

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "client/deconfliction/geo_input.h"
#include "client/deconfliction/notification_content.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/testing/paths.h"
#include "tests/testing/status_matchers.h"

namespace parley {
namespace {

using nlohmann::json;
using ::testing::HasSubstr;
using ::testing::Optional;

// Rings as GeoJSON writes them: [lon, lat] pairs.
std::vector<GeoPoint> Ring(const std::vector<std::pair<double, double>>& ll) {
  std::vector<GeoPoint> ring;
  for (const auto& [lon, lat] : ll) ring.push_back({lat, lon, ""});
  return ring;
}

// Edges (37.10,36.20)-(37.20,36.30) and (37.20,36.20)-(37.10,36.30) cross
// at lon 37.15, lat 36.25.
const std::vector<GeoPoint> kBowTie = Ring({{37.10, 36.20},
                                            {37.20, 36.30},
                                            {37.20, 36.20},
                                            {37.10, 36.30},
                                            {37.10, 36.20}});
const std::vector<GeoPoint> kSquare = Ring(
    {{37.0, 36.0}, {37.1, 36.0}, {37.1, 36.1}, {37.0, 36.1}, {37.0, 36.0}});

TEST(GeometryCheckTest, BowTieIsInvalidWithGeosReasonAndPlace) {
  EXPECT_THAT(
      PolygonInvalidReason({kBowTie}),
      Optional(std::string("Self-intersection at or near point 36.25,37.15")));
}

TEST(GeometryCheckTest, SquareAndSquareWithHoleAreValid) {
  EXPECT_EQ(PolygonInvalidReason({kSquare}), std::nullopt);
  const std::vector<GeoPoint> hole = Ring({{37.02, 36.02},
                                           {37.02, 36.05},
                                           {37.05, 36.05},
                                           {37.05, 36.02},
                                           {37.02, 36.02}});
  EXPECT_EQ(PolygonInvalidReason({kSquare, hole}), std::nullopt);
}

TEST(GeometryCheckTest, HoleOutsideTheShellIsInvalid) {
  const std::vector<GeoPoint> outside = Ring(
      {{38.0, 36.0}, {38.1, 36.0}, {38.1, 36.1}, {38.0, 36.1}, {38.0, 36.0}});
  std::optional<std::string> reason = PolygonInvalidReason({kSquare, outside});
  ASSERT_TRUE(reason.has_value());
  EXPECT_THAT(*reason, HasSubstr("Hole lies outside shell"));
}

TEST(GeometryCheckTest, RouteMayCrossItselfButNotCollapse) {
  // A loop back over its own path is a real road.
  EXPECT_EQ(LineInvalidReason(
                Ring({{37.0, 36.0}, {37.1, 36.1}, {37.1, 36.0}, {37.0, 36.1}})),
            std::nullopt);
  std::optional<std::string> reason =
      LineInvalidReason(Ring({{37.0, 36.0}, {37.0, 36.0}}));
  ASSERT_TRUE(reason.has_value());
  EXPECT_THAT(*reason, HasSubstr("Too few points"));
}

TEST(GeometryCheckTest, ValidateSiteRefusesABowTiePolygon) {
  std::ifstream in(::parley::testing::SourceDir() +
                   "/tests/client/testdata/site_v1.json");
  std::stringstream text;
  text << in.rdbuf();
  ASSERT_OK_AND_ASSIGN(SiteContent site, SiteFromJson(json::parse(text.str())));
  EXPECT_THAT(ValidateSite(site), ::testing::IsEmpty());
  site.polygon = {kBowTie};
  std::vector<std::string> problems = ValidateSite(site);
  ASSERT_EQ(problems.size(), 1u);
  EXPECT_EQ(problems[0],
            "polygon: Self-intersection at or near point 36.25,37.15");
}

TEST(GeometryCheckTest, ReadPolygonGeoJsonRefusesABowTie) {
  absl::StatusOr<GeoPolygon> polygon = ReadPolygonGeoJson(
      R"({"type":"Polygon","coordinates":[[[37.10,36.20],[37.20,36.30],)"
      R"([37.20,36.20],[37.10,36.30],[37.10,36.20]]]})");
  EXPECT_THAT(polygon.status(),
              ::parley::testing::StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(polygon.status().message(),
              HasSubstr("Self-intersection at or near point 36.25,37.15"));
}

}  // namespace
}  // namespace parley
