// The notify and amend forms of `parley gui` (client/gui/gui_forms.h).

#include "client/gui/gui_forms.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>
#include <variant>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "client/deconfliction/geo_input.h"
#include "crypto/encoding.h"

namespace parley {
namespace {

using Json = nlohmann::json;

enum class Kind { kBoth, kMovement, kSite };

// Every form field, the kind it belongs to, and whether "" is a value
// (else "" counts as not given).
struct FieldInfo {
  Kind kind;
  bool empty_is_value;
};

const std::map<std::string, FieldInfo>& Fields() {
  static const auto* const fields = new std::map<std::string, FieldInfo>{
      {"to", {Kind::kBoth, false}},
      {"contact", {Kind::kBoth, true}},
      {"type", {Kind::kBoth, false}},
      {"route", {Kind::kMovement, false}},
      {"depart", {Kind::kMovement, false}},
      {"arrive", {Kind::kMovement, false}},
      {"return_depart", {Kind::kMovement, false}},
      {"return_arrive", {Kind::kMovement, false}},
      {"vehicles", {Kind::kMovement, false}},
      {"personnel", {Kind::kMovement, false}},
      {"cargo", {Kind::kMovement, true}},
      {"emergency", {Kind::kMovement, true}},
      {"ack_by", {Kind::kMovement, true}},
      {"checkpoints", {Kind::kMovement, true}},
      {"holding_points", {Kind::kMovement, true}},
      {"radio_frequencies", {Kind::kMovement, true}},
      {"satellite_phones", {Kind::kMovement, true}},
      {"name", {Kind::kSite, true}},
      {"points", {Kind::kSite, false}},
      {"polygon", {Kind::kSite, false}},
      {"review_by", {Kind::kSite, false}},
      {"function", {Kind::kSite, true}},
      {"markings", {Kind::kSite, true}},
      {"critical_infrastructure", {Kind::kSite, false}},
      {"deactivated", {Kind::kSite, false}},
  };
  return *fields;
}

absl::Status Bad(const std::string& field, std::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": ", std::string(problem)));
}

// Non-empty lines, trimmed.
std::vector<std::string> Lines(std::string_view text) {
  std::vector<std::string> out;
  for (absl::string_view line :
       absl::StrSplit(absl::string_view(text.data(), text.size()), '\n')) {
    line = absl::StripAsciiWhitespace(line);
    if (!line.empty()) out.emplace_back(line);
  }
  return out;
}

// A text or an array of texts, as lines (`split` breaks a text into items).
absl::StatusOr<std::vector<std::string>> TextList(
    const std::string& field, const Json& value,
    std::vector<std::string> (*split)(std::string_view)) {
  if (value.is_string()) return split(value.get<std::string>());
  if (!value.is_array()) {
    return Bad(field, "give text, or a list of texts");
  }
  std::vector<std::string> out;
  for (const Json& item : value) {
    if (!item.is_string()) return Bad(field, "every item must be text");
    std::string text(absl::StripAsciiWhitespace(item.get<std::string>()));
    if (!text.empty()) out.push_back(std::move(text));
  }
  return out;
}

std::vector<std::string> SplitCommas(std::string_view text) {
  return SplitList(text);
}

absl::StatusOr<std::vector<GeoPoint>> PointLines(const std::string& field,
                                                 const Json& value) {
  absl::StatusOr<std::vector<std::string>> lines =
      TextList(field, value, &Lines);
  if (!lines.ok()) return lines.status();
  std::vector<GeoPoint> out;
  for (size_t i = 0; i < lines->size(); ++i) {
    absl::StatusOr<GeoPoint> p = ParseLatLon((*lines)[i]);
    if (!p.ok()) {
      return Bad(field, absl::StrCat("line ", i + 1, ": ",
                                     p.status().message()));
    }
    out.push_back(*p);
  }
  return out;
}

std::string NewId(bool movement, Random& random) {
  return absl::StrCat(movement ? "mv-" : "site-", HexEncode(random.Bytes(8)));
}

