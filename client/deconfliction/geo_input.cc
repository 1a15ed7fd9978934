#include "client/deconfliction/geo_input.h"

#include <charconv>
#include <cmath>
#include <cstdio>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "client/deconfliction/geometry_check.h"

namespace parley {
namespace {

using json = nlohmann::json;

absl::Status Bad(std::string_view path, std::string_view problem) {
  return absl::InvalidArgumentError(
      absl::StrCat(std::string(path), ": ", std::string(problem)));
}

std::string Num(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.10g", v);
  return buf;
}

absl::Status CheckLatLon(double lat, double lon, std::string_view path,
                         std::string_view hint) {
  if (!std::isfinite(lat) || lat < -90 || lat > 90) {
    return Bad(path, absl::StrCat("latitude ", Num(lat), " is outside -90..90",
                                  std::string(hint)));
  }
  if (!std::isfinite(lon) || lon < -180 || lon > 180) {
    return Bad(path, absl::StrCat("longitude ", Num(lon),
                                  " is outside -180..180", std::string(hint)));
  }
  return absl::OkStatus();
}

// ---------------------------------------------------------------------------
// A small, strict XML reader: enough of XML 1.0 for GPX. Elements,
// attributes, character data, CDATA, comments and processing instructions;
// DOCTYPE (and so custom entities) is refused.

struct XmlElement {
  std::string name;  // local name, namespace prefix removed
  std::vector<std::pair<std::string, std::string>> attributes;
  std::vector<XmlElement> children;
  std::string text;
  int line = 1;

  const std::string* Attribute(std::string_view key) const {
    for (const auto& [k, v] : attributes) {
      if (k == key) return &v;
    }
    return nullptr;
  }
};

class XmlReader {
 public:
  explicit XmlReader(std::string_view in) : in_(in) {}

