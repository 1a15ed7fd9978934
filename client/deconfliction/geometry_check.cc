#include "client/deconfliction/geometry_check.h"

#include <geos_c.h>

#include <memory>

#include "absl/strings/str_cat.h"

namespace parley {
namespace {

// One GEOS context and the geometries made in it.
class GeosContext {
 public:
  GeosContext() : handle_(GEOS_init_r()) {}
  ~GeosContext() { GEOS_finish_r(handle_); }
  GeosContext(const GeosContext&) = delete;
  GeosContext& operator=(const GeosContext&) = delete;

  // A coordinate sequence of `points` (x = lon, y = lat); caller owns it.
  GEOSCoordSequence* Sequence(const std::vector<GeoPoint>& points) {
    GEOSCoordSequence* seq =
        GEOSCoordSeq_create_r(handle_, static_cast<unsigned>(points.size()), 2);
    for (size_t i = 0; seq != nullptr && i < points.size(); ++i) {
      GEOSCoordSeq_setXY_r(handle_, seq, static_cast<unsigned>(i),
                           points[i].lon, points[i].lat);
    }
    return seq;
  }

  // GEOS's verdict on `g` (which it takes over); nullopt when valid.
  std::optional<std::string> Verdict(GEOSGeometry* g) {
    if (g == nullptr) return "GEOS could not build the geometry";
    char* reason = nullptr;
    GEOSGeometry* location = nullptr;
    const char valid = GEOSisValidDetail_r(handle_, g, 0, &reason, &location);
    std::optional<std::string> out;
    if (valid == 2) {
      out = "GEOS could not check the geometry";
    } else if (valid == 0) {
      out = reason != nullptr ? reason : "invalid geometry";
      double lon = 0, lat = 0;
      if (location != nullptr && GEOSGeomGetX_r(handle_, location, &lon) &&
          GEOSGeomGetY_r(handle_, location, &lat)) {
        absl::StrAppend(&*out, " at or near point ", lat, ",", lon);
      }
    }
    if (reason != nullptr) GEOSFree_r(handle_, reason);
    if (location != nullptr) GEOSGeom_destroy_r(handle_, location);
    GEOSGeom_destroy_r(handle_, g);
    return out;
  }

  GEOSContextHandle_t handle() const { return handle_; }

 private:
  GEOSContextHandle_t handle_;
};

}  // namespace

std::optional<std::string> PolygonInvalidReason(const GeoPolygon& polygon) {
  if (polygon.empty()) return "a polygon needs an outer ring";
  GeosContext geos;
  std::vector<GEOSGeometry*> rings;
  for (const std::vector<GeoPoint>& ring : polygon) {
    GEOSCoordSequence* seq = geos.Sequence(ring);
    GEOSGeometry* r = seq == nullptr
                          ? nullptr
                          : GEOSGeom_createLinearRing_r(geos.handle(), seq);
    if (r == nullptr) {
      for (GEOSGeometry* made : rings) GEOSGeom_destroy_r(geos.handle(), made);
      return "GEOS could not build a ring (is it closed, with 4 or more "
             "points?)";
    }
    rings.push_back(r);
  }
  return geos.Verdict(GEOSGeom_createPolygon_r(
      geos.handle(), rings[0], rings.size() > 1 ? rings.data() + 1 : nullptr,
      static_cast<unsigned>(rings.size() - 1)));
}

std::optional<std::string> LineInvalidReason(
    const std::vector<GeoPoint>& line) {
  GeosContext geos;
  GEOSCoordSequence* seq = geos.Sequence(line);
  if (seq == nullptr) return "GEOS could not build the line";
  return geos.Verdict(GEOSGeom_createLineString_r(geos.handle(), seq));
}

}  // namespace parley
