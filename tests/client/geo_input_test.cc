#include "client/deconfliction/geo_input.h"

#include <fstream>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/paths.h"
#include "tests/testing/status_matchers.h"

namespace parley {
namespace {

using ::testing::HasSubstr;
using nlohmann::json;

std::string ReadTestData(const std::string& name) {
  std::ifstream in(::parley::testing::SourceDir() + "/tests/client/testdata/" +
                   name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string ErrorOf(const absl::Status& s) { return std::string(s.message()); }

TEST(GeoInputTest, ReadsGeoJsonRouteAsLonLat) {
  ASSERT_OK_AND_ASSIGN(auto path, ReadRoute(ReadTestData("route.geojson")));
  ASSERT_EQ(path.size(), 3u);
  EXPECT_DOUBLE_EQ(path[0].lat, 36.2021);
  EXPECT_DOUBLE_EQ(path[0].lon, 37.1343);
  EXPECT_DOUBLE_EQ(path[1].lat, 36.10);  // altitude ignored
  Route r = RouteFromPath(path);
  EXPECT_DOUBLE_EQ(r.destination.lon, 36.6339);
  EXPECT_EQ(r.waypoints.size(), 1u);
}

TEST(GeoInputTest, ReadsBareLineStringAndFeature) {
  ASSERT_OK_AND_ASSIGN(
      auto a, ReadRouteGeoJson(R"({"type":"LineString","coordinates":[[1,2],[3,4]]})"));
  EXPECT_DOUBLE_EQ(a[1].lat, 4);
  ASSERT_OK_AND_ASSIGN(
      auto b, ReadRouteGeoJson(R"({"type":"Feature","properties":null,
        "geometry":{"type":"LineString","coordinates":[[1,2],[3,4]]}})"));
  EXPECT_EQ(a, b);
}

TEST(GeoInputTest, GeoJsonRouteErrorsNameTheProblem) {
  auto swapped = ReadRouteGeoJson(
      R"({"type":"LineString","coordinates":[[36.2, 37.1],[36.1, 95.0]]})");
  EXPECT_THAT(ErrorOf(swapped.status()),
              HasSubstr("geometry.coordinates[1]: latitude 95 is outside "
                        "-90..90 (GeoJSON positions are [longitude, "
                        "latitude])"));
  auto two = ReadRouteGeoJson(R"({"type":"FeatureCollection","features":[
      {"type":"Feature","geometry":{"type":"LineString","coordinates":[[1,2],[3,4]]}},
      {"type":"Feature","geometry":{"type":"LineString","coordinates":[[1,2],[3,4]]}}]})");
  EXPECT_THAT(ErrorOf(two.status()),
              HasSubstr("features[1].geometry: a second LineString"));
  auto poly = ReadRouteGeoJson(R"({"type":"FeatureCollection","features":[
      {"type":"Feature","geometry":{"type":"Polygon","coordinates":[]}}]})");
  EXPECT_THAT(ErrorOf(poly.status()),
              HasSubstr("features[0].geometry: a route must be a LineString, "
                        "not Polygon"));
  auto one = ReadRouteGeoJson(R"({"type":"LineString","coordinates":[[1,2]]})");
  EXPECT_THAT(ErrorOf(one.status()), HasSubstr("at least two points"));
  EXPECT_FALSE(ReadRouteGeoJson("{not json").ok());
  auto str = ReadRouteGeoJson(
      R"({"type":"LineString","coordinates":[[1,2],["3",4]]})");
  EXPECT_THAT(ErrorOf(str.status()), HasSubstr("coordinates[1]"));
}

TEST(GeoInputTest, ReadsGpxTrackJoiningSegments) {
  ASSERT_OK_AND_ASSIGN(auto path, ReadRoute(ReadTestData("route.gpx")));
  ASSERT_EQ(path.size(), 3u);
  EXPECT_DOUBLE_EQ(path[0].lat, 36.2021);
  EXPECT_DOUBLE_EQ(path[0].lon, 37.1343);
  EXPECT_EQ(path[0].name, "Start");
  EXPECT_DOUBLE_EQ(path[2].lat, 35.9306);
  EXPECT_EQ(path[2].name, "End & hub");
}

