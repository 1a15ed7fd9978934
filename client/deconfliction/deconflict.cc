#include "client/deconfliction/deconflict.h"

#include <geodesic.h>
#include <geos_c.h>
#include <proj.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <functional>
#include <memory>
#include <tuple>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"

namespace parley {
namespace {

using json = nlohmann::json;

// Densification step along geodesics and maximum length of one piece of a
// line compared at a time (each piece gets its own projection centre).
constexpr double kDensifyMetres = 1000;
constexpr int kMaxStepsPerPiece = 100;
// Smallest length of a degree of latitude (at the equator), for
// conservative bounding-box margins.
constexpr double kMinMetresPerDegreeLat = 110574;
constexpr double kMetresPerDegreeLonEquator = 111320;

const geod_geodesic& Wgs84() {
  static const geod_geodesic* g = [] {
    auto* geod = new geod_geodesic;
    geod_init(geod, 6378137, 1 / 298.257223563);
    return geod;
  }();
  return *g;
}

std::string Num(double v, int digits = 6) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "%.*f", digits, v);
  return buf;
}

std::string Metres(double m) {
  if (m >= 10000) return absl::StrCat(Num(m / 1000, 1), " km");
  return absl::StrCat(static_cast<int64_t>(std::llround(m)), " m");
}

// ---------------------------------------------------------------------------
// Pieces: small parts of a shape, densified along geodesics, in degrees.

struct BBox {
  double min_lat = 90, max_lat = -90, min_lon = 180, max_lon = -180;
  void Add(const GeoPoint& p) {
    min_lat = std::min(min_lat, p.lat);
    max_lat = std::max(max_lat, p.lat);
    min_lon = std::min(min_lon, p.lon);
    max_lon = std::max(max_lon, p.lon);
  }
  GeoPoint Centre() const {
    return {(min_lat + max_lat) / 2, (min_lon + max_lon) / 2, ""};
  }
};

struct Piece {
  enum class Kind { kPoint, kLine, kPolygon } kind;
  int part = 0;
  std::vector<std::vector<GeoPoint>> rings;  // one for points and lines
  BBox box;
};

void AppendGeodesic(const GeoPoint& a, const GeoPoint& b,
                    std::vector<GeoPoint>* out) {
  geod_geodesicline line;
  geod_inverseline(&line, &Wgs84(), a.lat, a.lon, b.lat, b.lon,
                   GEOD_LATITUDE | GEOD_LONGITUDE | GEOD_DISTANCE_IN);
  int n = std::max(1, static_cast<int>(std::ceil(line.s13 / kDensifyMetres)));
  for (int k = 1; k < n; ++k) {
    GeoPoint p;
    geod_position(&line, line.s13 * k / n, &p.lat, &p.lon, nullptr);
    out->push_back(p);
  }
  out->push_back(b);
}

absl::Status CheckEdge(const GeoPoint& a, const GeoPoint& b,
                       const std::string& where) {
  if (std::abs(b.lon - a.lon) >= 180) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, " crosses the antimeridian (longitude ", Num(a.lon, 4), " to ",
        Num(b.lon, 4),
        "); split it at longitude 180 into parts that do not cross it"));
  }
  return absl::OkStatus();
}

