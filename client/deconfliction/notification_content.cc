#include "client/deconfliction/notification_content.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <set>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "client/deconfliction/geometry_check.h"
#include "storage/tlog/log_entry.h"

namespace parley {
namespace {

using json = nlohmann::json;

// ---------------------------------------------------------------------------
// Strict JSON object reading with field paths.

std::string Quote(std::string_view s) { return json(std::string(s)).dump(); }

class Reader {
 public:
  // First error wins; later calls become no-ops.
  bool Fail(std::string_view path, std::string_view problem) {
    if (status_.ok()) {
      status_ = absl::InvalidArgumentError(
          path.empty() ? std::string(problem)
                       : absl::StrCat(std::string(path), ": ",
                                      std::string(problem)));
    }
    return false;
  }
  bool ok() const { return status_.ok(); }
  const absl::Status& status() const { return status_; }

 private:
  absl::Status status_;
};

class Obj {
 public:
  Obj(Reader* r, const json& j, std::string path)
      : r_(r), j_(j), path_(std::move(path)) {
    if (!j_.is_object()) r_->Fail(PathOrRoot(), "must be a JSON object");
  }
  ~Obj() {
    if (!r_->ok() || !j_.is_object()) return;
    for (auto it = j_.begin(); it != j_.end(); ++it) {
      if (!known_.contains(it.key())) {
        r_->Fail(Sub(it.key()), "unknown field");
        return;
      }
    }
  }

  std::string Sub(std::string_view key) const {
    return path_.empty() ? std::string(key)
                         : absl::StrCat(path_, ".", std::string(key));
  }
  const std::string& path() const { return path_; }
  Reader* reader() const { return r_; }

  // nullptr if absent (and an error if required).
  const json* Get(std::string_view key, bool required) {
    known_.insert(std::string(key));
    if (!r_->ok() || !j_.is_object()) return nullptr;
    auto it = j_.find(std::string(key));
    if (it == j_.end() || it->is_null()) {
      if (required) r_->Fail(Sub(key), "is required");
      return nullptr;
    }
    return &*it;
  }

  bool String(std::string_view key, std::string* out, bool required) {
    const json* v = Get(key, required);
    if (v == nullptr) return false;
    if (!v->is_string()) return r_->Fail(Sub(key), "must be a string");
    *out = v->get<std::string>();
    return true;
  }
  bool Bool(std::string_view key, bool* out, bool required) {
    const json* v = Get(key, required);
    if (v == nullptr) return false;
    if (!v->is_boolean()) return r_->Fail(Sub(key), "must be true or false");
    *out = v->get<bool>();
    return true;
  }
  bool Int(std::string_view key, int64_t lo, int64_t hi, int64_t* out,
           bool required) {
    const json* v = Get(key, required);
    if (v == nullptr) return false;
    if (!v->is_number_integer()) {
      return r_->Fail(Sub(key), "must be an integer");
    }
    int64_t x = v->is_number_unsigned()
                    ? static_cast<int64_t>(std::min<uint64_t>(
                          v->get<uint64_t>(), INT64_MAX))
                    : v->get<int64_t>();
    if (x < lo || x > hi) {
      return r_->Fail(Sub(key), absl::StrCat(x, " is outside ", lo, "..", hi));
    }
    *out = x;
    return true;
  }
  bool StringList(std::string_view key, std::vector<std::string>* out,
                  bool required) {
    const json* v = Get(key, required);
    if (v == nullptr) return false;
    if (!v->is_array()) return r_->Fail(Sub(key), "must be an array");
    out->clear();
    for (size_t i = 0; i < v->size(); ++i) {
      if (!(*v)[i].is_string()) {
        return r_->Fail(absl::StrCat(Sub(key), "[", i, "]"),
                        "must be a string");
      }
      out->push_back((*v)[i].get<std::string>());
    }
    return true;
  }

 private:
  std::string PathOrRoot() const { return path_.empty() ? "content" : path_; }

