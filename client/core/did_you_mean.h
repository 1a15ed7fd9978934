#ifndef PARLEY_CLIENT_CORE_DID_YOU_MEAN_H_
#define PARLEY_CLIENT_CORE_DID_YOU_MEAN_H_

// Suggestions for mistyped names ("did you mean partya?").

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace parley {

// Levenshtein distance (insertions, deletions, substitutions), ASCII
// case-insensitive.
size_t EditDistance(std::string_view a, std::string_view b);

// The candidate closest to `typed`, if it is close enough to be a typo: at
// most 2 edits, and fewer edits than half of `typed`'s length. Ties go to
// the first candidate. Never `typed` itself.
std::optional<std::string> ClosestName(
    std::string_view typed, const std::vector<std::string>& candidates);

// If `message` says `no member named "X"`, returns X.
std::optional<std::string> UnknownMemberIn(std::string_view message);

}  // namespace parley

#endif  // PARLEY_CLIENT_CORE_DID_YOU_MEAN_H_
