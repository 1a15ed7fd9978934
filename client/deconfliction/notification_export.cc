#include "client/deconfliction/notification_export.h"

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/time.h"
#include "client/deconfliction/geo_input.h"

namespace parley {
namespace {

using json = nlohmann::json;

std::string Time(int64_t s) {
  return s == 0 ? "" : FormatRfc3339Utc(absl::FromUnixSeconds(s));
}
std::string Time(absl::Time t) { return FormatRfc3339Utc(t); }

std::string XmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string Coord(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.6f", v);
  return buf;
}

std::string Els(std::string_view name, std::string_view value,
                std::string_view indent) {
  return absl::StrCat(std::string(indent), "<", std::string(name), ">",
                      XmlEscape(value), "</", std::string(name), ">\n");
}

std::string VehiclesText(const MovementContent& m) {
  std::vector<std::string> parts;
  for (const VehicleGroup& v : m.vehicles) {
    parts.push_back(absl::StrCat(
        v.count, " x ", v.type, " (",
        v.protection == VehicleProtection::kArmoured ? "armoured" : "soft-skin",
        v.markings.empty() ? "" : absl::StrCat(", markings: ", v.markings),
        ")"));
  }
  return absl::StrJoin(parts, "; ");
}

}  // namespace

std::string ExportPartyState::State() const {
  if (objected_at != 0) return "objected";
  if (acknowledged_at != 0) return "acknowledged-receipt";
  if (delivered_at != 0) return "delivered";
  return "logged";
}

std::string CsvField(const std::string& field) {
  if (field.find_first_of(",\"\r\n") == std::string::npos) return field;
  std::string out = "\"";
  for (char c : field) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

std::string CapTime(int64_t unix_seconds) {
  return absl::FormatTime("%Y-%m-%dT%H:%M:%S-00:00",
                          absl::FromUnixSeconds(unix_seconds),
                          absl::UTCTimeZone());
}

std::string ExportCsv(const std::vector<ExportNotification>& reg) {
  std::vector<std::vector<std::string>> rows;
  rows.push_back({"id", "kind", "version", "issuer", "organisation", "overall",
                  "version_logged_at", "late", "emergency", "departure",
                  "arrival", "ack_by", "valid_until", "party", "party_state",
                  "party_logged_at", "delivered_at", "acknowledged_receipt_at",
                  "objected_at", "escalation", "cancelled_at"});
  for (const ExportNotification& n : reg) {
    for (const ExportVersion& v : n.versions) {
      VisibleMetadata md = ComputeVisibleMetadata(v.content);
      std::string arrival;
      if (const auto* m = std::get_if<MovementContent>(&v.content)) {
        arrival = Time(m->arrival.latest);
      }
      for (const ExportPartyState& p : v.parties) {
        rows.push_back({md.id, md.movement ? "movement" : "site",
                        absl::StrCat(ContentVersion(v.content)), n.issuer,
                        n.organisation, n.overall, Time(v.logged_at),
                        v.late ? "true" : "false",
                        md.emergency ? "true" : "false", Time(md.depart_at),
                        arrival, Time(md.ack_by), Time(md.valid_until),
                        p.party, p.State(), Time(p.logged_at),
                        Time(p.delivered_at), Time(p.acknowledged_at),
                        Time(p.objected_at), absl::StrCat(p.escalation),
                        Time(n.cancelled_at)});
      }
    }
  }
  std::string out;
  for (const auto& row : rows) {
    std::vector<std::string> fields;
    for (const std::string& f : row) fields.push_back(CsvField(f));
    absl::StrAppend(&out, absl::StrJoin(fields, ","), "\r\n");
  }
  return out;
}

json ExportGeoJson(const std::vector<ExportNotification>& reg) {
  json features = json::array();
  for (const ExportNotification& n : reg) {
    if (n.versions.empty()) continue;
    const ExportVersion& v = n.versions.back();
    json fs;
    if (const auto* m = std::get_if<MovementContent>(&v.content)) {
      fs = MovementToGeoJson(*m)["features"];
    } else {
      fs = json::array({SiteToGeoJson(std::get<SiteContent>(v.content))});
    }
    for (json& f : fs) {
      f["properties"]["issuer"] = n.issuer;
      f["properties"]["overall"] = n.overall;
      f["properties"]["logged_at"] = Time(v.logged_at);
      features.push_back(std::move(f));
    }
  }
  return json{{"type", "FeatureCollection"}, {"features", features}};
}

absl::StatusOr<std::vector<CapAlert>> ExportCap(
    const std::vector<ExportNotification>& reg, const std::string& sender) {
  if (sender.empty() || sender.find_first_of(" ,<&") != std::string::npos) {
    return absl::InvalidArgumentError(
        "CAP sender must be non-empty without spaces, commas, < or &");
  }
  std::vector<CapAlert> out;
  for (const ExportNotification& n : reg) {
    std::string prev_ref;
    std::vector<std::string> last_parties;
    for (const ExportVersion& v : n.versions) {
      VisibleMetadata md = ComputeVisibleMetadata(v.content);
      uint32_t version = ContentVersion(v.content);
      std::string identifier = absl::StrCat(sender, "/", md.id, "/v", version);
      std::string sent = CapTime(v.logged_at);
      std::string x;
      absl::StrAppend(&x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
                      "<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">\n");
      absl::StrAppend(&x, Els("identifier", identifier, "  "),
                      Els("sender", sender, "  "), Els("sent", sent, "  "),
                      Els("status", "Actual", "  "),
                      Els("msgType", version == 1 ? "Alert" : "Update", "  "),
                      Els("scope", "Private", "  "),
                      Els("addresses", absl::StrJoin(md.parties, " "), "  "));
      if (version > 1 && !prev_ref.empty()) {
        absl::StrAppend(&x, Els("references", prev_ref, "  "));
      }
      absl::StrAppend(&x, "  <info>\n", Els("language", "en", "    "));
      std::string headline, description, area_desc, area_shapes;
      if (const auto* m = std::get_if<MovementContent>(&v.content)) {
        absl::StrAppend(&x, Els("category", "Transport", "    "));
        if (m->movement_type == MovementType::kMedical ||
            m->movement_type == MovementType::kEvacuation) {
          absl::StrAppend(&x, Els("category", "Health", "    "));
        }
        absl::StrAppend(&x, Els("event", absl::StrCat(
                                             "Humanitarian ",
                                             std::string(MovementTypeName(
                                                 m->movement_type)),
                                             " movement notification"),
                                "    "));
        headline = absl::StrCat("Notification of movement ", m->id,
                                " version ", version, " by ", m->organisation,
                                m->emergency ? " (emergency)" : "");
        description = absl::StrCat(
            "Movement ", m->id, " version ", version, " notified by ",
            m->organisation, ". Departure ", Time(m->departure.earliest),
            " to ", Time(m->departure.latest), "; arrival ",
            Time(m->arrival.earliest), " to ", Time(m->arrival.latest),
            ". Vehicles: ", VehiclesText(*m), ". Personnel: ",
            m->personnel_count, ".",
            m->cargo.empty() ? "" : absl::StrCat(" Cargo: ", m->cargo, "."),
            m->emergency
                ? absl::StrCat(" Emergency: ", m->emergency_justification, ".")
                : "",
            " This is a notification; acknowledged receipt by a party is not "
            "approval.");
        area_desc = absl::StrCat("Route of movement ", m->id,
                                 ": origin, waypoints and destination");
        for (const GeoPoint& p : m->route.Path()) {
          absl::StrAppend(&area_shapes,
                          Els("circle",
                              absl::StrCat(Coord(p.lat), ",", Coord(p.lon),
                                           " 0"),
                              "      "));
        }
      } else {
        const SiteContent& s = std::get<SiteContent>(v.content);
        absl::StrAppend(&x, Els("category", "Safety", "    "));
        if (s.site_type == SiteType::kHealthFacility) {
          absl::StrAppend(&x, Els("category", "Health", "    "));
        }
        if (s.critical_infrastructure) {
          absl::StrAppend(&x, Els("category", "Infra", "    "));
        }
        absl::StrAppend(&x, Els("event",
                                absl::StrCat("Humanitarian site notification (",
                                             std::string(SiteTypeName(
                                                 s.site_type)),
                                             ")"),
                                "    "));
        headline = absl::StrCat("Notification of site ", s.id, " (", s.name,
                                ") version ", version, " by ", s.organisation,
                                s.deactivated ? " (deactivated)" : "");
        description = absl::StrCat(
            "Site ", s.name, " (", std::string(SiteTypeName(s.site_type)),
            ") of ", s.organisation, ". Function as of ",
            Time(s.submitted_at), ": ", s.humanitarian_function, ".",
            s.markings.empty() ? "" : absl::StrCat(" Markings: ", s.markings, "."),
            s.critical_infrastructure ? " Critical infrastructure." : "",
            " This is a notification; acknowledged receipt by a party is not "
            "approval.");
        area_desc = absl::StrCat("Site ", s.name);
        if (!s.polygon.empty()) {
          std::vector<std::string> pairs;
          for (const GeoPoint& p : s.polygon[0]) {
            pairs.push_back(absl::StrCat(Coord(p.lat), ",", Coord(p.lon)));
          }
          absl::StrAppend(&area_shapes,
                          Els("polygon", absl::StrJoin(pairs, " "), "      "));
        } else {
          for (const GeoPoint& p : s.points) {
            absl::StrAppend(&area_shapes,
                            Els("circle",
                                absl::StrCat(Coord(p.lat), ",", Coord(p.lon),
                                             " 0"),
                                "      "));
          }
        }
      }
      absl::StrAppend(&x, Els("urgency", "Unknown", "    "),
                      Els("severity", "Unknown", "    "),
                      Els("certainty", "Unknown", "    "));
      if (md.valid_from != 0) {
        absl::StrAppend(&x, Els("onset", CapTime(md.valid_from), "    "));
      }
      if (md.valid_until != 0) {
        absl::StrAppend(&x, Els("expires", CapTime(md.valid_until), "    "));
      }
      absl::StrAppend(&x, Els("senderName", n.organisation, "    "),
                      Els("headline", headline, "    "),
                      Els("description", description, "    "));
      absl::StrAppend(&x, "    <area>\n", Els("areaDesc", area_desc, "      "),
                      area_shapes, "    </area>\n", "  </info>\n",
                      "</alert>\n");
      out.push_back({identifier, std::move(x)});
      prev_ref = absl::StrCat(sender, ",", identifier, ",", sent);
      last_parties = md.parties;
    }
    if (n.cancelled_at != 0 && !n.versions.empty()) {
      const ExportVersion& last = n.versions.back();
      const std::string& id = ContentId(last.content);
      std::string identifier = absl::StrCat(sender, "/", id, "/cancel");
      std::string x;
      absl::StrAppend(
          &x, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
          "<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">\n",
          Els("identifier", identifier, "  "), Els("sender", sender, "  "),
          Els("sent", CapTime(n.cancelled_at), "  "),
          Els("status", "Actual", "  "), Els("msgType", "Cancel", "  "),
          Els("scope", "Private", "  "),
          Els("addresses", absl::StrJoin(last_parties, " "), "  "),
          Els("references", prev_ref, "  "), "</alert>\n");
      out.push_back({identifier, std::move(x)});
    }
  }
  return out;
}

}  // namespace parley
