#include "tests/testing/json_schema.h"

#include <fstream>
#include <regex>
#include <sstream>

#include "absl/strings/str_cat.h"

namespace parley::testing {
namespace {

using nlohmann::json;

const std::set<std::string>& KnownKeywords() {
  static const std::set<std::string> kKnown = {"$schema",
                                               "$id",
                                               "$defs",
                                               "$ref",
                                               "$comment",
                                               "title",
                                               "description",
                                               "type",
                                               "properties",
                                               "required",
                                               "additionalProperties",
                                               "items",
                                               "minItems",
                                               "maxItems",
                                               "uniqueItems",
                                               "enum",
                                               "const",
                                               "minimum",
                                               "maximum",
                                               "minLength",
                                               "maxLength",
                                               "pattern",
                                               "anyOf",
                                               "oneOf",
                                               "allOf"};
  return kKnown;
}

absl::Status CheckSchema(const json& s, const json& root,
                         const std::string& path) {
  if (s.is_boolean()) return absl::OkStatus();
  if (!s.is_object()) {
    return absl::InvalidArgumentError(path + ": a schema must be an object");
  }
  for (auto it = s.begin(); it != s.end(); ++it) {
    const std::string& k = it.key();
    const json& v = it.value();
    const std::string sub = absl::StrCat(path, "/", k);
    if (!KnownKeywords().contains(k)) {
      return absl::InvalidArgumentError(
          absl::StrCat(sub, ": keyword not supported by this validator"));
    }
    if (k == "properties" || k == "$defs") {
      if (!v.is_object()) return absl::InvalidArgumentError(sub + ": object");
      for (auto p = v.begin(); p != v.end(); ++p) {
        absl::Status st = CheckSchema(p.value(), root, sub + "/" + p.key());
        if (!st.ok()) return st;
      }
    } else if (k == "items" || k == "additionalProperties") {
      absl::Status st = CheckSchema(v, root, sub);
      if (!st.ok()) return st;
    } else if (k == "anyOf" || k == "oneOf" || k == "allOf") {
      if (!v.is_array() || v.empty()) {
        return absl::InvalidArgumentError(sub + ": a non-empty array");
      }
      for (size_t i = 0; i < v.size(); ++i) {
        absl::Status st = CheckSchema(v[i], root, absl::StrCat(sub, "/", i));
        if (!st.ok()) return st;
      }
    } else if (k == "$ref") {
      const std::string prefix = "#/$defs/";
      if (!v.is_string() || v.get<std::string>().rfind(prefix, 0) != 0 ||
          !root.contains("$defs") ||
          !root["$defs"].contains(v.get<std::string>().substr(prefix.size()))) {
        return absl::InvalidArgumentError(
            absl::StrCat(sub, ": ", v.dump(), " does not resolve"));
      }
    } else if (k == "required") {
      if (!v.is_array()) return absl::InvalidArgumentError(sub + ": array");
    } else if (k == "pattern") {
      if (!v.is_string()) return absl::InvalidArgumentError(sub + ": string");
      try {
        std::regex re(v.get<std::string>(), std::regex::ECMAScript);
      } catch (const std::regex_error& e) {
        return absl::InvalidArgumentError(
            absl::StrCat(sub, ": bad pattern: ", e.what()));
      }
    } else if (k == "minimum" || k == "maximum") {
      if (!v.is_number()) return absl::InvalidArgumentError(sub + ": number");
    } else if (k == "minItems" || k == "maxItems" || k == "minLength" ||
               k == "maxLength") {
      if (!v.is_number_unsigned()) {
        return absl::InvalidArgumentError(sub + ": a non-negative integer");
      }
    } else if (k == "enum") {
      if (!v.is_array() || v.empty()) {
        return absl::InvalidArgumentError(sub + ": a non-empty array");
      }
    }
  }
  return absl::OkStatus();
}

bool HasType(const json& v, const std::string& type) {
  if (type == "object") return v.is_object();
  if (type == "array") return v.is_array();
  if (type == "string") return v.is_string();
  if (type == "number") return v.is_number();
  if (type == "integer") return v.is_number_integer();
  if (type == "boolean") return v.is_boolean();
  if (type == "null") return v.is_null();
  return false;
}

size_t CodePoints(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) {
    if ((c & 0xC0) != 0x80) ++n;
  }
  return n;
}

double AsDouble(const json& v) { return v.get<double>(); }

class Validator {
 public:
  explicit Validator(const json& root) : root_(root) {}