  Reader* r_;
  const json& j_;
  std::string path_;
  std::set<std::string> known_;
};

bool ReadTime(Reader* r, const json& v, const std::string& path,
              absl::Time* out) {
  if (!v.is_string()) return r->Fail(path, "must be an RFC 3339 UTC string");
  auto t = ParseRfc3339Utc(v.get<std::string>());
  if (!t.ok()) {
    return r->Fail(path, absl::StrCat(Quote(v.get<std::string>()),
                                      " is not an RFC 3339 UTC time (",
                                      std::string(t.status().message()), ")"));
  }
  *out = *t;
  return true;
}

bool ReadWindow(Reader* r, const json& v, const std::string& path,
                TimeWindow* out) {
  if (v.is_string()) {
    if (!ReadTime(r, v, path, &out->earliest)) return false;
    out->latest = out->earliest;
    return true;
  }
  Obj o(r, v, path);
  const json* e = o.Get("earliest", true);
  const json* l = o.Get("latest", true);
  if (e == nullptr || l == nullptr) return false;
  return ReadTime(r, *e, o.Sub("earliest"), &out->earliest) &&
         ReadTime(r, *l, o.Sub("latest"), &out->latest);
}

bool ReadPoint(Reader* r, const json& v, const std::string& path,
               GeoPoint* out) {
  Obj o(r, v, path);
  const json* lat = o.Get("lat", true);
  const json* lon = o.Get("lon", true);
  o.String("name", &out->name, false);
  if (lat == nullptr || lon == nullptr) return false;
  if (!lat->is_number()) return r->Fail(o.Sub("lat"), "must be a number");
  if (!lon->is_number()) return r->Fail(o.Sub("lon"), "must be a number");
  out->lat = lat->get<double>();
  out->lon = lon->get<double>();
  return r->ok();
}

bool ReadPoints(Reader* r, const json* v, const std::string& path,
                std::vector<GeoPoint>* out) {
  out->clear();
  if (v == nullptr) return false;
  if (!v->is_array()) return r->Fail(path, "must be an array of points");
  for (size_t i = 0; i < v->size(); ++i) {
    GeoPoint p;
    if (!ReadPoint(r, (*v)[i], absl::StrCat(path, "[", i, "]"), &p)) {
      return false;
    }
    out->push_back(std::move(p));
  }
  return true;
}

bool ReadContact(Reader* r, const json& v, const std::string& path,
                 NotificationContact* out) {
  Obj o(r, v, path);
  o.String("name", &out->name, true);
  o.String("phone", &out->phone, false);
  o.String("email", &out->email, false);
  o.String("radio", &out->radio, false);
  return r->ok();
}

bool ReadRoute(Reader* r, const json& v, const std::string& path,
               Route* out) {
  Obj o(r, v, path);
  const json* origin = o.Get("origin", true);
  const json* dest = o.Get("destination", true);
  if (origin != nullptr) ReadPoint(r, *origin, o.Sub("origin"), &out->origin);
  if (dest != nullptr) {
    ReadPoint(r, *dest, o.Sub("destination"), &out->destination);
  }
  ReadPoints(r, o.Get("waypoints", false), o.Sub("waypoints"),
             &out->waypoints);
  ReadPoints(r, o.Get("holding_points", false), o.Sub("holding_points"),
             &out->holding_points);
  ReadPoints(r, o.Get("checkpoints", false), o.Sub("checkpoints"),
             &out->checkpoints);
  return r->ok();
}

template <typename E, size_t N>
bool ReadEnum(Reader* r, Obj& o, std::string_view key,
              const std::pair<E, std::string_view> (&names)[N], E* out) {
  std::string s;
  if (!o.String(key, &s, true)) return false;
  std::vector<std::string> valid;
  for (const auto& [value, name] : names) {
    if (s == name) {
      *out = value;
      return true;
    }
    valid.push_back(std::string(name));
  }
  return r->Fail(o.Sub(key), absl::StrCat(Quote(s), " is not one of ",
                                          absl::StrJoin(valid, ", ")));
}

constexpr std::pair<MovementType, std::string_view> kMovementTypes[] = {
    {MovementType::kStaff, "staff"},
    {MovementType::kCargo, "cargo"},
    {MovementType::kEvacuation, "evacuation"},
    {MovementType::kMedical, "medical"},
    {MovementType::kOther, "other"},
};
constexpr std::pair<VehicleProtection, std::string_view> kProtections[] = {
    {VehicleProtection::kArmoured, "armoured"},
    {VehicleProtection::kSoftSkin, "soft-skin"},
};
constexpr std::pair<SiteType, std::string_view> kSiteTypes[] = {
    {SiteType::kHealthFacility, "health-facility"},
    {SiteType::kWarehouse, "warehouse"},
    {SiteType::kOffice, "office"},
    {SiteType::kGuesthouse, "guesthouse"},
    {SiteType::kSchool, "school"},
    {SiteType::kWaterPoint, "water-point"},
    {SiteType::kDistributionPoint, "distribution-point"},
};

void ReadHeader(Obj& o, std::string_view schema, std::string* id,
                uint32_t* version, uint32_t* supersedes, std::string* org,
                NotificationContact* contact) {
  Reader* r = o.reader();
  std::string s;
  if (o.String("schema", &s, true) && s != schema) {
    r->Fail("schema", absl::StrCat(Quote(s), " is not ", Quote(schema)));
  }
  o.String("id", id, true);
  int64_t v = 0;
  if (o.Int("version", 1, UINT32_MAX, &v, true)) {
    *version = static_cast<uint32_t>(v);
  }
  v = 0;
  if (o.Int("supersedes", 0, UINT32_MAX, &v, true)) {
    *supersedes = static_cast<uint32_t>(v);
  }
  o.String("organisation", org, true);
  if (const json* c = o.Get("contact", true)) {
    ReadContact(r, *c, "contact", contact);
  }
}

// ---------------------------------------------------------------------------
// Serialisation helpers.

json PointJson(const GeoPoint& p) {
  json j = json::object();
  j["lat"] = p.lat;
  j["lon"] = p.lon;
  if (!p.name.empty()) j["name"] = p.name;
  return j;
}

json PointsJson(const std::vector<GeoPoint>& points) {
  json a = json::array();
  for (const GeoPoint& p : points) a.push_back(PointJson(p));
  return a;
}

json WindowJson(const TimeWindow& w) {
  return json{{"earliest", FormatRfc3339Utc(w.earliest)},
              {"latest", FormatRfc3339Utc(w.latest)}};
}

json ContactJson(const NotificationContact& c) {
  json j = json::object();
  j["name"] = c.name;
  if (!c.phone.empty()) j["phone"] = c.phone;
  if (!c.email.empty()) j["email"] = c.email;
  if (!c.radio.empty()) j["radio"] = c.radio;
  return j;
}

json RouteJson(const Route& r) {
  json j = json::object();
  j["origin"] = PointJson(r.origin);
  j["destination"] = PointJson(r.destination);
  if (!r.waypoints.empty()) j["waypoints"] = PointsJson(r.waypoints);
  if (!r.holding_points.empty()) {
    j["holding_points"] = PointsJson(r.holding_points);
  }
  if (!r.checkpoints.empty()) j["checkpoints"] = PointsJson(r.checkpoints);
  return j;
}

template <typename E, size_t N>
std::string_view EnumName(const std::pair<E, std::string_view> (&names)[N],
                          E value) {
  for (const auto& [v, name] : names) {
    if (v == value) return name;
  }
  return "";
}

// ---------------------------------------------------------------------------
// Validation helpers.

using Problems = std::vector<std::string>;

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.10g", v);
  return buf;
}

void CheckPoint(const GeoPoint& p, const std::string& path, Problems* out) {
  if (!std::isfinite(p.lat) || p.lat < -90 || p.lat > 90) {
    out->push_back(absl::StrCat(path, ": latitude ", Num(p.lat),
                                " is outside -90..90"));
  }
  if (!std::isfinite(p.lon) || p.lon < -180 || p.lon > 180) {
    out->push_back(absl::StrCat(path, ": longitude ", Num(p.lon),
                                " is outside -180..180"));
  }
}

void CheckPoints(const std::vector<GeoPoint>& points, const std::string& path,
                 Problems* out) {
  for (size_t i = 0; i < points.size(); ++i) {
    CheckPoint(points[i], absl::StrCat(path, "[", i, "]"), out);
  }
}

void CheckRoute(const Route& r, const std::string& path, Problems* out) {
  CheckPoint(r.origin, path + ".origin", out);
  CheckPoint(r.destination, path + ".destination", out);
  CheckPoints(r.waypoints, path + ".waypoints", out);
  CheckPoints(r.holding_points, path + ".holding_points", out);
  CheckPoints(r.checkpoints, path + ".checkpoints", out);
  std::vector<GeoPoint> line = r.Path();
  bool distinct = false;
  for (size_t i = 1; i < line.size(); ++i) {
    if (line[i].lat != line[0].lat || line[i].lon != line[0].lon) {
      distinct = true;
    }
  }
  if (!distinct) {
    out->push_back(absl::StrCat(
        path, ": needs at least two points (origin and destination are the "
              "same place and there are no other waypoints)"));
  } else if (std::optional<std::string> invalid = LineInvalidReason(line)) {
    out->push_back(absl::StrCat(path, ": ", *invalid));
  }
}

void CheckWindow(const TimeWindow& w, const std::string& path,
                 Problems* out) {
  if (w.latest < w.earliest) {
    out->push_back(absl::StrCat(path, ": latest ", FormatRfc3339Utc(w.latest),
                                " is before earliest ",
                                FormatRfc3339Utc(w.earliest)));
  }
}

void CheckContact(const NotificationContact& c, Problems* out) {
  if (c.name.empty()) out->push_back("contact.name: is required");
  if (c.phone.empty() && c.email.empty() && c.radio.empty()) {
    out->push_back(
        "contact: needs a phone, email or radio reachable 24/7");
  }
}

void CheckHeader(std::string_view id, uint32_t version, uint32_t supersedes,
                 std::string_view organisation,
                 const std::vector<std::string>& recipients, Problems* out) {
  if (absl::Status s = ValidateName("id", id); !s.ok()) {
    out->push_back(absl::StrCat("id: ", std::string(s.message())));
  }
  if (version < 1) out->push_back("version: must be at least 1");
  if (version >= 1 && supersedes != version - 1) {
    out->push_back(absl::StrCat("supersedes: version ", version,
                                " must supersede version ", version - 1,
                                ", not ", supersedes));
  }
  if (organisation.empty()) out->push_back("organisation: is required");
  if (recipients.empty()) {
    out->push_back("recipients: needs at least one party");
  }
  std::set<std::string> seen;
  for (size_t i = 0; i < recipients.size(); ++i) {
    std::string path = absl::StrCat("recipients[", i, "]");
    if (absl::Status s = ValidateName("party", recipients[i]); !s.ok()) {
      out->push_back(absl::StrCat(path, ": ", std::string(s.message())));
    }
    if (!seen.insert(recipients[i]).second) {
      out->push_back(absl::StrCat(path, ": ", Quote(recipients[i]),
                                  " is listed twice"));
    }
  }
}

void CheckRing(const std::vector<GeoPoint>& ring, const std::string& path,
               Problems* out) {
  CheckPoints(ring, path, out);
  if (ring.size() < 4) {
    out->push_back(absl::StrCat(path, ": a ring needs at least 4 points "
                                      "(first and last equal), has ",
                                ring.size()));
    return;
  }
  if (ring.front().lat != ring.back().lat ||
      ring.front().lon != ring.back().lon) {
    out->push_back(absl::StrCat(path, ": ring is not closed (the last point "
                                      "must equal the first)"));
  }
}

void DiffInto(const json& a, const json& b, const std::string& path,
              std::vector<FieldChange>* out) {
  if (a == b) return;
  if (a.is_object() && b.is_object()) {
    for (auto it = a.begin(); it != a.end(); ++it) {
      std::string sub = path.empty() ? it.key() : path + "." + it.key();
      auto jt = b.find(it.key());
      if (jt == b.end()) {
        out->push_back({sub, it->dump(), ""});
      } else {
        DiffInto(*it, *jt, sub, out);
      }
    }
    for (auto jt = b.begin(); jt != b.end(); ++jt) {
      if (!a.contains(jt.key())) {
        out->push_back({path.empty() ? jt.key() : path + "." + jt.key(), "",
                        jt->dump()});
      }
    }
    return;
  }
  if (a.is_array() && b.is_array()) {
    size_t n = std::max(a.size(), b.size());
    for (size_t i = 0; i < n; ++i) {
      std::string sub = absl::StrCat(path, "[", i, "]");
      if (i >= a.size()) {
        out->push_back({sub, "", b[i].dump()});
      } else if (i >= b.size()) {
        out->push_back({sub, a[i].dump(), ""});
      } else {
        DiffInto(a[i], b[i], sub, out);
      }
    }
    return;
  }
  out->push_back({path, a.dump(), b.dump()});
}

}  // namespace

