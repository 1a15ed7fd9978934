#ifndef PARLEY_CLIENT_DECONFLICTION_DECONFLICT_H_
#define PARLEY_CLIENT_DECONFLICTION_DECONFLICT_H_

// Conflict checks over decrypted notifications, run on a coordinator's or
// mediator's machine: movements near restricted zones, movements near each
// other, and static sites in or near zones, each only when the time windows
// overlap. Findings are facts about geometry and time ("route segment 3 of
// mv-12 passes 640 m from zone Alpha while it is active"), never a judgement
// that anything is safe or unsafe.
//
// Geometry is on the WGS84 ellipsoid. Every edge (route segments, polygon
// edges) is the geodesic between its end points. Note that RFC 7946 defines
// GeoJSON edges as straight lines in longitude/latitude; the two differ only
// for long edges, and for a route the geodesic is what a vehicle (or an
// aircraft) following waypoints travels. Distances are exact geodesic
// distances (Karney's algorithm, PROJ's geodesic.h) between closest points
// found with GEOS in a local azimuthal equidistant projection (PROJ aeqd,
// centred on the pair being compared and re-centred on the closest points),
// after densifying edges along the geodesic to at most 1 km. Accuracy: a few
// metres over any route length.
//
// Geometries that cross the antimeridian (an edge whose end points are more
// than 180 degrees of longitude apart, i.e. whose geodesic goes across
// longitude +-180) are refused with InvalidArgument naming the object and
// edge; split them at the antimeridian first.
//
// Thread-safe: each call uses its own GEOS and PROJ contexts.

#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/deconfliction/geo_input.h"
#include "client/deconfliction/notification_content.h"
#include "nlohmann/json.hpp"

namespace parley {

// A geometry on the ellipsoid.
struct GeoShape {
  enum class Type { kPoints, kLine, kPolygons };
  Type type = Type::kPoints;
  std::vector<GeoPoint> points;      // kPoints, kLine (in order, >= 2)
  std::vector<GeoPolygon> polygons;  // kPolygons

  static GeoShape Points(std::vector<GeoPoint> p);
  static GeoShape Line(std::vector<GeoPoint> p);
  static GeoShape Polygons(std::vector<GeoPolygon> p);
};

struct ShapeDistance {
  double metres = 0;         // geodesic distance between the closest points
  bool intersects = false;   // touching, crossing or inside: metres == 0
  GeoPoint nearest_a;        // closest point on a
  GeoPoint nearest_b;        // closest point on b
  // kLine: index of the edge (points[i] to points[i+1]) holding nearest_*;
  // kPoints: index of the point; kPolygons: index of the polygon.
  int part_a = 0;
  int part_b = 0;
};

// Minimum geodesic distance between two shapes. InvalidArgument on empty or
// malformed shapes (out-of-range coordinates, a line of fewer than 2
// points, an unclosed ring) or on an antimeridian crossing.
absl::StatusOr<ShapeDistance> GeodesicShapeDistance(const GeoShape& a,
                                                    const GeoShape& b);

// As GeodesicShapeDistance, but only if the shapes come within `max_metres`
// (nullopt otherwise; faster: far parts are skipped by bounding boxes).
// `parts_a` / `parts_b`, when not null, receive every edge/point/polygon
// index of each shape that is itself within `max_metres` of the other shape.
absl::StatusOr<std::optional<ShapeDistance>> GeodesicShapesWithin(
    const GeoShape& a, const GeoShape& b, double max_metres,
    std::vector<int>* parts_a = nullptr, std::vector<int>* parts_b = nullptr);

// Geodesic distance between two points (geod_inverse on WGS84), metres.
double GeodesicDistance(const GeoPoint& a, const GeoPoint& b);

// A time interval; an absent end is open.
struct ActiveWindow {
  std::optional<absl::Time> from;
  std::optional<absl::Time> until;
};

// Inputs. Labels are what findings print ("mv-12 v3", "mv-12 v3 return").
struct MovementLeg {
  std::string id;
  uint32_t version = 0;
  std::string leg;  // "outbound" or "return"
  std::vector<GeoPoint> path;
  absl::Time from;   // earliest departure
  absl::Time until;  // latest arrival

  std::string Label() const;
};

struct SiteLocation {
  std::string id;
  uint32_t version = 0;
  std::string name;
  GeoShape shape;        // kPoints or kPolygons
  ActiveWindow window;   // submission to review-by; open if unknown
  bool deactivated = false;

  std::string Label() const;
};

// One leg per route (the outbound, and the return leg if any).
std::vector<MovementLeg> LegsOf(const MovementContent& movement);
// REQUIRES: ValidateSite(site) is empty.
SiteLocation LocationOf(const SiteContent& site);

struct DeconflictOptions {
  double distance_metres = 1000;
  // Widen every time window by this much on both sides before comparing.
  absl::Duration time_margin = absl::ZeroDuration();
  // Sites marked deactivated are skipped.
  bool include_deactivated_sites = false;
};

struct ConflictFinding {
  enum class Kind { kMovementNearZone, kMovementsNear, kSiteNearZone };
  Kind kind = Kind::kMovementNearZone;
  std::string subject;  // movement leg label or site label
  std::string other;    // zone name or the other movement leg's label
  // Route edges (index i = from path point i to i+1) within the distance;
  // for sites, the point or polygon indexes.
  std::vector<int> subject_parts;
  std::vector<int> other_parts;
  double min_distance_metres = 0;
  bool intersects = false;
  GeoPoint subject_point;  // closest points
  GeoPoint other_point;
  std::optional<absl::Time> overlap_from;  // the shared time window
  std::optional<absl::Time> overlap_until;

  // One line for people, e.g. "mv-12 v3 outbound: route segments 3-4 pass
  // within 640 m of zone Alpha (closest 412 m at 36.20000,37.10000) while
  // both are active 2026-05-01T06:00:00Z to 2026-05-01T12:00:00Z".
  std::string Describe() const;
  nlohmann::json ToJson() const;
};

std::string_view ConflictKindName(ConflictFinding::Kind kind);

// Runs the three checks. Findings come sorted by kind, then subject, then
// other. InvalidArgument names the object that could not be checked.
absl::StatusOr<std::vector<ConflictFinding>> CheckConflicts(
    const std::vector<MovementLeg>& movements,
    const std::vector<SiteLocation>& sites, const std::vector<Zone>& zones,
    const DeconflictOptions& options);

// "1km", "1.5 km", "800m", "800" (metres). InvalidArgument otherwise or if
// not positive.
absl::StatusOr<double> ParseDistance(std::string_view text);

}  // namespace parley

#endif  // PARLEY_CLIENT_DECONFLICTION_DECONFLICT_H_