absl::Status CheckPoint(const GeoPoint& p, const std::string& where) {
  if (!std::isfinite(p.lat) || !std::isfinite(p.lon) || p.lat < -90 ||
      p.lat > 90 || p.lon < -180 || p.lon > 180) {
    return absl::InvalidArgumentError(absl::StrCat(
        where, ": position (", Num(p.lat), ", ", Num(p.lon),
        ") is outside the WGS84 range"));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Piece>> PiecesOf(const GeoShape& s,
                                            std::string_view name) {
  std::vector<Piece> pieces;
  std::string n(name);
  switch (s.type) {
    case GeoShape::Type::kPoints:
      if (s.points.empty()) {
        return absl::InvalidArgumentError(n + ": no points");
      }
      for (size_t i = 0; i < s.points.size(); ++i) {
        std::string where = absl::StrCat(n, " point ", i);
        if (absl::Status st = CheckPoint(s.points[i], where); !st.ok()) {
          return st;
        }
        Piece p{Piece::Kind::kPoint, static_cast<int>(i), {{s.points[i]}}, {}};
        p.box.Add(s.points[i]);
        pieces.push_back(std::move(p));
      }
      break;
    case GeoShape::Type::kLine:
      if (s.points.size() < 2) {
        return absl::InvalidArgumentError(
            n + ": a route needs at least two points");
      }
      for (size_t i = 0; i < s.points.size(); ++i) {
        if (absl::Status st =
                CheckPoint(s.points[i], absl::StrCat(n, " point ", i));
            !st.ok()) {
          return st;
        }
      }
      for (size_t i = 0; i + 1 < s.points.size(); ++i) {
        if (absl::Status st = CheckEdge(s.points[i], s.points[i + 1],
                                        absl::StrCat(n, " segment ", i));
            !st.ok()) {
          return st;
        }
        std::vector<GeoPoint> dense{s.points[i]};
        AppendGeodesic(s.points[i], s.points[i + 1], &dense);
        for (size_t start = 0; start + 1 < dense.size();
             start += kMaxStepsPerPiece) {
          size_t end = std::min(dense.size() - 1, start + kMaxStepsPerPiece);
          Piece p{Piece::Kind::kLine, static_cast<int>(i), {{}}, {}};
          p.rings[0].assign(dense.begin() + start, dense.begin() + end + 1);
          for (const GeoPoint& q : p.rings[0]) p.box.Add(q);
          pieces.push_back(std::move(p));
        }
      }
      break;
    case GeoShape::Type::kPolygons:
      if (s.polygons.empty()) {
        return absl::InvalidArgumentError(n + ": no polygon");
      }
      for (size_t k = 0; k < s.polygons.size(); ++k) {
        Piece p{Piece::Kind::kPolygon, static_cast<int>(k), {}, {}};
        if (s.polygons[k].empty()) {
          return absl::InvalidArgumentError(
              absl::StrCat(n, " polygon ", k, ": no rings"));
        }
        for (size_t r = 0; r < s.polygons[k].size(); ++r) {
          const auto& ring = s.polygons[k][r];
          std::string where = absl::StrCat(n, " polygon ", k, " ring ", r);
          if (ring.size() < 4 || ring.front() .lat != ring.back().lat ||
              ring.front().lon != ring.back().lon) {
            return absl::InvalidArgumentError(
                where + ": needs at least 4 points, the last equal to the "
                        "first");
          }
          std::vector<GeoPoint> dense{ring[0]};
          for (size_t i = 0; i + 1 < ring.size(); ++i) {
            if (absl::Status st = CheckPoint(ring[i], where); !st.ok()) {
              return st;
            }
            if (absl::Status st = CheckEdge(ring[i], ring[i + 1],
                                            absl::StrCat(where, " edge ", i));
                !st.ok()) {
              return st;
            }
            AppendGeodesic(ring[i], ring[i + 1], &dense);
          }
          for (const GeoPoint& q : dense) p.box.Add(q);
          p.rings.push_back(std::move(dense));
        }
        pieces.push_back(std::move(p));
      }
      break;
  }
  return pieces;
}

// A conservative test: false only if the boxes are certainly more than
// `max_metres` apart.
bool BoxesWithin(const BBox& a, const BBox& b, double max_metres) {
  double lat_margin = max_metres / kMinMetresPerDegreeLat;
  double lat_gap = std::max({0.0, a.min_lat - b.max_lat, b.min_lat - a.max_lat});
  if (lat_gap > lat_margin) return false;
  double high = std::max({std::abs(a.min_lat), std::abs(a.max_lat),
                          std::abs(b.min_lat), std::abs(b.max_lat)}) +
                lat_margin;
  if (high >= 89) return true;  // near a pole longitude says little
  double lon_margin = 1.05 * max_metres /
                      (kMetresPerDegreeLonEquator * std::cos(high * M_PI / 180));
  double lon_gap = 360;
  for (double shift : {-360.0, 0.0, 360.0}) {
    double gap = std::max({0.0, a.min_lon - (b.max_lon + shift),
                           (b.min_lon + shift) - a.max_lon});
    lon_gap = std::min(lon_gap, gap);
  }
  return lon_gap <= lon_margin;
}

GeoPoint GeodesicMidpoint(const GeoPoint& a, const GeoPoint& b) {
  geod_geodesicline line;
  geod_inverseline(&line, &Wgs84(), a.lat, a.lon, b.lat, b.lon,
                   GEOD_LATITUDE | GEOD_LONGITUDE | GEOD_DISTANCE_IN);
  GeoPoint m;
  geod_position(&line, line.s13 / 2, &m.lat, &m.lon, nullptr);
  return m;
}

// ---------------------------------------------------------------------------
// GEOS and PROJ, one context each per call.

class Engine {
 public:
  Engine() : geos_(GEOS_init_r()), proj_(proj_context_create()) {
    proj_log_level(proj_, PJ_LOG_NONE);
  }
  ~Engine() {
    GEOS_finish_r(geos_);
    proj_context_destroy(proj_);
  }
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  struct Result {
    double metres;
    GeoPoint a, b;
  };

  // Closest points of two pieces in an aeqd projection centred at `centre`,
  // re-centred twice on the closest points found; the distance returned is
  // the geodesic distance between the final closest points.
  absl::StatusOr<Result> Closest(const Piece& a, const Piece& b) {
    GeoPoint centre = GeodesicMidpoint(a.box.Centre(), b.box.Centre());
    Result r{0, {}, {}};
    for (int round = 0; round < 3; ++round) {
      auto step = ClosestAt(a, b, centre);
      if (!step.ok()) return step.status();
      r = *step;
      if (r.metres == 0) return r;
      centre = GeodesicMidpoint(r.a, r.b);
    }
    r.metres = GeodesicDistance(r.a, r.b);
    return r;
  }

 private:
  using GeomPtr = std::unique_ptr<GEOSGeometry, std::function<void(GEOSGeometry*)>>;

  GeomPtr Own(GEOSGeometry* g) {
    return GeomPtr(g, [ctx = geos_](GEOSGeometry* p) {
      if (p != nullptr) GEOSGeom_destroy_r(ctx, p);
    });
  }

  absl::StatusOr<std::vector<std::pair<double, double>>> Forward(
      PJ* pj, const std::vector<GeoPoint>& pts) {
    std::vector<PJ_COORD> c(pts.size());
    for (size_t i = 0; i < pts.size(); ++i) {
      c[i] = proj_coord(proj_torad(pts[i].lon), proj_torad(pts[i].lat), 0, 0);
    }
    if (proj_trans_array(pj, PJ_FWD, c.size(), c.data()) != 0) {
      return absl::InternalError("PROJ: projection failed");
    }
    std::vector<std::pair<double, double>> xy(pts.size());
    for (size_t i = 0; i < pts.size(); ++i) {
      if (!std::isfinite(c[i].xy.x) || !std::isfinite(c[i].xy.y)) {
        return absl::InternalError("PROJ: projection gave no coordinate");
      }
      xy[i] = {c[i].xy.x, c[i].xy.y};
    }
    return xy;
  }

  absl::StatusOr<GeomPtr> Build(PJ* pj, const Piece& p) {
    std::vector<GEOSGeometry*> rings;
    for (const auto& ring : p.rings) {
      auto xy = Forward(pj, ring);
      if (!xy.ok()) return xy.status();
      GEOSCoordSequence* seq =
          GEOSCoordSeq_create_r(geos_, static_cast<unsigned>(xy->size()), 2);
      for (size_t i = 0; i < xy->size(); ++i) {
        GEOSCoordSeq_setXY_r(geos_, seq, static_cast<unsigned>(i),
                             (*xy)[i].first, (*xy)[i].second);
      }
      GEOSGeometry* g = nullptr;
      switch (p.kind) {
        case Piece::Kind::kPoint:
          g = GEOSGeom_createPoint_r(geos_, seq);
          break;
        case Piece::Kind::kLine:
          g = GEOSGeom_createLineString_r(geos_, seq);
          break;
        case Piece::Kind::kPolygon:
          g = GEOSGeom_createLinearRing_r(geos_, seq);
          break;
      }
      if (g == nullptr) {
        for (GEOSGeometry* r : rings) GEOSGeom_destroy_r(geos_, r);
        return absl::InvalidArgumentError("GEOS refused a geometry");
      }
      rings.push_back(g);
    }
    if (p.kind != Piece::Kind::kPolygon) return Own(rings[0]);
    GEOSGeometry* poly = GEOSGeom_createPolygon_r(
        geos_, rings[0], rings.size() > 1 ? rings.data() + 1 : nullptr,
        static_cast<unsigned>(rings.size() - 1));
    if (poly == nullptr) {
      return absl::InvalidArgumentError("GEOS refused a polygon");
    }
    return Own(poly);
  }

  absl::StatusOr<GeoPoint> Inverse(PJ* pj, double x, double y) {
    PJ_COORD c = proj_trans(pj, PJ_INV, proj_coord(x, y, 0, 0));
    if (!std::isfinite(c.lp.lam) || !std::isfinite(c.lp.phi)) {
      return absl::InternalError("PROJ: inverse projection failed");
    }
    return GeoPoint{proj_todeg(c.lp.phi), proj_todeg(c.lp.lam), ""};
  }

  absl::StatusOr<Result> ClosestAt(const Piece& a, const Piece& b,
                                   const GeoPoint& centre) {
    std::string def = absl::StrCat(
        "+proj=aeqd +lat_0=", Num(centre.lat, 9), " +lon_0=",
        Num(centre.lon, 9), " +datum=WGS84 +units=m");
    std::unique_ptr<PJ, decltype(&proj_destroy)> pj(
        proj_create(proj_, def.c_str()), &proj_destroy);
    if (pj == nullptr) {
      return absl::InternalError(absl::StrCat("PROJ refused ", def));
    }
    auto ga = Build(pj.get(), a);
    if (!ga.ok()) return ga.status();
    auto gb = Build(pj.get(), b);
    if (!gb.ok()) return gb.status();
    GEOSCoordSequence* near = GEOSNearestPoints_r(geos_, ga->get(), gb->get());
    if (near == nullptr) return absl::InternalError("GEOS: no nearest points");
    double ax, ay, bx, by;
    GEOSCoordSeq_getXY_r(geos_, near, 0, &ax, &ay);
    GEOSCoordSeq_getXY_r(geos_, near, 1, &bx, &by);
    GEOSCoordSeq_destroy_r(geos_, near);
    double planar = std::hypot(ax - bx, ay - by);
    auto pa = Inverse(pj.get(), ax, ay);
    if (!pa.ok()) return pa.status();
    auto pb = Inverse(pj.get(), bx, by);
    if (!pb.ok()) return pb.status();
    return Result{planar, *pa, *pb};
  }

  GEOSContextHandle_t geos_;
  PJ_CONTEXT* proj_;
};

bool Overlap(std::optional<absl::Time> a_from, std::optional<absl::Time> a_to,
             std::optional<absl::Time> b_from, std::optional<absl::Time> b_to,
             std::optional<absl::Time>* from, std::optional<absl::Time>* to) {
  *from = !a_from ? b_from : !b_from ? a_from : std::max(*a_from, *b_from);
  *to = !a_to ? b_to : !b_to ? a_to : std::min(*a_to, *b_to);
  return !*from || !*to || **from <= **to;
}

std::string Parts(const std::vector<int>& parts) {
  // "3", "3-5", "1, 4-6"
  std::vector<std::string> out;
  for (size_t i = 0; i < parts.size();) {
    size_t j = i;
    while (j + 1 < parts.size() && parts[j + 1] == parts[j] + 1) ++j;
    out.push_back(j == i ? absl::StrCat(parts[i])
                         : absl::StrCat(parts[i], "-", parts[j]));
    i = j + 1;
  }
  return absl::StrJoin(out, ", ");
}

}  // namespace

GeoShape GeoShape::Points(std::vector<GeoPoint> p) {
  GeoShape s;
  s.type = Type::kPoints;
  s.points = std::move(p);
  return s;
}
GeoShape GeoShape::Line(std::vector<GeoPoint> p) {
  GeoShape s;
  s.type = Type::kLine;
  s.points = std::move(p);
  return s;
}
GeoShape GeoShape::Polygons(std::vector<GeoPolygon> p) {
  GeoShape s;
  s.type = Type::kPolygons;
  s.polygons = std::move(p);
  return s;
}

double GeodesicDistance(const GeoPoint& a, const GeoPoint& b) {
  double s12 = 0;
  geod_inverse(&Wgs84(), a.lat, a.lon, b.lat, b.lon, &s12, nullptr, nullptr);
  return s12;
}

absl::StatusOr<std::optional<ShapeDistance>> GeodesicShapesWithin(
    const GeoShape& a, const GeoShape& b, double max_metres,
    std::vector<int>* parts_a, std::vector<int>* parts_b) {
  auto pa = PiecesOf(a, "first shape");
  if (!pa.ok()) return pa.status();
  auto pb = PiecesOf(b, "second shape");
  if (!pb.ok()) return pb.status();
  Engine engine;
  std::optional<ShapeDistance> best;
  std::vector<int> within_a, within_b;
  for (const Piece& x : *pa) {
    for (const Piece& y : *pb) {
      if (std::isfinite(max_metres) && !BoxesWithin(x.box, y.box, max_metres)) {
        continue;
      }
      auto r = engine.Closest(x, y);
      if (!r.ok()) return r.status();
      if (r->metres > max_metres) continue;
      within_a.push_back(x.part);
      within_b.push_back(y.part);
      if (!best || r->metres < best->metres) {
        best = ShapeDistance{r->metres, r->metres == 0, r->a, r->b, x.part,
                             y.part};
      }
    }
  }
  for (auto* v : {&within_a, &within_b}) {
    std::sort(v->begin(), v->end());
    v->erase(std::unique(v->begin(), v->end()), v->end());
  }
  if (parts_a != nullptr) *parts_a = std::move(within_a);
  if (parts_b != nullptr) *parts_b = std::move(within_b);
  return best;
}

absl::StatusOr<ShapeDistance> GeodesicShapeDistance(const GeoShape& a,
                                                    const GeoShape& b) {
  auto r = GeodesicShapesWithin(a, b, std::numeric_limits<double>::infinity());
  if (!r.ok()) return r.status();
  return **r;
}

std::string MovementLeg::Label() const {
  return absl::StrCat(id, " v", version, leg.empty() ? "" : " ", leg);
}

std::string SiteLocation::Label() const {
  return absl::StrCat("site ", id, " v", version,
                      name.empty() ? "" : absl::StrCat(" (", name, ")"));
}

std::vector<MovementLeg> LegsOf(const MovementContent& m) {
  std::vector<MovementLeg> legs;
  legs.push_back({m.id, m.version, "outbound", m.route.Path(),
                  m.departure.earliest, m.arrival.latest});
  if (m.return_leg) {
    legs.push_back({m.id, m.version, "return", m.ReturnRoute().Path(),
                    m.return_leg->departure.earliest,
                    m.return_leg->arrival.latest});
  }
  return legs;
}

SiteLocation LocationOf(const SiteContent& s) {
  SiteLocation loc;
  loc.id = s.id;
  loc.version = s.version;
  loc.name = s.name;
  loc.shape = s.polygon.empty() ? GeoShape::Points(s.points)
                                : GeoShape::Polygons({s.polygon});
  loc.window.from = s.submitted_at;
  loc.window.until = s.review_by;
  loc.deactivated = s.deactivated;
  return loc;
}

std::string_view ConflictKindName(ConflictFinding::Kind kind) {
  switch (kind) {
    case ConflictFinding::Kind::kMovementNearZone:
      return "movement-near-zone";
    case ConflictFinding::Kind::kMovementsNear:
      return "movements-near";
    case ConflictFinding::Kind::kSiteNearZone:
      return "site-near-zone";
  }
  return "";
}

std::string ConflictFinding::Describe() const {
  std::string where;
  if (intersects) {
    where = "touches or crosses";
  } else {
    where = absl::StrCat("passes ", Metres(min_distance_metres), " from");
  }
  std::string time;
  if (overlap_from || overlap_until) {
    time = absl::StrCat(
        " while both are active from ",
        overlap_from ? FormatRfc3339Utc(*overlap_from) : "(open)", " to ",
        overlap_until ? FormatRfc3339Utc(*overlap_until) : "(open)");
  } else {
    time = " (no time limits)";
  }
  std::string closest = absl::StrCat(" (closest at ", Num(subject_point.lat, 5),
                                     ",", Num(subject_point.lon, 5), ")");
  switch (kind) {
    case Kind::kMovementNearZone:
      return absl::StrCat(subject, ": route segment",
                          subject_parts.size() > 1 ? "s " : " ",
                          Parts(subject_parts), " ", where, " zone ", other,
                          closest, time);
    case Kind::kMovementsNear:
      return absl::StrCat(subject, " (segment", subject_parts.size() > 1 ? "s " : " ",
                          Parts(subject_parts), ") ",
                          intersects ? "crosses or meets"
                                     : absl::StrCat("comes within ",
                                                    Metres(min_distance_metres),
                                                    " of"),
                          " ", other, " (segment",
                          other_parts.size() > 1 ? "s " : " ",
                          Parts(other_parts), ")", closest, time);
    case Kind::kSiteNearZone:
      return absl::StrCat(subject, ": ",
                          intersects ? "inside or on the edge of"
                                     : absl::StrCat(Metres(min_distance_metres),
                                                    " from"),
                          " zone ", other, closest, time);
  }
  return "";
}

json ConflictFinding::ToJson() const {
  auto point = [](const GeoPoint& p) {
    return json{{"lat", p.lat}, {"lon", p.lon}};
  };
  json j = json::object();
  j["kind"] = ConflictKindName(kind);
  j["subject"] = subject;
  j["other"] = other;
  j["subject_parts"] = subject_parts;
  j["other_parts"] = other_parts;
  j["min_distance_m"] = std::round(min_distance_metres * 10) / 10;
  j["intersects"] = intersects;
  j["subject_point"] = point(subject_point);
  j["other_point"] = point(other_point);
  j["overlap_from"] =
      overlap_from ? json(FormatRfc3339Utc(*overlap_from)) : json(nullptr);
  j["overlap_until"] =
      overlap_until ? json(FormatRfc3339Utc(*overlap_until)) : json(nullptr);
  j["description"] = Describe();
  return j;
}

absl::StatusOr<std::vector<ConflictFinding>> CheckConflicts(
    const std::vector<MovementLeg>& movements,
    const std::vector<SiteLocation>& sites, const std::vector<Zone>& zones,
    const DeconflictOptions& options) {
  if (!(options.distance_metres >= 0)) {
    return absl::InvalidArgumentError("distance must not be negative");
  }
  const double d = options.distance_metres;
  const absl::Duration margin = options.time_margin;
  std::vector<ConflictFinding> out;
  auto annotate = [](absl::Status s, const std::string& what) {
    return absl::Status(s.code(), absl::StrCat(what, ": ", s.message()));
  };

  auto zone_shape = [](const Zone& z) { return GeoShape::Polygons(z.polygons); };

  for (const MovementLeg& m : movements) {
    GeoShape route = GeoShape::Line(m.path);
    for (const Zone& z : zones) {
      std::optional<absl::Time> from, to;
      if (!Overlap(m.from - margin, m.until + margin, z.active_from,
                   z.active_until, &from, &to)) {
        continue;
      }
      ConflictFinding f;
      auto r = GeodesicShapesWithin(route, zone_shape(z), d, &f.subject_parts,
                                    &f.other_parts);
      if (!r.ok()) {
        return annotate(r.status(),
                        absl::StrCat(m.Label(), " against zone ", z.name));
      }
      if (!*r) continue;
      f.kind = ConflictFinding::Kind::kMovementNearZone;
      f.subject = m.Label();
      f.other = z.name;
      f.min_distance_metres = (*r)->metres;
      f.intersects = (*r)->intersects;
      f.subject_point = (*r)->nearest_a;
      f.other_point = (*r)->nearest_b;
      f.overlap_from = from;
      f.overlap_until = to;
      out.push_back(std::move(f));
    }
  }
  for (size_t i = 0; i < movements.size(); ++i) {
    for (size_t j = i + 1; j < movements.size(); ++j) {
      const MovementLeg& a = movements[i];
      const MovementLeg& b = movements[j];
      // Two legs of the same movement version are one convoy.
      if (a.id == b.id && a.version == b.version) continue;
      std::optional<absl::Time> from, to;
      if (!Overlap(a.from - margin, a.until + margin, b.from - margin,
                   b.until + margin, &from, &to)) {
        continue;
      }
      ConflictFinding f;
      auto r = GeodesicShapesWithin(GeoShape::Line(a.path),
                                    GeoShape::Line(b.path), d,
                                    &f.subject_parts, &f.other_parts);
      if (!r.ok()) {
        return annotate(r.status(),
                        absl::StrCat(a.Label(), " against ", b.Label()));
      }
      if (!*r) continue;
      f.kind = ConflictFinding::Kind::kMovementsNear;
      f.subject = a.Label();
      f.other = b.Label();
      f.min_distance_metres = (*r)->metres;
      f.intersects = (*r)->intersects;
      f.subject_point = (*r)->nearest_a;
      f.other_point = (*r)->nearest_b;
      f.overlap_from = from;
      f.overlap_until = to;
      out.push_back(std::move(f));
    }
  }
  for (const SiteLocation& s : sites) {
    if (s.deactivated && !options.include_deactivated_sites) continue;
    for (const Zone& z : zones) {
      std::optional<absl::Time> from, to;
      if (!Overlap(s.window.from, s.window.until, z.active_from,
                   z.active_until, &from, &to)) {
        continue;
      }
      ConflictFinding f;
      auto r = GeodesicShapesWithin(s.shape, zone_shape(z), d,
                                    &f.subject_parts, &f.other_parts);
      if (!r.ok()) {
        return annotate(r.status(),
                        absl::StrCat(s.Label(), " against zone ", z.name));
      }
      if (!*r) continue;
      f.kind = ConflictFinding::Kind::kSiteNearZone;
      f.subject = s.Label();
      f.other = z.name;
      f.min_distance_metres = (*r)->metres;
      f.intersects = (*r)->intersects;
      f.subject_point = (*r)->nearest_a;
      f.other_point = (*r)->nearest_b;
      f.overlap_from = from;
      f.overlap_until = to;
      out.push_back(std::move(f));
    }
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const ConflictFinding& x, const ConflictFinding& y) {
                     return std::tie(x.kind, x.subject, x.other) <
                            std::tie(y.kind, y.subject, y.other);
                   });
  return out;
}

absl::StatusOr<double> ParseDistance(std::string_view text) {
  std::string t(text);
  t.erase(std::remove_if(t.begin(), t.end(),
                         [](unsigned char c) { return absl::ascii_isspace(c); }),
          t.end());
  absl::AsciiStrToLower(&t);
  double scale = 1;
  if (t.size() > 2 && t.substr(t.size() - 2) == "km") {
    scale = 1000;
    t.resize(t.size() - 2);
  } else if (t.size() > 1 && t.back() == 'm') {
    t.pop_back();
  }
  double v = 0;
  auto [p, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (t.empty() || ec != std::errc() || p != t.data() + t.size() ||
      !std::isfinite(v) || v <= 0) {
    return absl::InvalidArgumentError(absl::StrCat(
        "distance \"", std::string(text),
        "\": expected a positive number of metres or kilometres, e.g. 1km "
        "or 800m"));
  }
  return v * scale;
}

}  // namespace parley