// ---------------------------------------------------------------------------

std::vector<GeoPoint> Route::Path() const {
  std::vector<GeoPoint> line;
  line.reserve(waypoints.size() + 2);
  line.push_back(origin);
  line.insert(line.end(), waypoints.begin(), waypoints.end());
  line.push_back(destination);
  return line;
}

Route MovementContent::ReturnRoute() const {
  if (return_leg->route.has_value()) return *return_leg->route;
  Route r = route;
  std::swap(r.origin, r.destination);
  std::reverse(r.waypoints.begin(), r.waypoints.end());
  return r;
}

std::string_view MovementTypeName(MovementType type) {
  return EnumName(kMovementTypes, type);
}
std::string_view SiteTypeName(SiteType type) {
  return EnumName(kSiteTypes, type);
}

json MovementToJson(const MovementContent& m) {
  json j = json::object();
  j["schema"] = kMovementSchema;
  j["id"] = m.id;
  j["version"] = m.version;
  j["supersedes"] = m.supersedes;
  j["organisation"] = m.organisation;
  j["contact"] = ContactJson(m.contact);
  j["movement_type"] = MovementTypeName(m.movement_type);
  if (m.emergency) {
    j["emergency"] = json{{"justification", m.emergency_justification}};
  }
  j["route"] = RouteJson(m.route);
  j["departure"] = WindowJson(m.departure);
  j["arrival"] = WindowJson(m.arrival);
  if (m.ack_by) j["ack_by"] = FormatRfc3339Utc(*m.ack_by);
  if (m.return_leg) {
    json r = json::object();
    r["departure"] = WindowJson(m.return_leg->departure);
    r["arrival"] = WindowJson(m.return_leg->arrival);
    if (m.return_leg->route) r["route"] = RouteJson(*m.return_leg->route);
    j["return_leg"] = r;
  }
  json vehicles = json::array();
  for (const VehicleGroup& v : m.vehicles) {
    json g = json::object();
    g["count"] = v.count;
    g["type"] = v.type;
    g["protection"] = EnumName(kProtections, v.protection);
    if (!v.markings.empty()) g["markings"] = v.markings;
    if (!v.plates.empty()) g["plates"] = v.plates;
    vehicles.push_back(g);
  }
  j["vehicles"] = vehicles;
  if (!m.cargo.empty()) j["cargo"] = m.cargo;
  json personnel = json::object();
  personnel["count"] = m.personnel_count;
  if (!m.personnel_names.empty()) personnel["names"] = m.personnel_names;
  j["personnel"] = personnel;
  if (!m.radio_frequencies.empty() || !m.satellite_phones.empty()) {
    json c = json::object();
    if (!m.radio_frequencies.empty()) {
      c["radio_frequencies"] = m.radio_frequencies;
    }
    if (!m.satellite_phones.empty()) {
      c["satellite_phones"] = m.satellite_phones;
    }
    j["communications"] = c;
  }
  j["recipients"] = m.recipients;
  return j;
}

