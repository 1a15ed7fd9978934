#ifndef PARLEY_CLIENT_DECONFLICTION_NOTIFICATION_CONTENT_H_
#define PARLEY_CLIENT_DECONFLICTION_NOTIFICATION_CONTENT_H_

// The end-to-end encrypted content of a deconfliction notification: what a
// coordinator tells the chosen parties about a movement or a static site.
// Serialised as JSON with a stable schema named by its "schema" member:
//
//   "parley-movement/v1"  content type application/vnd.parley.movement+json
//   "parley-site/v1"      content type application/vnd.parley.site+json
//
// Schema (every member not marked optional is required; unknown members are
// rejected so a typo is never silently dropped):
//
//   point     = {"lat": number, "lon": number, "name": string (optional)}
//               WGS84 degrees; lat in -90..90, lon in -180..180.
//   time      = RFC 3339 string in UTC, e.g. "2026-05-01T06:00:00Z".
//               Parsing accepts "Z", "z", "+00:00" and "-00:00" and an
//               optional fraction; any other offset is REJECTED (not
//               normalised): a notification is evidence, and the text every
//               party reads must say the same instant the sender meant, in
//               the one zone everybody shares. Output is always "...Z".
//   window    = {"earliest": time, "latest": time} (earliest <= latest), or
//               a bare time meaning earliest = latest.
//   contact   = {"name": string, "phone": string (opt), "email": string
//               (opt), "radio": string (opt)}; at least one of phone, email,
//               radio. Meant to be reachable 24/7.
//
//   movement  = {"schema": "parley-movement/v1", "id", "version" (>= 1),
//     "supersedes" (the version this one replaces: version - 1; 0 for v1),
//     "organisation", "contact",
//     "movement_type": "staff"|"cargo"|"evacuation"|"medical"|"other",
//     "emergency": {"justification": string} (optional; present = flagged),
//     "route": {"origin": point, "destination": point,
//               "waypoints": [point] (opt, ordered, between the two),
//               "holding_points": [point] (opt), "checkpoints": [point] (opt)},
//     "departure": window, "arrival": window, "ack_by": time (opt),
//     "return_leg": {"departure": window, "arrival": window,
//                    "route": route (opt; default: the outbound reversed)}
//                   (opt),
//     "vehicles": [{"count": int >= 1, "type": string,
//                   "protection": "armoured"|"soft-skin",
//                   "markings": string (opt), "plates": [string] (opt)}],
//     "cargo": string (opt),
//     "personnel": {"count": int >= 0, "names": [string] (opt, never
//                   required)},
//     "communications": {"radio_frequencies": [string] (opt),
//                        "satellite_phones": [string] (opt)} (opt),
//     "recipients": [party name] (>= 1, distinct)}
//
//   site      = {"schema": "parley-site/v1", "id", "version", "supersedes",
//     "organisation", "contact", "name",
//     "site_type": "health-facility"|"warehouse"|"office"|"guesthouse"|
//                  "school"|"water-point"|"distribution-point",
//     "critical_infrastructure": bool,
//     "points": [point] (>= 1)  XOR  "polygon": [[point]] (outer ring then
//                  holes; each ring >= 4 points, first == last),
//     "humanitarian_function": string, "submitted_at": time (the date the
//     function is stated as of), "markings": string (opt),
//     "review_by": time (opt), "deactivated": bool (opt, default false),
//     "recipients": [party name]}
//
// Ids and party names follow the log's name rule (1 to 64 of [a-z0-9._-],
// starting with a letter or digit). All functions are pure and thread-safe.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "crypto/rfc3339.h"  // times in content are RFC 3339 UTC
#include "nlohmann/json.hpp"

namespace parley {

inline constexpr std::string_view kMovementSchema = "parley-movement/v1";
inline constexpr std::string_view kSiteSchema = "parley-site/v1";
inline constexpr char kMovementContentType[] =
    "application/vnd.parley.movement+json";
inline constexpr char kSiteContentType[] = "application/vnd.parley.site+json";

// ---------------------------------------------------------------------------
// Content types.

// A WGS84 position in degrees, with an optional label (checkpoint names...).
struct GeoPoint {
  double lat = 0;
  double lon = 0;
  std::string name;

  bool operator==(const GeoPoint&) const = default;
};

// Rings of a polygon: the outer ring first, then holes. Each ring is closed
// (first point == last point).
using GeoPolygon = std::vector<std::vector<GeoPoint>>;

struct TimeWindow {
  absl::Time earliest;
  absl::Time latest;

  bool operator==(const TimeWindow&) const = default;
};

struct NotificationContact {
  std::string name;
  std::string phone;
  std::string email;
  std::string radio;

  bool operator==(const NotificationContact&) const = default;
};

struct Route {
  GeoPoint origin;
  GeoPoint destination;
  std::vector<GeoPoint> waypoints;  // ordered, between origin and destination
  std::vector<GeoPoint> holding_points;
  std::vector<GeoPoint> checkpoints;

  // The travelled line: origin, waypoints..., destination.
  std::vector<GeoPoint> Path() const;
  bool operator==(const Route&) const = default;
};

enum class MovementType { kStaff, kCargo, kEvacuation, kMedical, kOther };
// "staff", "cargo", ...
std::string_view MovementTypeName(MovementType type);

enum class VehicleProtection { kArmoured, kSoftSkin };

struct VehicleGroup {
  int count = 1;
  std::string type;  // "4x4", "truck", "ambulance"...
  VehicleProtection protection = VehicleProtection::kSoftSkin;
  std::string markings;
  std::vector<std::string> plates;  // optional

  bool operator==(const VehicleGroup&) const = default;
};

struct ReturnLeg {
  TimeWindow departure;
  TimeWindow arrival;
  std::optional<Route> route;  // empty: the outbound route reversed

