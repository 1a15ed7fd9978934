#include "client/views/notify_flags.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "client/core/did_you_mean.h"
#include "client/deconfliction/geo_input.h"

namespace parley {
namespace {

absl::Status Bad(std::string_view flag, absl::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat("--", std::string(flag), ": ", problem));
}

absl::StatusOr<TimeWindow> ParseWindowFlag(std::string_view flag,
                                           std::string_view text,
                                           absl::Time now) {
  std::vector<std::string> parts =
      absl::StrSplit(absl::string_view(text.data(), text.size()), '/');
  if (parts.size() > 2) return Bad(flag, "a time or EARLIEST/LATEST");
  absl::StatusOr<absl::Time> earliest = ParseTimeFlag(flag, parts[0], now);
  if (!earliest.ok()) return earliest.status();
  absl::StatusOr<absl::Time> latest =
      parts.size() == 2 ? ParseTimeFlag(flag, parts[1], now) : earliest;
  if (!latest.ok()) return latest.status();
  return TimeWindow{*earliest, *latest};
}

}  // namespace

std::vector<std::string> SplitList(std::string_view text) {
  std::vector<std::string> out;
  for (absl::string_view item : absl::StrSplit(
           absl::string_view(text.data(), text.size()), ',')) {
    item = absl::StripAsciiWhitespace(item);
    if (!item.empty()) out.emplace_back(item);
  }
  return out;
}

absl::StatusOr<absl::Time> ParseTimeFlag(std::string_view flag,
                                         std::string_view text,
                                         absl::Time now) {
  std::string t(absl::StripAsciiWhitespace(
      absl::string_view(text.data(), text.size())));
  if (!t.empty() && t[0] == '+') {
    absl::Duration d;
    if (!absl::ParseDuration(t.substr(1), &d) || d < absl::ZeroDuration()) {
      return Bad(flag, absl::StrCat("\"", t, "\" is not +DURATION like +48h"));
    }
    return absl::FromUnixSeconds(absl::ToUnixSeconds(now + d));
  }
  absl::StatusOr<absl::Time> parsed = ParseRfc3339Utc(t);
  if (!parsed.ok()) return Bad(flag, parsed.status().message());
  return parsed;
}

absl::StatusOr<NotificationContact> ParseContactFlag(std::string_view text) {
  std::vector<std::string> parts = SplitList(text);
  if (parts.size() < 2) {
    return Bad("contact",
               "give a name and a phone, email or radio: "
               "\"Ops desk,+41221234567\"");
  }
  NotificationContact c;
  c.name = parts[0];
  for (size_t i = 1; i < parts.size(); ++i) {
    const std::string& p = parts[i];
    if (p.rfind("radio:", 0) == 0) {
      c.radio = p.substr(6);
    } else if (p.find('@') != std::string::npos) {
      c.email = p;
    } else {
      c.phone = p;
    }
  }
  return c;
}

absl::StatusOr<std::vector<VehicleGroup>> ParseVehiclesFlag(
    std::string_view text) {
  std::vector<VehicleGroup> out;
  for (const std::string& item : SplitList(text)) {
    const size_t x = item.find('x');
    int count = 0;
    if (x == std::string::npos || !absl::SimpleAtoi(item.substr(0, x), &count) ||
        count < 1) {
      return Bad("vehicles", absl::StrCat("\"", item,
                                          "\" is not COUNTxTYPE[:armoured|"
                                          "soft-skin], e.g. 2xtruck:soft-skin"));
    }
    VehicleGroup g;
    g.count = count;
    std::string rest = item.substr(x + 1);
    const size_t colon = rest.rfind(':');
    if (colon != std::string::npos) {
      const std::string protection = rest.substr(colon + 1);
      if (protection == "armoured") {
        g.protection = VehicleProtection::kArmoured;
      } else if (protection == "soft-skin") {
        g.protection = VehicleProtection::kSoftSkin;
      } else {
        return Bad("vehicles", absl::StrCat("protection \"", protection,
                                            "\" is not armoured or soft-skin"));
      }
      rest = rest.substr(0, colon);
    }
    if (rest.empty()) return Bad("vehicles", "a vehicle type is missing");
    g.type = rest;
    out.push_back(std::move(g));
  }
  return out;
}