std::string Time(absl::Time t) { return FormatRfc3339Utc(t); }

std::string Window(const TimeWindow& w) {
  if (w.earliest == w.latest) return Time(w.earliest);
  return absl::StrCat(Time(w.earliest), "/", Time(w.latest));
}

std::string Number(double d) { return Json(d).dump(); }

std::string PointText(const std::vector<GeoPoint>& points) {
  std::vector<std::string> lines;
  for (const GeoPoint& p : points) {
    lines.push_back(absl::StrCat(Number(p.lat), ",", Number(p.lon)));
  }
  return absl::StrJoin(lines, "\n");
}

std::string ContactText(const NotificationContact& c) {
  std::vector<std::string> parts = {c.name};
  if (!c.phone.empty()) parts.push_back(c.phone);
  if (!c.email.empty()) parts.push_back(c.email);
  if (!c.radio.empty()) parts.push_back("radio:" + c.radio);
  return absl::StrJoin(parts, ",");
}

void ApplyMovementExtras(const NotifyForm& form, MovementContent* m) {
  if (form.checkpoints) m->route.checkpoints = *form.checkpoints;
  if (form.holding_points) m->route.holding_points = *form.holding_points;
  if (form.radio_frequencies) m->radio_frequencies = *form.radio_frequencies;
  if (form.satellite_phones) m->satellite_phones = *form.satellite_phones;
}

void ApplySiteExtras(const NotifyForm& form, SiteContent* s) {
  if (form.markings) s->markings = *form.markings;
  if (form.critical_infrastructure) {
    s->critical_infrastructure = *form.critical_infrastructure;
  }
}

// InvalidArgument with `problems` filled from `messages`.
absl::Status Refuse(const std::vector<std::string>& messages,
                    std::vector<FormProblem>* problems) {
  std::vector<std::string> texts;
  for (const std::string& m : messages) {
    FormProblem p = FormProblemOf(m);
    texts.push_back(p.message);
    if (problems != nullptr) problems->push_back(std::move(p));
  }
  return absl::InvalidArgumentError(absl::StrJoin(texts, "; "));
}

absl::Status Validated(const NotificationContent& content,
                       std::vector<FormProblem>* problems) {
  std::vector<std::string> found = ValidateContent(content);
  if (found.empty()) return absl::OkStatus();
  return Refuse(found, problems);
}

// What a new notification needs: the CLI's own check, whose "--flag: "
// prefix FormProblemOf turns into the form field.
absl::Status CheckNewForm(const NotifyForm& form) {
  return form.movement ? CheckNewMovementFlags(form.movement_flags)
                       : CheckNewSiteFlags(form.site_flags);
}

}  // namespace

