#ifndef PARLEY_CLIENT_DECONFLICTION_NOTIFICATION_EXPORT_H_
#define PARLEY_CLIENT_DECONFLICTION_NOTIFICATION_EXPORT_H_

// The notification register, exported for other tools: CSV (RFC 4180) with
// per-party timestamps, GeoJSON (RFC 7946) of routes and sites, and OASIS
// CAP 1.2 alerts. Input is the decrypted content of each version plus the
// server's per-party state, as the CLI assembles it. Wording follows the
// product rule: "acknowledged receipt", never approval, clearance or safety.
// Pure and thread-safe.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "client/deconfliction/notification_content.h"
#include "nlohmann/json.hpp"

namespace parley {

// One party's progress on one version (parley.v1.PartyState). Times are
// Unix seconds, 0 = not (yet).
struct ExportPartyState {
  std::string party;
  int64_t logged_at = 0;
  int64_t delivered_at = 0;
  int64_t acknowledged_at = 0;  // acknowledged receipt
  int64_t objected_at = 0;
  int escalation = 0;  // 0 none, 1 reminder, 2 escalation, 3 second

  // "logged", "delivered", "acknowledged-receipt" or "objected".
  std::string State() const;
};

struct ExportVersion {
  NotificationContent content;  // decrypted; its version is the version
  int64_t logged_at = 0;        // Unix seconds
  bool late = false;            // logged below the required lead time
  std::vector<ExportPartyState> parties;
};

struct ExportNotification {
  std::string issuer;        // member name of the coordinator
  std::string organisation;  // the issuer's organisation
  // parley.v1.NotificationState.Overall in lower case with dashes:
  // "pending", "partially-acknowledged", "acknowledged-by-all", "objected",
  // "overdue", "cancelled", "superseded", "completed", "expired".
  std::string overall;
  std::vector<ExportVersion> versions;  // ascending version; >= 1
  int64_t cancelled_at = 0;             // 0: not cancelled
};

// One row per version and party, header first, CRLF line ends, fields
// quoted when they hold a comma, quote, CR or LF. Columns:
//   id, kind, version, issuer, organisation, overall, version_logged_at,
//   late, emergency, departure, arrival, ack_by, valid_until, party,
//   party_state, party_logged_at, delivered_at, acknowledged_receipt_at,
//   objected_at, escalation, cancelled_at
// Times are RFC 3339 UTC; empty when absent.
std::string ExportCsv(const std::vector<ExportNotification>& register_);

// A FeatureCollection: for each notification, its latest version's routes
// (LineString, outbound and return) and holding points / checkpoints
// (Point), or its site (Point, MultiPoint or Polygon), with properties id,
// version, issuer, overall, and the content's descriptive fields.
nlohmann::json ExportGeoJson(const std::vector<ExportNotification>& register_);

// One CAP 1.2 <alert> document per version (msgType Alert for version 1,
// Update for later versions with <references> to the previous version) and
// one Cancel alert for a cancelled notification (referencing its last
// version). `sender` is the CAP sender, e.g. "alice@parley.example";
// identifier = sender "/" id "/v" version (the Cancel: "/cancel").
// status Actual, scope Private, <addresses> = the version's parties.
struct CapAlert {
  std::string identifier;
  std::string xml;  // a complete XML document
};
absl::StatusOr<std::vector<CapAlert>> ExportCap(
    const std::vector<ExportNotification>& register_,
    const std::string& sender);

// RFC 4180 field quoting.
std::string CsvField(const std::string& field);
// CAP date-time: "2026-05-01T06:00:00-00:00" (UTC as -00:00, per CAP 1.2).
std::string CapTime(int64_t unix_seconds);

}  // namespace parley

#endif  // PARLEY_CLIENT_DECONFLICTION_NOTIFICATION_EXPORT_H_
