// Notification content (client/deconfliction/notification_content.h): JSON
// another member sealed, read by every party. Every input is tried as content
// and as an RFC 3339 time.
//
// Properties: ParseAndValidateContent accepts exactly what ParseContent
// accepts and ValidateContent finds no problem in; parsed content
// serialises to JSON that parses back to equal content; a parsed time
// formats to text that parses back to the same instant; and what the
// client derives from valid content (metadata, GeoJSON, a diff with
// itself) is computed without failing.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "client/deconfliction/geo_input.h"
#include "client/deconfliction/notification_content.h"
#include "tests/fuzz/fuzz_util.h"

namespace parley {
namespace {

void FuzzContent(std::string_view text) {
  absl::StatusOr<NotificationContent> parsed = ParseContent(text);
  absl::StatusOr<NotificationContent> valid = ParseAndValidateContent(text);
  if (!parsed.ok()) {
    PARLEY_FUZZ_CHECK(!valid.ok());
    return;
  }
  const std::vector<std::string> problems = ValidateContent(*parsed);
  PARLEY_FUZZ_CHECK(valid.ok() == problems.empty());

  absl::StatusOr<NotificationContent> again =
      ParseContent(SerializeContent(*parsed));
  PARLEY_FUZZ_CHECK(again.ok());
  PARLEY_FUZZ_CHECK(*again == *parsed);
  PARLEY_FUZZ_CHECK(ValidateContent(*again) == problems);
  if (!valid.ok()) return;

  PARLEY_FUZZ_CHECK(*valid == *parsed);
  PARLEY_FUZZ_CHECK(DiffContent(*valid, *valid).empty());
  VisibleMetadata md = ComputeVisibleMetadata(*valid);
  PARLEY_FUZZ_CHECK(md.id == ContentId(*valid));
  PARLEY_FUZZ_CHECK(!md.parties.empty());
  if (const auto* m = std::get_if<MovementContent>(&*valid)) {
    (void)MovementToGeoJson(*m).dump();
  } else {
    (void)SiteToGeoJson(std::get<SiteContent>(*valid)).dump();
  }
}

void FuzzTime(std::string_view text) {
  absl::StatusOr<absl::Time> t = ParseRfc3339Utc(text);
  if (!t.ok()) return;
  const std::string formatted = FormatRfc3339Utc(*t);
  absl::StatusOr<absl::Time> back = ParseRfc3339Utc(formatted);
  PARLEY_FUZZ_CHECK(back.ok());
  PARLEY_FUZZ_CHECK(*back == *t);
  PARLEY_FUZZ_CHECK(FormatRfc3339Utc(*back) == formatted);
}

}  // namespace
}  // namespace parley

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  parley::FuzzContent(text);
  parley::FuzzTime(text);
  return 0;
}