absl::StatusOr<NotifyForm> ReadNotifyForm(const Json& body,
                                          std::optional<bool> kind) {
  if (!body.is_object()) {
    return absl::InvalidArgumentError("the form must be one JSON object");
  }
  NotifyForm form;
  const bool amend = kind.has_value();
  if (amend) {
    form.movement = *kind;
  } else {
    auto k = body.find("kind");
    if (k == body.end() || !k->is_string() ||
        (*k != "movement" && *k != "site")) {
      return Bad("kind", "give \"movement\" or \"site\"");
    }
    form.movement = *k == "movement";
    if (auto id = body.find("id"); id != body.end()) {
      if (!id->is_string()) return Bad("id", "must be text");
      form.id = std::string(absl::StripAsciiWhitespace(id->get<std::string>()));
    }
  }
  MovementFlags& m = form.movement_flags;
  SiteFlags& s = form.site_flags;
  for (const auto& [name, value] : body.items()) {
    if (name == "kind" || name == "id") continue;
    auto info = Fields().find(name);
    if (info == Fields().end()) {
      return Bad(name, "not a field of the notify form");
    }
    const Kind field_kind = info->second.kind;
    if (field_kind != Kind::kBoth &&
        (field_kind == Kind::kMovement) != form.movement) {
      return Bad(name, absl::StrCat("applies to ",
                                    form.movement ? "sites" : "movements",
                                    "; this is a ",
                                    form.movement ? "movement" : "site"));
    }
    if (name == "deactivated" && !amend) {
      return Bad(name, "only an amendment deactivates a site");
    }
    // Booleans.
    if (name == "critical_infrastructure" || name == "deactivated") {
      if (!value.is_boolean()) return Bad(name, "must be true or false");
      if (name == "deactivated") {
        s.deactivated = value.get<bool>();
      } else {
        form.critical_infrastructure = value.get<bool>();
      }
      continue;
    }
    // Lists.
    if (name == "to") {
      absl::StatusOr<std::vector<std::string>> to =
          TextList(name, value, &SplitCommas);
      if (!to.ok()) return to.status();
      m.to = *to;
      s.to = *to;
      continue;
    }
    if (name == "points") {
      absl::StatusOr<std::vector<std::string>> lines =
          TextList(name, value, &Lines);
      if (!lines.ok()) return lines.status();
      s.points = *lines;
      continue;
    }
    if (name == "checkpoints" || name == "holding_points") {
      absl::StatusOr<std::vector<GeoPoint>> points = PointLines(name, value);
      if (!points.ok()) return points.status();
      (name == "checkpoints" ? form.checkpoints : form.holding_points) =
          *points;
      continue;
    }
    if (name == "radio_frequencies" || name == "satellite_phones") {
      absl::StatusOr<std::vector<std::string>> items =
          TextList(name, value, &SplitCommas);
      if (!items.ok()) return items.status();
      (name == "radio_frequencies" ? form.radio_frequencies
                                   : form.satellite_phones) = *items;
      continue;
    }
    if (name == "personnel") {
      if (value.is_number_integer()) {
        m.personnel = value.get<int>();
        continue;
      }
      if (!value.is_string()) return Bad(name, "a whole number");
      const std::string text(
          absl::StripAsciiWhitespace(value.get<std::string>()));
      if (text.empty()) continue;
      int count = 0;
      if (!absl::SimpleAtoi(text, &count)) {
        return Bad(name, absl::StrCat("\"", text, "\" is not a whole number"));
      }
      m.personnel = count;
      continue;
    }
    // Text.
    if (!value.is_string()) return Bad(name, "must be text");
    const std::string text = value.get<std::string>();
    const bool blank = absl::StripAsciiWhitespace(text).empty();
    if (blank && !info->second.empty_is_value) continue;
    if (name == "contact") {
      m.contact = text;
      s.contact = text;
    } else if (name == "type") {
      m.type = text;
      s.type = text;
    } else if (name == "route") {
      m.route_text = text;
    } else if (name == "depart") {
      m.depart = text;
    } else if (name == "arrive") {
      m.arrive = text;
    } else if (name == "return_depart") {
      m.return_depart = text;
    } else if (name == "return_arrive") {
      m.return_arrive = text;
    } else if (name == "vehicles") {
      m.vehicles = text;
    } else if (name == "cargo") {
      m.cargo = text;
    } else if (name == "emergency") {
      m.emergency = std::string(absl::StripAsciiWhitespace(text));
    } else if (name == "ack_by") {
      m.ack_by = std::string(absl::StripAsciiWhitespace(text));
    } else if (name == "name") {
      s.name = std::string(absl::StripAsciiWhitespace(text));
    } else if (name == "polygon") {
      s.polygon_text = text;
    } else if (name == "review_by") {
      s.review_by = text;
    } else if (name == "function") {
      s.function = text;
    } else if (name == "markings") {
      form.markings = text;
    }
  }
  if (form.movement &&
      m.return_depart.empty() != m.return_arrive.empty()) {
    return Bad(m.return_depart.empty() ? "return_depart" : "return_arrive",
               "a return leg needs both its departure and its arrival");
  }
  if (!form.movement && !s.points.empty() && !s.polygon_text.empty()) {
    return Bad("points", "give points or a polygon, not both");
  }
  return form;
}

