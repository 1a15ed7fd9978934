#ifndef PARLEY_CLIENT_GUI_GUI_FORMS_H_
#define PARLEY_CLIENT_GUI_GUI_FORMS_H_

// The notify and amend forms of `parley gui`, read into the flags of
// `parley notify` and `parley notification amend` (client/views/notify_flags.h)
// so that both front ends check a notification alike, plus the few fields
// the command line does not have. Pure and thread-safe.
//
// Form fields, the JSON members of the request body (text unless noted):
//
//   both kinds  to (text "a, b" or an array of names), contact ("NAME,
//               +PHONE|EMAIL|radio:CHANNEL"), type
//   movement    route (GeoJSON LineString or GPX text), depart, arrive,
//               return_depart, return_arrive (RFC 3339 UTC, EARLIEST/LATEST
//               or +DURATION), vehicles ("2xtruck:soft-skin,..."),
//               personnel (a number or digits), cargo, emergency (the
//               justification; "" for none), ack_by, checkpoints,
//               holding_points (one "LAT,LON" a line), radio_frequencies,
//               satellite_phones (comma lists)
//   site        name, points (one "LAT,LON" a line, or an array), polygon
//               (GeoJSON Polygon text), review_by, function, markings,
//               critical_infrastructure (true/false), deactivated
//               (true/false; amend only)
//   new only    kind ("movement" or "site"), id (default: generated)
//
// A member that is present is given, as a flag on the command line is:
// an amendment changes only the fields given. Text that is empty counts
// as not given, except for contact, cargo, emergency, ack_by, checkpoints,
// holding_points, radio_frequencies, satellite_phones, name, function and
// markings, where "" is a value (ack_by "" removes the deadline, emergency
// "" the emergency flag, checkpoints "" the checkpoints).
//
// Every problem names its field: FormProblem::field is one of the names
// above, and the message starts with it ("route: ...").

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/deconfliction/notification_content.h"
#include "client/views/notify_flags.h"
#include "crypto/random.h"
#include "nlohmann/json.hpp"

namespace parley {

struct NotifyForm {
  bool movement = true;
  std::string id;  // new only; empty: generated
  MovementFlags movement_flags;
  SiteFlags site_flags;
  // Fields the command line does not have; nullopt: not given.
  std::optional<std::vector<GeoPoint>> checkpoints, holding_points;
  std::optional<std::vector<std::string>> radio_frequencies, satellite_phones;
  std::optional<std::string> markings;
  std::optional<bool> critical_infrastructure;
};

struct FormProblem {
  std::string field;    // a form field, or "" when none fits
  std::string message;  // starts with the field when there is one
};

// Reads a form. For a new notification `kind` is nullopt and the body
// names it ("kind"); for an amendment it is the current version's kind
// (true: movement) and the body's "id" names the notification (it is not
// read here). InvalidArgument "FIELD: problem" for an unknown member, a
// wrong type, a field of the other kind, or a malformed list of points.
absl::StatusOr<NotifyForm> ReadNotifyForm(const nlohmann::json& body,
                                          std::optional<bool> kind);

// The content of a new notification: the fields a new one needs
// (CheckNew*Flags), the flags applied, the other fields, the organisation,
// then every rule of ValidateContent. On failure returns InvalidArgument
// and fills `problems` (one per problem, each with its field). `random`
// makes the id when the form gives none.
absl::StatusOr<NotificationContent> NewContentFromForm(
    const NotifyForm& form, const std::string& organisation, absl::Time now,
    Random& random, std::vector<FormProblem>* problems);

// `current` amended by the form as the next version (supersedes
// `current_version`), then validated as above. Checkpoints and holding
// points survive a new route unless the form gives them too.
// InvalidArgument (and `problems`) as above, including "nothing to amend"
// when the form leaves the content as it is.
absl::StatusOr<NotificationContent> AmendedContentFromForm(
    const NotifyForm& form, const NotificationContent& current,
    uint32_t current_version, absl::Time now,
    std::vector<FormProblem>* problems);

// The form field a problem message is about, "" if none: "--route: ..." ->
// "route", "departure.earliest: ..." -> "depart", "recipients[1]: ..." ->
// "to", "to: no member named ..." -> "to".
std::string FormFieldOf(std::string_view message);
// The problem `message` is, starting with its form field: a command-line
// flag at its start becomes the field ("--ack-by: ..." -> "ack_by: ..."),
// and a content path gets the field put before it ("arrival must be ..."
// -> "arrive: arrival must be ...").
FormProblem FormProblemOf(std::string_view message);

// The content as form values (the members above), for the amend form to
// start from. Times are RFC 3339 UTC; the route is a GeoJSON LineString.
nlohmann::json FormFromContent(const NotificationContent& content);

}  // namespace parley

#endif  // PARLEY_CLIENT_GUI_GUI_FORMS_H_
