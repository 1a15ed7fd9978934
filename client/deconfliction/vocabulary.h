#ifndef PARLEY_CLIENT_DECONFLICTION_VOCABULARY_H_
#define PARLEY_CLIENT_DECONFLICTION_VOCABULARY_H_

// The words of the notification workflow that do not depend on the wire
// format: escalation steps and the movement statuses a coordinator may
// post. Wording follows the product rule: "acknowledged receipt", never
// approval, clearance or safety. Pure and thread-safe.

#include <cstdint>
#include <string>

namespace parley {

// EscalationStep names: "none" (0), "reminder", "escalation",
// "second-escalation", "review-due" (4); "step-N" for an unknown N.
std::string EscalationName(uint32_t step);

// Movement status updates and outcomes a coordinator may post.
bool IsMovementStatusUpdate(const std::string& status);  // departed, ...
bool IsMovementOutcome(const std::string& status);  // facilitated, ...
// "departed, at-checkpoint, ..., impeded or denied", for error messages.
std::string MovementStatusChoices();

}  // namespace parley

#endif  // PARLEY_CLIENT_DECONFLICTION_VOCABULARY_H_
