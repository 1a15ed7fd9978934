#ifndef PARLEY_CLIENT_DECONFLICTION_GEO_INPUT_H_
#define PARLEY_CLIENT_DECONFLICTION_GEO_INPUT_H_

// Routes, zones and site polygons from the files coordinators already have:
// GeoJSON (RFC 7946; positions are [longitude, latitude], optionally with an
// altitude, which is ignored) and GPX 1.1 (trk/trkseg/trkpt or rte/rtept,
// lat/lon attributes). And GeoJSON out. Pure functions over text; the
// caller reads the file. Thread-safe.
//
// Errors are InvalidArgument naming the feature and position, e.g.
//   "features[2].geometry.coordinates[0][5]: latitude 95 is outside -90..90
//    (GeoJSON positions are [longitude, latitude])".

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/deconfliction/notification_content.h"
#include "nlohmann/json.hpp"

namespace parley {

enum class RouteFormat { kAuto, kGeoJson, kGpx };

// A route line: at least two points, in travel order.
//   GeoJSON: a LineString geometry, or a Feature with one, or a
//            FeatureCollection holding exactly one LineString feature (other
//            Point features are ignored).
//   GPX:     exactly one <rte> or one <trk>; a track's segments are joined in
//            order. Point <name>s become GeoPoint::name.
// kAuto picks GPX when the first non-blank character is '<'.
absl::StatusOr<std::vector<GeoPoint>> ReadRoute(std::string_view text,
                                                RouteFormat format =
                                                    RouteFormat::kAuto);
absl::StatusOr<std::vector<GeoPoint>> ReadRouteGeoJson(std::string_view text);
absl::StatusOr<std::vector<GeoPoint>> ReadRouteGpx(std::string_view text);

// origin = first point, destination = last, waypoints = the rest in order.
// REQUIRES: path.size() >= 2.
Route RouteFromPath(const std::vector<GeoPoint>& path);

// A restricted zone: one or more polygons, active in [active_from,
// active_until] (either end open when absent).
struct Zone {
  std::string name;  // "name" property, or "zone <feature index>"
  std::vector<GeoPolygon> polygons;
  std::optional<absl::Time> active_from;
  std::optional<absl::Time> active_until;
};

// A FeatureCollection (or a single Feature) of Polygon / MultiPolygon
// features with optional properties "name", "active_from", "active_until"
// (RFC 3339 UTC). Rings must be closed with at least 4 positions.
absl::StatusOr<std::vector<Zone>> ReadZonesGeoJson(std::string_view text);

// One site polygon: a Polygon geometry, a Feature with one, or a
// FeatureCollection with exactly one Polygon feature.
absl::StatusOr<GeoPolygon> ReadPolygonGeoJson(std::string_view text);

// "LAT,LON" as typed on the command line (--point 36.2,37.1).
absl::StatusOr<GeoPoint> ParseLatLon(std::string_view text);

// GeoJSON out (RFC 7946: [lon, lat], closed counter-clockwise outer rings
// are not enforced; rings are written as given).
nlohmann::json LineStringGeometry(const std::vector<GeoPoint>& path);
nlohmann::json PolygonGeometry(const GeoPolygon& polygon);
// Feature of the route (LineString) with id, version, type, times, and the
// organisation as properties; a FeatureCollection with the outbound route,
// the return route if any, and Point features for holding points and
// checkpoints (property "role").
nlohmann::json MovementToGeoJson(const MovementContent& movement);
// Feature with a Point, MultiPoint or Polygon geometry and the site's
// name, type, organisation, function, flags as properties.
nlohmann::json SiteToGeoJson(const SiteContent& site);

}  // namespace parley

#endif  // PARLEY_CLIENT_DECONFLICTION_GEO_INPUT_H_