json SiteToJson(const SiteContent& s) {
  json j = json::object();
  j["schema"] = kSiteSchema;
  j["id"] = s.id;
  j["version"] = s.version;
  j["supersedes"] = s.supersedes;
  j["organisation"] = s.organisation;
  j["contact"] = ContactJson(s.contact);
  j["name"] = s.name;
  j["site_type"] = SiteTypeName(s.site_type);
  j["critical_infrastructure"] = s.critical_infrastructure;
  if (!s.points.empty()) j["points"] = PointsJson(s.points);
  if (!s.polygon.empty()) {
    json rings = json::array();
    for (const auto& ring : s.polygon) rings.push_back(PointsJson(ring));
    j["polygon"] = rings;
  }
  j["humanitarian_function"] = s.humanitarian_function;
  j["submitted_at"] = FormatRfc3339Utc(s.submitted_at);
  if (!s.markings.empty()) j["markings"] = s.markings;
  if (s.review_by) j["review_by"] = FormatRfc3339Utc(*s.review_by);
  if (s.deactivated) j["deactivated"] = true;
  j["recipients"] = s.recipients;
  return j;
}

json ContentToJson(const NotificationContent& content) {
  if (const auto* m = std::get_if<MovementContent>(&content)) {
    return MovementToJson(*m);
  }
  return SiteToJson(std::get<SiteContent>(content));
}