  absl::StatusOr<XmlElement> Document() {
    if (in_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;
    if (absl::Status s = Misc(); !s.ok()) return s;
    if (Eof() || Peek() != '<') return Error("expected the root element");
    XmlElement root;
    if (absl::Status s = Element(&root, 0); !s.ok()) return s;
    if (absl::Status s = Misc(); !s.ok()) return s;
    if (!Eof()) return Error("content after the root element");
    return root;
  }

 private:
  bool Eof() const { return pos_ >= in_.size(); }
  char Peek() const { return in_[pos_]; }
  bool StartsWith(std::string_view s) const {
    return in_.substr(pos_, s.size()) == s;
  }
  void Advance(size_t n) {
    for (size_t i = 0; i < n && pos_ < in_.size(); ++i) {
      if (in_[pos_++] == '\n') ++line_;
    }
  }
  absl::Status Error(std::string_view problem) const {
    return absl::InvalidArgumentError(
        absl::StrCat("GPX line ", line_, ": ", std::string(problem)));
  }
  void Spaces() {
    while (!Eof() && (Peek() == ' ' || Peek() == '\t' || Peek() == '\n' ||
                      Peek() == '\r')) {
      Advance(1);
    }
  }
  absl::Status SkipPast(std::string_view end, std::string_view what) {
    size_t at = in_.find(end, pos_);
    if (at == std::string_view::npos) {
      return Error(absl::StrCat("unterminated ", std::string(what)));
    }
    Advance(at + end.size() - pos_);
    return absl::OkStatus();
  }
  // Whitespace, comments and processing instructions outside the root.
  absl::Status Misc() {
    while (true) {
      Spaces();
      if (StartsWith("<?")) {
        if (absl::Status s = SkipPast("?>", "processing instruction");
            !s.ok()) {
          return s;
        }
      } else if (StartsWith("<!--")) {
        if (absl::Status s = SkipPast("-->", "comment"); !s.ok()) return s;
      } else if (StartsWith("<!")) {
        return Error("DOCTYPE declarations are not accepted");
      } else {
        return absl::OkStatus();
      }
    }
  }
  static bool NameChar(char c) {
    return absl::ascii_isalnum(static_cast<unsigned char>(c)) || c == '_' ||
           c == ':' || c == '.' || c == '-' ||
           static_cast<unsigned char>(c) >= 0x80;
  }
  absl::Status Name(std::string* out) {
    size_t start = pos_;
    while (!Eof() && NameChar(Peek())) Advance(1);
    if (pos_ == start) return Error("expected a name");
    *out = std::string(in_.substr(start, pos_ - start));
    return absl::OkStatus();
  }
  static std::string LocalName(const std::string& name) {
    size_t colon = name.find(':');
    return colon == std::string::npos ? name : name.substr(colon + 1);
  }
  // Character data up to `stop`, with entity and character references.
  absl::Status Chars(char stop, std::string* out) {
    while (!Eof() && Peek() != stop) {
      char c = Peek();
      if (c == '<' && stop == '<') break;
      if (c == '<') return Error("'<' inside an attribute value");
      if (c != '&') {
        out->push_back(c);
        Advance(1);
        continue;
      }
      size_t semi = in_.find(';', pos_);
      if (semi == std::string_view::npos || semi - pos_ > 12) {
        return Error("malformed entity reference");
      }
      std::string_view ref = in_.substr(pos_ + 1, semi - pos_ - 1);
      if (ref == "amp") {
        out->push_back('&');
      } else if (ref == "lt") {
        out->push_back('<');
      } else if (ref == "gt") {
        out->push_back('>');
      } else if (ref == "quot") {
        out->push_back('"');
      } else if (ref == "apos") {
        out->push_back('\'');
      } else if (ref.size() > 1 && ref[0] == '#') {
        uint32_t cp = 0;
        bool hex = ref[1] == 'x';
        std::string_view digits = ref.substr(hex ? 2 : 1);
        auto [p, ec] = std::from_chars(digits.data(),
                                       digits.data() + digits.size(), cp,
                                       hex ? 16 : 10);
        if (ec != std::errc() || p != digits.data() + digits.size() ||
            digits.empty() || cp == 0 || cp > 0x10FFFF) {
          return Error("malformed character reference");
        }
        // UTF-8 encode.
        if (cp < 0x80) {
          out->push_back(static_cast<char>(cp));
        } else if (cp < 0x800) {
          out->push_back(static_cast<char>(0xC0 | (cp >> 6)));
          out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else if (cp < 0x10000) {
          out->push_back(static_cast<char>(0xE0 | (cp >> 12)));
          out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
          out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        } else {
          out->push_back(static_cast<char>(0xF0 | (cp >> 18)));
          out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
          out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
          out->push_back(static_cast<char>(0x80 | (cp & 0x3F)));
        }
      } else {
        return Error(absl::StrCat("unknown entity &", std::string(ref), ";"));
      }
      Advance(semi + 1 - pos_);
    }
    return absl::OkStatus();
  }

  absl::Status Element(XmlElement* e, int depth) {
    if (depth > 64) return Error("elements nested too deeply");
    e->line = line_;
    Advance(1);  // '<'
    std::string qname;
    if (absl::Status s = Name(&qname); !s.ok()) return s;
    e->name = LocalName(qname);
    while (true) {
      Spaces();
      if (Eof()) return Error(absl::StrCat("unterminated <", qname, ">"));
      if (StartsWith("/>")) {
        Advance(2);
        return absl::OkStatus();
      }
      if (Peek() == '>') {
        Advance(1);
        break;
      }
      std::string key;
      if (absl::Status s = Name(&key); !s.ok()) return s;
      Spaces();
      if (Eof() || Peek() != '=') {
        return Error(absl::StrCat("attribute ", key, " has no value"));
      }
      Advance(1);
      Spaces();
      if (Eof() || (Peek() != '"' && Peek() != '\'')) {
        return Error(absl::StrCat("attribute ", key, " is not quoted"));
      }
      char quote = Peek();
      Advance(1);
      std::string value;
      if (absl::Status s = Chars(quote, &value); !s.ok()) return s;
      if (Eof()) return Error("unterminated attribute value");
      Advance(1);
      if (e->Attribute(LocalName(key)) != nullptr) {
        return Error(absl::StrCat("duplicate attribute ", key));
      }
      e->attributes.emplace_back(LocalName(key), std::move(value));
    }
    // Content.
    while (true) {
      if (Eof()) return Error(absl::StrCat("<", qname, "> is not closed"));
      if (StartsWith("</")) {
        Advance(2);
        std::string end;
        if (absl::Status s = Name(&end); !s.ok()) return s;
        Spaces();
        if (Eof() || Peek() != '>') return Error("malformed end tag");
        Advance(1);
        if (end != qname) {
          return Error(absl::StrCat("</", end, "> does not close <", qname,
                                    ">"));
        }
        return absl::OkStatus();
      }
      if (StartsWith("<!--")) {
        if (absl::Status s = SkipPast("-->", "comment"); !s.ok()) return s;
      } else if (StartsWith("<![CDATA[")) {
        Advance(9);
        size_t end = in_.find("]]>", pos_);
        if (end == std::string_view::npos) return Error("unterminated CDATA");
        e->text.append(in_.substr(pos_, end - pos_));
        Advance(end + 3 - pos_);
      } else if (StartsWith("<?")) {
        if (absl::Status s = SkipPast("?>", "processing instruction");
            !s.ok()) {
          return s;
        }
      } else if (StartsWith("<!")) {
        return Error("unexpected declaration inside an element");
      } else if (Peek() == '<') {
        XmlElement child;
        if (absl::Status s = Element(&child, depth + 1); !s.ok()) return s;
        e->children.push_back(std::move(child));
      } else {
        if (absl::Status s = Chars('<', &e->text); !s.ok()) return s;
      }
    }
  }

  std::string_view in_;
  size_t pos_ = 0;
  int line_ = 1;
};

std::string_view Strip(std::string_view s) {
  while (!s.empty() && absl::ascii_isspace(static_cast<unsigned char>(s[0]))) {
    s.remove_prefix(1);
  }
  while (!s.empty() &&
         absl::ascii_isspace(static_cast<unsigned char>(s.back()))) {
    s.remove_suffix(1);
  }
  return s;
}

absl::StatusOr<double> ParseDecimal(std::string_view s) {
  s = Strip(s);
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size() ||
      !std::isfinite(v)) {
    return absl::InvalidArgumentError(
        absl::StrCat("\"", std::string(s), "\" is not a decimal number"));
  }
  return v;
}

absl::StatusOr<GeoPoint> GpxPoint(const XmlElement& e,
                                  const std::string& path) {
  const std::string* lat = e.Attribute("lat");
  const std::string* lon = e.Attribute("lon");
  if (lat == nullptr || lon == nullptr) {
    return Bad(path, absl::StrCat("<", e.name, "> on line ", e.line,
                                  " needs lat and lon attributes"));
  }
  auto la = ParseDecimal(*lat);
  if (!la.ok()) return Bad(path, absl::StrCat("lat: ", la.status().message()));
  auto lo = ParseDecimal(*lon);
  if (!lo.ok()) return Bad(path, absl::StrCat("lon: ", lo.status().message()));
  if (absl::Status s = CheckLatLon(*la, *lo, path, ""); !s.ok()) return s;
  GeoPoint p{*la, *lo, ""};
  for (const XmlElement& c : e.children) {
    if (c.name == "name") {
      p.name = std::string(Strip(c.text));
    }
  }
  return p;
}

// ---------------------------------------------------------------------------
// GeoJSON.

absl::StatusOr<json> ParseJson(std::string_view text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return absl::InvalidArgumentError("not valid JSON");
  return j;
}

constexpr std::string_view kLonLatHint =
    " (GeoJSON positions are [longitude, latitude])";

absl::StatusOr<GeoPoint> Position(const json& p, const std::string& path) {
  if (!p.is_array() || p.size() < 2 || p.size() > 3) {
    return Bad(path, "a position is [longitude, latitude] or "
                     "[longitude, latitude, altitude]");
  }
  for (const json& x : p) {
    if (!x.is_number()) return Bad(path, "position members must be numbers");
  }
  GeoPoint g{p[1].get<double>(), p[0].get<double>(), ""};
  if (absl::Status s = CheckLatLon(g.lat, g.lon, path, kLonLatHint);
      !s.ok()) {
    return s;
  }
  return g;
}

absl::StatusOr<std::vector<GeoPoint>> Positions(const json& a,
                                                const std::string& path) {
  if (!a.is_array()) return Bad(path, "must be an array of positions");
  std::vector<GeoPoint> out;
  for (size_t i = 0; i < a.size(); ++i) {
    auto p = Position(a[i], absl::StrCat(path, "[", i, "]"));
    if (!p.ok()) return p.status();
    out.push_back(*p);
  }
  return out;
}

absl::StatusOr<GeoPolygon> Rings(const json& a, const std::string& path) {
  if (!a.is_array() || a.empty()) {
    return Bad(path, "a Polygon needs at least one ring");
  }
  GeoPolygon poly;
  for (size_t i = 0; i < a.size(); ++i) {
    std::string rp = absl::StrCat(path, "[", i, "]");
    auto ring = Positions(a[i], rp);
    if (!ring.ok()) return ring.status();
    if (ring->size() < 4) {
      return Bad(rp, absl::StrCat("a ring needs at least 4 positions, has ",
                                  ring->size()));
    }
    if (ring->front().lat != ring->back().lat ||
        ring->front().lon != ring->back().lon) {
      return Bad(rp, "ring is not closed (last position must equal the "
                     "first)");
    }
    poly.push_back(std::move(*ring));
  }
  return poly;
}

std::string TypeOf(const json& j) {
  auto it = j.find("type");
  if (it == j.end() || !it->is_string()) return "";
  return it->get<std::string>();
}

// The (geometry, path, feature) triples of a GeoJSON document.
struct GeometryRef {
  const json* geometry;
  std::string path;
  const json* properties;  // may be null
};

absl::StatusOr<std::vector<GeometryRef>> Geometries(const json& doc) {
  if (!doc.is_object()) return Bad("GeoJSON", "must be a JSON object");
  std::string type = TypeOf(doc);
  std::vector<GeometryRef> out;
  auto feature = [&](const json& f,
                     const std::string& path) -> absl::Status {
    if (!f.is_object() || TypeOf(f) != "Feature") {
      return Bad(path, "must be a Feature");
    }
    auto g = f.find("geometry");
    if (g == f.end() || !g->is_object()) {
      return Bad(path + ".geometry", "is missing or null");
    }
    auto props = f.find("properties");
    out.push_back({&*g, path + ".geometry",
                   props != f.end() && props->is_object() ? &*props
                                                          : nullptr});
    return absl::OkStatus();
  };
  if (type == "FeatureCollection") {
    auto fs = doc.find("features");
    if (fs == doc.end() || !fs->is_array()) {
      return Bad("features", "a FeatureCollection needs a features array");
    }
    for (size_t i = 0; i < fs->size(); ++i) {
      if (absl::Status s = feature((*fs)[i], absl::StrCat("features[", i, "]"));
          !s.ok()) {
        return s;
      }
    }
  } else if (type == "Feature") {
    if (absl::Status s = feature(doc, "feature"); !s.ok()) return s;
  } else if (type.empty()) {
    return Bad("GeoJSON", "has no \"type\"");
  } else {
    out.push_back({&doc, "geometry", nullptr});
  }
  return out;
}

absl::StatusOr<const json*> Coordinates(const GeometryRef& g) {
  auto c = g.geometry->find("coordinates");
  if (c == g.geometry->end()) {
    return Bad(g.path + ".coordinates", "is missing");
  }
  return &*c;
}

json Position(const GeoPoint& p) { return json::array({p.lon, p.lat}); }

std::string Rfc(absl::Time t) { return FormatRfc3339Utc(t); }

}  // namespace

absl::StatusOr<std::vector<GeoPoint>> ReadRouteGeoJson(std::string_view text) {
  auto doc = ParseJson(text);
  if (!doc.ok()) return Bad("GeoJSON", std::string(doc.status().message()));
  auto geoms = Geometries(*doc);
  if (!geoms.ok()) return geoms.status();
  const GeometryRef* line = nullptr;
  for (const GeometryRef& g : *geoms) {
    std::string type = TypeOf(*g.geometry);
    if (type == "Point" || type == "MultiPoint") continue;
    if (type != "LineString") {
      return Bad(g.path, absl::StrCat("a route must be a LineString, not ",
                                      type.empty() ? "untyped" : type,
                                      type == "MultiLineString"
                                          ? " (join the parts into one line)"
                                          : ""));
    }
    if (line != nullptr) {
      return Bad(g.path, absl::StrCat("a second LineString (the first is ",
                                      line->path,
                                      "); give one route per file"));
    }
    line = &g;
  }
  if (line == nullptr) return Bad("GeoJSON", "holds no LineString route");
  auto coords = Coordinates(*line);
  if (!coords.ok()) return coords.status();
  auto path = Positions(**coords, line->path + ".coordinates");
  if (!path.ok()) return path.status();
  if (path->size() < 2) {
    return Bad(line->path + ".coordinates",
               "a route needs at least two points");
  }
  return path;
}

absl::StatusOr<std::vector<GeoPoint>> ReadRouteGpx(std::string_view text) {
  auto root = XmlReader(text).Document();
  if (!root.ok()) return root.status();
  if (root->name != "gpx") {
    return absl::InvalidArgumentError(absl::StrCat(
        "GPX: the root element is <", root->name, ">, not <gpx>"));
  }
  std::vector<GeoPoint> path;
  int lines = 0;
  for (const XmlElement& c : root->children) {
    if (c.name != "rte" && c.name != "trk") continue;
    ++lines;
    if (lines > 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "GPX line ", c.line,
          ": a second route or track; give one route per file"));
    }
    std::string base = c.name == "rte" ? "rte" : "trk";
    int seg = 0;
    for (const XmlElement& p : c.children) {
      if (c.name == "rte" && p.name == "rtept") {
        auto g = GpxPoint(p, absl::StrCat("rte.rtept[", path.size(), "]"));
        if (!g.ok()) return g.status();
        path.push_back(*g);
      } else if (c.name == "trk" && p.name == "trkseg") {
        int i = 0;
        for (const XmlElement& q : p.children) {
          if (q.name != "trkpt") continue;
          auto g = GpxPoint(q, absl::StrCat("trk.trkseg[", seg, "].trkpt[",
                                            i++, "]"));
          if (!g.ok()) return g.status();
          path.push_back(*g);
        }
        ++seg;
      }
    }
  }
  if (lines == 0) {
    return absl::InvalidArgumentError("GPX: holds no <rte> or <trk>");
  }
  if (path.size() < 2) {
    return absl::InvalidArgumentError(
        "GPX: a route needs at least two points");
  }
  return path;
}