TEST(GeoInputTest, ReadsGpxRoute) {
  ASSERT_OK_AND_ASSIGN(auto path, ReadRouteGpx(R"(<gpx:gpx xmlns:gpx="x">
    <gpx:rte><gpx:rtept lat="1.5" lon="-2.25"/><gpx:rtept lat="-3" lon="4"/></gpx:rte>
    </gpx:gpx>)"));
  ASSERT_EQ(path.size(), 2u);
  EXPECT_DOUBLE_EQ(path[0].lon, -2.25);
}

TEST(GeoInputTest, GpxErrorsAreStrict) {
  struct Case {
    const char* gpx;
    const char* error;
  } cases[] = {
      {"<gpx><trk><trkseg><trkpt lat=\"1\" lon=\"2\"></trkseg></trk></gpx>",
       "does not close <trkpt>"},
      {"<gpx><rte><rtept lat=\"91\" lon=\"2\"/><rtept lat=\"1\" lon=\"2\"/>"
       "</rte></gpx>",
       "rte.rtept[0]: latitude 91 is outside"},
      {"<gpx><rte><rtept lon=\"2\"/></rte></gpx>", "needs lat and lon"},
      {"<gpx><rte><rtept lat=\"1x\" lon=\"2\"/></rte></gpx>",
       "not a decimal number"},
      {"<!DOCTYPE gpx [<!ENTITY x \"y\">]><gpx/>", "DOCTYPE"},
      {"<gpx><rte/><trk/></gpx>", "a second route or track"},
      {"<gpx></gpx>", "no <rte> or <trk>"},
      {"<kml/>", "not <gpx>"},
      {"<gpx><rte><rtept lat=\"1\" lon=\"2\" lat=\"3\"/></rte></gpx>",
       "duplicate attribute"},
      {"<gpx><rte><name>&bogus;</name></rte></gpx>", "unknown entity"},
      {"<gpx/><gpx/>", "after the root"},
      {"<gpx><rte><rtept lat=1 lon=2/></rte></gpx>", "not quoted"},
  };
  for (const Case& c : cases) {
    auto r = ReadRouteGpx(c.gpx);
    EXPECT_THAT(ErrorOf(r.status()), HasSubstr(c.error)) << c.gpx;
  }
}

TEST(GeoInputTest, ReadsZonesWithTimes) {
  ASSERT_OK_AND_ASSIGN(auto zones, ReadZonesGeoJson(ReadTestData("zones.geojson")));
  ASSERT_EQ(zones.size(), 2u);
  EXPECT_EQ(zones[0].name, "Alpha");
  ASSERT_TRUE(zones[0].active_from.has_value());
  EXPECT_EQ(FormatRfc3339Utc(*zones[0].active_until), "2026-05-03T00:00:00Z");
  EXPECT_EQ(zones[0].polygons.size(), 1u);
  EXPECT_EQ(zones[1].name, "zone 1");
  EXPECT_FALSE(zones[1].active_from.has_value());
  EXPECT_EQ(zones[1].polygons.size(), 2u);
}

TEST(GeoInputTest, ZoneErrorsNameTheFeature) {
  auto open = ReadZonesGeoJson(R"({"type":"FeatureCollection","features":[
    {"type":"Feature","properties":{},"geometry":{"type":"Polygon",
     "coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}},
    {"type":"Feature","properties":{},"geometry":{"type":"Polygon",
     "coordinates":[[[0,0],[1,0],[1,1],[0,1]]]}}]})");
  EXPECT_THAT(ErrorOf(open.status()),
              HasSubstr("features[1].geometry.coordinates[0]: ring is not "
                        "closed"));
  auto time = ReadZonesGeoJson(R"({"type":"FeatureCollection","features":[
    {"type":"Feature","properties":{"active_from":"2026-05-01"},
     "geometry":{"type":"Polygon","coordinates":[[[0,0],[1,0],[1,1],[0,0]]]}}]})");
  EXPECT_THAT(ErrorOf(time.status()),
              HasSubstr("features[0].properties.active_from: \"2026-05-01\" "
                        "is not an RFC 3339 UTC time"));
  auto line = ReadZonesGeoJson(R"({"type":"FeatureCollection","features":[
    {"type":"Feature","properties":{},"geometry":{"type":"LineString",
     "coordinates":[[0,0],[1,0]]}}]})");
  EXPECT_THAT(ErrorOf(line.status()),
              HasSubstr("features[0].geometry: a zone must be a Polygon or "
                        "MultiPolygon, not LineString"));
}

