// The published JSON schemas of the notification payloads
// (docs/schemas/parley-{movement,site}-v1.schema.json, PROTOCOL.md 15.5)
// against what the C++ client writes (MovementToJson, SiteToJson) and what
// it accepts (ParseAndValidateContent):
//   - everything the client writes is valid under the schema;
//   - the schema declares exactly the members the client writes, no more,
//     no fewer (so every field is documented, and nothing documented is
//     never written);
//   - for every member of a full document, removing it, or giving it a
//     value of the wrong type, is refused by the schema exactly when the
//     client's parser refuses it (so "required", "optional" and the types
//     in the schema are the client's).

#include <functional>
#include <string>
#include <vector>

#include "absl/strings/str_join.h"
#include "client/deconfliction/notification_content.h"
#include "crypto/rfc3339.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/testing/json_schema.h"
#include "tests/testing/paths.h"

namespace parley {
namespace {

using nlohmann::json;
using ::parley::testing::InstancePaths;
using ::parley::testing::JsonSchema;

JsonSchema LoadSchema(const std::string& name) {
  absl::StatusOr<JsonSchema> s = JsonSchema::LoadFile(
      ::parley::testing::SourceDir() + "/docs/schemas/" + name);
  EXPECT_TRUE(s.ok()) << s.status();
  return s.ok() ? *s : *JsonSchema::Load(json::object());
}

absl::Time At(const char* text) { return *ParseRfc3339Utc(text); }

// Every optional member set.
MovementContent FullMovement() {
  MovementContent m;
  m.id = "mv-full";
  m.version = 3;
  m.supersedes = 2;
  m.organisation = "Example Relief";
  m.contact = {"Duty officer", "+1 555 0100", "ops@relief.example", "VHF 1"};
  m.movement_type = MovementType::kEvacuation;
  m.emergency = true;
  m.emergency_justification = "casualties at the clinic";
  m.route.origin = {15.3694, 44.191, "Warehouse A"};
  m.route.destination = {14.7978, 42.9545, "Hospital B"};
  m.route.waypoints = {{15.05, 43.55, "junction"}};
  m.route.holding_points = {{15.1, 43.7, "Fuel station"}};
  m.route.checkpoints = {{15.2, 43.9, "CP 1"}};
  m.departure = {At("2026-09-24T05:00:00Z"), At("2026-09-24T06:00:00.5Z")};
  m.arrival = {At("2026-09-24T13:00:00Z"), At("2026-09-24T15:30:00Z")};
  m.ack_by = At("2026-09-23T05:00:00Z");
  Route back;
  back.origin = {14.7978, 42.9545, "Hospital B"};
  back.destination = {15.3694, 44.191, "Warehouse A"};
  back.waypoints = {{14.9, 43.3, "ford"}};
  back.holding_points = {{14.95, 43.4, "lay-by"}};
  back.checkpoints = {{15.0, 43.5, "CP 3"}};
  m.return_leg =
      ReturnLeg{{At("2026-09-25T05:00:00Z"), At("2026-09-25T06:00:00Z")},
                {At("2026-09-25T13:00:00Z"), At("2026-09-25T15:30:00Z")},
                back};
  m.vehicles = {{2,
                 "ambulance",
                 VehicleProtection::kSoftSkin,
                 "emblem",
                 {"YE-1234", "YE-1235"}},
                {1, "4x4", VehicleProtection::kArmoured, "", {}}};
  m.cargo = "medical supplies";
  m.personnel_count = 7;
  m.personnel_names = {"A. Driver", "B. Nurse"};
  m.radio_frequencies = {"145.500 MHz"};
  m.satellite_phones = {"+881 6 555 0199"};
  m.recipients = {"party-south", "party-north"};
  return m;
}

// Only what is required.
MovementContent MinimalMovement() {
  MovementContent m;
  m.id = "mv-min";
  m.organisation = "Example Relief";
  m.contact = {"Duty officer", "", "", "VHF 1"};
  m.route.origin = {15.3694, 44.191, ""};
  m.route.destination = {14.7978, 42.9545, ""};
  m.departure = {At("2026-09-24T05:00:00Z"), At("2026-09-24T05:00:00Z")};
  m.arrival = {At("2026-09-24T13:00:00Z"), At("2026-09-24T13:00:00Z")};
  m.vehicles = {{1, "truck", VehicleProtection::kSoftSkin, "", {}}};
  m.recipients = {"party-north"};
  return m;
}

SiteContent PointsSite() {
  SiteContent s;
  s.id = "st-points";
  s.version = 2;
  s.supersedes = 1;
  s.organisation = "Example Relief";
  s.contact = {"Site manager", "+1 555 0110", "site@relief.example", ""};
  s.name = "Warehouse A";
  s.site_type = SiteType::kWarehouse;
  s.critical_infrastructure = false;
  s.points = {{15.3694, 44.191, "gate"}, {15.3696, 44.1912, ""}};
  s.humanitarian_function = "food stocks";
  s.submitted_at = At("2026-09-20T00:00:00Z");
  s.markings = "blue roof";
  s.review_by = At("2026-12-20T00:00:00Z");
  s.deactivated = true;
  s.recipients = {"party-north", "party-south"};
  return s;
}

SiteContent PolygonSite() {
  SiteContent s;
  s.id = "st-polygon";
  s.organisation = "Example Relief";
  s.contact = {"Site manager", "", "", "channel 4"};
  s.name = "Hospital B";
  s.site_type = SiteType::kHealthFacility;
  s.critical_infrastructure = true;
  s.polygon = {{{14.79, 42.95, ""},
                {14.79, 42.96, ""},
                {14.80, 42.96, ""},
                {14.80, 42.95, ""},
                {14.79, 42.95, ""}},
               {{14.793, 42.953, ""},
                {14.793, 42.955, "hole"},
                {14.795, 42.955, ""},
                {14.793, 42.953, ""}}};
  s.humanitarian_function = "hospital";
  s.submitted_at = At("2026-09-20T00:00:00Z");
  s.recipients = {"party-north"};
  return s;
}

std::vector<json> MovementOutputs() {
  return {MovementToJson(FullMovement()), MovementToJson(MinimalMovement())};
}

std::vector<json> SiteOutputs() {
  return {SiteToJson(PointsSite()), SiteToJson(PolygonSite())};
}

bool ClientAccepts(const json& j) {
  return ParseAndValidateContent(j.dump()).ok();
}

// Calls `visit` with a pointer to every member of every object in `*j`,
// depth first, and its path ("route.waypoints[0].lat").
void ForEachMember(
    json* j, const std::string& path,
    const std::function<void(json* parent, const std::string& key,
                             const std::string& path)>& visit) {
  if (j->is_object()) {
    std::vector<std::string> keys;
    for (auto it = j->begin(); it != j->end(); ++it) keys.push_back(it.key());
    for (const std::string& k : keys) {
      const std::string sub = path.empty() ? k : path + "." + k;
      visit(j, k, sub);
      ForEachMember(&(*j)[k], sub, visit);
    }
  } else if (j->is_array()) {
    for (size_t i = 0; i < j->size(); ++i) {
      ForEachMember(&(*j)[i], path + "[" + std::to_string(i) + "]", visit);
    }
  }
}

// A value of another JSON type than `v`'s, that no member accepts.
json WrongType(const json& v) {
  if (v.is_string()) return 12;
  if (v.is_number()) return "12";
  if (v.is_boolean()) return "true";
  if (v.is_array()) return json::object();
  return json::array();
}

// For each member of `document`: removing it, and retyping it, gets the
// same verdict from the schema as from the client.
void ExpectSchemaAndClientAgree(const JsonSchema& schema, const json& document,
                                int* members) {
  ASSERT_TRUE(ClientAccepts(document)) << document.dump();
  json walk = document;
  ForEachMember(
      &walk, "", [&](json*, const std::string&, const std::string& path) {
        ++*members;
        // Re-find the member in a fresh copy, by path, for each mutation.
        auto mutate =
            [&](const std::function<void(json*, const std::string&)>& change) {
              json copy = document;
              json* parent = &copy;
              std::string key;
              // Walk "a.b[2].c": split on '.', then peel "[i]" suffixes.
              std::vector<std::string> parts;
              size_t start = 0;
              while (true) {
                size_t dot = path.find('.', start);
                parts.push_back(path.substr(start, dot - start));
                if (dot == std::string::npos) break;
                start = dot + 1;
              }
              for (size_t p = 0; p < parts.size(); ++p) {
                std::string part = parts[p];
                std::vector<size_t> indexes;
                size_t bracket = part.find('[');
                std::string name = part.substr(0, bracket);
                while (bracket != std::string::npos) {
                  size_t close = part.find(']', bracket);
                  indexes.push_back(std::stoul(
                      part.substr(bracket + 1, close - bracket - 1)));
                  bracket = part.find('[', close);
                }
                if (p + 1 == parts.size()) {
                  key = name;
                  break;
                }
                parent = &(*parent)[name];
                for (size_t i : indexes) parent = &(*parent)[i];
              }
              change(parent, key);
              return copy;
            };
        json removed = mutate(
            [](json* parent, const std::string& key) { parent->erase(key); });
        const bool schema_takes_removal = schema.Validate(removed).empty();
        EXPECT_EQ(schema_takes_removal, ClientAccepts(removed))
            << "removing " << path << ": the schema says "
            << (schema_takes_removal ? "optional" : "required")
            << " but the client disagrees; schema: "
            << absl::StrJoin(schema.Validate(removed), "; ");
        json retyped = mutate([&](json* parent, const std::string& key) {
          (*parent)[key] = WrongType((*parent)[key]);
        });
        EXPECT_FALSE(schema.Validate(retyped).empty())
            << path << " given a value of the wrong type passes the schema";
        EXPECT_FALSE(ClientAccepts(retyped))
            << path << " given a value of the wrong type passes the client";
      });
}

TEST(NotificationSchemaTest, EverySchemaLoadsWithOnlySupportedKeywords) {
  for (const char* name :
       {"parley-movement-v1.schema.json", "parley-site-v1.schema.json",
        "parley-objection-v1.schema.json", "parley-cancel-v1.schema.json",
        "parley-status-v1.schema.json"}) {
    EXPECT_TRUE(JsonSchema::LoadFile(::parley::testing::SourceDir() +
                                     "/docs/schemas/" + name)
                    .ok())
        << name;
  }
  // The validator refuses what it would not enforce.
  EXPECT_FALSE(
      JsonSchema::Load(json::parse(R"({"format": "date-time"})")).ok());
  EXPECT_FALSE(
      JsonSchema::Load(json::parse(R"({"$ref": "#/$defs/nope"})")).ok());
}

TEST(NotificationSchemaTest, MovementsTheClientWritesAreValid) {
  JsonSchema schema = LoadSchema("parley-movement-v1.schema.json");
  for (const json& j : MovementOutputs()) {
    EXPECT_TRUE(ClientAccepts(j)) << j.dump();
    EXPECT_EQ(absl::StrJoin(schema.Validate(j), "\n"), "") << j.dump();
  }
}

TEST(NotificationSchemaTest, SitesTheClientWritesAreValid) {
  JsonSchema schema = LoadSchema("parley-site-v1.schema.json");
  for (const json& j : SiteOutputs()) {
    EXPECT_TRUE(ClientAccepts(j)) << j.dump();
    EXPECT_EQ(absl::StrJoin(schema.Validate(j), "\n"), "") << j.dump();
  }
}

TEST(NotificationSchemaTest, SchemasDeclareExactlyTheMembersTheClientWrites) {
  struct Case {
    const char* schema;
    std::vector<json> outputs;
  };
  for (const Case& c :
       {Case{"parley-movement-v1.schema.json", MovementOutputs()},
        Case{"parley-site-v1.schema.json", SiteOutputs()}}) {
    SCOPED_TRACE(c.schema);
    std::set<std::string> written;
    for (const json& j : c.outputs) written.merge(InstancePaths(j));
    const std::set<std::string> declared = LoadSchema(c.schema).DeclaredPaths();
    std::vector<std::string> undeclared, unwritten;
    for (const std::string& p : written) {
      if (!declared.contains(p)) undeclared.push_back(p);
    }
    for (const std::string& p : declared) {
      if (!written.contains(p)) unwritten.push_back(p);
    }
    EXPECT_TRUE(undeclared.empty())
        << "written but not in the schema: " << absl::StrJoin(undeclared, ", ");
    EXPECT_TRUE(unwritten.empty()) << "in the schema but never written: "
                                   << absl::StrJoin(unwritten, ", ");
    EXPECT_GT(declared.size(), 10u);
  }
}

TEST(NotificationSchemaTest, SchemaAndClientAgreeOnEveryMovementMember) {
  JsonSchema schema = LoadSchema("parley-movement-v1.schema.json");
  int members = 0;
  ExpectSchemaAndClientAgree(schema, MovementToJson(FullMovement()), &members);
  EXPECT_GT(members, 60);
}

TEST(NotificationSchemaTest, SchemaAndClientAgreeOnEverySiteMember) {
  JsonSchema schema = LoadSchema("parley-site-v1.schema.json");
  int members = 0;
  ExpectSchemaAndClientAgree(schema, SiteToJson(PointsSite()), &members);
  ExpectSchemaAndClientAgree(schema, SiteToJson(PolygonSite()), &members);
  EXPECT_GT(members, 30);
}

// Values a schema can judge alone: both refuse them.
TEST(NotificationSchemaTest, SchemaAndClientRefuseTheSameBadValues) {
  JsonSchema schema = LoadSchema("parley-movement-v1.schema.json");
  const json good = MovementToJson(FullMovement());
  struct Bad {
    const char* what;
    std::function<void(json&)> change;
  };
  const std::vector<Bad> bad = {
      {"unknown member", [](json& j) { j["colour"] = "red"; }},
      {"unknown nested member",
       [](json& j) { j["route"]["origin"]["alt"] = 1; }},
      {"latitude above 90",
       [](json& j) { j["route"]["origin"]["lat"] = 90.5; }},
      {"longitude below -180",
       [](json& j) { j["route"]["destination"]["lon"] = -180.5; }},
      {"another schema", [](json& j) { j["schema"] = "parley-movement/v2"; }},
      {"version 0", [](json& j) { j["version"] = 0; }},
      {"version as a fraction", [](json& j) { j["version"] = 3.0; }},
      {"unknown movement type", [](json& j) { j["movement_type"] = "food"; }},
      {"unknown protection",
       [](json& j) { j["vehicles"][0]["protection"] = "armored"; }},
      {"no vehicle group", [](json& j) { j["vehicles"] = json::array(); }},
      {"vehicle count 0", [](json& j) { j["vehicles"][0]["count"] = 0; }},
      {"negative personnel", [](json& j) { j["personnel"]["count"] = -1; }},
      {"non-UTC time",
       [](json& j) { j["ack_by"] = "2026-09-23T08:00:00+03:00"; }},
      {"three-digit year",
       [](json& j) { j["ack_by"] = "926-09-23T05:00:00Z"; }},
      {"no recipient", [](json& j) { j["recipients"] = json::array(); }},
      {"recipient twice",
       [](json& j) {
         j["recipients"] = {"party-north", "party-north"};
       }},
      {"recipient not a name",
       [](json& j) { j["recipients"] = {"Party North"}; }},
      {"id not a name", [](json& j) { j["id"] = "MV 1"; }},
      {"empty organisation", [](json& j) { j["organisation"] = ""; }},
      {"empty justification",
       [](json& j) { j["emergency"]["justification"] = ""; }},
      {"contact without a way to reach it",
       [](json& j) {
         j["contact"] = {{"name", "Duty officer"}};
       }},
      {"contact with only an empty phone",
       [](json& j) {
         j["contact"] = {{"name", "D"}, {"phone", ""}};
       }},
  };
  for (const Bad& b : bad) {
    json j = good;
    b.change(j);
    EXPECT_FALSE(schema.Validate(j).empty()) << b.what << " passes the schema";
    EXPECT_FALSE(ClientAccepts(j)) << b.what << " passes the client";
  }
  // A site with both points and a polygon, or neither.
  JsonSchema site_schema = LoadSchema("parley-site-v1.schema.json");
  json both = SiteToJson(PointsSite());
  both["polygon"] = SiteToJson(PolygonSite())["polygon"];
  json neither = SiteToJson(PointsSite());
  neither.erase("points");
  json short_ring = SiteToJson(PolygonSite());
  short_ring["polygon"][1].erase(2);
  for (const json& j : {both, neither, short_ring}) {
    EXPECT_FALSE(site_schema.Validate(j).empty()) << j.dump();
    EXPECT_FALSE(ClientAccepts(j)) << j.dump();
  }
}

}  // namespace
}  // namespace parley