absl::StatusOr<std::vector<GeoPoint>> ReadRoute(std::string_view text,
                                                RouteFormat format) {
  if (format == RouteFormat::kAuto) {
    std::string_view t = Strip(text);
    if (t.substr(0, 3) == "\xEF\xBB\xBF") t.remove_prefix(3);
    format = !t.empty() && t[0] == '<' ? RouteFormat::kGpx
                                       : RouteFormat::kGeoJson;
  }
  return format == RouteFormat::kGpx ? ReadRouteGpx(text)
                                     : ReadRouteGeoJson(text);
}

Route RouteFromPath(const std::vector<GeoPoint>& path) {
  Route r;
  r.origin = path.front();
  r.destination = path.back();
  r.waypoints.assign(path.begin() + 1, path.end() - 1);
  return r;
}

absl::StatusOr<std::vector<Zone>> ReadZonesGeoJson(std::string_view text) {
  auto doc = ParseJson(text);
  if (!doc.ok()) return Bad("zones", std::string(doc.status().message()));
  auto geoms = Geometries(*doc);
  if (!geoms.ok()) return geoms.status();
  std::vector<Zone> zones;
  for (size_t i = 0; i < geoms->size(); ++i) {
    const GeometryRef& g = (*geoms)[i];
    std::string fpath = g.path.substr(0, g.path.rfind(".geometry"));
    Zone z;
    z.name = absl::StrCat("zone ", i);
    if (g.properties != nullptr) {
      const json& p = *g.properties;
      if (auto n = p.find("name"); n != p.end() && !n->is_null()) {
        if (!n->is_string()) {
          return Bad(fpath + ".properties.name", "must be a string");
        }
        z.name = n->get<std::string>();
      }
      for (const char* key : {"active_from", "active_until"}) {
        auto v = p.find(key);
        if (v == p.end() || v->is_null()) continue;
        std::string path = absl::StrCat(fpath, ".properties.", key);
        if (!v->is_string()) return Bad(path, "must be an RFC 3339 string");
        auto t = ParseRfc3339Utc(v->get<std::string>());
        if (!t.ok()) {
          return Bad(path, absl::StrCat("\"", v->get<std::string>(),
                                        "\" is not an RFC 3339 UTC time (",
                                        t.status().message(), ")"));
        }
        (std::string_view(key) == "active_from" ? z.active_from
                                                : z.active_until) = *t;
      }
      if (z.active_from && z.active_until &&
          *z.active_until < *z.active_from) {
        return Bad(fpath + ".properties",
                   "active_until is before active_from");
      }
    }
    std::string type = TypeOf(*g.geometry);
    auto coords = Coordinates(g);
    if (!coords.ok()) return coords.status();
    std::string cpath = g.path + ".coordinates";
    if (type == "Polygon") {
      auto poly = Rings(**coords, cpath);
      if (!poly.ok()) return poly.status();
      z.polygons.push_back(std::move(*poly));
    } else if (type == "MultiPolygon") {
      if (!(*coords)->is_array() || (*coords)->empty()) {
        return Bad(cpath, "a MultiPolygon needs at least one polygon");
      }
      for (size_t k = 0; k < (*coords)->size(); ++k) {
        auto poly = Rings((**coords)[k], absl::StrCat(cpath, "[", k, "]"));
        if (!poly.ok()) return poly.status();
        z.polygons.push_back(std::move(*poly));
      }
    } else {
      return Bad(g.path, absl::StrCat("a zone must be a Polygon or "
                                      "MultiPolygon, not ",
                                      type.empty() ? "untyped" : type));
    }
    zones.push_back(std::move(z));
  }
  if (zones.empty()) return Bad("zones", "the file holds no zone");
  return zones;
}