std::string SerializeContent(const NotificationContent& content) {
  return ContentToJson(content).dump();
}

absl::StatusOr<MovementContent> MovementFromJson(const json& j) {
  Reader r;
  MovementContent m;
  {
    Obj o(&r, j, "");
    ReadHeader(o, kMovementSchema, &m.id, &m.version, &m.supersedes,
               &m.organisation, &m.contact);
    ReadEnum(&r, o, "movement_type", kMovementTypes, &m.movement_type);
    if (const json* e = o.Get("emergency", false)) {
      Obj eo(&r, *e, "emergency");
      m.emergency = true;
      eo.String("justification", &m.emergency_justification, true);
    }
    if (const json* v = o.Get("route", true)) {
      ReadRoute(&r, *v, "route", &m.route);
    }
    if (const json* v = o.Get("departure", true)) {
      ReadWindow(&r, *v, "departure", &m.departure);
    }
    if (const json* v = o.Get("arrival", true)) {
      ReadWindow(&r, *v, "arrival", &m.arrival);
    }
    if (const json* v = o.Get("ack_by", false)) {
      absl::Time t;
      if (ReadTime(&r, *v, "ack_by", &t)) m.ack_by = t;
    }
    if (const json* v = o.Get("return_leg", false)) {
      Obj ro(&r, *v, "return_leg");
      ReturnLeg leg;
      if (const json* d = ro.Get("departure", true)) {
        ReadWindow(&r, *d, "return_leg.departure", &leg.departure);
      }
      if (const json* a = ro.Get("arrival", true)) {
        ReadWindow(&r, *a, "return_leg.arrival", &leg.arrival);
      }
      if (const json* rt = ro.Get("route", false)) {
        Route route;
        if (ReadRoute(&r, *rt, "return_leg.route", &route)) leg.route = route;
      }
      m.return_leg = leg;
    }
    if (const json* v = o.Get("vehicles", true)) {
      if (!v->is_array()) {
        r.Fail("vehicles", "must be an array");
      } else {
        for (size_t i = 0; i < v->size() && r.ok(); ++i) {
          Obj vo(&r, (*v)[i], absl::StrCat("vehicles[", i, "]"));
          VehicleGroup g;
          int64_t count = 0;
          if (vo.Int("count", 1, 10000, &count, true)) {
            g.count = static_cast<int>(count);
          }
          vo.String("type", &g.type, true);
          ReadEnum(&r, vo, "protection", kProtections, &g.protection);
          vo.String("markings", &g.markings, false);
          vo.StringList("plates", &g.plates, false);
          m.vehicles.push_back(std::move(g));
        }
      }
    }
    o.String("cargo", &m.cargo, false);
    if (const json* v = o.Get("personnel", true)) {
      Obj po(&r, *v, "personnel");
      int64_t count = 0;
      if (po.Int("count", 0, 100000, &count, true)) {
        m.personnel_count = static_cast<int>(count);
      }
      po.StringList("names", &m.personnel_names, false);
    }
    if (const json* v = o.Get("communications", false)) {
      Obj co(&r, *v, "communications");
      co.StringList("radio_frequencies", &m.radio_frequencies, false);
      co.StringList("satellite_phones", &m.satellite_phones, false);
    }
    o.StringList("recipients", &m.recipients, true);
  }
  if (!r.ok()) return r.status();
  return m;
}