TEST(GeoInputTest, ReadsSitePolygonAndPoints) {
  ASSERT_OK_AND_ASSIGN(auto poly, ReadPolygonGeoJson(R"({"type":"Polygon",
    "coordinates":[[[37,36],[37.01,36],[37.01,36.01],[37,36]]]})"));
  ASSERT_EQ(poly.size(), 1u);
  EXPECT_DOUBLE_EQ(poly[0][1].lon, 37.01);
  ASSERT_OK_AND_ASSIGN(GeoPoint p, ParseLatLon("36.2, 37.1"));
  EXPECT_DOUBLE_EQ(p.lat, 36.2);
  EXPECT_DOUBLE_EQ(p.lon, 37.1);
  EXPECT_THAT(ErrorOf(ParseLatLon("137.1,36.2").status()),
              HasSubstr("the order is LAT,LON"));
  EXPECT_FALSE(ParseLatLon("36.2").ok());
}

TEST(GeoInputTest, WritesGeoJsonThatReadsBack) {
  std::vector<GeoPoint> path = {{36.2, 37.1, ""}, {36.0, 36.8, ""},
                                {35.9, 36.6, ""}};
  json fc = {{"type", "FeatureCollection"},
             {"features",
              json::array({{{"type", "Feature"},
                            {"properties", json::object()},
                            {"geometry", LineStringGeometry(path)}}})}};
  ASSERT_OK_AND_ASSIGN(auto back, ReadRouteGeoJson(fc.dump()));
  EXPECT_EQ(back, path);
  EXPECT_EQ(LineStringGeometry(path)["coordinates"][0],
            json::array({37.1, 36.2}));

  MovementContent m;
  m.id = "mv-1";
  m.route = RouteFromPath(path);
  m.route.checkpoints.push_back({36.1, 37.0, "CP"});
  m.return_leg = ReturnLeg{};
  json g = MovementToGeoJson(m);
  ASSERT_EQ(g["features"].size(), 3u);
  EXPECT_EQ(g["features"][0]["properties"]["leg"], "outbound");
  EXPECT_EQ(g["features"][1]["properties"]["leg"], "return");
  EXPECT_EQ(g["features"][1]["geometry"]["coordinates"][0],
            json::array({36.6, 35.9}));
  EXPECT_EQ(g["features"][2]["properties"]["role"], "checkpoint");

  SiteContent s;
  s.points = {{1, 2, ""}};
  EXPECT_EQ(SiteToGeoJson(s)["geometry"]["type"], "Point");
  s.points.push_back({3, 4, ""});
  EXPECT_EQ(SiteToGeoJson(s)["geometry"]["type"], "MultiPoint");
  s.points.clear();
  s.polygon = {{{0, 0, ""}, {0, 1, ""}, {1, 1, ""}, {0, 0, ""}}};
  json site = SiteToGeoJson(s);
  EXPECT_EQ(site["geometry"]["type"], "Polygon");
  ASSERT_OK_AND_ASSIGN(auto poly, ReadPolygonGeoJson(site.dump()));
  EXPECT_EQ(poly, s.polygon);
}

}  // namespace
}  // namespace parley
