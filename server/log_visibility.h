#ifndef PARLEY_SERVER_LOG_VISIBILITY_H_
#define PARLEY_SERVER_LOG_VISIBILITY_H_

#include <cstdint>
#include <string_view>

#include "server/auth.h"
#include "server/ledger.h"

namespace parley {

// Whether `caller` may read the bytes of the log entry at `index`
// (GetEntries, GetInclusionProof); otherwise the server sends its leaf hash
// only, which is enough to check the tree and reveals nothing of the entry.
// The log holds metadata the parties must not learn about each other: who
// talks to whom, and each movement's parties, departure time and window.
//
//  - admins, mediators and observers (auditors) read every entry;
//  - coordinators and parties read the directory (registrations, key
//    bundles, revocations), the invite naming them, and every entry they
//    wrote or that was addressed to them (their inbox index: envelopes of
//    their channels, notifications and their updates where they are in the
//    audience, receipts and answers to what they sent, escalations to them);
//  - a coordinator on a notification's issuing side (in its audience, not
//    a party) also reads every entry about it: each party's receipts,
//    answers and reminders, which its per-party view and proof bundle need.
//
// An entry that does not decode is withheld. PROTOCOL.md 11.13 states the
// same rule.
bool MayReadEntry(Ledger& ledger, const Caller& caller, uint64_t index,
                  std::string_view entry);

}  // namespace parley

#endif  // PARLEY_SERVER_LOG_VISIBILITY_H_
