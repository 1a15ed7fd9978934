#ifndef PARLEY_CLIENT_VIEWS_NOTIFICATION_JSON_H_
#define PARLEY_CLIENT_VIEWS_NOTIFICATION_JSON_H_

// Names and JSON of notification states, shared by the front ends (the
// CLI's `--json` output and the GUI's API use the same documents); the
// words that do not depend on the wire format are in
// client/deconfliction/vocabulary.h. Wording follows the product rule:
// "acknowledged receipt", never approval, clearance or safety. Pure and
// thread-safe.

#include <cstdint>
#include <string>

#include "client/core/device.h"
#include "client/deconfliction/vocabulary.h"
#include "nlohmann/json.hpp"
#include "parley/v1/notifications.pb.h"

namespace parley {

// Machine names ("partially-acknowledged", "acknowledged-receipt", ...).
std::string OverallStateName(v1::NotificationState::Overall overall);
std::string PartyStateName(v1::PartyState::State state);

// For people: "partially acknowledged receipt", "acknowledged receipt by
// all", "acknowledged receipt"; otherwise the machine name.
std::string OverallStateWords(v1::NotificationState::Overall overall);
std::string PartyStateWords(v1::PartyState::State state);

// A static site past its review-by date: the server calls it expired; for
// the coordinator it is a reminder to review it (amend or deactivate).
bool SiteReviewDue(const v1::NotificationState& state);

// The server's state of one notification: id, kind, version, issuer,
// overall, review_due (SiteReviewDue), times (RFC 3339 or null) and one
// object per party.
nlohmann::json NotificationStateJson(const v1::NotificationState& state);
// The state plus "versions" (opened content or the error) and "events".
nlohmann::json NotificationViewJson(const NotificationView& view);

}  // namespace parley

#endif  // PARLEY_CLIENT_VIEWS_NOTIFICATION_JSON_H_
