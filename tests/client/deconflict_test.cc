#include "client/deconfliction/deconflict.h"

#include <geodesic.h>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/status_matchers.h"

namespace parley {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::SizeIs;

absl::Time T(const char* s) { return *ParseRfc3339Utc(s); }

GeoPolygon Box(double lat0, double lon0, double lat1, double lon1) {
  return {{{lat0, lon0, ""},
           {lat0, lon1, ""},
           {lat1, lon1, ""},
           {lat1, lon0, ""},
           {lat0, lon0, ""}}};
}

Zone MakeZone(std::string name, GeoPolygon poly,
              std::optional<absl::Time> from = std::nullopt,
              std::optional<absl::Time> until = std::nullopt) {
  Zone z;
  z.name = std::move(name);
  z.polygons = {std::move(poly)};
  z.active_from = from;
  z.active_until = until;
  return z;
}

MovementLeg Leg(std::string id, std::vector<GeoPoint> path,
                const char* from = "2026-05-01T06:00:00Z",
                const char* until = "2026-05-01T12:00:00Z") {
  return MovementLeg{std::move(id), 1, "outbound", std::move(path), T(from),
                     T(until)};
}

// Metres per degree of longitude on the equator (WGS84).
constexpr double kEquatorDegree = 111319.49079327357;

TEST(DeconflictTest, RouteCrossingZoneIsFound) {
  Zone alpha = MakeZone("Alpha", Box(36.05, 36.9, 36.15, 37.0));
  MovementLeg m = Leg("mv-1", {{36.0, 36.8, ""}, {36.2, 37.1, ""}});
  ASSERT_OK_AND_ASSIGN(auto findings,
                       CheckConflicts({m}, {}, {alpha}, DeconflictOptions{}));
  ASSERT_THAT(findings, SizeIs(1));
  const ConflictFinding& f = findings[0];
  EXPECT_EQ(f.kind, ConflictFinding::Kind::kMovementNearZone);
  EXPECT_EQ(f.subject, "mv-1 v1 outbound");
  EXPECT_EQ(f.other, "Alpha");
  EXPECT_TRUE(f.intersects);
  EXPECT_EQ(f.min_distance_metres, 0);
  EXPECT_THAT(f.subject_parts, ElementsAre(0));
  EXPECT_THAT(f.Describe(), HasSubstr("route segment 0 touches or crosses "
                                      "zone Alpha"));
  EXPECT_THAT(f.Describe(), Not(HasSubstr("safe")));
  EXPECT_EQ(f.ToJson()["kind"], "movement-near-zone");
}

TEST(DeconflictTest, DistanceThresholdIsRespected) {
  // Zone on the equator from lon 0 to 0.1; route along the meridian 1.5 km
  // east of its east edge.
  double lon = 0.1 + 1500 / kEquatorDegree;
  Zone z = MakeZone("East", Box(0, 0, 0.1, 0.1));
  MovementLeg m = Leg("mv-2", {{-0.5, lon, ""}, {0.6, lon, ""}});
  DeconflictOptions one_km;
  one_km.distance_metres = 1000;
  ASSERT_OK_AND_ASSIGN(auto none, CheckConflicts({m}, {}, {z}, one_km));
  EXPECT_THAT(none, IsEmpty());
  DeconflictOptions two_km;
  two_km.distance_metres = 2000;
  ASSERT_OK_AND_ASSIGN(auto some, CheckConflicts({m}, {}, {z}, two_km));
  ASSERT_THAT(some, SizeIs(1));
  double exact = GeodesicDistance({0, 0.1, ""}, {0, lon, ""});
  EXPECT_NEAR(some[0].min_distance_metres, exact, 1.0);
  EXPECT_NEAR(some[0].min_distance_metres, 1500, 2.0);
  EXPECT_FALSE(some[0].intersects);
  EXPECT_THAT(some[0].Describe(), HasSubstr("passes 1500 m from zone East"));
}

TEST(DeconflictTest, NoFindingWhenTimesDoNotOverlap) {
  Zone alpha = MakeZone("Alpha", Box(36.05, 36.9, 36.15, 37.0),
                        T("2026-05-03T00:00:00Z"), T("2026-05-04T00:00:00Z"));
  MovementLeg m = Leg("mv-1", {{36.0, 36.8, ""}, {36.2, 37.1, ""}});
  ASSERT_OK_AND_ASSIGN(auto findings,
                       CheckConflicts({m}, {}, {alpha}, DeconflictOptions{}));
  EXPECT_THAT(findings, IsEmpty());
  // A margin wide enough to reach the zone's window brings it back.
  DeconflictOptions wide;
  wide.time_margin = absl::Hours(36);
  ASSERT_OK_AND_ASSIGN(findings, CheckConflicts({m}, {}, {alpha}, wide));
  ASSERT_THAT(findings, SizeIs(1));
  EXPECT_EQ(*findings[0].overlap_from, T("2026-05-03T00:00:00Z"));
}

TEST(DeconflictTest, CrossingRoutesAtOverlappingTimes) {
  MovementLeg a = Leg("mv-a", {{0, -1, ""}, {0, 1, ""}});
  MovementLeg b = Leg("mv-b", {{-1, 0, ""}, {1, 0, ""}}, "2026-05-01T10:00:00Z",
                      "2026-05-01T20:00:00Z");
  ASSERT_OK_AND_ASSIGN(auto findings,
                       CheckConflicts({a, b}, {}, {}, DeconflictOptions{}));
  ASSERT_THAT(findings, SizeIs(1));
  const ConflictFinding& f = findings[0];
  EXPECT_EQ(f.kind, ConflictFinding::Kind::kMovementsNear);
  EXPECT_TRUE(f.intersects);
  EXPECT_NEAR(f.subject_point.lat, 0, 1e-6);
  EXPECT_NEAR(f.subject_point.lon, 0, 1e-6);
  EXPECT_EQ(*f.overlap_from, T("2026-05-01T10:00:00Z"));
  EXPECT_EQ(*f.overlap_until, T("2026-05-01T12:00:00Z"));

  b.from = T("2026-05-01T13:00:00Z");
  ASSERT_OK_AND_ASSIGN(findings,
                       CheckConflicts({a, b}, {}, {}, DeconflictOptions{}));
  EXPECT_THAT(findings, IsEmpty());
}

TEST(DeconflictTest, ParallelRoutesWithinDistanceReportSegments) {
  // Two routes 800 m apart along the equator for their middle segments only.
  double off = 800.0 / 111319.0;  // ~800 m of latitude... near enough
  MovementLeg a = Leg("mv-a", {{0, 0, ""}, {0, 0.5, ""}, {0, 1, ""}, {0, 1.5, ""}});
  MovementLeg b = Leg("mv-b", {{1, 0.6, ""}, {off, 0.6, ""}, {off, 0.9, ""},
                               {1, 0.9, ""}});
  ASSERT_OK_AND_ASSIGN(auto findings,
                       CheckConflicts({a, b}, {}, {}, DeconflictOptions{}));
  ASSERT_THAT(findings, SizeIs(1));
  EXPECT_THAT(findings[0].subject_parts, ElementsAre(1));
  EXPECT_NEAR(findings[0].min_distance_metres,
              GeodesicDistance({0, 0.7, ""}, {off, 0.7, ""}), 1.0);
}

TEST(DeconflictTest, LongHighLatitudeRouteFollowsTheGeodesic) {
  // 60N 0E to 60N 40E: about 2200 km. The geodesic bulges north to about
  // 61.5N at 20E; a planar lat/lon check would put the route on 60N.
  GeoPoint start{60, 0, ""}, end{60, 40, ""};
  geod_geodesic g;
  geod_init(&g, 6378137, 1 / 298.257223563);
  geod_geodesicline line;
  geod_inverseline(&line, &g, start.lat, start.lon, end.lat, end.lon,
                   GEOD_LATITUDE | GEOD_LONGITUDE | GEOD_DISTANCE_IN);
  ASSERT_GT(line.s13, 2'000'000);
  GeoPoint mid;
  geod_position(&line, line.s13 / 2, &mid.lat, &mid.lon, nullptr);
  ASSERT_NEAR(mid.lon, 20, 1e-6);
  ASSERT_GT(mid.lat, 61.0);

  GeoShape route = GeoShape::Line({start, end});
  // A point on 60N, which a planar check would say the route runs through,
  // is in fact ~165 km from it: the closest route point is the vertex.
  GeoPoint on_rhumb{60, 20, ""};
  ASSERT_OK_AND_ASSIGN(ShapeDistance d,
                       GeodesicShapeDistance(route, GeoShape::Points({on_rhumb})));
  double reference = GeodesicDistance(on_rhumb, mid);
  EXPECT_GT(reference, 150'000);
  EXPECT_NEAR(d.metres, reference, 1.0);
  EXPECT_NEAR(d.nearest_a.lat, mid.lat, 1e-3);

  // Brute-force check of the minimum by sampling the geodesic every 10 m
  // around the answer, for an off-centre point.
  GeoPoint off{62.3, 31.0, ""};
  ASSERT_OK_AND_ASSIGN(ShapeDistance d2,
                       GeodesicShapeDistance(route, GeoShape::Points({off})));
  double best = 1e18;
  for (double s = 0; s <= line.s13; s += 1000) {
    GeoPoint p;
    geod_position(&line, s, &p.lat, &p.lon, nullptr);
    best = std::min(best, GeodesicDistance(off, p));
  }
  double coarse = best;
  best = 1e18;
  for (double s = 0; s <= line.s13; s += 10) {
    GeoPoint p;
    geod_position(&line, s, &p.lat, &p.lon, nullptr);
    double dist = GeodesicDistance(off, p);
    if (dist < coarse + 2000) best = std::min(best, dist);
  }
  EXPECT_NEAR(d2.metres, best, 1.0);

  // A small zone on the geodesic's vertex is crossed; one on 60N is not
  // within 100 km.
  Zone vertex = MakeZone("Vertex", Box(mid.lat - 0.05, 19.9, mid.lat + 0.05, 20.1));
  Zone rhumb = MakeZone("Rhumb", Box(59.95, 19.9, 60.05, 20.1));
  MovementLeg m = Leg("mv-long", {start, end});
  DeconflictOptions opts;
  opts.distance_metres = 100'000;
  ASSERT_OK_AND_ASSIGN(auto findings,
                       CheckConflicts({m}, {}, {vertex, rhumb}, opts));
  ASSERT_THAT(findings, SizeIs(1));
  EXPECT_EQ(findings[0].other, "Vertex");
  EXPECT_TRUE(findings[0].intersects);
}

TEST(DeconflictTest, SiteInsideZone) {
  Zone alpha = MakeZone("Alpha", Box(36.05, 36.9, 36.15, 37.0));
  SiteLocation inside{"site-1", 1, "Clinic", GeoShape::Points({{36.1, 36.95, ""}}),
                      {}, false, };
  SiteLocation near_poly{"site-2", 1, "Depot",
                         GeoShape::Polygons({Box(36.155, 36.9, 36.165, 36.91)}),
                         {}, false};
  SiteLocation far{"site-3", 1, "Office", GeoShape::Points({{35.0, 36.0, ""}}),
                   {}, false};
  SiteLocation gone = inside;
  gone.id = "site-4";
  gone.deactivated = true;
  ASSERT_OK_AND_ASSIGN(
      auto findings, CheckConflicts({}, {inside, near_poly, far, gone}, {alpha},
                                    DeconflictOptions{}));
  ASSERT_THAT(findings, SizeIs(2));
  EXPECT_EQ(findings[0].subject, "site site-1 v1 (Clinic)");
  EXPECT_TRUE(findings[0].intersects);
  EXPECT_THAT(findings[0].Describe(), HasSubstr("inside or on the edge of zone "
                                                "Alpha"));
  EXPECT_EQ(findings[1].subject, "site site-2 v1 (Depot)");
  EXPECT_FALSE(findings[1].intersects);
  EXPECT_NEAR(findings[1].min_distance_metres,
              GeodesicDistance({36.15, 36.905, ""}, {36.155, 36.905, ""}), 2.0);
}

TEST(DeconflictTest, SiteFromContentUsesItsWindow) {
  SiteContent s;
  s.id = "site-9";
  s.version = 2;
  s.name = "Store";
  s.points = {{36.1, 36.95, ""}};
  s.submitted_at = T("2026-06-01T00:00:00Z");
  SiteLocation loc = LocationOf(s);
  Zone alpha = MakeZone("Alpha", Box(36.05, 36.9, 36.15, 37.0),
                        T("2026-05-01T00:00:00Z"), T("2026-05-02T00:00:00Z"));
  ASSERT_OK_AND_ASSIGN(auto findings,
                       CheckConflicts({}, {loc}, {alpha}, DeconflictOptions{}));
  EXPECT_THAT(findings, IsEmpty());
}

TEST(DeconflictTest, LegsOfMovementIncludeReturn) {
  MovementContent m;
  m.id = "mv-r";
  m.version = 3;
  m.route.origin = {0, 0, ""};
  m.route.destination = {0, 1, ""};
  m.departure = {T("2026-05-01T06:00:00Z"), T("2026-05-01T07:00:00Z")};
  m.arrival = {T("2026-05-01T10:00:00Z"), T("2026-05-01T11:00:00Z")};
  m.return_leg = ReturnLeg{{T("2026-05-02T06:00:00Z"), T("2026-05-02T06:00:00Z")},
                           {T("2026-05-02T10:00:00Z"), T("2026-05-02T10:00:00Z")},
                           std::nullopt};
  std::vector<MovementLeg> legs = LegsOf(m);
  ASSERT_THAT(legs, SizeIs(2));
  EXPECT_EQ(legs[0].until, T("2026-05-01T11:00:00Z"));
  EXPECT_EQ(legs[1].Label(), "mv-r v3 return");
  EXPECT_EQ(legs[1].path.front().lon, 1);
  // The two legs of one movement are not compared with each other.
  ASSERT_OK_AND_ASSIGN(auto findings,
                       CheckConflicts(legs, {}, {}, DeconflictOptions{}));
  EXPECT_THAT(findings, IsEmpty());
}

TEST(DeconflictTest, AntimeridianCrossingIsRefusedClearly) {
  MovementLeg m = Leg("mv-pacific", {{10, 179.5, ""}, {10, -179.5, ""}});
  Zone z = MakeZone("Z", Box(9, 170, 11, 171));
  auto r = CheckConflicts({m}, {}, {z}, DeconflictOptions{});
  EXPECT_THAT(r, testing::StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(std::string(r.status().message()),
              HasSubstr("segment 0 crosses the antimeridian"));
  // Near the antimeridian but not across it is fine.
  MovementLeg west = Leg("mv-w", {{10, 179.0, ""}, {10, 179.99, ""}});
  Zone east = MakeZone("E", Box(9.9, -179.995, 10.1, -179.9));
  DeconflictOptions opts;
  opts.distance_metres = 5000;
  ASSERT_OK_AND_ASSIGN(auto f, CheckConflicts({west}, {}, {east}, opts));
  ASSERT_THAT(f, SizeIs(1));
  EXPECT_NEAR(f[0].min_distance_metres,
              GeodesicDistance({10, 179.99, ""}, {10, -179.995, ""}), 2.0);
}

TEST(DeconflictTest, ParsesDistances) {
  EXPECT_EQ(*ParseDistance("1km"), 1000);
  EXPECT_EQ(*ParseDistance("1.5 km"), 1500);
  EXPECT_EQ(*ParseDistance("800m"), 800);
  EXPECT_EQ(*ParseDistance("250"), 250);
  EXPECT_FALSE(ParseDistance("-1km").ok());
  EXPECT_FALSE(ParseDistance("far").ok());
  EXPECT_FALSE(ParseDistance("0").ok());
}

}  // namespace
}  // namespace parley