absl::StatusOr<GeoPolygon> ReadPolygonGeoJson(std::string_view text) {
  auto doc = ParseJson(text);
  if (!doc.ok()) return Bad("polygon", std::string(doc.status().message()));
  auto geoms = Geometries(*doc);
  if (!geoms.ok()) return geoms.status();
  if (geoms->size() != 1) {
    return Bad("polygon", absl::StrCat("expected exactly one Polygon, found ",
                                       geoms->size(), " features"));
  }
  const GeometryRef& g = geoms->front();
  if (TypeOf(*g.geometry) != "Polygon") {
    return Bad(g.path, absl::StrCat("must be a Polygon, not ",
                                    TypeOf(*g.geometry)));
  }
  auto coords = Coordinates(g);
  if (!coords.ok()) return coords.status();
  absl::StatusOr<GeoPolygon> polygon =
      Rings(**coords, g.path + ".coordinates");
  if (!polygon.ok()) return polygon.status();
  // A polygon GEOS finds invalid (a bow tie) would be logged for good and
  // mislead every reader and `deconflict check`: refuse it here, with why.
  if (std::optional<std::string> invalid = PolygonInvalidReason(*polygon)) {
    return Bad(g.path, *invalid);
  }
  return polygon;
}

absl::StatusOr<GeoPoint> ParseLatLon(std::string_view text) {
  size_t comma = text.find(',');
  if (comma == std::string_view::npos) {
    return absl::InvalidArgumentError(absl::StrCat(
        "point \"", std::string(text), "\": expected LAT,LON"));
  }
  auto lat = ParseDecimal(text.substr(0, comma));
  auto lon = ParseDecimal(text.substr(comma + 1));
  if (!lat.ok() || !lon.ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "point \"", std::string(text), "\": expected LAT,LON in degrees"));
  }
  if (absl::Status s = CheckLatLon(*lat, *lon,
                                   absl::StrCat("point \"", std::string(text),
                                                "\""),
                                   " (the order is LAT,LON)");
      !s.ok()) {
    return s;
  }
  return GeoPoint{*lat, *lon, ""};
}

