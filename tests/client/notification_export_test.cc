#include "client/deconfliction/notification_export.h"

#include <fstream>
#include <regex>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/str_split.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "tests/testing/paths.h"
#include "tests/testing/status_matchers.h"

namespace parley {
namespace {

using ::testing::HasSubstr;
using ::testing::SizeIs;
using nlohmann::json;

std::string ReadTestData(const std::string& name) {
  std::ifstream in(::parley::testing::SourceDir() + "/tests/client/testdata/" +
                   name);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int64_t S(const char* t) { return absl::ToUnixSeconds(*ParseRfc3339Utc(t)); }

std::vector<ExportNotification> Register() {
  auto m = MovementFromJson(json::parse(ReadTestData("movement_v1.json")));
  EXPECT_TRUE(m.ok());
  MovementContent v1 = *m;
  v1.organisation = "Relief, \"North\"";  // needs CSV quoting
  MovementContent v2 = v1;
  v2.version = 2;
  v2.supersedes = 1;
  v2.departure.earliest += absl::Hours(1);

  ExportNotification mv;
  mv.issuer = "alice";
  mv.organisation = "Relief, \"North\"";
  mv.overall = "cancelled";
  mv.versions.push_back(
      {v1, S("2026-04-28T09:00:00Z"), false,
       {{"party-a", S("2026-04-28T09:00:00Z"), S("2026-04-28T09:05:00Z"),
         S("2026-04-28T10:00:00Z"), 0, 0},
        {"party-b", S("2026-04-28T09:00:00Z"), 0, 0, 0, 2}}});
  mv.versions.push_back(
      {v2, S("2026-04-29T09:00:00Z"), true,
       {{"party-a", S("2026-04-29T09:00:00Z"), S("2026-04-29T09:01:00Z"), 0,
         S("2026-04-29T12:00:00Z"), 0},
        {"party-b", S("2026-04-29T09:00:00Z"), 0, 0, 0, 0}}});
  mv.cancelled_at = S("2026-04-30T08:00:00Z");

  auto s = SiteFromJson(json::parse(ReadTestData("site_v1.json")));
  EXPECT_TRUE(s.ok());
  ExportNotification site;
  site.issuer = "dana";
  site.organisation = "Example Health";
  site.overall = "acknowledged-by-all";
  site.versions.push_back({*s, S("2026-04-01T00:00:00Z"), false,
                           {{"party-a", S("2026-04-01T00:00:00Z"),
                             S("2026-04-01T00:01:00Z"),
                             S("2026-04-01T02:00:00Z"), 0, 0}}});
  return {mv, site};
}

// RFC 4180 parser for the test: records of fields.
std::vector<std::vector<std::string>> ParseCsv(const std::string& text) {
  std::vector<std::vector<std::string>> rows(1, std::vector<std::string>(1));
  bool quoted = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"' && i + 1 < text.size() && text[i + 1] == '"') {
        rows.back().back().push_back('"');
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        rows.back().back().push_back(c);
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      rows.back().emplace_back();
    } else if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') {
      ++i;
      rows.emplace_back(1);
    } else {
      rows.back().back().push_back(c);
    }
  }
  if (rows.back().size() == 1 && rows.back()[0].empty()) rows.pop_back();
  return rows;
}

