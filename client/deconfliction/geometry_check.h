#ifndef PARLEY_CLIENT_DECONFLICTION_GEOMETRY_CHECK_H_
#define PARLEY_CLIENT_DECONFLICTION_GEOMETRY_CHECK_H_

// OGC validity of the geometry a notification carries, decided by GEOS,
// so that a site polygon or a route that no GIS (and no `deconflict
// check`) can use is refused before it is sealed and logged for good.
// Coordinates are taken as planar lon/lat, as GEOS and GeoJSON tools do.
// Thread-safe: each call uses its own GEOS context.

#include <optional>
#include <string>
#include <vector>

#include "client/deconfliction/notification_content.h"

namespace parley {

// nullopt if GEOS finds `polygon` (outer ring, then holes) valid; else its
// reason and where, e.g. "Self-intersection at or near point 36.5,37.5"
// (LAT,LON, as --point takes it). REQUIRES: every ring has at least 4
// points, first equal to last (ValidateSite checks that first).
std::optional<std::string> PolygonInvalidReason(const GeoPolygon& polygon);

// As PolygonInvalidReason for a route's travelled line (origin, waypoints,
// destination). A line may cross itself (roads loop); it is invalid when
// it has fewer than two distinct points. REQUIRES: line.size() >= 2.
std::optional<std::string> LineInvalidReason(const std::vector<GeoPoint>& line);

}  // namespace parley

#endif  // PARLEY_CLIENT_DECONFLICTION_GEOMETRY_CHECK_H_