  void Check(const json& s, const json& v, const std::string& path,
             std::vector<std::string>* out) const {
    if (s.is_boolean()) {
      if (!s.get<bool>()) out->push_back(path + ": not allowed");
      return;
    }
    auto fail = [&](const std::string& problem) {
      out->push_back(absl::StrCat(path, ": ", problem));
    };
    if (s.contains("$ref")) {
      const std::string name =
          s["$ref"].get<std::string>().substr(std::string("#/$defs/").size());
      Check(root_["$defs"][name], v, path, out);
    }
    if (s.contains("type")) {
      const json& t = s["type"];
      bool ok = false;
      if (t.is_string()) {
        ok = HasType(v, t.get<std::string>());
      } else {
        for (const json& one : t) ok = ok || HasType(v, one.get<std::string>());
      }
      if (!ok) {
        fail(absl::StrCat("must be of type ", t.dump(), ", is ", v.dump()));
        return;
      }
    }
    if (s.contains("const") && v != s["const"]) {
      fail(absl::StrCat("must be ", s["const"].dump()));
    }
    if (s.contains("enum")) {
      bool found = false;
      for (const json& e : s["enum"]) found = found || e == v;
      if (!found)
        fail(absl::StrCat(v.dump(), " is not one of ", s["enum"].dump()));
    }
    if (v.is_number()) {
      if (s.contains("minimum") && AsDouble(v) < AsDouble(s["minimum"])) {
        fail(absl::StrCat(v.dump(), " is below ", s["minimum"].dump()));
      }
      if (s.contains("maximum") && AsDouble(v) > AsDouble(s["maximum"])) {
        fail(absl::StrCat(v.dump(), " is above ", s["maximum"].dump()));
      }
    }
    if (v.is_string()) {
      const std::string text = v.get<std::string>();
      if (s.contains("minLength") &&
          CodePoints(text) < s["minLength"].get<size_t>()) {
        fail(absl::StrCat("shorter than ", s["minLength"].dump()));
      }
      if (s.contains("maxLength") &&
          CodePoints(text) > s["maxLength"].get<size_t>()) {
        fail(absl::StrCat("longer than ", s["maxLength"].dump()));
      }
      if (s.contains("pattern") &&
          !std::regex_search(text, std::regex(s["pattern"].get<std::string>(),
                                              std::regex::ECMAScript))) {
        fail(absl::StrCat(v.dump(), " does not match ", s["pattern"].dump()));
      }
    }
    if (v.is_array()) {
      if (s.contains("minItems") && v.size() < s["minItems"].get<size_t>()) {
        fail(absl::StrCat("needs at least ", s["minItems"].dump(), " items"));
      }
      if (s.contains("maxItems") && v.size() > s["maxItems"].get<size_t>()) {
        fail(absl::StrCat("holds more than ", s["maxItems"].dump(), " items"));
      }
      if (s.value("uniqueItems", false)) {
        for (size_t i = 0; i < v.size(); ++i) {
          for (size_t j = i + 1; j < v.size(); ++j) {
            if (v[i] == v[j])
              fail(absl::StrCat("items ", i, " and ", j, " are equal"));
          }
        }
      }
      if (s.contains("items")) {
        for (size_t i = 0; i < v.size(); ++i) {
          Check(s["items"], v[i], absl::StrCat(path, "[", i, "]"), out);
        }
      }
    }
    if (v.is_object()) {
      if (s.contains("required")) {
        for (const json& r : s["required"]) {
          if (!v.contains(r.get<std::string>())) {
            fail(absl::StrCat("member ", r.dump(), " is required"));
          }
        }
      }
      const json empty = json::object();
      const json& props = s.contains("properties") ? s["properties"] : empty;
      for (auto it = v.begin(); it != v.end(); ++it) {
        const std::string sub = absl::StrCat(path, ".", it.key());
        if (props.contains(it.key())) {
          Check(props[it.key()], it.value(), sub, out);
        } else if (s.contains("additionalProperties")) {
          Check(s["additionalProperties"], it.value(), sub, out);
        }
      }
    }
    auto count_valid = [&](const json& branches) {
      size_t n = 0;
      for (const json& b : branches) {
        std::vector<std::string> sub;
        Check(b, v, path, &sub);
        if (sub.empty()) ++n;
      }
      return n;
    };
    if (s.contains("allOf")) {
      for (const json& b : s["allOf"]) Check(b, v, path, out);
    }
    if (s.contains("anyOf") && count_valid(s["anyOf"]) == 0) {
      fail("matches none of anyOf");
    }
    if (s.contains("oneOf")) {
      const size_t n = count_valid(s["oneOf"]);
      if (n != 1) fail(absl::StrCat("matches ", n, " of oneOf, not exactly 1"));
    }
  }

