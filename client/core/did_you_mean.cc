#include "client/core/did_you_mean.h"

#include <algorithm>

#include "absl/strings/ascii.h"

namespace parley {

size_t EditDistance(std::string_view a, std::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      const bool same = absl::ascii_tolower(a[i - 1]) ==
                        absl::ascii_tolower(b[j - 1]);
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

std::optional<std::string> ClosestName(
    std::string_view typed, const std::vector<std::string>& candidates) {
  std::optional<std::string> best;
  size_t best_distance = 3;
  for (const std::string& c : candidates) {
    if (c == typed) continue;
    const size_t d = EditDistance(typed, c);
    if (d < best_distance && 2 * d < typed.size() + 1) {
      best = c;
      best_distance = d;
    }
  }
  return best;
}

std::optional<std::string> UnknownMemberIn(std::string_view message) {
  constexpr std::string_view kPrefix = "no member named \"";
  const size_t start = message.find(kPrefix);
  if (start == std::string_view::npos) return std::nullopt;
  const size_t from = start + kPrefix.size();
  const size_t end = message.find('"', from);
  if (end == std::string_view::npos) return std::nullopt;
  return std::string(message.substr(from, end - from));
}

}  // namespace parley
