#ifndef PARLEY_CLIENT_VIEWS_NOTIFY_FLAGS_H_
#define PARLEY_CLIENT_VIEWS_NOTIFY_FLAGS_H_

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
#include "client/core/device.h"
#include "client/deconfliction/notification_content.h"

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
  std::optional<bool> deactivated;  // amend --deactivate / --reactivate
};

// A member as the directory lists it, for checking --to.
struct KnownMember {
  std::string name;
  bool party = false;
  bool revoked = false;
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

// What a new notification needs from the command line before anything is
// sealed: InvalidArgument naming the first missing flag ("--to: name at
// least one party", "--route: ...", "--point or --polygon: ..."). Only the
// presence of flags is checked; their values are checked by Apply*.
absl::Status CheckNewMovementFlags(const MovementFlags& flags);
absl::Status CheckNewSiteFlags(const SiteFlags& flags);

// Each of `parties` (the value of `field`, e.g. "--to" or "to") must be an
// unrevoked member of role party in `directory`: NotFound for an unknown
// name (with "did you mean NAME?" when one is close), InvalidArgument for a
// member who is not a party, FailedPrecondition for a revoked one; each
// message starts with `field`. Duplicates are InvalidArgument.
absl::Status CheckParties(std::string_view field,
                          const std::vector<std::string>& parties,
                          const std::vector<KnownMember>& directory);
// CheckParties against `listed`, Device::ListDirectory's answer, before
// anything is sealed, so that a typo is named at once. When the server
// could not be reached (Unavailable, DeadlineExceeded) nothing is checked
// (OK: the notification may be queued); another failure is returned.
absl::Status CheckPartiesInDirectory(
    std::string_view field, const std::vector<std::string>& parties,
    const absl::StatusOr<std::vector<DirectoryEntry>>& listed);

}  // namespace parley

#endif  // PARLEY_CLIENT_VIEWS_NOTIFY_FLAGS_H_