absl::Status ApplyMovementFlags(const MovementFlags& f, absl::Time now,
                                MovementContent* m) {
  if (!f.to.empty()) m->recipients = f.to;
  if (!f.route_text.empty()) {
    absl::StatusOr<std::vector<GeoPoint>> path = ReadRoute(f.route_text);
    if (!path.ok()) return Bad("route", path.status().message());
    m->route = RouteFromPath(*path);
  }
  if (!f.depart.empty()) {
    absl::StatusOr<TimeWindow> w = ParseWindowFlag("depart", f.depart, now);
    if (!w.ok()) return w.status();
    m->departure = *w;
  }
  if (!f.arrive.empty()) {
    absl::StatusOr<TimeWindow> w = ParseWindowFlag("arrive", f.arrive, now);
    if (!w.ok()) return w.status();
    m->arrival = *w;
  }
  if (!f.return_depart.empty() || !f.return_arrive.empty()) {
    if (f.return_depart.empty() || f.return_arrive.empty()) {
      return Bad("return-depart",
                 "a return leg needs both --return-depart and --return-arrive");
    }
    ReturnLeg leg;
    absl::StatusOr<TimeWindow> d =
        ParseWindowFlag("return-depart", f.return_depart, now);
    if (!d.ok()) return d.status();
    absl::StatusOr<TimeWindow> a =
        ParseWindowFlag("return-arrive", f.return_arrive, now);
    if (!a.ok()) return a.status();
    leg.departure = *d;
    leg.arrival = *a;
    m->return_leg = leg;
  }
  if (!f.vehicles.empty()) {
    absl::StatusOr<std::vector<VehicleGroup>> v = ParseVehiclesFlag(f.vehicles);
    if (!v.ok()) return v.status();
    m->vehicles = *std::move(v);
  }
  if (f.personnel.has_value()) {
    if (*f.personnel < 0) return Bad("personnel", "must not be negative");
    m->personnel_count = *f.personnel;
  }
  if (f.cargo.has_value()) m->cargo = *f.cargo;
  if (f.contact.has_value()) {
    absl::StatusOr<NotificationContact> c = ParseContactFlag(*f.contact);
    if (!c.ok()) return c.status();
    m->contact = *c;
  }
  if (f.emergency.has_value()) {
    m->emergency = !f.emergency->empty();
    m->emergency_justification = *f.emergency;
  }
  if (f.ack_by.has_value()) {
    if (f.ack_by->empty()) {
      m->ack_by.reset();
    } else {
      absl::StatusOr<absl::Time> t = ParseTimeFlag("ack-by", *f.ack_by, now);
      if (!t.ok()) return t.status();
      m->ack_by = *t;
    }
  }
  if (f.type.has_value()) {
    static constexpr MovementType kTypes[] = {
        MovementType::kStaff, MovementType::kCargo, MovementType::kEvacuation,
        MovementType::kMedical, MovementType::kOther};
    auto it = std::find_if(std::begin(kTypes), std::end(kTypes), [&](auto t) {
      return MovementTypeName(t) == *f.type;
    });
    if (it == std::end(kTypes)) {
      return Bad("type", "staff, cargo, evacuation, medical or other");
    }
    m->movement_type = *it;
  }
  return absl::OkStatus();
}

absl::Status ApplySiteFlags(const SiteFlags& f, absl::Time now,
                            SiteContent* s) {
  if (!f.to.empty()) s->recipients = f.to;
  if (f.name.has_value()) s->name = *f.name;
  if (f.type.has_value()) {
    static constexpr SiteType kTypes[] = {
        SiteType::kHealthFacility, SiteType::kWarehouse, SiteType::kOffice,
        SiteType::kGuesthouse,     SiteType::kSchool,    SiteType::kWaterPoint,
        SiteType::kDistributionPoint};
    auto it = std::find_if(std::begin(kTypes), std::end(kTypes), [&](auto t) {
      return SiteTypeName(t) == *f.type;
    });
    if (it == std::end(kTypes)) {
      return Bad("type",
                 "health-facility, warehouse, office, guesthouse, school, "
                 "water-point or distribution-point");
    }
    s->site_type = *it;
  }
  if (!f.points.empty() && !f.polygon_text.empty()) {
    return Bad("point", "give --point or --polygon, not both");
  }
  if (!f.points.empty()) {
    s->points.clear();
    s->polygon.clear();
    for (const std::string& p : f.points) {
      absl::StatusOr<GeoPoint> point = ParseLatLon(p);
      if (!point.ok()) return Bad("point", point.status().message());
      s->points.push_back(*point);
    }
  }
  if (!f.polygon_text.empty()) {
    absl::StatusOr<GeoPolygon> polygon = ReadPolygonGeoJson(f.polygon_text);
    if (!polygon.ok()) return Bad("polygon", polygon.status().message());
    s->points.clear();
    s->polygon = *std::move(polygon);
  }
  if (f.contact.has_value()) {
    absl::StatusOr<NotificationContact> c = ParseContactFlag(*f.contact);
    if (!c.ok()) return c.status();
    s->contact = *c;
  }
  if (f.review_by.has_value()) {
    absl::StatusOr<absl::Time> t =
        ParseTimeFlag("review-by", *f.review_by, now);
    if (!t.ok()) return t.status();
    s->review_by = *t;
  }
  if (f.function.has_value()) s->humanitarian_function = *f.function;
  if (f.deactivated.has_value()) s->deactivated = *f.deactivated;
  if (s->humanitarian_function.empty()) {
    s->humanitarian_function = std::string(SiteTypeName(s->site_type));
  }
  return absl::OkStatus();
}

