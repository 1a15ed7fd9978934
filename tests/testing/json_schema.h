#ifndef PARLEY_TESTS_TESTING_JSON_SCHEMA_H_
#define PARLEY_TESTS_TESTING_JSON_SCHEMA_H_

// A validator for the subset of JSON Schema (draft 2020-12) that the
// schemas in docs/schemas/ use, so tests can check what the client writes
// against the published schema without a validator from outside Debian.
//
// Keywords: type, properties, required, additionalProperties, items,
// minItems, maxItems, uniqueItems, enum, const, minimum, maximum,
// minLength, maxLength (code points), pattern (ECMAScript, unanchored as
// in JSON Schema), anyOf, oneOf, allOf, $ref (to "#/$defs/NAME" only), and
// the annotations $schema, $id, $defs, title, description, $comment.
// Load refuses any other keyword, so a schema can never state a constraint
// this validator silently skips. "integer" means a JSON number written
// without fraction or exponent (what nlohmann::json parses as an integer),
// as the client's parser requires.

#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace parley::testing {

class JsonSchema {
 public:
  // InvalidArgument naming the path of an unknown keyword, a malformed
  // value of a known one, or a $ref that does not resolve.
  static absl::StatusOr<JsonSchema> Load(const nlohmann::json& schema);
  // Reads and loads a schema file; NotFound if it cannot be read.
  static absl::StatusOr<JsonSchema> LoadFile(const std::string& path);

  // Every violation, one per line, each "PATH: problem" (PATH "$" for the
  // root, "$.route.origin.lat", "$.vehicles[1].count"). Empty: valid.
  std::vector<std::string> Validate(const nlohmann::json& value) const;

  // Every object member the schema declares, as a path with "[]" for
  // array elements ("route", "route.origin", "vehicles[].count"), through
  // $ref and every branch of anyOf/oneOf/allOf.
  std::set<std::string> DeclaredPaths() const;

 private:
  explicit JsonSchema(nlohmann::json root) : root_(std::move(root)) {}
  nlohmann::json root_;
};

// Every object member present in `value`, as DeclaredPaths spells them.
std::set<std::string> InstancePaths(const nlohmann::json& value);

}  // namespace parley::testing

#endif  // PARLEY_TESTS_TESTING_JSON_SCHEMA_H_