absl::StatusOr<NotificationContent> NewContentFromForm(
    const NotifyForm& form, const std::string& organisation, absl::Time now,
    Random& random, std::vector<FormProblem>* problems) {
  if (absl::Status s = CheckNewForm(form); !s.ok()) {
    return Refuse({std::string(s.message())}, problems);
  }
  NotificationContent content;
  if (form.movement) {
    MovementContent m;
    m.id = form.id.empty() ? NewId(true, random) : form.id;
    if (absl::Status s = ApplyMovementFlags(form.movement_flags, now, &m);
        !s.ok()) {
      return Refuse({std::string(s.message())}, problems);
    }
    ApplyMovementExtras(form, &m);
    m.organisation = organisation;
    content = std::move(m);
  } else {
    SiteContent site;
    site.id = form.id.empty() ? NewId(false, random) : form.id;
    site.submitted_at = absl::FromUnixSeconds(absl::ToUnixSeconds(now));
    if (absl::Status s = ApplySiteFlags(form.site_flags, now, &site);
        !s.ok()) {
      return Refuse({std::string(s.message())}, problems);
    }
    ApplySiteExtras(form, &site);
    site.organisation = organisation;
    content = std::move(site);
  }
  if (absl::Status s = Validated(content, problems); !s.ok()) return s;
  return content;
}

absl::StatusOr<NotificationContent> AmendedContentFromForm(
    const NotifyForm& form, const NotificationContent& current,
    uint32_t current_version, absl::Time now,
    std::vector<FormProblem>* problems) {
  if (form.movement != std::holds_alternative<MovementContent>(current)) {
    return Refuse({"the form is for a different kind of notification"},
                  problems);
  }
  NotificationContent content = current;
  absl::Status applied = std::visit(
      [&](auto& c) -> absl::Status {
        c.supersedes = current_version;
        c.version = current_version + 1;
        if constexpr (std::is_same_v<std::decay_t<decltype(c)>,
                                     MovementContent>) {
          const Route before = c.route;
          if (absl::Status s = ApplyMovementFlags(form.movement_flags, now, &c);
              !s.ok()) {
            return s;
          }
          // A new line from a file keeps the points along it.
          if (!form.movement_flags.route_text.empty()) {
            c.route.checkpoints = before.checkpoints;
            c.route.holding_points = before.holding_points;
          }
          ApplyMovementExtras(form, &c);
        } else {
          if (absl::Status s = ApplySiteFlags(form.site_flags, now, &c);
              !s.ok()) {
            return s;
          }
          ApplySiteExtras(form, &c);
        }
        return absl::OkStatus();
      },
      content);
  if (!applied.ok()) return Refuse({std::string(applied.message())}, problems);
  if (DiffContent(current, content).empty()) {
    const std::string text = absl::StrCat(
        "nothing to amend: the fields given leave ", ContentId(current),
        " version ", current_version, " as it is");
    if (problems != nullptr) problems->push_back({"", text});
    return absl::InvalidArgumentError(text);
  }
  if (absl::Status s = Validated(content, problems); !s.ok()) return s;
  return content;
}