json LineStringGeometry(const std::vector<GeoPoint>& path) {
  json coords = json::array();
  for (const GeoPoint& p : path) coords.push_back(Position(p));
  return json{{"type", "LineString"}, {"coordinates", coords}};
}

json PolygonGeometry(const GeoPolygon& polygon) {
  json rings = json::array();
  for (const auto& ring : polygon) {
    json r = json::array();
    for (const GeoPoint& p : ring) r.push_back(Position(p));
    rings.push_back(r);
  }
  return json{{"type", "Polygon"}, {"coordinates", rings}};
}

json MovementToGeoJson(const MovementContent& m) {
  json features = json::array();
  auto props = [&](std::string_view leg, const TimeWindow& dep,
                   const TimeWindow& arr) {
    json p = json::object();
    p["kind"] = "movement";
    p["id"] = m.id;
    p["version"] = m.version;
    p["leg"] = leg;
    p["organisation"] = m.organisation;
    p["movement_type"] = MovementTypeName(m.movement_type);
    p["emergency"] = m.emergency;
    p["departure_earliest"] = Rfc(dep.earliest);
    p["departure_latest"] = Rfc(dep.latest);
    p["arrival_earliest"] = Rfc(arr.earliest);
    p["arrival_latest"] = Rfc(arr.latest);
    return p;
  };
  features.push_back(json{{"type", "Feature"},
                          {"geometry", LineStringGeometry(m.route.Path())},
                          {"properties",
                           props("outbound", m.departure, m.arrival)}});
  if (m.return_leg) {
    features.push_back(json{
        {"type", "Feature"},
        {"geometry", LineStringGeometry(m.ReturnRoute().Path())},
        {"properties", props("return", m.return_leg->departure,
                             m.return_leg->arrival)}});
  }
  auto points = [&](const std::vector<GeoPoint>& ps, std::string_view role) {
    for (const GeoPoint& p : ps) {
      json pr = {{"kind", "movement"}, {"id", m.id}, {"version", m.version},
                 {"role", role}};
      if (!p.name.empty()) pr["name"] = p.name;
      features.push_back(json{
          {"type", "Feature"},
          {"geometry", {{"type", "Point"}, {"coordinates", Position(p)}}},
          {"properties", pr}});
    }
  };
  points(m.route.holding_points, "holding-point");
  points(m.route.checkpoints, "checkpoint");
  return json{{"type", "FeatureCollection"}, {"features", features}};
}

json SiteToGeoJson(const SiteContent& s) {
  json geometry;
  if (!s.polygon.empty()) {
    geometry = PolygonGeometry(s.polygon);
  } else if (s.points.size() == 1) {
    geometry = {{"type", "Point"}, {"coordinates", Position(s.points[0])}};
  } else {
    json coords = json::array();
    for (const GeoPoint& p : s.points) coords.push_back(Position(p));
    geometry = {{"type", "MultiPoint"}, {"coordinates", coords}};
  }
  json p = json::object();
  p["kind"] = "site";
  p["id"] = s.id;
  p["version"] = s.version;
  p["name"] = s.name;
  p["site_type"] = SiteTypeName(s.site_type);
  p["organisation"] = s.organisation;
  p["critical_infrastructure"] = s.critical_infrastructure;
  p["humanitarian_function"] = s.humanitarian_function;
  if (!s.markings.empty()) p["markings"] = s.markings;
  if (s.review_by) p["review_by"] = Rfc(*s.review_by);
  p["deactivated"] = s.deactivated;
  return json{{"type", "Feature"}, {"geometry", geometry}, {"properties", p}};
}

}  // namespace parley