TEST(NotificationExportTest, CsvHasOneRowPerVersionAndParty) {
  std::string csv = ExportCsv(Register());
  EXPECT_THAT(csv, HasSubstr("\r\n"));
  auto rows = ParseCsv(csv);
  ASSERT_THAT(rows, SizeIs(1 + 4 + 1));
  const auto& header = rows[0];
  ASSERT_EQ(header.size(), 21u);
  for (const auto& row : rows) EXPECT_EQ(row.size(), header.size());
  auto col = [&](const std::string& name) {
    return std::find(header.begin(), header.end(), name) - header.begin();
  };
  EXPECT_EQ(rows[1][col("organisation")], "Relief, \"North\"");
  EXPECT_EQ(rows[1][col("party_state")], "acknowledged-receipt");
  EXPECT_EQ(rows[1][col("acknowledged_receipt_at")], "2026-04-28T10:00:00Z");
  EXPECT_EQ(rows[2][col("party_state")], "logged");
  EXPECT_EQ(rows[2][col("escalation")], "2");
  EXPECT_EQ(rows[3][col("version")], "2");
  EXPECT_EQ(rows[3][col("party_state")], "objected");
  EXPECT_EQ(rows[3][col("late")], "true");
  EXPECT_EQ(rows[3][col("cancelled_at")], "2026-04-30T08:00:00Z");
  EXPECT_EQ(rows[5][col("kind")], "site");
  EXPECT_EQ(rows[5][col("departure")], "");
  EXPECT_EQ(CsvField("plain"), "plain");
  EXPECT_EQ(CsvField("a\nb"), "\"a\nb\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
}

TEST(NotificationExportTest, GeoJsonHasRoutesAndSites) {
  json fc = ExportGeoJson(Register());
  EXPECT_EQ(fc["type"], "FeatureCollection");
  int lines = 0, polygons = 0;
  for (const json& f : fc["features"]) {
    EXPECT_EQ(f["type"], "Feature");
    std::string type = f["geometry"]["type"];
    if (type == "LineString") {
      ++lines;
      EXPECT_EQ(f["properties"]["version"], 2);  // the latest version
      EXPECT_EQ(f["properties"]["overall"], "cancelled");
      // [lon, lat]
      if (f["properties"]["leg"] == "outbound") {
        EXPECT_EQ(f["geometry"]["coordinates"][0][0], 37.1343);
        EXPECT_EQ(f["geometry"]["coordinates"][0][1], 36.2021);
      }
    }
    if (type == "Polygon") {
      ++polygons;
      EXPECT_EQ(f["properties"]["site_type"], "health-facility");
    }
  }
  EXPECT_EQ(lines, 2);  // outbound and return
  EXPECT_EQ(polygons, 1);
}

TEST(NotificationExportTest, CapAlertsAreLinked) {
  ASSERT_OK_AND_ASSIGN(auto alerts, ExportCap(Register(), "alice@parley.test"));
  ASSERT_THAT(alerts, SizeIs(4));  // v1, v2, cancel, site v1
  EXPECT_EQ(alerts[0].identifier, "alice@parley.test/mv-2026-0042/v1");
  EXPECT_THAT(alerts[0].xml, HasSubstr("<msgType>Alert</msgType>"));
  EXPECT_THAT(alerts[0].xml, HasSubstr("<scope>Private</scope>"));
  EXPECT_THAT(alerts[0].xml, HasSubstr("<status>Actual</status>"));
  EXPECT_THAT(alerts[0].xml, HasSubstr("<addresses>party-a party-b</addresses>"));
  EXPECT_THAT(alerts[0].xml, HasSubstr("<category>Transport</category>"));
  EXPECT_THAT(alerts[0].xml, HasSubstr("<urgency>Unknown</urgency>"));
  EXPECT_THAT(alerts[0].xml, HasSubstr("<sent>2026-04-28T09:00:00-00:00</sent>"));
  EXPECT_THAT(alerts[0].xml,
              HasSubstr("<headline>Notification of movement mv-2026-0042"));
  EXPECT_THAT(alerts[0].xml, HasSubstr("<circle>36.202100,37.134300 0</circle>"));
  EXPECT_THAT(alerts[0].xml, HasSubstr("Relief, &quot;North&quot;"));
  EXPECT_THAT(alerts[0].xml, Not(HasSubstr("<references>")));
  EXPECT_THAT(alerts[1].xml, HasSubstr("<msgType>Update</msgType>"));
  EXPECT_THAT(alerts[1].xml,
              HasSubstr("<references>alice@parley.test,alice@parley.test/"
                        "mv-2026-0042/v1,2026-04-28T09:00:00-00:00"
                        "</references>"));
  EXPECT_THAT(alerts[2].xml, HasSubstr("<msgType>Cancel</msgType>"));
  EXPECT_THAT(alerts[2].xml, HasSubstr("mv-2026-0042/v2,"));
  EXPECT_THAT(alerts[3].xml, HasSubstr("<category>Safety</category>"));
  EXPECT_THAT(alerts[3].xml, HasSubstr("<category>Health</category>"));
  EXPECT_THAT(alerts[3].xml, HasSubstr("<polygon>36.000000,37.000000 "));
  EXPECT_THAT(alerts[3].xml, HasSubstr("<expires>2026-07-01T00:00:00-00:00"));

  // Wording: never approval, clearance or safety.
  std::regex forbidden("\\b(approved|cleared|safe)\\b", std::regex::icase);
  for (const CapAlert& a : alerts) {
    EXPECT_FALSE(std::regex_search(a.xml, forbidden)) << a.xml;
    // Well-formed enough: tags balance.
    size_t opens = 0, closes = 0;
    for (size_t i = 0; i + 1 < a.xml.size(); ++i) {
      if (a.xml[i] == '<' && a.xml[i + 1] == '/') ++closes;
      else if (a.xml[i] == '<' && a.xml[i + 1] != '?') ++opens;
    }
    EXPECT_EQ(opens, closes) << a.xml;
  }
  EXPECT_FALSE(ExportCap(Register(), "bad sender").ok());
}

}  // namespace
}  // namespace parley