  void Declared(const json& s, const std::string& prefix, int depth,
                std::set<std::string>* out) const {
    if (!s.is_object() || depth > 32) return;
    if (s.contains("$ref")) {
      const std::string name =
          s["$ref"].get<std::string>().substr(std::string("#/$defs/").size());
      Declared(root_["$defs"][name], prefix, depth + 1, out);
    }
    if (s.contains("properties")) {
      for (auto it = s["properties"].begin(); it != s["properties"].end();
           ++it) {
        const std::string p =
            prefix.empty() ? it.key() : absl::StrCat(prefix, ".", it.key());
        out->insert(p);
        Declared(it.value(), p, depth + 1, out);
      }
    }
    if (s.contains("items"))
      Declared(s["items"], prefix + "[]", depth + 1, out);
    for (const char* k : {"anyOf", "oneOf", "allOf"}) {
      if (s.contains(k)) {
        for (const json& b : s[k]) Declared(b, prefix, depth + 1, out);
      }
    }
  }

 private:
  const json& root_;
};

void CollectPaths(const json& v, const std::string& prefix,
                  std::set<std::string>* out) {
  if (v.is_object()) {
    for (auto it = v.begin(); it != v.end(); ++it) {
      const std::string p =
          prefix.empty() ? it.key() : absl::StrCat(prefix, ".", it.key());
      out->insert(p);
      CollectPaths(it.value(), p, out);
    }
  } else if (v.is_array()) {
    for (const json& e : v) CollectPaths(e, prefix + "[]", out);
  }
}

}  // namespace

absl::StatusOr<JsonSchema> JsonSchema::Load(const json& schema) {
  absl::Status s = CheckSchema(schema, schema, "#");
  if (!s.ok()) return s;
  return JsonSchema(schema);
}

absl::StatusOr<JsonSchema> JsonSchema::LoadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in.good()) return absl::NotFoundError("cannot read " + path);
  std::stringstream text;
  text << in.rdbuf();
  json schema = json::parse(text.str(), nullptr, /*allow_exceptions=*/false);
  if (schema.is_discarded()) {
    return absl::InvalidArgumentError(path + ": not valid JSON");
  }
  return Load(schema);
}

std::vector<std::string> JsonSchema::Validate(const json& value) const {
  std::vector<std::string> out;
  Validator(root_).Check(root_, value, "$", &out);
  return out;
}

std::set<std::string> JsonSchema::DeclaredPaths() const {
  std::set<std::string> out;
  Validator(root_).Declared(root_, "", 0, &out);
  return out;
}

std::set<std::string> InstancePaths(const json& value) {
  std::set<std::string> out;
  CollectPaths(value, "", &out);
  return out;
}

}  // namespace parley::testing