absl::StatusOr<SiteContent> SiteFromJson(const json& j) {
  Reader r;
  SiteContent s;
  {
    Obj o(&r, j, "");
    ReadHeader(o, kSiteSchema, &s.id, &s.version, &s.supersedes,
               &s.organisation, &s.contact);
    o.String("name", &s.name, true);
    ReadEnum(&r, o, "site_type", kSiteTypes, &s.site_type);
    o.Bool("critical_infrastructure", &s.critical_infrastructure, true);
    const json* points = o.Get("points", false);
    const json* polygon = o.Get("polygon", false);
    if (points != nullptr && polygon != nullptr) {
      r.Fail("points", "give either points or a polygon, not both");
    } else if (points == nullptr && polygon == nullptr) {
      r.Fail("points", "a site needs one or more points or a polygon");
    } else if (points != nullptr) {
      ReadPoints(&r, points, "points", &s.points);
    } else if (!polygon->is_array()) {
      r.Fail("polygon", "must be an array of rings");
    } else {
      for (size_t i = 0; i < polygon->size() && r.ok(); ++i) {
        std::vector<GeoPoint> ring;
        ReadPoints(&r, &(*polygon)[i], absl::StrCat("polygon[", i, "]"),
                   &ring);
        s.polygon.push_back(std::move(ring));
      }
    }
    o.String("humanitarian_function", &s.humanitarian_function, true);
    if (const json* v = o.Get("submitted_at", true)) {
      ReadTime(&r, *v, "submitted_at", &s.submitted_at);
    }
    o.String("markings", &s.markings, false);
    if (const json* v = o.Get("review_by", false)) {
      absl::Time t;
      if (ReadTime(&r, *v, "review_by", &t)) s.review_by = t;
    }
    o.Bool("deactivated", &s.deactivated, false);
    o.StringList("recipients", &s.recipients, true);
  }
  if (!r.ok()) return r.status();
  return s;
}