absl::Status CheckNewMovementFlags(const MovementFlags& f) {
  if (f.to.empty()) return Bad("to", "name at least one party, e.g. partya,partyb");
  if (f.route_text.empty()) {
    return Bad("route", "a GeoJSON LineString or GPX file is required");
  }
  if (f.depart.empty()) {
    return Bad("depart", "a departure time or window is required");
  }
  if (f.arrive.empty()) {
    return Bad("arrive", "an arrival time or window is required");
  }
  if (!f.contact.has_value()) {
    return Bad("contact", "a 24/7 contact is required: \"Ops desk,+41221234567\"");
  }
  return absl::OkStatus();
}

absl::Status CheckNewSiteFlags(const SiteFlags& f) {
  if (f.to.empty()) return Bad("to", "name at least one party, e.g. partya,partyb");
  if (!f.name.has_value() || f.name->empty()) {
    return Bad("name", "the site needs a name");
  }
  if (!f.type.has_value()) {
    return Bad("type",
               "the site type is required: health-facility, warehouse, "
               "office, guesthouse, school, water-point or "
               "distribution-point");
  }
  if (f.points.empty() && f.polygon_text.empty()) {
    return absl::InvalidArgumentError(
        "--point or --polygon: give the site's location: one or more points "
        "LAT,LON, or a GeoJSON polygon");
  }
  if (!f.contact.has_value()) {
    return Bad("contact", "a 24/7 contact is required: \"Ops desk,+41221234567\"");
  }
  return absl::OkStatus();
}

absl::Status CheckParties(std::string_view field,
                          const std::vector<std::string>& parties,
                          const std::vector<KnownMember>& directory) {
  const std::string f(field);
  std::vector<std::string> names;
  for (const KnownMember& m : directory) names.push_back(m.name);
  std::vector<std::string> seen;
  for (const std::string& p : parties) {
    if (std::find(seen.begin(), seen.end(), p) != seen.end()) {
      return absl::InvalidArgumentError(
          absl::StrCat(f, ": ", p, " is listed twice"));
    }
    seen.push_back(p);
    auto it = std::find_if(directory.begin(), directory.end(),
                           [&](const KnownMember& m) { return m.name == p; });
    if (it == directory.end()) {
      std::string text = absl::StrCat(f, ": no member named \"", p, "\"");
      if (std::optional<std::string> close = ClosestName(p, names)) {
        absl::StrAppend(&text, "; did you mean ", *close, "?");
      } else {
        absl::StrAppend(&text, " (see parley directory)");
      }
      return absl::NotFoundError(text);
    }
    if (!it->party) {
      return absl::InvalidArgumentError(
          absl::StrCat(f, ": ", p, " is not a party; notifications go to "
                                   "parties (mediators and your "
                                   "organisation's coordinators are added)"));
    }
    if (it->revoked) {
      return absl::FailedPreconditionError(
          absl::StrCat(f, ": ", p, " has been revoked"));
    }
  }
  return absl::OkStatus();
}

absl::Status CheckPartiesInDirectory(
    std::string_view field, const std::vector<std::string>& parties,
    const absl::StatusOr<std::vector<DirectoryEntry>>& listed) {
  if (parties.empty()) return absl::OkStatus();
  if (!listed.ok()) {
    const absl::Status& s = listed.status();
    return absl::IsUnavailable(s) || absl::IsDeadlineExceeded(s)
               ? absl::OkStatus()
               : s;
  }
  std::vector<KnownMember> members;
  for (const DirectoryEntry& e : *listed) {
    members.push_back({e.member.name(), e.member.role() == v1::ROLE_PARTY,
                       e.member.revoked()});
  }
  return CheckParties(field, parties, members);
}

}  // namespace parley
