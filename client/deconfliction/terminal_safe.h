#ifndef PARLEY_CLIENT_DECONFLICTION_TERMINAL_SAFE_H_
#define PARLEY_CLIENT_DECONFLICTION_TERMINAL_SAFE_H_

#include <string>
#include <string_view>

namespace parley {

// `text` made safe to print on a terminal: newlines and printable UTF-8
// pass; control characters (C0, DEL, C1) and malformed UTF-8 become \xNN,
// so names or reasons from a bundle or another member cannot move the
// cursor, recolour or rewrite what the user reads.
std::string TerminalSafe(std::string_view text);

}  // namespace parley

#endif  // PARLEY_CLIENT_DECONFLICTION_TERMINAL_SAFE_H_