absl::StatusOr<NotificationContent> ContentFromJson(const json& j) {
  if (!j.is_object()) {
    return absl::InvalidArgumentError("content: must be a JSON object");
  }
  auto it = j.find("schema");
  if (it == j.end() || !it->is_string()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "schema: is required (", std::string(kMovementSchema), " or ",
        std::string(kSiteSchema), ")"));
  }
  std::string schema = it->get<std::string>();
  if (schema == kMovementSchema) {
    auto m = MovementFromJson(j);
    if (!m.ok()) return m.status();
    return NotificationContent(std::move(*m));
  }
  if (schema == kSiteSchema) {
    auto s = SiteFromJson(j);
    if (!s.ok()) return s.status();
    return NotificationContent(std::move(*s));
  }
  return absl::InvalidArgumentError(
      absl::StrCat("schema: ", Quote(schema), " is not ",
                   std::string(kMovementSchema), " or ",
                   std::string(kSiteSchema)));
}

absl::StatusOr<NotificationContent> ParseContent(std::string_view json_text) {
  json j = json::parse(json_text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) {
    return absl::InvalidArgumentError("content: not valid JSON");
  }
  return ContentFromJson(j);
}

std::vector<std::string> ValidateMovement(const MovementContent& m) {
  Problems out;
  CheckHeader(m.id, m.version, m.supersedes, m.organisation, m.recipients,
              &out);
  CheckContact(m.contact, &out);
  if (m.emergency && m.emergency_justification.empty()) {
    out.push_back("emergency.justification: an emergency needs a reason");
  }
  CheckRoute(m.route, "route", &out);
  CheckWindow(m.departure, "departure", &out);
  CheckWindow(m.arrival, "arrival", &out);
  if (m.arrival.earliest <= m.departure.earliest ||
      m.arrival.latest < m.departure.latest) {
    out.push_back(absl::StrCat(
        "arrival must be after departure (departure ",
        FormatRfc3339Utc(m.departure.earliest), ", arrival ",
        FormatRfc3339Utc(m.arrival.earliest), ")"));
  }
  if (m.ack_by && *m.ack_by >= m.departure.earliest) {
    out.push_back(absl::StrCat("ack_by must be before departure (ack_by ",
                               FormatRfc3339Utc(*m.ack_by), ", departure ",
                               FormatRfc3339Utc(m.departure.earliest), ")"));
  }
  if (m.return_leg) {
    const ReturnLeg& leg = *m.return_leg;
    CheckWindow(leg.departure, "return_leg.departure", &out);
    CheckWindow(leg.arrival, "return_leg.arrival", &out);
    if (leg.arrival.earliest <= leg.departure.earliest ||
        leg.arrival.latest < leg.departure.latest) {
      out.push_back("return_leg: arrival must be after departure");
    }
    if (leg.departure.earliest < m.arrival.earliest) {
      out.push_back(
          "return_leg.departure must not be before the outbound arrival");
    }
    if (leg.route) CheckRoute(*leg.route, "return_leg.route", &out);
  }
  if (m.vehicles.empty()) out.push_back("vehicles: needs at least one group");
  for (size_t i = 0; i < m.vehicles.size(); ++i) {
    const VehicleGroup& v = m.vehicles[i];
    std::string path = absl::StrCat("vehicles[", i, "]");
    if (v.count < 1) out.push_back(path + ".count: must be at least 1");
    if (v.type.empty()) out.push_back(path + ".type: is required");
    if (!v.plates.empty() && static_cast<int>(v.plates.size()) > v.count) {
      out.push_back(absl::StrCat(path, ".plates: ", v.plates.size(),
                                 " plates for ", v.count, " vehicles"));
    }
  }
  if (m.personnel_count < 0) {
    out.push_back("personnel.count: must not be negative");
  }
  if (static_cast<int>(m.personnel_names.size()) > m.personnel_count) {
    out.push_back(absl::StrCat("personnel.names: ", m.personnel_names.size(),
                               " names for a count of ", m.personnel_count));
  }
  return out;
}

