#include "client/deconfliction/vocabulary.h"

#include <algorithm>
#include <iterator>

#include "absl/strings/str_cat.h"

namespace parley {
namespace {

constexpr const char* kStatusUpdates[] = {"departed", "at-checkpoint",
                                          "delayed",  "halted",
                                          "incident", "arrived"};
constexpr const char* kOutcomes[] = {"facilitated", "impeded", "denied"};

}  // namespace

std::string EscalationName(uint32_t step) {
  constexpr const char* kNames[] = {"none", "reminder", "escalation",
                                    "second-escalation", "review-due"};
  if (step >= std::size(kNames)) return absl::StrCat("step-", step);
  return kNames[step];
}

bool IsMovementStatusUpdate(const std::string& status) {
  return std::find(std::begin(kStatusUpdates), std::end(kStatusUpdates),
                   status) != std::end(kStatusUpdates);
}

bool IsMovementOutcome(const std::string& status) {
  return std::find(std::begin(kOutcomes), std::end(kOutcomes), status) !=
         std::end(kOutcomes);
}

std::string MovementStatusChoices() {
  std::string out;
  for (const char* s : kStatusUpdates) absl::StrAppend(&out, s, ", ");
  absl::StrAppend(&out, kOutcomes[0], ", ", kOutcomes[1], " or ",
                  kOutcomes[2]);
  return out;
}

}  // namespace parley