  bool operator==(const ReturnLeg&) const = default;
};

struct MovementContent {
  std::string id;
  uint32_t version = 1;
  uint32_t supersedes = 0;
  std::string organisation;
  NotificationContact contact;
  MovementType movement_type = MovementType::kOther;
  bool emergency = false;
  std::string emergency_justification;
  Route route;
  TimeWindow departure;
  TimeWindow arrival;
  std::optional<absl::Time> ack_by;
  std::optional<ReturnLeg> return_leg;
  std::vector<VehicleGroup> vehicles;
  std::string cargo;
  int personnel_count = 0;
  std::vector<std::string> personnel_names;  // optional, never required
  std::vector<std::string> radio_frequencies;
  std::vector<std::string> satellite_phones;
  std::vector<std::string> recipients;

  // The return route: return_leg->route, or the outbound route reversed.
  // REQUIRES: return_leg.has_value().
  Route ReturnRoute() const;
  bool operator==(const MovementContent&) const = default;
};

enum class SiteType {
  kHealthFacility,
  kWarehouse,
  kOffice,
  kGuesthouse,
  kSchool,
  kWaterPoint,
  kDistributionPoint,
};
// "health-facility", "warehouse", ...
std::string_view SiteTypeName(SiteType type);

struct SiteContent {
  std::string id;
  uint32_t version = 1;
  uint32_t supersedes = 0;
  std::string organisation;
  NotificationContact contact;
  std::string name;
  SiteType site_type = SiteType::kOffice;
  bool critical_infrastructure = false;
  std::vector<GeoPoint> points;  // exactly one of points / polygon is set
  GeoPolygon polygon;
  std::string humanitarian_function;
  absl::Time submitted_at;
  std::string markings;
  std::optional<absl::Time> review_by;
  bool deactivated = false;
  std::vector<std::string> recipients;

  bool operator==(const SiteContent&) const = default;
};

using NotificationContent = std::variant<MovementContent, SiteContent>;

// ---------------------------------------------------------------------------
// JSON.

// Serialise to the schema above (members in alphabetical order). Does not
// validate; call Validate* first when the input is untrusted.
nlohmann::json MovementToJson(const MovementContent& movement);
nlohmann::json SiteToJson(const SiteContent& site);
nlohmann::json ContentToJson(const NotificationContent& content);
// Compact JSON text (the envelope payload).
std::string SerializeContent(const NotificationContent& content);

// Parses JSON text or a parsed value, dispatching on "schema". Checks types,
// required and unknown members and value syntax (times, enums); errors are
// InvalidArgument "<field path>: <problem>". Does not run the cross-field
// rules of Validate* (callers that accept content call both; see
// ParseAndValidateContent).
absl::StatusOr<NotificationContent> ParseContent(std::string_view json_text);
absl::StatusOr<NotificationContent> ContentFromJson(const nlohmann::json& j);
absl::StatusOr<MovementContent> MovementFromJson(const nlohmann::json& j);
absl::StatusOr<SiteContent> SiteFromJson(const nlohmann::json& j);

// Semantic rules, all at once: returns every problem found, one message per
// problem, each starting with the field path, e.g.
//   "route.waypoints[3]: latitude 91.2 is outside -90..90"
//   "arrival must be after departure"
// Empty: valid.
std::vector<std::string> ValidateMovement(const MovementContent& movement);
std::vector<std::string> ValidateSite(const SiteContent& site);
std::vector<std::string> ValidateContent(const NotificationContent& content);

// ParseContent then ValidateContent; InvalidArgument joining every problem
// with "; " on failure.
absl::StatusOr<NotificationContent> ParseAndValidateContent(
    std::string_view json_text);

// "application/vnd.parley.movement+json" or "...site+json".
std::string_view ContentTypeOf(const NotificationContent& content);
const std::string& ContentId(const NotificationContent& content);
uint32_t ContentVersion(const NotificationContent& content);

// ---------------------------------------------------------------------------
// Server-visible metadata (parley.v1.NotificationMetadata), derived from the
// content so that the two always agree. Times in Unix seconds, 0 = none.

struct VisibleMetadata {
  std::string id;
  bool movement = true;              // false: static site
  std::vector<std::string> parties;  // sorted
  int64_t depart_at = 0;   // movements: departure.earliest; sites: 0
  int64_t ack_by = 0;      // 0: no deadline
  int64_t valid_from = 0;  // movements: departure.earliest; sites: submitted_at
  int64_t valid_until = 0; // movements: latest arrival of the last leg;
                           // sites: review_by, 0 for open-ended
  bool emergency = false;

  bool operator==(const VisibleMetadata&) const = default;
};

VisibleMetadata ComputeVisibleMetadata(const NotificationContent& content);

// ---------------------------------------------------------------------------
// What changed between two versions (for amendments).

struct FieldChange {
  std::string path;    // "route.waypoints[2].lat", "departure.earliest"
  std::string before;  // JSON text of the old value; "" if absent
  std::string after;   // JSON text of the new value; "" if absent
};

// Leaf-level differences between the JSON forms of `before` and `after`, in
// path order (object members alphabetically). "version" and "supersedes"
// are left out (they always change). Arrays are compared element by element; elements beyond the
// shorter array are reported whole ("route.waypoints[4]").
std::vector<FieldChange> DiffContent(const NotificationContent& before,
                                     const NotificationContent& after);
std::vector<FieldChange> DiffJson(const nlohmann::json& before,
                                  const nlohmann::json& after);

}  // namespace parley

#endif  // PARLEY_CLIENT_DECONFLICTION_NOTIFICATION_CONTENT_H_
