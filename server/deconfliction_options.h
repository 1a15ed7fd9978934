#ifndef PARLEY_SERVER_DECONFLICTION_OPTIONS_H_
#define PARLEY_SERVER_DECONFLICTION_OPTIONS_H_

#include "absl/time/time.h"

namespace parley {

// Deconfliction policy, from [deconfliction] in the configuration.
struct DeconflictionOptions {
  absl::Duration movement_lead = absl::Hours(48);
  absl::Duration emergency_lead = absl::Hours(24);
  // The escalation ladder, relative to each party's ack-by deadline.
  absl::Duration reminder_before = absl::Hours(6);
  absl::Duration second_escalation_after = absl::Hours(2);
};

}  // namespace parley

#endif  // PARLEY_SERVER_DECONFLICTION_OPTIONS_H_