std::vector<std::string> ValidateSite(const SiteContent& s) {
  Problems out;
  CheckHeader(s.id, s.version, s.supersedes, s.organisation, s.recipients,
              &out);
  CheckContact(s.contact, &out);
  if (s.name.empty()) out.push_back("name: is required");
  if (s.humanitarian_function.empty()) {
    out.push_back("humanitarian_function: is required");
  }
  if (s.points.empty() == s.polygon.empty()) {
    out.push_back("points: a site needs one or more points or a polygon");
  }
  CheckPoints(s.points, "points", &out);
  const size_t ring_problems = out.size();
  for (size_t i = 0; i < s.polygon.size(); ++i) {
    CheckRing(s.polygon[i], absl::StrCat("polygon[", i, "]"), &out);
  }
  // GEOS needs closed rings; with those, it judges the whole polygon
  // (a ring crossing itself or another, a hole outside the shell).
  if (!s.polygon.empty() && out.size() == ring_problems) {
    if (std::optional<std::string> invalid = PolygonInvalidReason(s.polygon)) {
      out.push_back(absl::StrCat("polygon: ", *invalid));
    }
  }
  if (s.review_by && *s.review_by <= s.submitted_at) {
    out.push_back("review_by must be after submitted_at");
  }
  return out;
}

std::vector<std::string> ValidateContent(const NotificationContent& content) {
  if (const auto* m = std::get_if<MovementContent>(&content)) {
    return ValidateMovement(*m);
  }
  return ValidateSite(std::get<SiteContent>(content));
}

absl::StatusOr<NotificationContent> ParseAndValidateContent(
    std::string_view json_text) {
  auto content = ParseContent(json_text);
  if (!content.ok()) return content.status();
  std::vector<std::string> problems = ValidateContent(*content);
  if (!problems.empty()) {
    return absl::InvalidArgumentError(absl::StrJoin(problems, "; "));
  }
  return content;
}

std::string_view ContentTypeOf(const NotificationContent& content) {
  return std::holds_alternative<MovementContent>(content)
             ? kMovementContentType
             : kSiteContentType;
}

const std::string& ContentId(const NotificationContent& content) {
  return std::visit([](const auto& c) -> const std::string& { return c.id; },
                    content);
}

uint32_t ContentVersion(const NotificationContent& content) {
  return std::visit([](const auto& c) { return c.version; }, content);
}

VisibleMetadata ComputeVisibleMetadata(const NotificationContent& content) {
  VisibleMetadata md;
  if (const auto* m = std::get_if<MovementContent>(&content)) {
    md.id = m->id;
    md.movement = true;
    md.parties = m->recipients;
    md.depart_at = absl::ToUnixSeconds(m->departure.earliest);
    md.ack_by = m->ack_by ? absl::ToUnixSeconds(*m->ack_by) : 0;
    md.valid_from = md.depart_at;
    absl::Time until = m->arrival.latest;
    if (m->return_leg) until = std::max(until, m->return_leg->arrival.latest);
    // Round up so the window covers a fractional arrival time.
    md.valid_until = absl::ToUnixSeconds(absl::Ceil(until - absl::UnixEpoch(),
                                                    absl::Seconds(1)) +
                                         absl::UnixEpoch());
    md.emergency = m->emergency;
  } else {
    const SiteContent& s = std::get<SiteContent>(content);
    md.id = s.id;
    md.movement = false;
    md.parties = s.recipients;
    md.valid_from = absl::ToUnixSeconds(s.submitted_at);
    md.valid_until = s.review_by ? absl::ToUnixSeconds(*s.review_by) : 0;
  }
  std::sort(md.parties.begin(), md.parties.end());
  return md;
}

std::vector<FieldChange> DiffJson(const json& before, const json& after) {
  std::vector<FieldChange> out;
  DiffInto(before, after, "", &out);
  return out;
}

std::vector<FieldChange> DiffContent(const NotificationContent& before,
                                     const NotificationContent& after) {
  json a = ContentToJson(before);
  json b = ContentToJson(after);
  for (const char* k : {"version", "supersedes"}) {
    a.erase(k);
    b.erase(k);
  }
  return DiffJson(a, b);
}

}  // namespace parley
