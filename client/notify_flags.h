#ifndef PARLEY_CLIENT_NOTIFY_FLAGS_H_
#define PARLEY_CLIENT_NOTIFY_FLAGS_H_

// Command-line flags of `parley notify` and `parley notification amend`,
// applied onto notification content: a new notification starts from empty
// content, an amendment from the current version, and only the flags given
// change it. Pure and thread-safe; files are read by the caller.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/notification_content.h"

namespace parley {

struct MovementFlags {
  std::vector<std::string> to;  // party names; empty: keep
  std::string route_text;       // GeoJSON or GPX text; empty: keep
  std::string depart, arrive;   // TIME or TIME/TIME (a window); "+2h" = now+
  std::string return_depart, return_arrive;
  std::string vehicles;  // "2xtruck:soft-skin,1x4x4:armoured"
  std::optional<int> personnel;
  std::optional<std::string> cargo, contact, emergency, ack_by, type;
};

struct SiteFlags {
  std::vector<std::string> to;
  std::optional<std::string> name, type, contact, review_by, function;
  std::vector<std::string> points;  // "LAT,LON"
  std::string polygon_text;         // GeoJSON Polygon text
};

// A time flag: RFC 3339 UTC, or "+DURATION" (e.g. "+48h", "+3s") after now.
absl::StatusOr<absl::Time> ParseTimeFlag(std::string_view flag,
                                         std::string_view text,
                                         absl::Time now);
// "NAME,+41221234567" / "NAME,ops@example.org" / "NAME,radio:VHF 7":
// a name, then one or more ways to reach it.
absl::StatusOr<NotificationContact> ParseContactFlag(std::string_view text);
// "COUNTxTYPE[:armoured|soft-skin][,...]".
absl::StatusOr<std::vector<VehicleGroup>> ParseVehiclesFlag(
    std::string_view text);

// Apply the flags given; InvalidArgument names the flag.
absl::Status ApplyMovementFlags(const MovementFlags& flags, absl::Time now,
                                MovementContent* movement);
absl::Status ApplySiteFlags(const SiteFlags& flags, absl::Time now,
                            SiteContent* site);

// "a,b , c" -> {"a","b","c"} (empty items dropped).
std::vector<std::string> SplitList(std::string_view text);

}  // namespace parley

#endif  // PARLEY_CLIENT_NOTIFY_FLAGS_H_