std::string FormFieldOf(std::string_view message) {
  std::string_view text = message;
  if (text.substr(0, 2) == "--") {
    if (text.substr(0, 20) == "--point or --polygon") return "points";
    text.remove_prefix(2);
    const size_t end = text.find_first_of(": ");
    std::string flag(text.substr(0, end));
    std::replace(flag.begin(), flag.end(), '-', '_');
    if (flag == "point") return "points";
    return Fields().count(flag) > 0 ? flag : "";
  }
  // A content path ("route.waypoints[2]: ...", "arrival must be ...") or a
  // form field ("to: ...").
  const size_t end = text.find_first_not_of(
      "abcdefghijklmnopqrstuvwxyz_.[]0123456789");
  const std::string_view path = text.substr(0, end);
  static const std::pair<std::string_view, std::string_view> kPaths[] = {
      {"route.checkpoints", "checkpoints"},
      {"route.holding_points", "holding_points"},
      {"return_leg.departure", "return_depart"},
      {"return_leg.arrival", "return_arrive"},
      {"return_leg", "return_depart"},
      {"communications.radio_frequencies", "radio_frequencies"},
      {"communications.satellite_phones", "satellite_phones"},
      {"recipients", "to"},
      {"departure", "depart"},
      {"arrival", "arrive"},
      {"movement_type", "type"},
      {"site_type", "type"},
      {"humanitarian_function", "function"},
      {"personnel", "personnel"},
      {"id", "id"},
      {"kind", "kind"},
  };
  auto starts = [&](std::string_view key) {
    return path.substr(0, key.size()) == key &&
           (path.size() == key.size() || path[key.size()] == '.' ||
            path[key.size()] == '[');
  };
  for (const auto& [key, field] : kPaths) {
    if (starts(key)) return std::string(field);
  }
  for (const auto& [field, info] : Fields()) {
    if (starts(field)) return field;
  }
  return "";
}

FormProblem FormProblemOf(std::string_view message) {
  const std::string text(message);
  FormProblem p{FormFieldOf(message), text};
  if (p.field.empty() || absl::StartsWith(text, p.field + ":")) return p;
  const size_t colon = text.find(": ");
  if (absl::StartsWith(text, "--") && colon != std::string::npos) {
    p.message = p.field + text.substr(colon);
  } else {
    p.message = absl::StrCat(p.field, ": ", text);
  }
  return p;
}

Json FormFromContent(const NotificationContent& content) {
  if (const auto* m = std::get_if<MovementContent>(&content)) {
    Json j = {
        {"kind", "movement"},
        {"id", m->id},
        {"to", absl::StrJoin(m->recipients, ", ")},
        {"contact", ContactText(m->contact)},
        {"type", std::string(MovementTypeName(m->movement_type))},
        {"route", LineStringGeometry(m->route.Path()).dump()},
        {"depart", Window(m->departure)},
        {"arrive", Window(m->arrival)},
        {"return_depart",
         m->return_leg ? Window(m->return_leg->departure) : ""},
        {"return_arrive", m->return_leg ? Window(m->return_leg->arrival) : ""},
        {"personnel", std::to_string(m->personnel_count)},
        {"cargo", m->cargo},
        {"emergency", m->emergency ? m->emergency_justification : ""},
        {"ack_by", m->ack_by ? Time(*m->ack_by) : ""},
        {"checkpoints", PointText(m->route.checkpoints)},
        {"holding_points", PointText(m->route.holding_points)},
        {"radio_frequencies", absl::StrJoin(m->radio_frequencies, ", ")},
        {"satellite_phones", absl::StrJoin(m->satellite_phones, ", ")}};
    std::vector<std::string> vehicles;
    for (const VehicleGroup& v : m->vehicles) {
      vehicles.push_back(absl::StrCat(
          v.count, "x", v.type, ":",
          v.protection == VehicleProtection::kArmoured ? "armoured"
                                                       : "soft-skin"));
    }
    j["vehicles"] = absl::StrJoin(vehicles, ",");
    return j;
  }
  const SiteContent& s = std::get<SiteContent>(content);
  return Json{
      {"kind", "site"},
      {"id", s.id},
      {"to", absl::StrJoin(s.recipients, ", ")},
      {"contact", ContactText(s.contact)},
      {"type", std::string(SiteTypeName(s.site_type))},
      {"name", s.name},
      {"points", PointText(s.points)},
      {"polygon", s.polygon.empty() ? "" : PolygonGeometry(s.polygon).dump()},
      {"review_by", s.review_by ? Time(*s.review_by) : ""},
      {"function", s.humanitarian_function},
      {"markings", s.markings},
      {"critical_infrastructure", s.critical_infrastructure},
      {"deactivated", s.deactivated}};
}

}  // namespace parley
