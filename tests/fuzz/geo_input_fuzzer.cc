// Route, zone and polygon files (client/deconfliction/geo_input.h) as
// coordinators get them from anyone, and the GEOS validity checks
// (client/deconfliction/geometry_check.h) run on whatever they accept. Every
// reader sees every input.
//
// Properties: ReadRoute picks GPX exactly when the first non-blank
// character is '<'; what a reader accepts keeps its documented shape
// (routes of >= 2 points, closed rings of >= 4, coordinates in range), so
// the GEOS checks' REQUIREs hold; and what we write as GeoJSON reads back
// as the same coordinates.

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "client/deconfliction/geo_input.h"
#include "client/deconfliction/geometry_check.h"
#include "client/deconfliction/notification_content.h"
#include "tests/fuzz/fuzz_util.h"

namespace parley {
namespace {

bool InRange(const GeoPoint& p) {
  return std::isfinite(p.lat) && std::isfinite(p.lon) && p.lat >= -90 &&
         p.lat <= 90 && p.lon >= -180 && p.lon <= 180;
}

bool SameCoordinates(const std::vector<GeoPoint>& a,
                     const std::vector<GeoPoint>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (a[i].lat != b[i].lat || a[i].lon != b[i].lon) return false;
  }
  return true;
}

void CheckPolygon(const GeoPolygon& polygon) {
  PARLEY_FUZZ_CHECK(!polygon.empty());
  for (const auto& ring : polygon) {
    PARLEY_FUZZ_CHECK(ring.size() >= 4);
    PARLEY_FUZZ_CHECK(ring.front().lat == ring.back().lat &&
                      ring.front().lon == ring.back().lon);
    for (const GeoPoint& p : ring) PARLEY_FUZZ_CHECK(InRange(p));
  }
  (void)PolygonInvalidReason(polygon);
}

void FuzzRoute(std::string_view text) {
  absl::StatusOr<std::vector<GeoPoint>> route = ReadRoute(text);
  std::string_view t = text;
  while (!t.empty() && absl::ascii_isspace(static_cast<unsigned char>(t[0]))) {
    t.remove_prefix(1);
  }
  if (t.substr(0, 3) == "\xEF\xBB\xBF") t.remove_prefix(3);
  const bool gpx = !t.empty() && t[0] == '<';
  absl::StatusOr<std::vector<GeoPoint>> direct =
      gpx ? ReadRouteGpx(text) : ReadRouteGeoJson(text);
  PARLEY_FUZZ_CHECK(route.ok() == direct.ok());
  if (!route.ok()) return;
  PARLEY_FUZZ_CHECK(*route == *direct);
  PARLEY_FUZZ_CHECK(route->size() >= 2);
  for (const GeoPoint& p : *route) PARLEY_FUZZ_CHECK(InRange(p));
  (void)LineInvalidReason(*route);
  Route r = RouteFromPath(*route);
  PARLEY_FUZZ_CHECK(r.Path() == *route);

  absl::StatusOr<std::vector<GeoPoint>> back =
      ReadRouteGeoJson(LineStringGeometry(*route).dump());
  PARLEY_FUZZ_CHECK(back.ok());
  PARLEY_FUZZ_CHECK(SameCoordinates(*back, *route));
}

void FuzzPolygon(std::string_view text) {
  absl::StatusOr<GeoPolygon> polygon = ReadPolygonGeoJson(text);
  if (!polygon.ok()) return;
  CheckPolygon(*polygon);
  absl::StatusOr<GeoPolygon> back =
      ReadPolygonGeoJson(PolygonGeometry(*polygon).dump());
  PARLEY_FUZZ_CHECK(back.ok());
  PARLEY_FUZZ_CHECK(back->size() == polygon->size());
  for (size_t i = 0; i < polygon->size(); ++i) {
    PARLEY_FUZZ_CHECK(SameCoordinates((*back)[i], (*polygon)[i]));
  }
}

void FuzzZones(std::string_view text) {
  absl::StatusOr<std::vector<Zone>> zones = ReadZonesGeoJson(text);
  if (!zones.ok()) return;
  for (const Zone& zone : *zones) {
    PARLEY_FUZZ_CHECK(!zone.name.empty());
    PARLEY_FUZZ_CHECK(!zone.polygons.empty());
    for (const GeoPolygon& polygon : zone.polygons) CheckPolygon(polygon);
  }
}

void FuzzLatLon(std::string_view text) {
  absl::StatusOr<GeoPoint> point = ParseLatLon(text);
  if (point.ok()) PARLEY_FUZZ_CHECK(InRange(*point));
}

}  // namespace
}  // namespace parley

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  parley::FuzzRoute(text);
  parley::FuzzPolygon(text);
  parley::FuzzZones(text);
  parley::FuzzLatLon(text);
  return 0;
}
